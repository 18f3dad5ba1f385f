"""Benchmark: what always-on tracing costs per agent iteration of the in-process loop.

    .venv/bin/python bench/trace.py [--quick] [--count]    # a table; no network, no files kept

The loop of bench/loop.py, item 1: a network of 2 agents, a code router alternating between
them, each agent run = one inference (an O(1) fake model) that calls one validated tool;
100 runs x 10 iterations per measurement, so each iteration records 4 spans (route, agent,
inference, tool). Twice: with an async tool handler (bench/loop.py item 1, the cheapest loop and
so the worst case for this ratio) and with a plain function, create_tool's default, which runs on
a worker thread.

Baseline: the same loop on a copy of the package without tracing, made here in a temporary
directory as `agentkit_min_untraced`: every `push` statement of the call sites and the
statements only tracing needs (TRACING_ONLY: the inference's room check, the model and route
labels the events carry) are cut from their syntax trees (counted: a call site added or moved
makes this bench fail instead of hiding in the baseline), and `Trace`'s per-run methods do nothing
(what remains: `run.trace` lookups, three no-op calls per run). Both packages run in one process:
61 short interleaved pairs (the order alternating), CPU time, the median of the paired ratios,
since the machines are shared and noisy. `--count` also counts CPU instructions under valgrind
(callgrind), which load cannot move.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from types import ModuleType
from typing import Any, Sequence

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[0] = ROOT  # the repo root instead of bench/: bench/http.py must not shadow stdlib `http`

import agentkit_min  # noqa: E402

ADD = {"type": "object", "additionalProperties": False, "required": ["a", "b"],
       "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
CUTS = {"agent.py": (6, 2), "network.py": (2, 1)}  # file: (event statements, other statements of tracing)


# statements only tracing needs, besides the events: the inference's room check and the model and
# route labels the events carry (as `ast.unparse` writes them)
TRACING_ONLY = {"len(trace.events) < trace.room", "self._label[0] is not chosen", "self._route = route_of(router)"}


class _Cut(ast.NodeTransformer):
    """Replaces by `pass` each `<x>.push(...)` statement and each statement of TRACING_ONLY."""

    def __init__(self) -> None:
        self.pushes = self.checks = 0

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "push":
            self.pushes += 1
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        return self._tracing_only(node, ast.unparse(node.test))

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        return self._tracing_only(node, ast.unparse(node))

    def _tracing_only(self, node: ast.stmt, source: str) -> ast.AST:
        if source not in TRACING_ONLY:
            return node
        self.checks += 1
        return ast.copy_location(ast.Pass(), node)


def untraced_package(into: str) -> ModuleType:
    """`agentkit_min` without tracing (module docstring), imported as `agentkit_min_untraced`."""
    copy = os.path.join(into, "agentkit_min_untraced")
    shutil.copytree(os.path.dirname(agentkit_min.__file__), copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, expected in CUTS.items():
        path = os.path.join(copy, name)
        with open(path, encoding="utf-8") as file:
            tree = ast.parse(file.read())
        cut = _Cut()
        tree = ast.fix_missing_locations(cut.visit(tree))
        if (cut.pushes, cut.checks) != expected:
            raise SystemExit(f"bench/trace.py: {name} has {cut.pushes} event statements and {cut.checks} other "
                             f"statements, expected {expected}: update CUTS to the call sites")
        with open(path, "w", encoding="utf-8") as file:
            file.write(ast.unparse(tree))
    sys.path.insert(0, into)
    package = importlib.import_module("agentkit_min_untraced")
    trace = importlib.import_module("agentkit_min_untraced.trace").Trace

    def init(self: Any, run_id: str) -> None:
        self.running = False

    def begin(self: Any, kind: str, name: str, fields: Any = None, content: Any = None, leaf: bool = False) -> Any:
        return fields

    def end(self: Any, span: Any, fields: Any = None, error: Any = None) -> None:
        pass

    trace.__init__, trace.begin, trace.end = init, begin, end
    return package


class FakeModel:
    """O(1) per call: a fresh one-tool-call reply (as bench/loop.py)."""

    def __init__(self, package: ModuleType) -> None:
        self.calls, self.reply = 0, package.model.ModelResponse
        self.message = package.messages.tool_call_message

    async def infer(self, messages: Sequence[Any], tools: Sequence[Any], tool_choice: str) -> Any:
        self.calls += 1
        call = {"type": "tool", "id": f"call_{self.calls}", "name": "add", "input": {"a": 1, "b": 2}}
        return self.reply(output=[self.message([call])])


async def add(args: dict[str, int], ctx: Any) -> int:
    return args["a"] + args["b"]


def add_sync(args: dict[str, int], ctx: Any) -> int:
    return args["a"] + args["b"]


def build(package: ModuleType, per_run: int, sync: bool = False) -> Any:
    # async: bench/loop.py item 1, the cheapest loop (the worst case for this ratio); sync: a plain
    # function, create_tool's default, which runs on a worker thread (a thread hop per call)
    tool = package.create_tool(name="add", description="Add two integers.", parameters=ADD,
                               handler=add_sync if sync else add)
    a = package.create_agent(name="a", system="You are A.", tools=[tool])
    b = package.create_agent(name="b", system="You are B.", tools=[tool])

    def router(args: Any) -> Any:
        return None if args.call_count >= per_run else (a if args.call_count % 2 == 0 else b)

    return package.create_network(agents=[a, b], default_model=FakeModel(package), router=router)


def loop_time(package: ModuleType, runs: int, per_run: int, sync: bool = False) -> float:
    net = build(package, per_run, sync)

    async def go() -> None:
        for _ in range(runs):
            await net.run("go")

    start = time.process_time()
    asyncio.run(go())
    return time.process_time() - start


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


COUNT_RUNS = 300


def count(sync: bool) -> None:
    """Instructions per iteration, traced vs untraced, net of start-up: load cannot move them."""
    flag = ["--sync"] if sync else []
    setup, off, on = (instructions([mode, *flag]) for mode in ("setup", "untraced", "traced"))
    per = COUNT_RUNS * 10
    print(f"  instructions (callgrind, {per} iterations): traced {(on - setup) / per:,.0f}/iteration, "
          f"untraced {(off - setup) / per:,.0f}/iteration -> overhead {((on - setup) / (off - setup) - 1) * 100:.1f} %")


def one_loop(untraced: ModuleType, sync: bool, runs: int, per_run: int, pairs: int, counted: bool) -> None:
    iterations = runs * per_run
    on, off, ratios = [], [], []
    for package in (agentkit_min, untraced):  # warm up imports, caches and the worker thread
        loop_time(package, max(10, runs // 2), per_run, sync)
    for i in range(pairs):  # interleaved pairs, alternating which goes first
        first = (agentkit_min, untraced) if i % 2 == 0 else (untraced, agentkit_min)
        times = {package.__name__: loop_time(package, runs, per_run, sync) for package in first}
        on.append(times["agentkit_min"])
        off.append(times["agentkit_min_untraced"])
        ratios.append(on[-1] / off[-1])
    quart = statistics.quantiles(ratios)
    print(f"{'sync tool handler (create_tool default: a worker-thread hop per call)' if sync else 'async tool handler (bench/loop.py item 1: the cheapest loop)'}:")
    print(f"  loop with tracing:                 {statistics.median(on) / iterations * 1e6:8.2f} us/iteration (median)")
    print(f"  loop without tracing:              {statistics.median(off) / iterations * 1e6:8.2f} us/iteration (median)")
    print(f"  tracing overhead:                  {(statistics.median(ratios) - 1) * 100:8.1f} %  median of the paired "
          f"ratios (quartiles {(quart[0] - 1) * 100:.1f} .. {(quart[2] - 1) * 100:.1f} %; target < 10 %)")
    if counted:
        count(sync)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs and repeats")
    parser.add_argument("--count", action="store_true", help="also count instructions with valgrind")
    parser.add_argument("--child", choices=["setup", "untraced", "traced"], help=argparse.SUPPRESS)
    parser.add_argument("--sync", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        untraced = untraced_package(tmp)
        if opts.child:
            for package in (agentkit_min, untraced):
                loop_time(package, 20, 10, opts.sync)
            if opts.child != "setup":
                loop_time(agentkit_min if opts.child == "traced" else untraced, COUNT_RUNS, 10, opts.sync)
            return
        runs, per_run, pairs = (50, 10, 11) if opts.quick else (100, 10, 61)
        counted = opts.count and shutil.which("valgrind") is not None
        spans = build(agentkit_min, per_run).run_sync("go").trace.spans
        print(f"agentkit-min tracing benchmark (Python {sys.version.split()[0]}; {pairs} interleaved pairs "
              f"of {runs} runs x {per_run} iterations; CPU time; {len(spans) / per_run:.1f} spans per iteration; "
              f"baseline: the package without tracing, module docstring)")
        one_loop(untraced, False, runs, per_run, pairs, counted)
        one_loop(untraced, True, runs, per_run, max(11, pairs // 3), counted)  # the thread hop dominates: fewer pairs


if __name__ == "__main__":
    main()
