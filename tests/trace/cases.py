"""Runs a conformance case (spec/cases) and returns the run's trace, for the trace tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agentkit_min.trace import Trace
from tests.test_conformance import CASES, Built, user_input


def load(case_id: str) -> dict[str, Any]:
    """The case whose file name starts with `case_id` (e.g. "030")."""
    (path,) = CASES.glob(f"{case_id}-*.json")
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


async def _run(case: dict[str, Any]) -> tuple[Trace, BaseException | None]:
    built = Built(case)
    spec = case.get("run", {})
    try:
        if case.get("mode") == "agent":
            agent = built.agents[case["agents"][0]["name"]]
            result = await agent.run(user_input(spec.get("input", "")), state=built.state(),
                                     model=built.model(spec.get("model")), max_iter=spec.get("max_iter", 0))
            assert result.trace is not None
            return result.trace, None
        network = built.network(None)
        run = await network.run(user_input(spec.get("input", "")), state=built.state())
        return run.trace, None
    except Exception as exc:  # a failed run hands its trace over on the exception
        trace = getattr(exc, "trace", None)
        assert isinstance(trace, Trace), f"{exc!r} carries no trace"
        return trace, exc


def trace_of(case_id: str) -> tuple[dict[str, Any], BaseException | None]:
    """The case's trace as JSON (`to_dict()`) and the run's error, if it failed."""
    trace, error = asyncio.run(asyncio.wait_for(_run(load(case_id)), timeout=10))
    return trace.to_dict(), error


def children(trace: dict[str, Any], span: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The spans whose parent is `span` (None: the roots), in start order."""
    parent = None if span is None else span["id"]
    return [s for s in trace["spans"] if s["parent"] == parent]


def shape(trace: dict[str, Any], span: dict[str, Any] | None = None) -> list[Any]:
    """The tree as nested [kind:name, [children...]] lists: compact to compare."""
    return [[f"{s['kind']}:{s['name']}", shape(trace, s)] if children(trace, s) else f"{s['kind']}:{s['name']}"
            for s in children(trace, span)]
