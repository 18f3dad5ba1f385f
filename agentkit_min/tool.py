"""Tools: a name, a description, a JSON Schema and a handler (spec/semantics.md, "Tools").

Error policy (decisions Q3, Q5): anything that goes wrong on the model's side becomes a tool
result the model can read, never a crash and never a stack trace:

    unknown tool        -> {"error": {"name": "ToolNotFoundError", "message": ...}}
    invalid arguments   -> {"error": {"name": "ToolArgumentsError", "message": "<json path>: ..."}}
    handler raised      -> {"error": {"name": <exception class>, "message": str(exc)}}

Caller mistakes (a bad schema, a non-callable handler) raise `UsageError` at `create_tool`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Union

from ._aio import maybe_await
from .errors import RoutingError, UsageError
from .messages import ToolMessage, ToolResultMessage, tool_result_message

if TYPE_CHECKING:
    from .agent import Agent
    from .network import NetworkRun
    from .step import Step

__all__ = ["Tool", "ToolContext", "ToolHandler", "create_tool", "call_tool"]

log = logging.getLogger(__name__)


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
    uses_step: bool = False
    """The handler calls `ctx.step` itself, so its call is not wrapped in a step (step.py)."""


def create_tool(
    name: str,
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
    handler: ToolHandler | None = None,
    strict: bool | None = None,
    uses_step: bool = False,
) -> Tool:
    """Create a tool (AgentKit's `createTool`).

    Args:
        name: the tool's name, letters, digits, `_` and `-` (what providers accept).
        description: when the model should call it.
        parameters: a JSON Schema dict for the arguments, usually `{"type": "object", ...}`.
        handler: `handler(input, ctx)`; sync or async.
        strict: OpenAI strict mode; None sets it only when the schema allows it.
        uses_step: the handler uses `ctx.step` (multi-step or human-in-the-loop tools).
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
    return Tool(name=name, description=description, parameters=parameters, handler=handler, strict=strict,
                uses_step=uses_step)


def _error(name: str, message: str) -> dict[str, Any]:
    return {"error": {"name": name, "message": message}}


async def call_tool(tools: Mapping[str, Tool], call: ToolMessage, ctx: ToolContext,
                    step_id: str | None = None) -> ToolResultMessage:
    """Run one tool call and return its tool result (the error policy of the module docstring).

    With a durable step (and a tool that does not use steps itself) the call is memoised as
    `step.run(step_id, ...)` so a replayed run does not repeat it (step.py).
    """
    trace = getattr(ctx.network, "trace", None)  # spec/trace.md; absent on a hand-made context
    span = trace.begin("tool", call["name"], {"call_id": call.get("id"), "input": call.get("input")}) if trace else None
    tool = tools.get(call["name"])
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        content: Any = _error("ToolNotFoundError",
                              f"Inference requested a non-existent tool: {call['name']} "
                              f"(available tools: {available})")
    elif ctx.step is not None and step_id is not None and not tool.uses_step:
        guarded = ToolContext(ctx.network, ctx.agent, _NestedStepGuard(tool.name))
        content = await ctx.step.run(step_id, _invoke, tool, call, guarded)
    else:
        content = await _invoke(tool, call, ctx)
    if span is not None:
        span["output"] = content
        trace.end(span, None, content.get("error") if isinstance(content, dict) else None)
    return tool_result_message(call, content)


async def _invoke(tool: Tool, call: ToolMessage, ctx: ToolContext) -> Any:
    args: Any = call.get("input")
    if args is None:
        args = {}
    if tool.parameters is not None:
        from .schema import validate

        problems = validate(args, tool.parameters)
        if problems:
            log.info("tool %s: invalid arguments: %s", tool.name, problems)
            return _error("ToolArgumentsError", "; ".join(problems))
    try:
        value = await maybe_await(tool.handler(args, ctx))
    except RoutingError:
        raise  # the default routing agent's unknown-agent error fails the run (decision Q3)
    except Exception as exc:  # model-side failure: the model reads it (decision Q3)
        log.warning("tool %s raised %s", tool.name, type(exc).__name__, exc_info=True)
        return _error(type(exc).__name__, str(exc))
    # Python has one None where JS has null and undefined; None reads as "no return value".
    return {"data": f"{tool.name} successfully executed" if value is None else value}


class _NestedStepGuard:
    """`ctx.step` inside a tool call that is itself a step: steps cannot nest (step.py)."""

    def __init__(self, tool_name: str) -> None:
        self._tool = tool_name

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise UsageError(
            f"tool {self._tool!r} uses ctx.step, but its call is already a durable step; "
            f"create it with create_tool(..., uses_step=True)"
        )

    run = wait_for_event = invoke = _fail
