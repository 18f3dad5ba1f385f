"""Tools: a name, a description, a JSON Schema and a handler (spec/semantics.md, "Tools").

Error policy (decisions Q3, Q5; the table in spec/semantics.md section 2): what goes wrong on the
model's side (an unknown tool, invalid or non-object arguments, a handler that raised, a result JSON
cannot encode) becomes a tool result `{"error": {"name", "message"}}` the model can read, never a
crash or a stack trace; `strict_tools=True` on the agent raises the last two instead (for tests).
A return value is made JSON here (`to_json`). Sync handlers run on a worker thread (`_aio.in_thread`)
unless `run_in_thread=False`. Caller mistakes (a bad schema...) raise `UsageError` at `create_tool`.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, NoReturn, Union

from ._aio import in_thread
from .errors import RoutingError, ToolResultError, UsageError
from .messages import ToolMessage, ToolResultMessage, tool_result_message

if TYPE_CHECKING:
    from .agent import Agent
    from .network import NetworkRun
    from .step import Step

__all__ = ["Tool", "ToolContext", "ToolHandler", "create_tool", "call_tool", "to_json", "INVALID_ARGUMENTS"]

log = logging.getLogger(__name__)

_schema: Any = None
INVALID_ARGUMENTS = "$invalid_arguments"
"""The only key of a ToolMessage's `input` when the provider's arguments were not a JSON object
(adapters/_common.py `parse_arguments`); its value says why and quotes the text, cut."""


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
    run_in_thread: bool = True
    """A sync handler runs on a worker thread, so blocking blocks only its own run."""


def create_tool(name: str | Callable[..., Any], description: str | None = None, parameters: dict[str, Any] | None = None,
                handler: ToolHandler | None = None, strict: bool | None = None, uses_step: bool = False,
                run_in_thread: bool = True, ignore_unknown_keywords: bool = False) -> Tool:
    """Create a tool (AgentKit's `createTool`), or, given a typed function, a tool made from it.

    `create_tool(fn)` / `@create_tool` (agentkit_min/signature.py): name, description (docstring
    summary), argument descriptions (its `Args:` section) and schema come from `fn`, which is
    called with keyword arguments after validation and gets the `ToolContext` only through a
    parameter annotated `ToolContext`.

    Args:
        name: the tool's name, letters, digits, `_` and `-` (what providers accept).
        description: when the model should call it.
        parameters: a JSON Schema dict for the arguments, usually `{"type": "object", ...}`.
        handler: `handler(input, ctx)`; sync or async.
        strict: OpenAI strict mode; None sets it only when the schema allows it.
        uses_step: the handler uses `ctx.step` (multi-step or human-in-the-loop tools).
        run_in_thread: False runs a sync handler on the event loop's thread (one that must).
        ignore_unknown_keywords: let schema keywords that are not enforced through, unenforced.
    """
    if callable(name) and parameters is None and handler is None:
        from .signature import function_tool

        return function_tool(name, description=description, strict=strict, uses_step=uses_step,
                             run_in_thread=run_in_thread)
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

        check_schema(parameters, f"create_tool({name!r}) parameters", ignore_unknown_keywords)
    return Tool(name=name, description=description, parameters=parameters, handler=handler, strict=strict,
                uses_step=uses_step, run_in_thread=run_in_thread)


def _error(name: str, message: str) -> dict[str, Any]:
    return {"error": {"name": name, "message": message}}


async def call_tool(tools: Mapping[str, Tool], call: ToolMessage, ctx: ToolContext,
                    step_id: str | None = None) -> ToolResultMessage:
    """Run one tool call and return its tool result (the error policy of the module docstring).

    With a durable step (and a tool that does not use steps itself) the call is memoised as
    `step.run(step_id, ...)` so a replayed run does not repeat it (step.py).
    """
    tool = tools.get(call["name"])
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        content: Any = _error("ToolNotFoundError", f"Inference requested a non-existent tool: {call['name']} "
                                                   f"(available tools: {available})")
    elif ctx.step is not None and step_id is not None and not tool.uses_step:
        guarded = ToolContext(ctx.network, ctx.agent, _NestedStepGuard(tool.name))
        content = await ctx.step.run(step_id, _invoke, tool, call, guarded)
    else:
        content = await _invoke(tool, call, ctx)
    return tool_result_message(call, content)


async def _invoke(tool: Tool, call: ToolMessage, ctx: ToolContext) -> Any:
    global _schema
    args: Any = call.get("input")
    if args is None:
        args = {}
    if isinstance(args, dict) and INVALID_ARGUMENTS in args:  # the handler cannot get these (Q5)
        return _error("ToolArgumentsError", f"$: the arguments are {args[INVALID_ARGUMENTS]}; "
                                            "send one JSON object that matches the tool's parameters")
    if tool.parameters is not None:
        if _schema is None:  # loaded once, here: not at import time
            from . import schema as _schema
        problems = _schema.validate(args, tool.parameters)
        if problems:
            log.info("tool %s: invalid arguments: %s", tool.name, problems)
            return _error("ToolArgumentsError", "; ".join(problems))
    strict = getattr(ctx.agent, "strict_tools", False) is True
    try:
        if tool.run_in_thread and not inspect.iscoroutinefunction(tool.handler):
            value = await in_thread(tool.handler, args, ctx)
        else:
            value = tool.handler(args, ctx)
        value = await value if inspect.isawaitable(value) else value
        # Python has one None where JS has null and undefined; None reads as "no return value".
        return {"data": f"{tool.name} successfully executed" if value is None else to_json(value)}
    except RoutingError:
        raise  # the default routing agent's unknown-agent error fails the run (decision Q3)
    except Exception as exc:  # model-side failure: the model reads it (decision Q3)
        if strict:
            raise
        log.warning("tool %s raised %s", tool.name, type(exc).__name__, exc_info=True)
        return _error(type(exc).__name__, _message(exc))


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not turn a tool error into a crash
        return f"({type(exc).__name__} whose message could not be read)"


def to_json(value: Any, path: str = "$", depth: int = 0) -> Any:
    """A tool's return value as JSON data, or `ToolResultError` naming the type and the JSON path
    (the rule: spec/semantics.md section 2, "Tool results")."""
    if depth > 100:
        raise ToolResultError(f"the tool's result nests more than 100 levels at {path}")
    if value is None or type(value) in (str, bool, int):
        return value
    import datetime
    import decimal
    import enum
    import json
    import pathlib
    import uuid

    if isinstance(value, enum.Enum):
        return to_json(value.value, path, depth + 1)
    if isinstance(value, float):  # NaN and Infinity become null, as JSON.stringify does
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (int, str)):  # subclasses
        return int(value) if isinstance(value, int) else str(value)
    if isinstance(value, Mapping):
        keys = [k if isinstance(k, str) else json.dumps(k) if k is None or isinstance(k, (int, float))
                else _fail(f"a dict with a {type(k).__qualname__} key at {path}; JSON keys are strings")
                for k in value]  # as json.dumps: 1 -> "1", True -> "true"
        return {str(k): to_json(v, f"{path}.{k}", depth + 1) for k, v in zip(keys, value.values())}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_json(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        try:  # a set has no order: sorted, so the model sees the same on every run
            return sorted(items) if isinstance(value, (set, frozenset)) else items
        except TypeError:
            return items
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, pathlib.PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            _fail(f"bytes that are not UTF-8 text at {path}; return text (e.g. base64) instead")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, path, depth + 1)
    if callable(getattr(type(value), "model_dump", None)):  # pydantic
        return to_json(value.model_dump(mode="json"), path, depth + 1)
    _fail(f"a {type(value).__qualname__} at {path}, which JSON cannot encode; return dicts, lists, "
          "str, int, float, bool or None")


def _fail(what: str) -> NoReturn:
    raise ToolResultError(f"the tool returned {what}")


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
