"""Small async helpers: accept sync or async callables, run blocking work off the event loop,
and run coroutines from sync code."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import queue
import threading
import weakref
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
    # Results go back to each loop in batches: one wake-up (a self-pipe write, a GIL hand-off)
    # for all the results that finish while the loop is busy, not one per result.
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], tuple[Any, Callable[[], None]]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._done: weakref.WeakKeyDictionary[Any, list[Callable[[], None]]] = weakref.WeakKeyDictionary()

    def submit(self, job: Callable[[], tuple[Any, Callable[[], None]]]) -> None:
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
            loop, settle = job()
            with self._lock:
                self._idle += 1
                wake = loop not in self._done
                self._done.setdefault(loop, []).append(settle)
            if wake:
                try:
                    loop.call_soon_threadsafe(self._drain, loop)
                except RuntimeError:  # the loop closed while we worked: nobody is waiting any more
                    with self._lock:
                        self._done.pop(loop, None)

    def _drain(self, loop: Any) -> None:
        with self._lock:
            batch = self._done.pop(loop, [])
        for settle in batch:
            settle()


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

    def job() -> tuple[Any, Callable[[], None]]:
        value: Any
        try:
            ok, value = True, context.run(fn, *args)
        except BaseException as exc:  # handed to the awaiting task, never lost in the thread
            ok, value = False, exc

        def settle() -> None:
            if not future.done():
                future.set_result(value) if ok else future.set_exception(value)
        return loop, settle

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
