"""Conversation history hooks (AgentKit's `HistoryConfig`; spec/semantics.md "History").

A history is any object with some of four hooks, each a sync or async callable taking one
`HistoryContext`:

    create_thread(ctx)        -> {"thread_id": str} (or a str)  make or upsert a thread
    get(ctx)                  -> list[AgentResult]               load a thread's results
    append_user_message(ctx)  -> None                            store the user's input (networks)
    append_results(ctx)       -> None                            store this run's new results

`HistoryConfig` is the dataclass form; `agentkit_min.sqlite_history.SQLiteHistory` is a built-in
one. The order of calls follows AgentKit 0.13.2 (section 7.2 of the reference) with decision
Q11: standalone agent runs append their own result.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol, Union

from .errors import UsageError
from .trace import traced

if TYPE_CHECKING:
    from .network import NetworkRun
    from .result import AgentResult
    from .state import State
    from .step import Step

__all__ = ["History", "HistoryConfig", "HistoryContext", "HistoryStore"]
_NAMES = ("create_thread", "get", "append_user_message", "append_results")


@dataclass
class HistoryContext:
    """The single argument of every history hook."""

    state: State[Any]
    network: NetworkRun
    input: str
    thread_id: str | None
    step: Step | None = None
    user_message: dict[str, Any] | None = None
    """For append_user_message: {"id", "content", "role": "user", "timestamp"}."""
    new_results: list[AgentResult] = field(default_factory=list)
    """For append_results: only the results produced by this run."""


@dataclass
class HistoryConfig:
    """Four optional hooks; see the module docstring."""

    create_thread: Callable[[HistoryContext], Any] | None = None
    get: Callable[[HistoryContext], Any] | None = None
    append_user_message: Callable[[HistoryContext], Any] | None = None
    append_results: Callable[[HistoryContext], Any] | None = None


class HistoryStore(Protocol):
    """A history object with all four hooks as methods (as `SQLiteHistory`); sync or async."""

    def create_thread(self, ctx: HistoryContext, /) -> Any:
        """Make or upsert `ctx.thread_id`'s thread; return `{"thread_id": str}` or a str."""

    def get(self, ctx: HistoryContext, /) -> list[AgentResult] | Awaitable[list[AgentResult]]:
        """The thread's stored results, oldest first."""

    def append_user_message(self, ctx: HistoryContext, /) -> Awaitable[None] | None:
        """Store `ctx.user_message` (network runs)."""

    def append_results(self, ctx: HistoryContext, /) -> Awaitable[None] | None:
        """Store `ctx.new_results`, this run's results only."""


History = Union[HistoryConfig, HistoryStore]  # untyped callers: any object with one of the hooks


def _hook(history: Any, name: str) -> Callable[[HistoryContext], Any] | None:
    fn = getattr(history, name, None) if history is not None else None
    return fn if callable(fn) else None


async def initialize_thread(history: Any, ctx: HistoryContext) -> None:
    """Give the state a thread id: upsert a client's id, create one, or make a UUID."""
    if history is not None and not any(_hook(history, n) for n in _NAMES):
        raise UsageError(f"history must be a HistoryConfig or an object with one of the hooks "
                         f"{', '.join(_NAMES)}; got {type(history).__name__}")
    create = _hook(history, "create_thread")
    state = ctx.state
    if create is not None:
        created = await traced("history", "create_thread", create, ctx, fields={"thread_id": state.thread_id})
        if not state.thread_id:
            state.thread_id = _thread_id_of(created)
    elif not state.thread_id and _hook(history, "get") is not None:
        state.thread_id = str(uuid.uuid4())
    ctx.thread_id = state.thread_id


def _thread_id_of(created: Any) -> str:
    if isinstance(created, str) and created:
        return created
    if isinstance(created, dict):
        for key in ("thread_id", "threadId"):
            if isinstance(created.get(key), str) and created[key]:
                return str(created[key])
    raise UsageError(
        f"history.create_thread must return {{'thread_id': str}} or a str, got {created!r}"
    )


async def load_thread(history: Any, ctx: HistoryContext) -> None:
    """Load the thread's results unless the client already supplied history (client-authoritative)."""
    get = _hook(history, "get")
    state = ctx.state
    if get is None or not state.thread_id or state.results or state.messages:
        return
    state.set_results(list(await traced("history", "get", get, ctx, fields={"thread_id": state.thread_id})))


async def append_user_message(history: Any, ctx: HistoryContext) -> None:
    hook = _hook(history, "append_user_message")
    if hook is not None:
        await traced("history", "append_user_message", hook, ctx, fields={"thread_id": ctx.thread_id})


async def save_thread(history: Any, ctx: HistoryContext, initial_count: int) -> None:
    """Hand the results produced by this run (and only those) to `append_results`."""
    hook = _hook(history, "append_results")
    if hook is not None:
        ctx.new_results = ctx.state.results[initial_count:]
        await traced("history", "append_results", hook, ctx, fields={"thread_id": ctx.thread_id})
