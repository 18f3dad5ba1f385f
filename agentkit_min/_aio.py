"""Small async helpers: accept sync or async callables, run blocking work off the event loop,
and run coroutines from sync code."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import queue
import threading
from typing import Any, Callable, Coroutine, TypeVar

from .errors import UsageError

T = TypeVar("T")

__all__ = ["in_thread", "maybe_await", "run_sync"]

_IDLE_SECONDS = 30.0
"""An idle worker thread exits after this long, so a burst leaves no threads behind."""


async def maybe_await(value: Any) -> Any:
    """Await `value` if it is awaitable (handlers, hooks and routers may be either)."""
    if inspect.isawaitable(value):
        return await value
    return value


class _Workers:
    # Why not asyncio.to_thread: the loop's default executor has min(32, cpus + 4) workers
    # (6 on a 2-core machine), a hidden cap on concurrent model calls and blocking tools.
    # This pool reuses idle threads and starts a new one whenever none is idle: no cap.
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
        self._jobs.put(job)
        if spawn:
            threading.Thread(target=self._work, name="agentkit-min-worker", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0 and self._jobs.empty():
                        self._idle -= 1
                        return
                continue
            job()
            with self._lock:
                self._idle += 1


_WORKERS = _Workers()


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking `fn(*args)` on a worker thread and await it without holding the loop.

    Context variables follow the call (like `asyncio.to_thread`). Cancelling the awaiting task
    stops the wait at once; the thread finishes `fn` on its own (callers that hold a socket
    close it to cut that short).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def job() -> None:
        try:
            outcome: tuple[bool, Any] = (True, context.run(fn, *args))
        except BaseException as exc:  # handed to the awaiting task, never lost in the thread
            outcome = (False, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop closed while we worked: nobody is waiting any more
            pass

    _WORKERS.submit(job)
    return await future


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
