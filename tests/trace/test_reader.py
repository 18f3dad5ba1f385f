"""The trace's event reader (agentkit_min/_trace_read.py) under hypothesis: random span trees,
recorded through the call sites' events and `begin` / `end` / `fail` / `note`, read back whole,
at every event boundary, mid-run, and as they come (the path OpenTelemetry and a full trace take).
Route and agent spans start untimed, as the loop's do: at the time of the event before them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min._trace_read import Reader
from agentkit_min.trace import Trace, clock

# A node: (kind, outcome, children), nested as the loop nests them (spec/trace.md). Outcomes: "ok";
# "raise": an exception starts there and goes up (an inference's or MCP request's failure, a router
# raising) until a tool turns it into an error result or it reaches the root; "error": a tool's
# error result. Route and agent spans fail themselves (`fail(kind)`) as it passes; an inference
# is left open and closed by the span that fails around it.
inference = st.tuples(st.just("inference"), st.sampled_from(["ok", "raise"]), st.just(()))
mcp = st.tuples(st.just("mcp"), st.sampled_from(["ok", "raise"]), st.just(()))
agent: Any = st.deferred(lambda: st.tuples(st.just("agent"), st.sampled_from(["ok", "raise"]),
                                           st.lists(st.one_of(inference, tool, mcp), max_size=3).map(tuple)))
tool: Any = st.deferred(lambda: st.tuples(st.just("tool"), st.sampled_from(["ok", "error"]),
                                          st.lists(st.one_of(mcp, agent), max_size=2).map(tuple)))
route = st.tuples(st.just("route"), st.sampled_from(["ok", "raise"]),
                  st.lists(st.one_of(inference, tool), max_size=2).map(tuple))


def record(trace: Trace, node: tuple[Any, ...], expected: list[list[Any]], parent: int | None,
           reads: list[int], step: list[int]) -> bool:
    """Records `node` as the loop would and appends its row (kind, parent, status, error type) to
    `expected`; returns whether an exception goes on up from it."""
    kind, outcome, children = node
    me = len(expected)
    expected.append([kind, parent, "ok", None])
    if kind == "mcp":  # `traced`: a leaf
        span = trace.begin("mcp", "tools/call", {"server": "s"}, leaf=True)
        trace.end(span, None, KeyError("k") if outcome == "raise" else None)
        if outcome == "raise":
            expected[me][2:] = ["error", "KeyError"]
        return bool(outcome == "raise")
    if kind == "inference":
        trace.push(("inference", (None, "m", "p"), clock(), [], 2))
        if outcome == "raise":
            expected[me][2:] = ["left", None]  # the span failing around it closes it
            return True
        trace.push((clock(), [], {}))  # output, usage: the response itself is not kept
        return False
    # as the loop: a route or agent starts at the time of the event before it (None), a tool at its own
    trace.push((kind, ("r", "code") if kind == "route" else kind, clock() if kind == "tool" else None,
                {"id": "c", "input": {}} if kind == "tool" else 0, None))
    raised = False
    for child in children:
        step[0] += 1
        if step[0] in reads:
            assert trace.spans[-1]["kind"]  # read mid-run: must change nothing read at the end
        if record(trace, child, expected, me, reads, step):
            raised = True
            break  # the exception goes on up: nothing after it runs here
    if kind == "tool":  # an exception from inside becomes its error result (tool.py)
        if raised or outcome == "error":
            name = "KeyError" if raised else "ToolError"
            trace.push((clock(), {"error": {"name": name, "message": "no"}}))
            expected[me][2:] = ["error", name]
        else:
            trace.push((clock(), {"data": 1}))
        return False
    if raised or outcome == "raise":
        trace.fail(kind, KeyError("k"))
        expected[me][2:] = ["error", "KeyError"]
        for row in expected[me + 1:]:
            if row[2] == "left":
                row[2:] = ["error", "KeyError"]
        return True
    trace.push((clock(), ("a",) if kind == "route" else _Result()))
    return False


class _Result:
    output: list[Any] = []
    usage: dict[str, int] = {}


def run(nodes: list[tuple[Any, ...]], reads: list[int],
        pushed: list[tuple[Any, ...]] | None = None) -> tuple[Trace, list[list[Any]]]:
    """Records `nodes` under a network root; `pushed` collects each event as it is pushed."""
    trace = Trace("t")
    if pushed is not None:
        keep = trace.push

        def push(event: tuple[Any, ...]) -> None:
            pushed.append(event)
            keep(event)

        trace.push = push
    root = trace.begin("network", "n", {"input": "go"})
    expected: list[list[Any]] = [["network", None, "ok", None]]
    step = [0]
    for node in nodes:
        if record(trace, node, expected, 0, reads, step):
            trace.end(root, None, KeyError("k"))
            expected[0][2:] = ["error", "KeyError"]
            break
    else:
        trace.end(root)
    return trace, expected


def seen(spans: list[dict[str, Any]]) -> list[list[Any]]:
    return [[s["kind"], s["parent"], s["status"], (s.get("error") or {}).get("type")] for s in spans]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(route, agent), min_size=1, max_size=4), st.lists(st.integers(1, 30), max_size=3))
def test_spans_match_the_recorded_tree_whole_and_read_mid_run(nodes: list[tuple[Any, ...]], reads: list[int]) -> None:
    trace, expected = run(nodes, reads)
    spans = trace.spans
    assert seen(spans) == expected
    assert all(s["duration_ms"] is not None and s["duration_ms"] >= 0 for s in spans)
    starts = [s["start_ms"] for s in spans]
    assert starts == sorted(starts)  # start order, untimed starts included
    again, _ = run(nodes, [])
    assert seen(again.spans) == expected  # reading mid-run changed nothing
    assert Trace.from_dict(trace.to_dict()).spans == trace.to_dict()["spans"]  # a valid document (check_document)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(route, agent), min_size=1, max_size=3))
def test_reading_as_events_come_or_split_gives_the_same_spans(nodes: list[tuple[Any, ...]]) -> None:
    pushed: list[tuple[Any, ...]] = []
    trace, expected = run(nodes, [], pushed)
    items = list(trace.events)
    assert [item for event in pushed for item in event] == items
    live = Reader(None, 10**6)
    for event in pushed:  # one event at a time, as `Trace._live` feeds them
        live.feed(event)
    whole = Reader(None, 10**6)
    whole.feed(items)
    assert _rows(live) == _rows(whole) and len(whole.spans) == len(expected)
    at = 0
    for event in pushed:  # and split in two at every event boundary, as `Trace._read` may be
        at += len(event)
        split = Reader(None, 10**6)
        split.feed(items[:at])
        split.feed(items[at:])
        assert _rows(split) == _rows(whole)


def _rows(reader: Reader) -> list[tuple[Any, ...]]:
    return [(s.kind, s.parent, s.error, s.start, s.end) for s in reader.spans]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(route, agent), min_size=1, max_size=3), st.integers(1, 8))
def test_a_cap_keeps_the_first_spans_and_counts_the_rest(nodes: list[tuple[Any, ...]], cap: int) -> None:
    trace, expected = run(nodes, [])
    reader = Reader(None, cap)
    reader.feed(list(trace.events))
    assert [[s.kind, s.parent] for s in reader.spans] == [row[:2] for row in expected[:cap]]
    assert reader.dropped == max(0, len(expected) - cap)
    assert all(s.end is not None for s in reader.spans)
