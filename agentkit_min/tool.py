"""Tools: a name, a description, a JSON Schema and a handler (spec/semantics.md, "Tools").

Error policy (decisions Q3, Q5): anything that goes wrong on the model's side becomes a tool
result the model can read, never a crash and never a stack trace:

    unknown tool        -> {"error": {"name": "ToolNotFoundError", "message": ...}}
    invalid arguments   -> {"error": {"name": "ToolArgumentsError", "message": "<json path>: ..."}}
    handler raised      -> {"error": {"name": <exception class>, "message": str(exc)}}

Caller mistakes (a bad schema, a non-callable handler) raise `UsageError` at `create_tool`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Union

from .errors import UsageError

if TYPE_CHECKING:
    from .agent import Agent
    from .network import NetworkRun
    from .step import Step

__all__ = ["Tool", "ToolContext", "ToolHandler", "create_tool"]


@dataclass
class ToolContext:
    """The second argument of every tool handler."""

    network: NetworkRun
    """The running network (a one-agent wrapper for standalone runs); `network.state` is shared."""
    agent: Agent
    """The agent whose model called the tool."""
    step: Step | None = None
    """The durable step tools, or None outside a durable engine."""


ToolHandler = Callable[[Any, ToolContext], Union[Any, Awaitable[Any]]]


@dataclass
class Tool:
    """A tool an agent can offer its model. Build it with `create_tool`."""

    name: str
    """Unique within an agent; what the model calls."""
    description: str | None
    """Tells the model when to call it."""
    parameters: dict[str, Any] | None
    """JSON Schema of the arguments (an object schema), or None for no arguments."""
    handler: ToolHandler
    """`handler(input, ctx)`, sync or async; its return value becomes `{"data": value}`."""
    strict: bool | None = None
    """OpenAI strict mode: None = auto (decision G1), True/False = forced."""
    mcp: dict[str, str] | None = None
    """For MCP tools: {"server": <server name>, "tool": <tool name on the server>}."""


def create_tool(
    name: str,
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
    handler: ToolHandler | None = None,
    strict: bool | None = None,
) -> Tool:
    """Create a tool (AgentKit's `createTool`).

    Args:
        name: the tool's name, letters, digits, `_` and `-` (what providers accept).
        description: when the model should call it.
        parameters: a JSON Schema dict for the arguments, usually `{"type": "object", ...}`.
        handler: `handler(input, ctx)`; sync or async.
        strict: OpenAI strict mode; None sets it only when the schema allows it.
    """
    if not isinstance(name, str) or not name:
        raise UsageError("create_tool: name must be a non-empty string")
    if handler is None or not callable(handler):
        raise UsageError(f"create_tool({name!r}): handler must be a function (input, ctx) -> result")
    if parameters is not None:
        if not isinstance(parameters, dict):
            raise UsageError(
                f"create_tool({name!r}): parameters must be a JSON Schema dict, got {type(parameters).__name__}"
            )
        from .schema import check_schema

        check_schema(parameters, where=f"create_tool({name!r}) parameters")
    return Tool(name=name, description=description, parameters=parameters, handler=handler, strict=strict)
