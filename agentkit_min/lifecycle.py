"""Lifecycle hooks and the single argument each hook receives (spec/semantics.md "Hooks").

Every hook, router and dynamic system prompt takes ONE argument whose attributes mirror the
object AgentKit passes (`({ agent, network, prompt, history }) => ...` in TS becomes
`def on_start(args): args.agent, args.network, ...`). Any of them may be sync or async.

    enabled(AgentArgs)      -> bool          is the agent offered to the default router
    on_start(StartArgs)     -> {"prompt"?, "history"?, "stop"?} | None   before each inference
    on_response(ResultArgs) -> AgentResult | None   after the inference, before tools
    on_finish(ResultArgs)   -> AgentResult | None   after tools; what the network stores
    on_route(ResultArgs)    -> list[str] | None     routing agents only: names to run next
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Optional, TypedDict, TypeVar, Union

from .errors import UsageError
from .messages import Message, UserMessage

if TYPE_CHECKING:
    from .agent import Agent
    from .network import NetworkRun
    from .result import AgentResult

__all__ = ["AgentArgs", "StartArgs", "ResultArgs", "RouterArgs", "Lifecycle", "LifecycleHooks",
           "parse_lifecycle"]

T = TypeVar("T")
MaybeAwaitable = Union[T, Awaitable[T]]


@dataclass
class AgentArgs:
    """Argument of `enabled` and of dynamic system prompts."""

    agent: Agent
    network: NetworkRun


@dataclass
class StartArgs:
    """Argument of `on_start`: edit `prompt` / `history` by returning them, or stop."""

    agent: Agent
    network: NetworkRun
    input: str
    prompt: list[Message]
    history: list[Message]


@dataclass
class ResultArgs:
    """Argument of `on_response`, `on_finish` and `on_route`."""

    agent: Agent
    network: NetworkRun
    result: AgentResult


@dataclass
class RouterArgs:
    """Argument of a code router (AgentKit's RouterArgs)."""

    input: str
    """The run's input text."""
    network: NetworkRun
    """The running network, with its `state`."""
    stack: list[Agent]
    """Agents already queued to run next (read-only)."""
    call_count: int
    """Agent runs completed so far in this run (routing inferences do not count)."""
    last_result: AgentResult | None
    """`network.state.results[-1]`, or None."""
    user_message: UserMessage | None = None
    """The original UserMessage when the run's input was one."""


# The hook types (module docstring); typed so mypy and IDEs reject a wrong hook signature.
EnabledHook = Callable[[AgentArgs], MaybeAwaitable[bool]]
StartHook = Callable[[StartArgs], MaybeAwaitable[Optional[Mapping[str, Any]]]]
ResultHook = Callable[[ResultArgs], MaybeAwaitable[Optional["AgentResult"]]]
RouteHook = Callable[[ResultArgs], MaybeAwaitable[Optional[list[str]]]]


class LifecycleHooks(TypedDict, total=False):
    """The `lifecycle=` dict: `{"on_start": fn, ...}`; an unknown key is a type error."""

    enabled: EnabledHook
    on_start: StartHook
    on_response: ResultHook
    on_finish: ResultHook
    on_route: RouteHook


@dataclass
class Lifecycle:
    """The hooks as a dataclass (what `parse_lifecycle` makes of a `LifecycleHooks` dict)."""

    enabled: EnabledHook | None = None
    on_start: StartHook | None = None
    on_response: ResultHook | None = None
    on_finish: ResultHook | None = None
    on_route: RouteHook | None = None


_KEYS = ("enabled", "on_start", "on_response", "on_finish", "on_route")
_TS_NAMES = {"onStart": "on_start", "onResponse": "on_response", "onFinish": "on_finish",
             "onRoute": "on_route"}


def parse_lifecycle(value: object, owner: str) -> Lifecycle:
    """Accept a Lifecycle or a dict of hooks; anything else, or an unknown key, raises now."""
    if value is None:
        return Lifecycle()
    if isinstance(value, Lifecycle):
        return value
    if not isinstance(value, Mapping):
        raise UsageError(f"{owner}: lifecycle must be a dict of hooks, got {type(value).__name__}")
    hooks: dict[str, Any] = {}
    for key, fn in value.items():
        if key not in _KEYS:
            hint = f" (did you mean {_TS_NAMES[key]!r}?)" if key in _TS_NAMES else ""
            raise UsageError(f"{owner}: unknown lifecycle hook {key!r}{hint}; valid: {', '.join(_KEYS)}")
        if not callable(fn):
            raise UsageError(f"{owner}: lifecycle hook {key!r} must be callable")
        hooks[key] = fn
    return Lifecycle(**hooks)
