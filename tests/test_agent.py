"""Agent runs: prompts, message order (Q6), hooks, the standalone tool loop (Q2), errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentkit_min import (AgentArgs, ResultArgs, StartArgs, ToolContext, UsageError, UserMessage,
                          create_agent, create_network, create_state, create_tool)
from agentkit_min.errors import ScriptExhaustedError
from agentkit_min.messages import message_text
from agentkit_min.result import AgentResult
from agentkit_min.state import State
from agentkit_min.testing import ScriptedModel, reply, text, tool_call

ADD_SCHEMA = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
              "required": ["a", "b"], "additionalProperties": False}


def add_tool(calls: list[dict[str, Any]] | None = None) -> Any:
    def handler(args: dict[str, Any], ctx: ToolContext) -> float:
        if calls is not None:
            calls.append(args)
        return float(args["a"] + args["b"])
    return create_tool(name="add", description="Add two numbers", parameters=ADD_SCHEMA, handler=handler)


def roles(messages: list[Any]) -> list[str]:
    return [f"{m['type']}:{m['role']}" for m in messages]


def test_standalone_run_sends_system_user_prefill_and_does_not_touch_state() -> None:
    model = ScriptedModel(["hello"])
    state = create_state({"x": 1})
    agent = create_agent(name="a", system="S", assistant="P", model=model)
    result = agent.run_sync("hi", state=state)
    msgs = model.requests[0].json
    assert [(m["role"], m["content"]) for m in msgs] == [("system", "S"), ("user", "hi"), ("assistant", "P")]
    assert result.agent_name == "a" and message_text(result.output[0]) == "hello"
    assert state.results == []  # standalone runs never append to state (as AgentKit)


def test_empty_input_sends_only_system() -> None:
    model = ScriptedModel(["ok"])
    create_agent(name="a", system="S", model=model).run_sync("")
    assert roles(model.requests[0].messages) == ["text:system"]


def test_user_message_system_prompt_is_appended() -> None:
    model = ScriptedModel(["ok"])
    create_agent(name="a", system="S", model=model).run_sync(UserMessage("hi", system_prompt="X"))
    assert model.requests[0].contents[0] == "S\n\nX"


def test_dynamic_system_prompt_sees_run_state_async() -> None:
    model = ScriptedModel(["ok"])

    async def system(args: AgentArgs) -> str:
        return f"files={args.network.state.data['files']}"

    create_agent(name="a", system=system, model=model).run_sync("hi", state=create_state({"files": 2}))
    assert model.requests[0].contents[0] == "files=2"


def test_standalone_tool_loop_sends_tool_results_and_accumulates() -> None:
    calls: list[dict[str, Any]] = []
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2}, id="c1"), "It is 3."])
    agent = create_agent(name="a", system="S", model=model, tools=[add_tool(calls)])
    result = agent.run_sync("1+2?", max_iter=3)
    assert calls == [{"a": 1, "b": 2}]
    second = model.requests[1].json
    assert roles(second) == ["text:system", "text:user", "tool_call:assistant", "tool_result:tool_result"]
    assert second[-1]["content"] == {"data": 3.0} and second[-1]["tool"]["id"] == "c1"
    assert [m["type"] for m in result.output] == ["tool_call", "text"]
    assert len(result.tool_calls) == 1
    model.assert_complete()


def test_standalone_loop_stops_at_max_iter() -> None:
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 1}), tool_call("add", {"a": 1, "b": 1}),
                           tool_call("add", {"a": 1, "b": 1})])
    agent = create_agent(name="a", system="S", model=model, tools=[add_tool()])
    result = agent.run_sync("go", max_iter=2)
    assert len(model.requests) == 2 and len(result.tool_calls) == 2


def test_default_standalone_run_is_one_inference_even_with_tool_calls() -> None:
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 1}), "unused"])
    result = create_agent(name="a", system="S", model=model, tools=[add_tool()]).run_sync("go")
    assert len(model.requests) == 1 and result.tool_calls[0]["content"] == {"data": 2.0}


def test_tool_errors_become_tool_results() -> None:
    def boom(args: Any, ctx: ToolContext) -> None:
        raise RuntimeError("kaboom")

    def none(args: Any, ctx: ToolContext) -> None:
        return None

    tools = [add_tool(), create_tool(name="boom", handler=boom), create_tool(name="none", handler=none)]
    model = ScriptedModel([tool_call("add", {"a": "x"}, more=[("nope", {}), ("boom", {}), ("none", {})])])
    result = create_agent(name="a", system="S", model=model, tools=tools).run_sync("go")
    contents = [t["content"] for t in result.tool_calls]
    assert contents[0]["error"]["name"] == "ToolArgumentsError"
    assert "$.a" in contents[0]["error"]["message"] and "$: missing required property 'b'" in contents[0]["error"]["message"]
    assert contents[1]["error"]["name"] == "ToolNotFoundError"
    assert "nope" in contents[1]["error"]["message"] and "add" in contents[1]["error"]["message"]
    assert contents[2] == {"error": {"name": "RuntimeError", "message": "kaboom"}}  # no stack (Q3)
    assert contents[3] == {"data": "none successfully executed"}
    assert result.tool_calls[0]["tool"]["input"] == {"a": "x"}  # Q4: input kept


def test_async_tool_handler_and_json_roundtrip_of_result() -> None:
    async def fetch(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"user": args["id"], "agent": ctx.agent.name}

    tool = create_tool(name="fetch", parameters={"type": "object", "properties": {"id": {"type": "string"}}},
                       handler=fetch)
    model = ScriptedModel([reply(text("looking", stop_reason="tool"), tool_call("fetch", {"id": "u1"}),
                                 usage={"input_tokens": 5, "output_tokens": 2})])
    result = create_agent(name="a", system="S", model=model, tools=[tool]).run_sync("go")
    assert result.tool_calls[0]["content"] == {"data": {"user": "u1", "agent": "a"}}
    assert result.usage == {"input_tokens": 5, "output_tokens": 2}
    again = AgentResult.from_dict(result.to_dict())
    assert again.to_dict() == result.to_dict() and again.checksum == result.checksum
    exported = result.export()
    assert set(exported) == {"agentName", "output", "toolCalls", "createdAt", "checksum"}
    assert exported["checksum"].isdigit() and exported["checksum"] == result.checksum


def test_hook_order_and_on_start_edits() -> None:
    log: list[str] = []
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2})])

    def on_start(args: StartArgs) -> dict[str, Any]:
        log.append("start")
        return {"prompt": [*args.prompt, text("extra", role="user")], "history": args.history}

    def on_response(args: ResultArgs) -> AgentResult:
        log.append(f"response:{len(args.result.tool_calls)}")
        return args.result

    def on_finish(args: ResultArgs) -> AgentResult:
        log.append(f"finish:{len(args.result.tool_calls)}")
        return args.result

    def handler(args: Any, ctx: ToolContext) -> int:
        log.append("tool")
        return 3

    tool = create_tool(name="add", parameters=ADD_SCHEMA, handler=handler)
    agent = create_agent(name="a", system="S", model=model, tools=[tool], lifecycle={
        "on_start": on_start, "on_response": on_response, "on_finish": on_finish})
    agent.run_sync("hi")
    assert log == ["start", "response:0", "tool", "finish:1"]
    assert model.requests[0].contents == ["S", "hi", "extra"]


def test_on_start_stop_skips_inference_and_on_finish() -> None:
    model = ScriptedModel([])
    finished: list[bool] = []
    agent = create_agent(name="a", system="S", model=model, lifecycle={
        "on_start": lambda args: {"stop": True}, "on_finish": lambda args: finished.append(True)})
    result = agent.run_sync("hi")
    assert model.requests == [] and finished == [] and result.output == [] and result.raw == ""


def test_on_response_removing_tool_call_prevents_the_tool() -> None:
    calls: list[Any] = []
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2})])

    def strip(args: ResultArgs) -> AgentResult:
        args.result.output = []
        return args.result

    agent = create_agent(name="a", system="S", model=model, tools=[add_tool(calls)],
                         lifecycle={"on_response": strip})
    assert agent.run_sync("x").tool_calls == [] and calls == []


def test_message_order_q6_with_seeded_history_and_prefill() -> None:
    model = ScriptedModel(["A1", "B1"])
    old = AgentResult("a", [text("old answer")], [])
    state: State[Any] = create_state({}, messages=[text("seeded", role="user")], results=[old])
    a = create_agent(name="a", system="SA")
    b = create_agent(name="b", system="SB", assistant="Sure:")
    order = iter([a, b])
    network = create_network(agents=[a, b], default_model=model, router=lambda args: next(order, None))
    network.run_sync("now", state=state)
    second = model.requests[1].contents
    # system, earlier history, the current input, this run's results, the prefill
    assert second == ["SB", "seeded", "old answer", "now", "A1", "Sure:"]


def test_model_resolution_and_errors() -> None:
    agent = create_agent(name="a", system="S")
    with pytest.raises(UsageError, match="No model provided to agent"):
        agent.run_sync("x")
    m1, m2 = ScriptedModel(["one"]), ScriptedModel(["two"])
    assert message_text(create_agent(name="a", system="S", model=m1).run_sync("x", model=m2).output[0]) == "two"
    assert m1.requests == []
    with pytest.raises(ScriptExhaustedError):
        create_agent(name="a", system="S", model=ScriptedModel([])).run_sync("x")


def test_with_model_copies_everything_q12() -> None:
    tool = add_tool()
    agent = create_agent(name="a", system="S", tools=[tool], tool_choice="add",
                         mcp_servers=[{"name": "s", "transport": {"type": "stdio", "command": "x"}}],
                         history=object(), assistant="P")  # type: ignore[arg-type]
    model = ScriptedModel([])
    copy = agent.with_model(model)
    assert copy.model is model and agent.model is None
    for attr in ("name", "system", "tool_choice", "mcp_servers", "history", "assistant", "lifecycle"):
        assert getattr(copy, attr) == getattr(agent, attr)
    assert copy.tools == agent.tools and copy.tools is not agent.tools


@pytest.mark.parametrize("kwargs, message", [
    ({"name": ""}, "name must be a non-empty string"),
    ({"tool_choice": "nope"}, "tool_choice 'nope'"),
    ({"lifecycle": {"onStart": print}}, "did you mean 'on_start'"),
    ({"tools": ["not a tool"]}, "create_tool"),
    ({"model": "gpt-4o"}, "model must implement"),
])
def test_caller_mistakes_raise_early(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"name": "a", "system": "S"}
    with pytest.raises(UsageError, match=message):
        create_agent(**{**base, **kwargs})


def test_create_tool_rejects_bad_input() -> None:
    with pytest.raises(UsageError, match="handler"):
        create_tool(name="t")
    with pytest.raises(UsageError, match="JSON Schema"):
        create_tool(name="t", parameters="{}", handler=print)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        create_tool(name="t", parameters={"type": "objekt"}, handler=print)


def test_run_sync_inside_event_loop_is_a_clear_error() -> None:
    agent = create_agent(name="a", system="S", model=ScriptedModel(["x"]))

    async def main() -> None:
        agent.run_sync("hi")

    with pytest.raises(UsageError, match="inside a running event loop"):
        asyncio.run(main())
