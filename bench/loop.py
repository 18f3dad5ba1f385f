"""Benchmark: the core loop's own cost, how it scales with history, and concurrent runs.

    .venv/bin/python bench/loop.py [--quick]     # prints a table; no network, no files written

Every figure is a ratio or a difference against a baseline measured in the same run, with the
measurements interleaved (A B A B ...) and the best of the repeats kept, because the 2-core
development machines are shared and noisy.

1. Framework time per agent iteration: a network of 2 agents, a code router alternating
   between them, each agent run = one inference that calls one tool whose arguments are
   validated against its JSON Schema; 1,000 runs x 10 iterations. The fake model answers in
   O(1) (a fresh tool-call message per call, the request is neither copied nor kept); its own
   cost is measured alone (the same number of bare `infer` calls) and subtracted.
2. The default routing agent's decisions (prompt with the agent list, forced tool call).
3. History: one run of N iterations (same setup) for N = 10 ... 3,000: time per iteration,
   its ratio to N = 10 (target <= 1.3x) and the memory a finished 3,000-iteration run keeps
   beyond the messages themselves (target <= 10 MiB; the baseline keeps the same messages,
   made by the same model and tool, in a plain list). The model there also hands back a decoded
   provider body with each reply (`ModelResponse.raw`, a small OpenAI chat completion), as a
   provider model does: what a real run keeps of it (the result's `raw` text) counts. Beside
   it, the same ratio for a model that keeps its request, so that every inference gets a new
   list of the whole history.
4. 10,000 concurrent network runs (2 iterations each: a tool call, then a text answer), each
   with its own `ScriptedModel` that yields to the event loop once per inference, so every run
   is in flight at once; wall time (target <= 1.5 s), failures, gc collections, peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import tracemalloc
from typing import Any, Callable, Coroutine, Sequence

# Replace bench/ (sys.path[0]) with the repo root: bench/http.py must not shadow stdlib `http`.
sys.path[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

from agentkit_min import Agent, RouterArgs, create_agent, create_network, create_tool  # noqa: E402
from agentkit_min.messages import Message, tool_call_message, tool_result_message  # noqa: E402
from agentkit_min.model import ModelResponse  # noqa: E402
from agentkit_min.testing import ScriptedModel, text, tool_call  # noqa: E402

RUNS, PER_RUN = 1_000, 10
ADD_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["a", "b"],
              "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}


def add(args: dict[str, int], ctx: Any) -> int:
    return args["a"] + args["b"]


async def add_async(args: dict[str, int], ctx: Any) -> int:
    return args["a"] + args["b"]


class FakeModel:
    """O(1) per call: a fresh one-tool-call reply (or text); the request is neither copied nor kept."""

    def __init__(self, tools: bool = True) -> None:
        self.calls, self.tools = 0, tools

    async def infer(self, messages: Sequence[Message], tools: Sequence[Any], tool_choice: str) -> ModelResponse:
        self.calls += 1
        if not self.tools:
            return ModelResponse(output=[text("ok")])
        call = {"type": "tool", "id": f"call_{self.calls}", "name": "add", "input": {"a": 1, "b": 2}}
        return ModelResponse(output=[tool_call_message([call])])  # type: ignore[list-item]


def two_agent_network(model: Any, per_run: int, sync_tool: bool = False) -> Any:
    # an async handler: a sync one runs on a worker thread (tool.py), a thread hop per call
    tool = create_tool(name="add", description="Add two integers.", parameters=ADD_SCHEMA,
                       handler=add if sync_tool else add_async)
    tools = [tool] if getattr(model, "tools", True) else []
    a = create_agent(name="a", system="You are A.", tools=tools)
    b = create_agent(name="b", system="You are B.", tools=tools)

    def router(args: RouterArgs) -> Agent | None:
        return None if args.call_count >= per_run else (a if args.call_count % 2 == 0 else b)

    return create_network(agents=[a, b], default_model=model, router=router)


def timed(fn: Callable[[], Coroutine[Any, Any, Any]]) -> float:
    start = time.perf_counter()
    asyncio.run(fn())
    return time.perf_counter() - start


def interleaved(fns: dict[str, Callable[[], Coroutine[Any, Any, Any]]], repeats: int) -> dict[str, float]:
    """Best time of each, the runs interleaved round-robin so load drift hits all alike."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            best[name] = min(best[name], timed(fn))
    return best


def model_alone(n: int, tools: bool = True) -> Callable[[], Coroutine[Any, Any, None]]:
    async def go() -> None:
        model, msgs = FakeModel(tools), [text("You are A.", role="system"), text("go", role="user")]
        for _ in range(n):
            await model.infer(msgs, [], "auto")
    return go


def network_runs(runs: int, per_run: int, tools: bool = True, sync_tool: bool = False,
                 model: type[FakeModel] = FakeModel) -> Callable[[], Coroutine[Any, Any, None]]:
    async def go() -> None:
        net = two_agent_network(model(tools), per_run, sync_tool)
        for _ in range(runs):
            await net.run("go")
    return go


ROUTED_RUNS = 500


async def messages_of(n: int) -> list[Message]:
    """The messages an n-iteration run keeps (the model's replies and the tool results), made by
    the same model and tool, in a plain list."""
    model, kept = FakeModel(), []
    for _ in range(n):
        reply = (await model.infer([], [], "auto")).output[0]
        call = reply["tools"][0]  # type: ignore[typeddict-item]
        kept += [reply, tool_result_message(call, {"data": add(call["input"], None)})]
    return kept


class KeepingModel(FakeModel):
    """FakeModel that holds on to its last request: so each inference gets a new list of the
    whole history (agentkit_min/_request.py), the cost every request had before issue 14's fix."""

    async def infer(self, messages: Sequence[Message], tools: Sequence[Any], tool_choice: str) -> ModelResponse:
        self.last = messages
        return await super().infer(messages, tools, tool_choice)


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


BODY = json.dumps({  # a small OpenAI chat completion, as the provider sends it
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None, "message": {
        "role": "assistant", "content": None, "refusal": None, "tool_calls": [{
            "id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140,
              "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
    "system_fingerprint": "fp_1"})


class BodyModel(FakeModel):
    """FakeModel's replies, each with a freshly decoded provider body, as a provider model returns."""

    async def infer(self, messages: Sequence[Message], tools: Sequence[Any], tool_choice: str) -> ModelResponse:
        response = await super().infer(messages, tools, tool_choice)
        response.raw = json.loads(BODY)
        return response


def kept_memory(n: int) -> tuple[int, int]:
    """Bytes still allocated after one finished n-iteration run is kept, and after keeping only
    the same messages (the model's replies and the tool results) in a list."""
    async def network() -> Any:
        return await two_agent_network(BodyModel(), n).run("go")

    async def messages_only() -> Any:
        return await messages_of(n)

    sizes = []
    for fn in (network, messages_only):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        keep = asyncio.run(fn())
        gc.collect()
        sizes.append(tracemalloc.get_traced_memory()[0] - before)
        tracemalloc.stop()
        del keep
    return sizes[0], sizes[1]


class YieldingModel(ScriptedModel):
    """A ScriptedModel that lets every other run proceed before it answers."""

    async def infer(self, messages: Sequence[Message], tools: Sequence[Any], tool_choice: str) -> ModelResponse:
        await asyncio.sleep(0)
        return await super().infer(messages, tools, tool_choice)


async def concurrent(runs: int) -> tuple[float, int, float]:
    """`runs` network runs at once, each with its own model; (seconds, failures, seconds in gc)."""
    tool = create_tool(name="add", description="Add two integers.", parameters=ADD_SCHEMA, handler=add_async)
    a = create_agent(name="a", system="You are A.", tools=[tool])
    b = create_agent(name="b", system="You are B.", tools=[tool])
    script: list[Any] = [tool_call("add", {"a": 1, "b": 2}, id="c1"), "3"]

    async def one() -> Any:
        net = create_network(agents=[a, b], default_model=YieldingModel(script),
                             router=lambda args: None if args.call_count >= 2 else (a, b)[args.call_count])
        return await net.run("go")

    in_gc, began = [0.0], [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            in_gc[0] += time.perf_counter() - began[0]

    gc.callbacks.append(timer)
    start = time.perf_counter()
    done = await asyncio.gather(*(one() for _ in range(runs)), return_exceptions=True)
    elapsed = time.perf_counter() - start
    gc.callbacks.remove(timer)
    failures = sum(1 for d in done if isinstance(d, BaseException) or len(d.state.results) != 2)
    return elapsed, failures, in_gc[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    opts = parser.parse_args()
    repeats = 2 if opts.quick else 5
    n = RUNS * PER_RUN
    print(f"bench/loop.py (Python {sys.version.split()[0]}, {os.cpu_count()} cpus, load "
          f"{os.getloadavg()[0]:.1f}; best of {repeats}, interleaved)")

    t = interleaved({"model": model_alone(n), "net": network_runs(RUNS, PER_RUN),
                     "sync": network_runs(RUNS, PER_RUN, sync_tool=True)}, repeats)
    per_iter = (t["net"] - t["model"]) / n * 1e6
    print(f"  fake model alone, x{n}:                   {t['model'] / n * 1e6:8.2f} us/call")
    print(f"  network, {RUNS} runs x {PER_RUN} (tool call each): {t['net'] / n * 1e6:8.2f} us/iteration")
    print(f"  framework time per agent iteration:        {per_iter:8.2f} us   (target <= 30; async handler)")
    print(f"  the same with a sync handler:              {(t['sync'] - t['model']) / n * 1e6:8.2f} us   "
          f"(its call runs on a worker thread)")

    r = interleaved({"base": routed_baseline, "routed": default_router, "model": model_alone(n, tools=False),
                     "plain": network_runs(RUNS, PER_RUN, tools=False)}, repeats)
    plain = (r["plain"] - r["model"]) / n  # an agent iteration without tools
    print(f"  framework time per iteration without tools: {plain * 1e6:8.2f} us")
    # each routed run: 3 routing decisions + 2 agent runs without tools (priced as just measured)
    per_decision = ((r["routed"] - r["base"]) / ROUTED_RUNS - 2 * plain) / 3 * 1e6
    print(f"  framework time per routing decision:       {per_decision:8.2f} us   (default routing agent)")

    sizes = (10, 100, 1_000, 3_000)
    fns = {f"{k}": network_runs(max(1, 3_000 // k), k) for k in sizes}
    h = interleaved(fns, max(2, repeats - 2))
    per = {k: h[str(k)] / (max(1, 3_000 // k) * k) * 1e6 for k in sizes}
    print("  one run of N iterations, us/iteration:     " +
          "  ".join(f"N={k}: {per[k]:.1f}" for k in sizes))
    print(f"  N=3,000 / N=10:                            {per[3_000] / per[10]:8.2f}x  (target <= 1.3x)")
    gc.disable()  # a diagnostic: how much of the growth is the cyclic GC scanning the kept history
    h = interleaved({k: fns[k] for k in ("10", "3000")}, max(2, repeats - 2))
    gc.enable()
    print(f"    the same with the cyclic GC paused:       {h['3000'] / h['10']:8.2f}x  (N=10: "
          f"{h['10'] / 3_000 * 1e6:.1f}, N=3000: {h['3000'] / 3_000 * 1e6:.1f} us/iteration)")
    h = interleaved({k: network_runs(max(1, 3_000 // int(k)), int(k), model=KeepingModel) for k in ("10", "3000")},
                    max(2, repeats - 2))
    print(f"    a model keeping its request (a new list each): {h['3000'] / h['10']:6.2f}x  (N=10: "
          f"{h['10'] / 3_000 * 1e6:.1f}, N=3000: {h['3000'] / 3_000 * 1e6:.1f} us/iteration)")
    kept, msgs = kept_memory(3_000)
    print(f"  kept after a 3,000-iteration run:          {kept / 2**20:8.2f} MiB; messages alone "
          f"{msgs / 2**20:.2f} MiB; beyond them {(kept - msgs) / 2**20:.2f} MiB  (target <= 10)")

    runs = 10_000
    elapsed, failures, in_gc = min(asyncio.run(concurrent(runs)) for _ in range(max(1, repeats - 2)))
    tracemalloc.start()
    asyncio.run(concurrent(runs))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {runs:,} concurrent runs (2 iterations each):  {elapsed:8.2f} s  (target <= 1.5), "
          f"{failures} failures, {in_gc:.2f} s of it in the cyclic gc")
    print(f"  peak traced memory, {runs:,} runs in flight:  {peak / 2**20:8.2f} MiB "
          f"({peak / runs / 1024:.1f} KiB per run)")


if __name__ == "__main__":
    main()
