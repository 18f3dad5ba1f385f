"""What the model sees from a tool call: arguments that are not JSON, results that are not JSON,
exceptions (issue 10 "Tool calls", issue 13 "visible failures"), and where sync handlers run (issue 9)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import re
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min import ToolContext, create_agent, create_tool
from agentkit_min.adapters import anthropic, azure_openai, deepseek, gemini, grok, openai
from agentkit_min.adapters._common import parse_arguments
from agentkit_min.errors import ToolResultError
from agentkit_min.network import NetworkRun
from agentkit_min.state import State
from agentkit_min.testing import ScriptedModel, text, tool_call
from agentkit_min.tool import INVALID_ARGUMENTS, call_tool, to_json

ROOT = pathlib.Path(__file__).resolve().parents[2]
OBJ = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
       "additionalProperties": False}


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    when: datetime.date


class Pydanticish:
    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"mode": mode, "at": datetime.datetime(2024, 1, 31, tzinfo=datetime.timezone.utc)}


def _ctx(**agent_options: Any) -> ToolContext:
    agent = create_agent(name="A", system="s", **agent_options)
    return ToolContext(NetworkRun.standalone(agent, State(), None), agent)


def _call(handler: Any, input: Any, parameters: Any = None, **options: Any) -> Any:
    tool = create_tool(name="t", parameters=parameters, handler=handler)
    call = {"type": "tool", "id": "c1", "name": "t", "input": input}
    return asyncio.run(call_tool({"t": tool}, call, _ctx(**options)))["content"]  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- results

@pytest.mark.parametrize(("value", "seen"), [
    (datetime.datetime(2024, 1, 31, 9, 30, tzinfo=datetime.timezone.utc), "2024-01-31T09:30:00+00:00"),
    (datetime.date(2024, 1, 31), "2024-01-31"), (datetime.time(9, 30), "09:30:00"),
    (decimal.Decimal("1.10"), "1.10"), ({3, 1, 2}, [1, 2, 3]), (frozenset({"b", "a"}), ["a", "b"]),
    ({1, "a"}, "<unordered>"), ((1, (2, 3)), [1, [2, 3]]), (b"caf\xc3\xa9", "café"), (bytearray(b"x"), "x"),
    (Point(1, datetime.date(2024, 1, 1)), {"x": 1, "when": "2024-01-01"}), (Colour.RED, "red"),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"), (pathlib.PurePosixPath("/a/b"), "/a/b"),
    (Pydanticish(), {"mode": "json", "at": "2024-01-31T00:00:00+00:00"}),
    (float("nan"), None), ([float("inf")], [None]), ({2: "a", None: "b", True: "c", 1.5: "d"},
                                                     {"2": "a", "null": "b", "true": "c", "1.5": "d"}),
])
def test_common_non_json_results_are_converted_where_the_tool_runs(value: Any, seen: Any) -> None:
    content = _call(lambda args, ctx: value, {})
    if seen == "<unordered>":
        assert sorted(map(str, content["data"])) == ["1", "a"]
    else:
        assert content == {"data": seen}
    json.dumps(content, allow_nan=False)  # strict JSON: what providers accept


@pytest.mark.parametrize(("value", "named"), [
    (object(), "object at $"), ({"k": [1, object()]}, "object at $.k[1]"), (b"\xff", "not UTF-8"),
    ({(1, 2): "x"}, "tuple key at $"), (datetime.timedelta(1), "timedelta at $"),
])
def test_other_results_are_a_tool_error_naming_the_type(value: Any, named: str) -> None:
    content = _call(lambda args, ctx: value, {})
    assert content["error"]["name"] == "ToolResultError" and named in content["error"]["message"], content
    with pytest.raises(ToolResultError, match="at \\$"):
        _call(lambda args, ctx: value, {}, strict_tools=True)


def test_a_cyclic_result_is_a_tool_error_not_a_recursion_error() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert "more than 100 levels" in _call(lambda args, ctx: cyclic, {})["error"]["message"]


def test_an_exception_whose_str_raises_is_still_a_tool_result() -> None:
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no message for you")

    def handler(args: Any, ctx: ToolContext) -> None:
        raise Broken()

    assert _call(handler, {}) == {"error": {"name": "Broken", "message": "(Broken whose message could not be read)"}}


def test_strict_tools_raises_the_handler_exception() -> None:
    def handler(args: Any, ctx: ToolContext) -> None:
        raise KeyError("missing")

    assert _call(handler, {}) == {"error": {"name": "KeyError", "message": "'missing'"}}
    with pytest.raises(KeyError):
        _call(handler, {}, strict_tools=True)
    agent = create_agent(name="A", system="s", strict_tools=True, tools=[create_tool(name="t", handler=handler)],
                         model=ScriptedModel([tool_call("t", {}), "done"]))
    with pytest.raises(KeyError):  # through a whole run
        agent.run_sync("go", max_iter=2)


def test_a_handler_traceback_reaches_stderr_with_no_logging_configured() -> None:
    program = (
        "from agentkit_min import create_agent, create_tool\n"
        "from agentkit_min.testing import ScriptedModel, tool_call\n"
        "def lookup(args, ctx):\n    return {}['user_42']\n"
        "agent = create_agent(name='A', system='s', tools=[create_tool(name='lookup', handler=lookup)],\n"
        "                     model=ScriptedModel([tool_call('lookup', {}), 'sorry']))\n"
        "result = agent.run_sync('go', max_iter=2)\n"
        "print(result.tool_calls[0]['content'])\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "{'error': {'name': 'KeyError', 'message': \"'user_42'\"}}" in done.stdout
    assert "tool lookup raised KeyError" in done.stderr
    # the frame line, then (3.13 also prints the source line and ^ markers) the exception line
    assert "Traceback (most recent call last)" in done.stderr
    assert re.search(r"in lookup\n(?:.*\n)*?KeyError: 'user_42'", done.stderr), done.stderr


# ----------------------------------------------------------------------------- arguments

@pytest.mark.parametrize(("raw", "why"), [
    ('{"a": 1', "not valid JSON (Expecting ',' delimiter"), ("[1, 2]", "not a JSON object"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply"), ('{"a":' * 150 + "1" + "}" * 150, "nested more than 100"),
])
def test_malformed_arguments_are_a_tool_result_and_the_handler_does_not_run(raw: str, why: str) -> None:
    calls: list[Any] = []
    input = parse_arguments(raw, "t")
    assert list(input) == [INVALID_ARGUMENTS] and input[INVALID_ARGUMENTS].startswith(why)
    content = _call(lambda args, ctx: calls.append(args), input, OBJ)
    assert calls == [] and content["error"]["name"] == "ToolArgumentsError"
    assert content["error"]["message"].startswith(f"$: the arguments are {why}")


def test_deeply_nested_object_input_from_a_parsed_body_is_marked_too() -> None:
    deep: Any = 1
    for _ in range(150):
        deep = {"a": deep}
    assert parse_arguments(deep, "t") == {INVALID_ARGUMENTS: "nested more than 100 levels deep"}


def test_a_cut_off_openai_tool_call_gives_the_model_a_result_it_can_correct() -> None:
    calls: list[Any] = []
    cut = {"choices": [{"message": {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "t", "arguments": '{"a": 1'}}]},
        "finish_reason": "length"}]}
    output, _ = openai.parse_response(200, cut)
    model = ScriptedModel([output, tool_call("t", {"a": 1}), "done"])
    agent = create_agent(name="A", system="s", model=model,
                         tools=[create_tool(name="t", parameters=OBJ, handler=lambda a, c: calls.append(a))])
    result = agent.run_sync("go", max_iter=3)
    assert calls == [{"a": 1}]  # only the corrected call ran
    seen = json.loads(openai.build_request("m", model.requests[1].messages, [], "auto").body["messages"][-1]["content"])
    assert seen["error"]["name"] == "ToolArgumentsError" and "'{\"a\": 1'" in seen["error"]["message"]
    marked: Any = output[0]
    assert result.tool_calls[0]["tool"]["input"] == marked["tools"][0]["input"]
    assert list(marked["tools"][0]["input"]) == [INVALID_ARGUMENTS]


@settings(max_examples=300, deadline=None)
@given(raw=st.text(max_size=60) | st.builds(lambda v: json.dumps(v), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3), max_leaves=10)))
def test_property_any_argument_string_gives_a_result_or_the_handler_value(raw: str) -> None:
    input = parse_arguments(raw, "t")
    for parameters in (None, OBJ):
        content = _call(lambda args, ctx: {"got": args}, input, parameters)
        assert set(content) in ({"data"}, {"error"})
        if "data" in content:
            assert content == {"data": {"got": input}} and INVALID_ARGUMENTS not in input


# ----------------------------------------------------------------------------- every adapter

ADAPTERS = [openai, anthropic, gemini, grok, azure_openai, deepseek]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    | st.datetimes() | st.decimals(allow_nan=False) | st.binary(max_size=4) | st.uuids(),
    lambda kids: st.lists(kids, max_size=3) | st.tuples(kids) | st.frozensets(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3) | st.integers(), kids, max_size=3), max_leaves=10)


def _seen(adapter: Any, body: dict[str, Any]) -> Any:
    """The tool result's text as the provider receives it, parsed back."""
    if adapter is anthropic:
        text_ = body["messages"][-1]["content"][0]["content"]
    elif adapter is gemini:
        text_ = body["contents"][-1]["parts"][0]["functionResponse"]["response"]["content"]
    else:
        text_ = body["messages"][-1]["content"]
    return json.loads(text_)


@settings(max_examples=150, deadline=None)
@given(value=values)
def test_property_any_result_builds_the_next_request_on_every_adapter(value: Any) -> None:
    content = _call(lambda args, ctx: value, {})
    assert set(content) in ({"data"}, {"error"})
    call = {"type": "tool", "id": "c1", "name": "t", "input": {}}
    messages: Any = [{"type": "text", "role": "user", "content": "go"},
                     {"type": "tool_call", "role": "assistant", "tools": [call], "stop_reason": "tool"},
                     {"type": "tool_result", "role": "tool_result", "tool": call, "content": content,
                      "stop_reason": "tool"}]
    for adapter in ADAPTERS:
        body = adapter.build_request("m", messages, [], "auto").body
        json.dumps(body, allow_nan=False)
        assert _seen(adapter, body) == content  # same on every provider, and equal to history


# ----------------------------------------------------------------------------- threads (issue 9)

def test_a_sync_handler_runs_off_the_loop_and_the_loop_stays_responsive() -> None:
    seen: dict[str, Any] = {}

    def blocking(args: Any, ctx: ToolContext) -> str:
        seen["thread"] = threading.current_thread()
        time.sleep(0.3)
        return "ok"

    async def main() -> int:
        seen["loop_thread"] = threading.current_thread()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        tool = create_tool(name="t", handler=blocking)
        content = (await call_tool({"t": tool}, {"type": "tool", "id": "c", "name": "t", "input": {}}, _ctx()))["content"]
        task.cancel()
        assert content == {"data": "ok"}
        return ticks

    ticks = asyncio.run(asyncio.wait_for(main(), 10))
    assert seen["thread"] is not seen["loop_thread"]
    assert ticks >= 3  # the loop ran other work while the handler slept (30 ticks when idle)


def test_run_in_thread_false_keeps_a_sync_handler_on_the_loop_thread() -> None:
    seen: list[Any] = []

    def on_loop(args: Any, ctx: ToolContext) -> str:
        seen.append(asyncio.get_running_loop())  # raises off the loop thread
        return "ok"

    tool = create_tool(name="t", handler=on_loop, run_in_thread=False)
    content = asyncio.run(call_tool({"t": tool}, {"type": "tool", "id": "c", "name": "t", "input": {}}, _ctx()))
    assert content["content"] == {"data": "ok"} and len(seen) == 1


def test_concurrent_runs_with_blocking_tools_overlap() -> None:
    barrier = threading.Barrier(10, timeout=20)  # passes only if all 10 handlers block at once

    def blocking(args: Any, ctx: ToolContext) -> str:
        barrier.wait()
        return "ok"

    async def one() -> Any:
        model = ScriptedModel([tool_call("t", {}), text("done")])
        return await create_agent(name="A", system="s", model=model,
                                  tools=[create_tool(name="t", handler=blocking)]).run("go", max_iter=2)

    async def main() -> list[Any]:
        return await asyncio.gather(*(one() for _ in range(10)))

    results = asyncio.run(asyncio.wait_for(main(), 30))
    assert [r.tool_calls[0]["content"] for r in results] == [{"data": "ok"}] * 10
