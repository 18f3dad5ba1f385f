"""The state's message log (issue 14): requests and result histories are built from a log that
only grows instead of re-flattening `state.results` each run; these pin that every way a caller
can change results, histories or messages still behaves as when everything was rebuilt."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from agentkit_min import Agent, RouterArgs, StartArgs, ToolContext, create_agent, create_network, create_tool
from agentkit_min.messages import Message
from agentkit_min.model import ModelResponse
from agentkit_min.result import AgentResult
from agentkit_min.state import State, create_state
from agentkit_min.testing import ScriptedModel, text, tool_call


def contents(messages: Any) -> list[Any]:
    return [m["content"] if m["type"] == "text" else m["type"] for m in messages]


def two(per_run: int, model: Any, **kw: Any) -> Any:
    a = create_agent(name="a", system="A", **kw)
    b = create_agent(name="b", system="B", **kw)

    def router(args: RouterArgs) -> Agent | None:
        return None if args.call_count >= per_run else (a, b)[args.call_count % 2]

    return create_network(agents=[a, b], default_model=model, router=router)


def test_requests_and_histories_match_format_history_at_each_run() -> None:
    seeded = AgentResult("old", [text("o1")], [])
    state: State[Any] = create_state({}, messages=[text("m0", role="user")], results=[seeded])
    snapshots: list[list[Message]] = []

    class Model:
        async def infer(self, messages: Any, tools: Any, choice: str) -> ModelResponse:
            snapshots.append(state.format_history())
            return ModelResponse(output=[text(f"r{len(snapshots)}")])

    run = two(4, Model()).run_sync("go", state=state)
    for i, result in enumerate(run.state.results[1:]):
        assert result.history == snapshots[i]
        assert contents(result.prompt) == [("A", "B")[i % 2], "go"]
    assert contents(run.state.results[-1].history) == ["m0", "o1", "r1", "r2", "r3"]
    # each history is a list of its own
    first, second = run.state.results[1].history, run.state.results[2].history
    first.append(text("edited"))
    assert contents(second) == ["m0", "o1", "r1"] and len(run.state.results[2].history) == 3


def test_seeded_history_stays_before_the_input_and_this_runs_messages_after() -> None:
    model = ScriptedModel(["r1", "r2"])
    state: State[Any] = create_state({}, messages=[text("m0", role="user")], results=[AgentResult("x", [text("o1")], [])])
    two(2, model).run_sync("go", state=state)
    assert contents(model.requests[1].messages) == ["B", "m0", "o1", "go", "r1"]
    again = ScriptedModel(["r3"])
    two(1, again).run_sync("next", state=state)  # the same state, run again: all of it is prior now
    assert contents(again.requests[0].messages) == ["A", "m0", "o1", "r1", "r2", "next"]


def test_editing_copies_messages_or_histories_changes_nothing_later() -> None:
    def meddle(args: dict[str, Any], ctx: ToolContext) -> str:
        state = ctx.network.state
        state.results.clear()          # a copy, as before
        state.messages.append(text("x"))  # a copy, as before
        state.results[1].history.clear()  # that result's own list
        return "ok"

    class Meddling(ScriptedModel):
        async def infer(self, messages: Any, tools: Any, choice: str) -> ModelResponse:
            response = await super().infer(messages, tools, choice)
            messages.clear()  # the request list is the model's own
            return response

    model = Meddling(["r1", "r2", tool_call("meddle", {}, id="c1"), "r4"])
    run = two(4, model, tools=[create_tool(name="meddle", handler=meddle)]).run_sync("go")
    assert [contents(r.history) for r in run.state.results] == [
        [], [], ["r1", "r2"], ["r1", "r2", "tool_call", "tool_result"]]
    assert contents(model.requests[3].messages) == ["B", "go", "r1", "r2", "tool_call", "tool_result"]


def test_set_results_during_a_run_is_seen_by_the_next_agent() -> None:
    model = ScriptedModel([tool_call("replace", {}, id="c1"), "r2"])

    def replace(args: dict[str, Any], ctx: ToolContext) -> str:
        ctx.network.state.set_results([])
        return "ok"

    seeded = [AgentResult("x", [text("o1")], []), AgentResult("y", [text("o2")], [])]
    run = two(2, model, tools=[create_tool(name="replace", handler=replace)]).run_sync(
        "go", state=create_state({}, results=seeded))
    # fewer results than the run started with: all of them count as prior, as with slicing
    assert contents(model.requests[1].messages) == ["B", "tool_call", "tool_result", "go"]
    assert [r.agent_name for r in run.state.results] == ["a", "b"]


def test_on_start_replacing_history_reorders_inserts_and_drops() -> None:
    extra = text("inserted", role="user")

    def on_start(args: StartArgs) -> dict[str, Any]:
        history = list(reversed(args.history)) + [extra]  # reorder, insert
        args.history.clear()  # the hook's own copy
        return {"history": history}

    model = ScriptedModel(["r1", "r2", "r3"])
    state: State[Any] = create_state({}, messages=[text("m0", role="user")], results=[AgentResult("x", [text("o1")], [])])
    run = two(3, model, lifecycle={"on_start": on_start}).run_sync("go", state=state)
    # prior messages stay before the input, the rest (this run's, and new ones) after it
    assert contents(model.requests[0].messages) == ["A", "o1", "m0", "go", "inserted"]
    assert contents(model.requests[2].messages) == ["A", "o1", "m0", "go", "r2", "r1", "inserted"]
    assert contents(run.state.results[-1].history) == ["o1", "m0", "r2", "r1", "inserted"]
    dropped = ScriptedModel(["r"])
    two(1, dropped, lifecycle={"on_start": lambda args: {"history": []}}).run_sync("go", state=state)
    assert contents(dropped.requests[0].messages) == ["A", "go"]


def test_standalone_tool_loop_histories_grow_per_turn() -> None:
    model = ScriptedModel([tool_call("t", {}, id="c1"), tool_call("t", {}, id="c2"), "done"])
    agent = create_agent(name="a", system="A", model=model, tools=[create_tool(name="t", handler=lambda a, c: 1)])
    state: State[Any] = create_state({}, results=[AgentResult("x", [text("o1")], [])])
    result = agent.run_sync("go", state=state, max_iter=5)
    assert [contents(r.messages) for r in model.requests] == [
        ["A", "o1", "go"],
        ["A", "o1", "go", "tool_call", "tool_result"],
        ["A", "o1", "go", "tool_call", "tool_result", "tool_call", "tool_result"]]
    assert contents(result.history) == ["o1"]  # the first inference's, as before
    assert len(state.results) == 1  # standalone runs do not store their result


def test_agent_result_keeps_its_json_equality_and_repr() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    result = AgentResult("a", [text("hi")], [], created_at=when, prompt=[text("s", role="system")],
                         history=[text("h", role="user")], raw="{}", id="i1", usage={"total_tokens": 3})
    data = result.to_dict()
    assert data == {"agentName": "a", "output": [text("hi")], "toolCalls": [],
                    "createdAt": "2026-01-02T03:04:05.123456+00:00", "prompt": [text("s", role="system")],
                    "history": [text("h", role="user")], "raw": "{}", "id": "i1", "usage": {"total_tokens": 3}}
    again = AgentResult.from_dict(json.loads(json.dumps(data)))
    assert again == result and again.checksum == result.checksum and again is not result
    assert result != AgentResult("a", [text("hi")], [], created_at=when)
    assert repr(result).startswith("AgentResult(agent_name='a', output=[") and "id='i1'" in repr(result)
    fresh = AgentResult("a", [], [])
    assert fresh.created_at.tzinfo is timezone.utc and fresh.created_at is fresh.created_at
    fresh.created_at = when
    assert fresh.export()["createdAt"] == "2026-01-02T03:04:05.123456+00:00"


def test_state_round_trip_after_a_long_run_is_unchanged() -> None:
    run = two(6, ScriptedModel([f"r{i}" for i in range(6)])).run_sync("go")
    data = run.state.to_dict()
    rebuilt = State.from_dict(json.loads(json.dumps(data)))
    assert rebuilt.to_dict() == json.loads(json.dumps(data))
    assert [len(r["history"]) for r in data["results"]] == [0, 1, 2, 3, 4, 5]
