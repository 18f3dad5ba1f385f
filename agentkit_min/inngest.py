"""Run networks and agents as Inngest functions (AgentKit's Deployment pages, section 7.1 and 7.4).

Install the SDK from a checkout with `pip install -e '.[inngest]'` (or a built wheel's
`[inngest]` extra); it is imported lazily, inside the functions below, so
`import agentkit_min.inngest` works (and costs nothing) without it.

    client = inngest.Inngest(app_id="my-app")
    fn = network_function(client, network, retries=1,
                          concurrency=[{"key": "event.data.user_id", "limit": 10}])
    inngest.fast_api.serve(app, client, [fn])   # /api/inngest: examples/deployment_inngest.py

What maps to what:

    InngestStep(ctx.step)    our `Step` protocol (step.py) over the SDK's async step tools:
                             run -> step.run, wait_for_event -> step.wait_for_event (seconds ->
                             timedelta, the event -> a JSON dict), invoke -> step.invoke
    network_function(...)    id `network-<slug>`, event `<app id>/network-<slug>`; the body runs
                             `network.run(event.data["input"], step=InngestStep(ctx.step))`
    agent_function(...)      id `agent-<slug>`, event `<app id>/agent-<slug>`; `agent.run(...)`
    create_functions(...)    both, for many networks and agents (TS `createServer`'s functions)
    function_tool(fn)        an Inngest function as a tool, called with `step.invoke`
    match(field)             the `if_exp` of AgentKit's `waitForEvent({match: field})`

Inside the function every inference and tool call is a memoised step (ids in step.py), so a
retried run replays completed model calls from Inngest's memo instead of calling the model
again. Retries, concurrency keys (multi-tenancy), throttling, rate limits, priority and any
other `create_function` option are passed through to the SDK unchanged; dicts are accepted
for the SDK's config models (`{"key": "event.data.user_id", "limit": 10}`).

Event data: `input` (str or UserMessage JSON, required), optional `state` (initial
`state.data`) and `thread_id`. The function returns the server's run JSON (server.py).

Not here: serving the Inngest HTTP protocol (the SDK's adapters do; the example serves it
with FastAPI + uvicorn), `step.ai.infer` offloading, and parallel tool calls (the core runs
tool calls in order, as AgentKit).
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ._aio import maybe_await
from .errors import UsageError
from .tool import Tool, ToolContext

if TYPE_CHECKING:
    import inngest

    from .agent import Agent
    from .network import Network

__all__ = [
    "InngestStep",
    "agent_function",
    "create_functions",
    "function_tool",
    "match",
    "network_function",
    "slugify",
]


def _sdk() -> Any:
    try:
        import inngest
    except ImportError as exc:  # a missing optional extra, named with its fix
        raise UsageError(
            "agentkit_min.inngest needs the Inngest SDK (`pip install 'inngest>=0.5,<0.6'`, or "
            "from an agentkit-min checkout `pip install -e '.[inngest]'`)"
        ) from exc
    return inngest


def slugify(name: str) -> str:
    """AgentKit's (the Inngest JS SDK's) slugify: lowercase, non-alphanumeric runs -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def match(field: str) -> str:
    """`if_exp` for waiting on an event whose `field` equals the triggering event's.

    `match("data.ticketId")` is AgentKit's `waitForEvent(..., {match: "data.ticketId"})`.
    """
    return f"event.{field} == async.{field}"


class InngestStep:
    """Our `Step` protocol over the SDK's async `inngest.Step` (the `ctx.step` of a function)."""

    def __init__(self, step: inngest.Step) -> None:
        self._step = step

    async def run(self, step_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        """`step.run`: `fn(*args)` once; its JSON result is memoised (sync fns are accepted).

        The result is stored as `{"value": result}`: the SDK reads a memo shaped like
        `{"data": ...}` or `{"error": {...}}` as its own envelope, and tool results have
        exactly those shapes, so unwrapped they could replay as a different value or an error.
        """
        async def enveloped() -> dict[str, Any]:
            return {"value": await maybe_await(fn(*args))}

        memo = await self._step.run(step_id, enveloped)
        return memo["value"] if isinstance(memo, dict) and "value" in memo else memo

    async def wait_for_event(
        self, step_id: str, *, event: str, timeout: float, if_exp: str | None = None
    ) -> dict[str, Any] | None:
        """`step.wait_for_event`; returns `{"name", "data", "id", "ts"}`, or None on timeout."""
        got = await self._step.wait_for_event(
            step_id, event=event, timeout=datetime.timedelta(seconds=timeout), if_exp=if_exp
        )
        if got is None:
            return None
        return {"name": got.name, "data": dict(got.data), "id": got.id, "ts": got.ts}

    async def invoke(self, step_id: str, *, function: Any, data: dict[str, Any]) -> Any:
        """`step.invoke`: run another Inngest function of this app with `data` as its event data."""
        return await self._step.invoke(step_id, function=function, data=data)


# SDK config models that function options may give as plain dicts.
_MODELS = {"concurrency": "Concurrency", "throttle": "Throttle", "rate_limit": "RateLimit",
           "priority": "Priority", "debounce": "Debounce", "timeouts": "Timeouts",
           "batch_events": "Batch", "singleton": "Singleton"}


def _options(sdk: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        model = getattr(sdk, _MODELS[key]) if key in _MODELS else None
        if model is not None and key == "concurrency":
            items = value if isinstance(value, (list, tuple)) else [value]
            value = [model(**v) if isinstance(v, Mapping) else v for v in items]
        elif model is not None and isinstance(value, Mapping):
            value = model(**value)
        out[key] = value
    return out


def _event_input(data: Mapping[str, Any]) -> Any:
    """The run input from event data: a str, or a UserMessage from its JSON."""
    from .messages import UserMessage

    value = data.get("input")
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return UserMessage.from_dict(dict(value))
    raise _sdk().NonRetriableError(
        "event.data.input must be a string or a UserMessage object with a string 'content'"
    )


def _event_state(data: Mapping[str, Any]) -> Any:
    from .state import create_state

    initial = data.get("state")
    thread = data.get("thread_id") or data.get("threadId")
    return create_state(dict(initial) if isinstance(initial, Mapping) else {},
                        thread_id=thread if isinstance(thread, str) else None)


def network_function(client: inngest.Inngest, network: Network[Any], *, fn_id: str | None = None,
                     event: str | None = None, **options: Any) -> inngest.Function[Any]:
    """Turn a network into an Inngest function.

    Args:
        client: the app's `inngest.Inngest` client.
        network: the network to run; its name gives the id `network-<slug>`.
        fn_id: override the function id.
        event: override the trigger event (default `<app id>/network-<slug>`).
        **options: passed to `client.create_function`: `retries`, `concurrency`,
            `throttle`, `rate_limit`, `priority`, `idempotency`, `name`, ...
    """
    from .server import run_json

    sdk = _sdk()
    fid = fn_id or f"network-{slugify(network.name)}"

    async def body(ctx: inngest.Context) -> dict[str, Any]:
        state = _event_state(ctx.event.data)
        run = await network.run(_event_input(ctx.event.data), state=state, step=InngestStep(ctx.step))
        return run_json(run.run_id, run.state, run.state.get_results_from(run.initial_result_count))

    return _create(sdk, client, fid, event, network.name, options, body)


def agent_function(client: inngest.Inngest, agent: Agent, *, fn_id: str | None = None,
                   event: str | None = None, **options: Any) -> inngest.Function[Any]:
    """Turn a standalone agent into an Inngest function (id `agent-<slug>`); see network_function."""
    from .server import run_json

    sdk = _sdk()
    fid = fn_id or f"agent-{slugify(agent.name)}"

    async def body(ctx: inngest.Context) -> dict[str, Any]:
        state = _event_state(ctx.event.data)
        result = await agent.run(_event_input(ctx.event.data), state=state, step=InngestStep(ctx.step))
        return run_json(ctx.run_id, state, [result])

    return _create(sdk, client, fid, event, agent.name, options, body)


def _create(sdk: Any, client: inngest.Inngest, fid: str, event: str | None, name: str,
            options: Mapping[str, Any], body: Callable[..., Any]) -> inngest.Function[Any]:
    opts = _options(sdk, options)
    opts.setdefault("name", name)
    trigger = sdk.TriggerEvent(event=event or f"{client.app_id}/{fid}")
    fn: inngest.Function[Any] = client.create_function(fn_id=fid, trigger=trigger, **opts)(body)
    return fn


def create_functions(client: inngest.Inngest, *, networks: Sequence[Any] = (),
                     agents: Sequence[Any] = ()) -> list[inngest.Function[Any]]:
    """Functions for many networks and agents, as AgentKit's `createServer` makes them.

    Each item is a Network / Agent, or a `(network_or_agent, options_dict)` pair whose
    options go to `network_function` / `agent_function`.
    """
    fns: list[inngest.Function[Any]] = []
    for item in agents:
        agent, opts = item if isinstance(item, tuple) else (item, {})
        fns.append(agent_function(client, agent, **opts))
    for item in networks:
        network, opts = item if isinstance(item, tuple) else (item, {})
        fns.append(network_function(client, network, **opts))
    return fns


def function_tool(function: inngest.Function[Any], *, name: str | None = None,
                  description: str | None = None,
                  parameters: dict[str, Any] | None = None) -> Tool:
    """An Inngest function as a tool: the model's arguments become the invoked event's data.

    The call is `step.invoke("<agent name>/tools/<tool name>", ...)` (AgentKit's id), so the
    function's own steps give it retries and durability (the seed's multi-steps tools).
    Outside an Inngest function the tool answers with an error result, as AgentKit.
    """
    from .tool import create_tool

    tool_name = name or slugify(function.local_id)

    async def handler(args: Any, ctx: ToolContext) -> Any:
        if ctx.step is None:
            raise UsageError(f"Inngest tool {tool_name!r} called outside of Inngest context")
        return await ctx.step.invoke(f"{ctx.agent.name}/tools/{tool_name}", function=function,
                                     data=dict(args or {}))

    return create_tool(name=tool_name, description=description or function.name,
                       parameters=parameters, handler=handler, uses_step=True)
