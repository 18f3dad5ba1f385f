"""Benchmark: what always-on tracing costs per agent iteration of the in-process loop.

    .venv/bin/python bench/trace.py [--quick] [--count]    # a table; no network, no files kept

The loop of bench/loop.py, item 1: a network of 2 agents, a code router alternating between
them, each agent run = one inference (an O(1) fake model) that calls one validated tool;
100 runs x 10 iterations per measurement, so each iteration records 4 spans (route, agent, inference,
tool). Twice: with an async tool handler (bench/loop.py item 1, the cheapest loop and so the worst
case for this ratio) and with a plain function, create_tool's default, which runs on a worker thread.
Baseline: the same loop in the same process with the recorder stubbed out (`Trace.__init__`, `begin`,
`begin_inference`, `end` replaced by no-ops, and `push`, the call sites' one call per span event, by
`bool`). What a stubbed iteration still does for tracing (the events it builds and pushes to `bool`,
the no-op calls, the inference's check of the trace's room, each counted and priced here) is added to
the overhead as an upper bound. Timing: 61 short interleaved pairs (the order
alternating), CPU time, the median of the paired ratios: the machines are shared and noisy.
`--count` also counts CPU instructions under valgrind (callgrind), which load cannot move.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Sequence

# Replace bench/ (sys.path[0]) with the repo root: bench/http.py must not shadow stdlib `http`.
sys.path[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

from agentkit_min import Agent, RouterArgs, create_agent, create_network, create_tool  # noqa: E402
from agentkit_min.messages import Message, tool_call_message  # noqa: E402
from agentkit_min.model import ModelResponse  # noqa: E402
from agentkit_min.trace import Trace  # noqa: E402

ADD = {"type": "object", "additionalProperties": False, "required": ["a", "b"],
       "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}


class FakeModel:
    """O(1) per call: a fresh one-tool-call reply (as bench/loop.py)."""

    def __init__(self) -> None:
        self.calls = 0

    async def infer(self, messages: Sequence[Message], tools: Sequence[Any], tool_choice: str) -> ModelResponse:
        self.calls += 1
        call = {"type": "tool", "id": f"call_{self.calls}", "name": "add", "input": {"a": 1, "b": 2}}
        return ModelResponse(output=[tool_call_message([call])])  # type: ignore[list-item]


async def add(args: dict[str, int], ctx: Any) -> int:
    return args["a"] + args["b"]


def add_sync(args: dict[str, int], ctx: Any) -> int:
    return args["a"] + args["b"]


def build(per_run: int, sync: bool = False) -> Any:
    # async: bench/loop.py item 1, the cheapest loop (the worst case for this ratio); sync: a plain
    # function, create_tool's default, which runs on a worker thread (a thread hop per call)
    tool = create_tool(name="add", description="Add two integers.", parameters=ADD, handler=add_sync if sync else add)
    a = create_agent(name="a", system="You are A.", tools=[tool])
    b = create_agent(name="b", system="You are B.", tools=[tool])

    def router(args: RouterArgs) -> Agent | None:
        return None if args.call_count >= per_run else (a if args.call_count % 2 == 0 else b)

    return create_network(agents=[a, b], default_model=FakeModel(), router=router)


class Stubs:
    """No-ops with the real signatures (a *args/**kwargs catch-all would cost more than the real
    thing); `push` is `bool`, the cheapest call there is, that keeps nothing. `count` wraps each
    in a call counter, for pricing the calls that remain."""

    def __init__(self, run_id: str) -> None:
        self.push: Callable[[Any], Any] = counting(bool, PUSHES) if COUNTING[0] else bool
        self.running, self.events, self.room = False, EMPTY, sys.maxsize  # inferences: `push`

    def begin(self, kind: str, name: str, fields: Any = None, content: Any = None, leaf: bool = False) -> Any:
        return fields

    def begin_inference(self, label: Any, prompt: Any, messages: Any) -> None:
        pass

    def end(self, span: Any, fields: Any = None, error: Any = None) -> None:
        pass


PATCHES: list[tuple[Any, str]] = [(Trace, "__init__"), (Trace, "begin"), (Trace, "begin_inference"), (Trace, "end")]
REAL = {(owner, name): getattr(owner, name) for owner, name in PATCHES}
CALLS, PUSHES, COUNTING = [0], [0], [False]
EMPTY: list[Any] = []


def counting(fn: Callable[..., Any], calls: list[int] = CALLS) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return fn(*args, **kwargs)
    return wrapper


def stubbed(on: bool, count: bool = False) -> None:
    COUNTING[0] = count
    for owner, name in PATCHES:
        stub = Stubs.__dict__[name]
        setattr(owner, name, (counting(stub) if count and name != "__init__" else stub) if on else REAL[(owner, name)])


def loop_time(runs: int, per_run: int, sync: bool = False) -> float:
    net = build(per_run, sync)

    async def go() -> None:
        for _ in range(runs):
            await net.run("go")

    start = time.process_time()
    asyncio.run(go())
    return time.process_time() - start


def noop_call_cost(n: int = 200_000) -> tuple[float, float]:
    """Seconds per no-op method call, and per stubbed `push` of an event (its tuple and clock read)."""
    stub, end, push, clock = Stubs("x"), Stubs.end, bool, time.perf_counter
    span: dict[str, Any] = {}
    best = [float("inf"), float("inf")]
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            end(stub, span)
        middle = time.perf_counter()
        for _ in range(n // 2):
            push(("tool", "add", span, clock()))
            push((span, clock()))
        best = [min(best[0], (middle - start) / n), min(best[1], (time.perf_counter() - middle) / n)]
    return best[0], best[1]


def measure(traced: bool, runs: int, per_run: int, sync: bool = False) -> float:
    stubbed(not traced)
    try:
        return loop_time(runs, per_run, sync)
    finally:
        stubbed(False)


def instructions(args: list[str]) -> int:
    """CPU instructions of this script as `--child *args` under valgrind's callgrind (deterministic)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                               sys.executable, __file__, "--child", *args],
                              capture_output=True, text=True, timeout=900)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind failed: {done.stderr[-500:]}")
    return int(found.group(1))


def count(sync: bool) -> None:
    """Instructions per iteration, traced vs stubbed, net of start-up: load cannot move them."""
    flag = ["--sync"] if sync else []
    setup, off, on = (instructions([mode, *flag]) for mode in ("setup", "stubbed", "traced"))
    per = COUNT_RUNS * 10
    print(f"  instructions (callgrind, {per} iterations): traced {(on - setup) / per:,.0f}/iteration, "
          f"stubbed {(off - setup) / per:,.0f}/iteration -> overhead {((on - setup) / (off - setup) - 1) * 100:.1f} %")


COUNT_RUNS = 300


def residue_cost(n: int = 200_000) -> float:
    """Seconds per iteration of what the call sites still do with the recorder stubbed besides
    their events: the inference's one check of the trace's room (an upper bound's second part)."""
    best = float("inf")
    trace = Stubs("x")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            if len(trace.events) < trace.room:
                pass
        best = min(best, (time.perf_counter() - start) / n)
    return best


def one_loop(sync: bool, runs: int, per_run: int, pairs: int, counted: bool) -> None:
    iterations = runs * per_run
    on, off, ratios = [], [], []
    loop_time(max(10, runs // 2), per_run, sync)  # warm up imports, caches and the worker thread
    for i in range(pairs):  # interleaved pairs, alternating which goes first
        first = i % 2 == 0
        a = measure(first, runs, per_run, sync)
        b = measure(not first, runs, per_run, sync)
        t_on, t_off = (a, b) if first else (b, a)
        on.append(t_on)
        off.append(t_off)
        ratios.append(t_on / t_off)
    stubbed(True, count=True)
    CALLS[0] = PUSHES[0] = 0
    try:
        loop_time(runs, per_run, sync)
    finally:
        stubbed(False)
    calls, pushes = CALLS[0] / iterations, PUSHES[0] / iterations
    ratio = statistics.median(ratios)
    t_off = statistics.median(off) / iterations
    call_cost, push_cost = noop_call_cost()
    left = calls * call_cost + pushes * push_cost + residue_cost()
    quart = statistics.quantiles(ratios)
    print(f"{'sync tool handler (create_tool default: a worker-thread hop per call)' if sync else 'async tool handler (bench/loop.py item 1: the cheapest loop)'}:")
    print(f"  loop with tracing:                 {statistics.median(on) / iterations * 1e6:8.2f} us/iteration (median)")
    print(f"  loop with the recorder stubbed:    {t_off * 1e6:8.2f} us/iteration (median)")
    print(f"  tracing overhead:                  {(ratio - 1) * 100:8.1f} %  median of the paired ratios "
          f"(quartiles {(quart[0] - 1) * 100:.1f} .. {(quart[2] - 1) * 100:.1f} %; target < 10 %)")
    print(f"  + what stubbed iterations still do for tracing ({pushes:.1f} events pushed to `bool`, "
          f"{calls:.1f} no-op calls, 1 room check): "
          f"{left * 1e6:.2f} us -> {(ratio * t_off / (t_off - left) - 1) * 100:.1f} % against a loop without them")
    if counted:
        count(sync)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs and repeats")
    parser.add_argument("--count", action="store_true", help="also count instructions with valgrind")
    parser.add_argument("--child", choices=["setup", "stubbed", "traced"], help=argparse.SUPPRESS)
    parser.add_argument("--sync", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        loop_time(20, 10, opts.sync)
        if opts.child != "setup":
            stubbed(opts.child == "stubbed")
            loop_time(COUNT_RUNS, 10, opts.sync)
        return
    runs, per_run, pairs = (50, 10, 11) if opts.quick else (100, 10, 61)
    counted = opts.count and shutil.which("valgrind") is not None
    print(f"agentkit-min tracing benchmark (Python {sys.version.split()[0]}; {pairs} interleaved pairs "
          f"of {runs} runs x {per_run} iterations; CPU time; {len(run_spans(per_run)) / per_run:.1f} spans "
          f"per iteration)")
    one_loop(False, runs, per_run, pairs, counted)
    one_loop(True, runs, per_run, max(11, pairs // 3), counted)  # the thread hop dominates: fewer pairs


def run_spans(per_run: int) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = build(per_run).run_sync("go").trace.spans
    return spans


if __name__ == "__main__":
    main()
