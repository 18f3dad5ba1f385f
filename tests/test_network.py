"""Network runs: routers, the default routing agent, errors, events, history, durable steps."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from agentkit_min import (Agent, HistoryConfig, HistoryContext, ResultArgs, RouterArgs,
                          RoutingError, ToolContext, UsageError, UserMessage, create_agent,
                          create_network, create_routing_agent, create_state, create_tool,
                          get_default_routing_agent)
from agentkit_min.result import AgentResult
from agentkit_min.state import State
from agentkit_min.testing import ScriptedModel, text, tool_call


def agents(*names: str, **kw: Any) -> list[Agent]:
    return [create_agent(name=n, description=f"{n} agent", system=f"I am {n}.", **kw) for n in names]


def test_default_routing_agent_select_then_done() -> None:
    a, b = agents("a", "b")
    model = ScriptedModel([tool_call("select_agent", {"name": "b", "reason": "r"}), "B says hi",
                           tool_call("done", {"summary": "ok"})])
    run = create_network(agents=[a, b], default_model=model).run_sync("hello")
    assert [r.agent_name for r in run.state.results] == ["b"]
    first = model.requests[0]
    assert first.tool_names == ["select_agent", "done"] and first.tool_choice == "any"
    system = first.contents[0]
    assert "<name>a</name>" in system and "<description>b agent</description>" in system
    # the routing agent's own decisions are never stored; it sees B's answer as history
    assert model.requests[2].contents[1:] == ["hello", "B says hi"]
    model.assert_complete()


def test_default_router_prompt_lists_tools_as_json_schema_q17() -> None:
    tool = create_tool(name="add", description="Add", parameters={"type": "object", "properties": {"a": {"type": "number"}}},
                       handler=lambda args, ctx: 1)
    a = create_agent(name="a", system="s", tools=[tool])
    model = ScriptedModel([text("no tools called")])
    run = create_network(agents=[a], default_model=model).run_sync("x")
    system = str(model.requests[0].contents[0])
    listed = json.loads(system.split("<tools>")[1].split("</tools>")[0])
    assert listed == [{"name": "add", "description": "Add", "parameters": tool.parameters}]
    assert run.state.results == []  # plain text from the router = stop


def test_routing_agent_requesting_unknown_agent_fails_the_run() -> None:
    model = ScriptedModel([tool_call("select_agent", {"name": "Nope"})])
    with pytest.raises(RoutingError, match="The routing agent requested an agent that doesn't exist: Nope"):
        create_network(agents=agents("a"), default_model=model).run_sync("x")


def test_no_router_no_default_model() -> None:
    a = create_agent(name="a", system="s", model=ScriptedModel([]))
    with pytest.raises(UsageError, match=r"No router or model defined in network\.  You must pass"):
        create_network(agents=[a]).run_sync("x")


def test_no_agents_enabled() -> None:
    a = create_agent(name="a", system="s", lifecycle={"enabled": lambda args: False})
    with pytest.raises(UsageError, match="no agents enabled in network"):
        create_network(agents=[a], default_model=ScriptedModel([])).run_sync("x")
    with pytest.raises(UsageError, match="no agents enabled in network"):
        create_network(agents=[], default_model=ScriptedModel([])).run_sync("x")


def test_disabled_agent_hidden_from_default_router_but_code_router_runs_it() -> None:
    a = create_agent(name="a", system="s")
    b = create_agent(name="b", system="s", lifecycle={"enabled": lambda args: False})
    model = ScriptedModel([text("x")])
    create_network(agents=[a, b], default_model=model).run_sync("x")
    assert "<name>b</name>" not in model.requests[0].contents[0]
    model2 = ScriptedModel(["from b"])
    run = create_network(agents=[a, b], default_model=model2,
                         router=lambda args: b if args.call_count == 0 else None).run_sync("x")
    assert [r.agent_name for r in run.state.results] == ["b"]


def test_non_member_agent_returned_by_router_runs_with_its_own_model() -> None:
    own = ScriptedModel(["outsider"])
    outsider = create_agent(name="out", system="s", model=own)
    run = create_network(agents=agents("a"), default_model=ScriptedModel([]),
                         router=lambda args: outsider if args.call_count == 0 else None).run_sync("x")
    assert [r.agent_name for r in run.state.results] == ["out"] and len(own.requests) == 1
    assert "out" not in run.agents


def test_router_args_stack_and_last_result_and_user_message() -> None:
    a, b = agents("a", "b")
    seen: list[tuple[int, list[str], str | None, str, str | None]] = []

    def router(args: RouterArgs) -> Any:
        seen.append((args.call_count, [s.name for s in args.stack],
                     args.last_result.agent_name if args.last_result else None, args.input,
                     args.user_message.id if args.user_message else None))
        return [a, b] if args.call_count == 0 else None

    prior = AgentResult("seeded", [text("old")], [])
    run = create_network(agents=[a, b], default_model=ScriptedModel(["A", "B"]), router=router).run_sync(
        UserMessage("hi", id="m1"), state=create_state({}, results=[prior]))
    assert seen == [(0, [], "seeded", "hi", "m1"), (1, ["b"], "a", "hi", "m1"), (2, [], "b", "hi", "m1")]
    assert [r.agent_name for r in run.state.results] == ["seeded", "a", "b"]
    assert all(r.id for r in run.state.results[1:])


def test_custom_routing_agent_and_hybrid() -> None:
    a, b = agents("a", "b")
    route_log: list[list[str]] = []

    def on_route(args: ResultArgs) -> list[str]:
        names = [m["content"] for m in args.result.output if m["type"] == "text"]
        route_log.append(names)  # type: ignore[arg-type]
        return [n for n in names if isinstance(n, str) and n in args.network.agents]

    router_agent = create_routing_agent(name="picker", system="pick", lifecycle={"on_route": on_route})
    model = ScriptedModel(["b", "B out", "nobody"])
    run = create_network(agents=[a, b], default_model=model, router=router_agent).run_sync("x")
    assert [r.agent_name for r in run.state.results] == ["b"] and route_log == [["b"], ["nobody"]]
    # hybrid: code first, then the default routing agent
    model2 = ScriptedModel(["A out", tool_call("done", {})])
    run2 = create_network(agents=[a, b], default_model=model2,
                          router=lambda args: a if args.call_count == 0 else get_default_routing_agent()).run_sync("x")
    assert [r.agent_name for r in run2.state.results] == ["a"] and len(model2.requests) == 2


def test_routing_agent_requires_on_route() -> None:
    with pytest.raises(UsageError, match="on_route"):
        create_routing_agent(name="r", lifecycle={})


def test_default_router_alias_wins_and_run_override() -> None:
    a, b = agents("a", "b")
    net = create_network(agents=[a, b], default_model=ScriptedModel(["1", "2"]),
                         router=lambda args: a if args.call_count == 0 else None,
                         default_router=lambda args: b if args.call_count == 0 else None)
    assert [r.agent_name for r in net.run_sync("x").state.results] == ["b"]
    run = net.run_sync("x", router=lambda args: a if args.call_count == 0 else None)
    assert [r.agent_name for r in run.state.results] == ["a"]


def test_tools_mutate_state_and_default_state_is_cloned() -> None:
    def setx(args: Any, ctx: ToolContext) -> None:
        ctx.network.state.data["x"] = 7

    a = create_agent(name="a", system="s", tools=[create_tool(name="setx", handler=setx)])
    default = create_state({"x": 1})
    net = create_network(agents=[a], default_model=ScriptedModel([tool_call("setx")]),
                         default_state=default, router=lambda args: a if args.call_count == 0 else None)
    run = net.run_sync("x")
    assert run.state.data == {"x": 7} and default.data == {"x": 1}
    given = create_state({"x": 0})
    net.run_sync("x", state=given, router=lambda args: None)
    assert given.results == []


def test_state_json_roundtrip_keeps_thread_id_q13_and_kv_is_a_view_q15() -> None:
    state: State[dict[str, Any]] = create_state({"a": 1}, thread_id="T", messages=[text("m", role="user")],
                                                results=[AgentResult("x", [text("o")], [])])
    again = State.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.thread_id == "T" and again.data == {"a": 1}
    assert again.format_history() == state.format_history()
    state.kv.set("b", 2)
    assert state.data["b"] == 2 and state.kv.get("a") == 1 and state.kv.has("b")
    assert state.kv.delete("a") and "a" not in state.data
    clone = state.clone()
    clone.data["c"] = 3
    assert "c" not in state.data and clone.thread_id == "T"


def test_history_hooks_call_order_and_only_new_results() -> None:
    calls: list[str] = []
    loaded = [AgentResult("a", [text("earlier")], [])]

    def hook(name: str) -> Callable[[HistoryContext], Any]:
        def fn(ctx: HistoryContext) -> Any:
            calls.append(f"{name}:{ctx.thread_id}")
            if name == "create_thread":
                return {"thread_id": "T1"}
            if name == "get":
                return loaded
            if name == "append_results":
                calls.append(",".join(r.agent_name for r in ctx.new_results))
            if name == "append_user_message":
                assert ctx.user_message is not None and ctx.user_message["content"] == "hi"
            return None
        return fn

    history = HistoryConfig(create_thread=hook("create_thread"), get=hook("get"),
                            append_user_message=hook("append_user_message"),
                            append_results=hook("append_results"))
    a = create_agent(name="a", system="s")
    model = ScriptedModel(["new", "newer"])
    net = create_network(agents=[a], default_model=model, history=history,
                         router=lambda args: a if args.call_count == 0 else None)
    net.run_sync("hi")
    assert calls == ["create_thread:None", "append_user_message:T1", "append_results:T1", "a"]
    calls.clear()
    run = net.run_sync("hi", state=create_state({}, thread_id="T9"))
    assert calls == ["create_thread:T9", "append_user_message:T9", "get:T9", "append_results:T9", "a"]
    # loaded results come before the current input (Q6) and are not re-appended
    assert model.requests[1].contents == ["s", "earlier", "hi"]
    assert [r.agent_name for r in run.state.results] == ["a", "a"]


def test_run_events_sequence_and_failure() -> None:
    a = create_agent(name="a", system="s", tools=[create_tool(name="t", handler=lambda args, ctx: "r")])
    events: list[dict[str, Any]] = []
    model = ScriptedModel([[text("thinking", stop_reason="tool"), tool_call("t")]])
    create_network(agents=[a], default_model=model, router=lambda args: a if args.call_count == 0 else None
                   ).run_sync("x", publish=events.append)
    names = [e["event"] for e in events]
    assert names == ["run.started", "run.started", "part.created", "text.delta", "part.completed",
                     "part.created", "tool_call.arguments.delta", "part.completed",
                     "part.created", "tool_call.output.delta", "part.completed",
                     "run.completed", "run.completed", "stream.ended"]
    assert [e["sequenceNumber"] for e in events] == list(range(len(events)))
    assert all(e["id"] == f"publish-{e['sequenceNumber']}:{e['event']}" for e in events)
    failed: list[str] = []
    with pytest.raises(Exception):
        create_network(agents=[a], default_model=ScriptedModel([RuntimeError("provider down")]),
                       router=lambda args: a).run_sync("x", publish=lambda e: failed.append(e["event"]))
    assert failed == ["run.started", "run.started", "run.failed", "run.completed", "stream.ended"]


class MemoStep:
    """A durable-step double: memoises step results by id, like a replaying engine."""

    def __init__(self) -> None:
        self.memo: dict[str, Any] = {}
        self.ids: list[str] = []

    async def run(self, step_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        assert step_id not in self.ids, f"duplicate step id {step_id}"
        self.ids.append(step_id)
        if step_id not in self.memo:
            value = fn(*args)
            if hasattr(value, "__await__"):
                value = await value
            self.memo[step_id] = json.loads(json.dumps(value))
        return self.memo[step_id]

    async def wait_for_event(self, step_id: str, *, event: str, timeout: float, if_exp: str | None = None) -> Any:
        return None

    async def invoke(self, step_id: str, *, function: Any, data: dict[str, Any]) -> Any:
        return None


def test_durable_steps_are_unique_and_replay_does_not_call_the_model_again() -> None:
    calls: list[int] = []
    def count(args: Any, ctx: ToolContext) -> int:
        calls.append(1)
        return len(calls)

    tool = create_tool(name="t", handler=count)
    a = create_agent(name="a", system="s", tools=[tool])
    script: list[Any] = [tool_call("t", id="c1", more=[("t", {})]), "done", tool_call("t", id="c9")]
    step = MemoStep()
    model = ScriptedModel(script)
    router = lambda args: a if args.call_count < 3 else None  # noqa: E731
    first = create_network(agents=[a], default_model=model, router=router).run_sync("x", step=step)
    assert len(set(step.ids)) == len(step.ids) == 3 + 3  # 3 inferences + 3 tool calls
    step.ids.clear()
    replay_model = ScriptedModel([])  # a replay must not reach the model
    second = create_network(agents=[a], default_model=replay_model, router=router).run_sync("x", step=step)
    assert replay_model.requests == [] and len(calls) == 3
    assert [r.to_dict()["output"] for r in second.state.results] == [r.to_dict()["output"] for r in first.state.results]


def test_bad_router_return_and_bad_max_iter() -> None:
    a = create_agent(name="a", system="s")
    with pytest.raises(UsageError, match="the router returned 'a'"):
        create_network(agents=[a], default_model=ScriptedModel([]), router=lambda args: "a").run_sync("x")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="max_iter"):
        create_network(agents=[a], max_iter=-1)


@pytest.mark.parametrize(("call", "named"), [
    (lambda a: create_network(agents=None), "agents must be a list of agents .* got NoneType"),  # type: ignore[arg-type]
    (lambda a: create_network(agents=a), "agents must be a list of agents .* got Agent"),
    (lambda a: create_network(agents=[a]).run_sync(5), "'default' run: input must be a str or a UserMessage"),  # type: ignore[arg-type]
    (lambda a: create_network(agents=[a]).run_sync("x", state="s"), "state must be a State or dict .* got str"),
    (lambda a: a.run_sync(None), "agent 'a' run: input must be a str or a UserMessage, got NoneType"),
    (lambda a: a.run_sync("x", state={}), "agent 'a' run: state must be a State .* got dict"),
    (lambda a: a.run_sync("x", max_iter=-3), "max_iter must be an int >= 0, got -3"),
    (lambda a: a.run_sync("x", max_iter=2.5), "max_iter must be an int >= 0, got 2.5"),
])
def test_bad_run_arguments_are_usage_errors_before_any_request(call: Any, named: str) -> None:
    model = ScriptedModel([text("never")])
    a = create_agent(name="a", system="s", model=model)
    with pytest.raises(UsageError, match=named):
        call(a)
    assert model.requests == []
