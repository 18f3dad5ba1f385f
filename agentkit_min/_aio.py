"""Small async helpers: accept sync or async callables, and run coroutines from sync code."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Coroutine, TypeVar

from .errors import UsageError

T = TypeVar("T")

__all__ = ["maybe_await", "run_sync"]


async def maybe_await(value: Any) -> Any:
    """Await `value` if it is awaitable (handlers, hooks and routers may be either)."""
    if inspect.isawaitable(value):
        return await value
    return value


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion from synchronous code (the `run_sync` twins)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise UsageError(
        "run_sync() was called inside a running event loop; use `await ....run(...)` there instead"
    )
