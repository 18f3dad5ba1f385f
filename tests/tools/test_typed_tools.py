"""Typed tools: `create_tool(fn)` / `@create_tool` (issue 13, "Typed tools")."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Any, Literal, Optional, TypedDict

import pytest

from agentkit_min import ToolContext, UsageError, create_agent, create_tool
from agentkit_min.network import NetworkRun
from agentkit_min.state import State
from agentkit_min.testing import ScriptedModel, tool_call
from agentkit_min.tool import Tool, call_tool


class Unit(enum.Enum):
    C = "c"
    F = "f"


class Window(TypedDict):
    start: str
    days: int


@dataclasses.dataclass
class Address:
    city: str
    zip: Optional[str] = None
    unit: Unit = Unit.C


def forecast(city: str, days: int, when: Window, home: Address, units: list[Unit], tags: tuple[str, ...],
             scale: float = 1.0, mode: Literal["fast", "exact"] = "fast", note: str | None = None,
             extra: dict[str, int] | None = None, flag: bool = False) -> dict[str, Any]:
    """Get the weather forecast
    for a city.

    Longer text that is not part of the description.

    Args:
        city: The city name,
            e.g. "Paris".
        days (int): How many days.
        home: Where the user lives.
        note: Free text.

    Returns:
        The forecast.
    """
    return {"city": city, "days": days, "when": when, "home": home, "units": units, "tags": tags,
            "scale": scale, "mode": mode, "note": note, "extra": extra, "flag": flag}


def _run(tool: Tool, input: dict[str, Any]) -> Any:
    agent = create_agent(name="A", system="s")
    ctx = ToolContext(NetworkRun.standalone(agent, State({"user": "u1"}), None), agent)
    return asyncio.run(call_tool({tool.name: tool}, {"type": "tool", "id": "c", "name": tool.name, "input": input}, ctx))["content"]


def test_name_description_and_schema_come_from_the_function() -> None:
    tool = create_tool(forecast)
    assert tool.name == "forecast" and tool.description == "Get the weather forecast for a city."
    props = tool.parameters["properties"]  # type: ignore[index]
    assert props["city"] == {"type": "string", "description": 'The city name, e.g. "Paris".'}
    assert props["days"] == {"type": "integer", "description": "How many days."}
    assert props["when"] == {"type": "object", "additionalProperties": False, "required": ["start", "days"],
                             "properties": {"start": {"type": "string"}, "days": {"type": "integer"}}}
    assert props["home"] == {"type": "object", "additionalProperties": False, "required": ["city"],
                             "description": "Where the user lives.",
                             "properties": {"city": {"type": "string"}, "zip": {"type": ["string", "null"]},
                                            "unit": {"type": "string", "enum": ["c", "f"]}}}
    assert props["units"] == {"type": "array", "items": {"type": "string", "enum": ["c", "f"]}}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["scale"] == {"type": "number", "default": 1.0}
    assert props["mode"] == {"type": "string", "enum": ["fast", "exact"], "default": "fast"}
    assert props["note"] == {"type": ["string", "null"], "default": None, "description": "Free text."}
    assert props["extra"] == {"type": ["object", "null"], "additionalProperties": {"type": "integer"},
                              "default": None}
    assert props["flag"] == {"type": "boolean", "default": False}
    assert tool.parameters["required"] == ["city", "days", "when", "home", "units", "tags"]  # type: ignore[index]
    assert "description" not in tool.parameters  # type: ignore[operator]


def test_the_function_gets_keyword_arguments_of_its_own_types() -> None:
    content = _run(create_tool(forecast), {
        "city": "Paris", "days": 2.0, "when": {"start": "mon", "days": 1},
        "home": {"city": "Lyon", "unit": "f"}, "units": ["c"], "tags": ["a"], "mode": "exact"})
    data = content["data"]
    assert data["days"] == 2 and type(data["days"]) is int  # 2.0 is a JSON Schema integer
    assert data["home"] == {"city": "Lyon", "zip": None, "unit": "f"}  # an Address, made JSON again
    assert data["units"] == ["c"] and data["tags"] == ["a"] and data["mode"] == "exact" and data["scale"] == 1.0


def test_conversion_really_builds_the_annotated_types() -> None:
    got: dict[str, Any] = {}

    def record(home: Address, units: list[Unit], tags: tuple[str, ...], when: Window) -> str:
        got.update(home=home, units=units, tags=tags, when=when)
        return "ok"

    assert _run(create_tool(record), {"home": {"city": "Lyon"}, "units": ["f"], "tags": ["x"],
                                      "when": {"start": "s", "days": 1}}) == {"data": "ok"}
    assert got == {"home": Address("Lyon"), "units": [Unit.F], "tags": ("x",), "when": {"start": "s", "days": 1}}


def test_arguments_are_validated_before_the_call() -> None:
    calls: list[Any] = []

    @create_tool
    def add(a: int, b: int) -> int:
        """Add."""
        calls.append((a, b))
        return a + b

    content = _run(add, {"a": "one", "b": 2})
    assert calls == [] and content["error"]["name"] == "ToolArgumentsError"
    assert content["error"]["message"].startswith("$.a: expected integer")
    assert _run(add, {"a": 1, "b": 2, "c": 3})["error"]["message"].startswith("$: unexpected property 'c'")
    assert _run(add, {"a": 1, "b": 2}) == {"data": 3} and calls == [(1, 2)]


def test_the_context_goes_only_to_a_parameter_annotated_tool_context() -> None:
    @create_tool
    def who(ctx: ToolContext, prefix: str) -> str:
        """Who is asking."""
        return prefix + str(ctx.network.state.data["user"])

    @create_tool
    def plain(x: int) -> int:
        """No context."""
        return x

    @create_tool
    def named_otherwise(context: ToolContext) -> str:
        """Any name works."""
        return context.agent.name

    assert list(who.parameters["properties"]) == ["prefix"]  # type: ignore[index]
    assert _run(who, {"prefix": "id:"}) == {"data": "id:u1"}
    assert _run(plain, {"x": 4}) == {"data": 4}
    assert _run(named_otherwise, {}) == {"data": "A"}


def test_async_functions_and_options() -> None:
    async def slow(n: int) -> int:
        """Wait."""
        await asyncio.sleep(0)
        return n * 2

    tool = create_tool(slow, description="Custom.", strict=True, run_in_thread=False)
    assert tool.description == "Custom." and tool.strict is True and tool.run_in_thread is False
    assert _run(tool, {"n": 3}) == {"data": 6}


def test_a_typed_tool_in_a_run() -> None:
    @create_tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2}), "3"])
    result = create_agent(name="A", system="s", model=model, tools=[add]).run_sync("1+2", max_iter=2)
    assert result.tool_calls[0]["content"] == {"data": 3}
    assert model.requests[0].tools[0].description == "Add two numbers."


class Node:
    pass


def _untyped(a, b: int) -> None:  # type: ignore[no-untyped-def]
    """x"""


def _star(*names: str) -> None:
    """x"""


def _bad(when: Node) -> None:
    """x"""


@dataclasses.dataclass
class Tree:
    children: list[Tree]


def _recursive(tree: Tree) -> None:
    """x"""


@pytest.mark.parametrize(("fn", "fragment"), [
    (_untyped, "parameter 'a' has no type annotation"), (_star, "parameter 'names': *args/**kwargs"),
    (_bad, "parameter 'when': cannot map"), (_recursive, "refers to itself"),
])
def test_unsupported_signatures_fail_at_decoration_naming_the_parameter(fn: Any, fragment: str) -> None:
    with pytest.raises(UsageError, match="create_tool") as info:
        create_tool(fn)
    assert fragment in str(info.value)


def test_the_agentkit_form_is_unchanged() -> None:
    tool = create_tool(name="x", description="d", parameters={"type": "object"}, handler=lambda args, ctx: args)
    assert tool.name == "x" and _run(tool, {"k": 1}) == {"data": {"k": 1}}
    with pytest.raises(UsageError, match="handler must be a function"):
        create_tool(name="x")
