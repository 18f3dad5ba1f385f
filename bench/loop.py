"""Benchmark: the framework's own time per agent iteration and per routing decision.

Setup (issue 2): a network of 2 agents with a code router and a ScriptedModel; 10,000 agent
iterations as 1,000 runs of 10 iterations (each run's history grows to 10 results, as in a
real conversation). Framework time = (network time - time of the same number of bare
`ScriptedModel.infer` calls) / iterations, both measured in this run, best of 5 repeats.
Also: the default routing agent's decisions, one long run (history growth), peak memory.

    python bench/loop.py            # prints a table; no network, no files written
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import tracemalloc
from typing import Any, Callable, Coroutine

# Replace bench/ (sys.path[0]) with the repo root: bench/http.py must not shadow stdlib `http`.
sys.path[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

from agentkit_min import Agent, RouterArgs, create_agent, create_network  # noqa: E402
from agentkit_min.testing import ScriptedModel, text, tool_call  # noqa: E402

RUNS, PER_RUN, REPEATS = 1_000, 10, 5


def best(fn: Callable[[], Coroutine[Any, Any, None]]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        asyncio.run(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def two_agent_network(model: ScriptedModel, per_run: int) -> Any:
    a = create_agent(name="a", system="You are A.")
    b = create_agent(name="b", system="You are B.")

    def router(args: RouterArgs) -> Agent | None:
        return None if args.call_count >= per_run else (a if args.call_count % 2 == 0 else b)

    return create_network(agents=[a, b], default_model=model, router=router)


async def baseline() -> None:
    model = ScriptedModel([text("ok")] * (RUNS * PER_RUN))
    msgs = [text("You are A.", role="system"), text("go", role="user")]
    for _ in range(RUNS * PER_RUN):
        await model.infer(msgs, [], "auto")


async def code_router() -> None:
    model = ScriptedModel([text("ok")] * (RUNS * PER_RUN))
    net = two_agent_network(model, PER_RUN)
    for _ in range(RUNS):
        await net.run("go")


ROUTED_RUNS = 500


def routing_script() -> list[Any]:
    per_run = [tool_call("select_agent", {"name": "a"}, id="r1"), "A",
               tool_call("select_agent", {"name": "b"}, id="r2"), "B", tool_call("done", {}, id="r3")]
    return per_run * ROUTED_RUNS


async def routed_baseline() -> None:
    model = ScriptedModel(routing_script())
    msgs = [text("s", role="system"), text("go", role="user")]
    for _ in range(ROUTED_RUNS * 5):
        await model.infer(msgs, [], "auto")


async def default_router() -> None:
    model = ScriptedModel(routing_script())
    a = create_agent(name="a", description="A", system="You are A.")
    b = create_agent(name="b", description="B", system="You are B.")
    net = create_network(agents=[a, b], default_model=model, max_iter=10)
    for _ in range(ROUTED_RUNS):
        await net.run("go")


LONG = 2_000


async def long_run() -> None:
    model = ScriptedModel([text("ok")] * LONG)
    await two_agent_network(model, LONG).run("go")


def main() -> None:
    n = RUNS * PER_RUN
    t_base, t_net = best(baseline), best(code_router)
    per_iter = (t_net - t_base) / n * 1e6
    t_rbase, t_routed = best(routed_baseline), best(default_router)
    # each routed run: 3 routing decisions + 2 agent runs (agent runs priced as above)
    per_decision = ((t_routed - t_rbase) / ROUTED_RUNS - 2 * per_iter / 1e6) / 3 * 1e6
    t_long = best(long_run)
    tracemalloc.start()
    asyncio.run(code_router())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"agentkit-min loop benchmark (Python {sys.version.split()[0]}, best of {REPEATS})")
    print(f"  bare ScriptedModel.infer x{n}:           {t_base / n * 1e6:8.2f} us/call  (baseline)")
    print(f"  network, code router, {RUNS} runs x {PER_RUN}:  {t_net / n * 1e6:8.2f} us/iteration "
          f"= {t_net / t_base:5.1f}x baseline")
    print(f"  framework time per agent iteration:      {per_iter:8.2f} us   (target < 50)")
    print(f"  framework time per routing decision:     {per_decision:8.2f} us   (default routing agent)")
    print(f"  one run of {LONG} iterations:             {t_long / LONG * 1e6:8.2f} us/iteration "
          f"(history grows to {LONG} results; each request carries all of it)")
    print(f"  peak traced memory, {RUNS} runs x {PER_RUN}:     {peak / 2**20:8.2f} MiB")


if __name__ == "__main__":
    main()
