"""Run events: AgentKit's streaming events (section 7.3, decision G3) and token streaming.

The loop sends each event to a `publish` callback (sync or async; `network.run(input, publish=...)`,
`agent.run(...)`), numbered by `StreamingContext`; which events, in which order, with which data:
spec/semantics.md section 8. A failing `publish` is logged and ignored: observers never break a run.
While a run has a subscriber the agent sets `DELTA_SINK` to a `Parts` around `model.infer(...)`; a
model that streams (ProviderModel) awaits it with each decoded delta, so the parts go out as the
provider's bytes arrive; one that does not (test doubles, durable replays) leaves it untouched and the
parts are published after the reply. `RunStream` makes a run an async iterator of its events.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextvars import ContextVar
from typing import Any, AsyncIterator, Awaitable, Callable, Generic, TypeVar

from ._aio import maybe_await

__all__ = ["DELTA_SINK", "DeltaSink", "Parts", "Publish", "RunStream", "StreamingContext"]

log = logging.getLogger(__name__)
T = TypeVar("T")

Publish = Callable[[dict[str, Any]], Any]
DeltaSink = Callable[[dict[str, Any]], Awaitable[None]]

DELTA_SINK: ContextVar[DeltaSink | None] = ContextVar("agentkit_min_delta_sink", default=None)
"""Set around `model.infer(...)` while a run has a subscriber; None otherwise (module docstring)."""


class StreamingContext:
    """Numbers and sends events for one run; `None`-safe helpers keep the loop short."""

    def __init__(self, publish: Publish, state: Any) -> None:
        self._publish, self._state, self.sequence = publish, state, 0
        user = state.data.get("userId") if isinstance(state.data, dict) else None
        self._user = user if isinstance(user, str) else None  # as the run started

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        """Number `event` and send it to the publish callback (failures are logged, not raised)."""
        data = dict(data)
        data.setdefault("threadId", self._state.thread_id)
        if self._user is not None:
            data.setdefault("userId", self._user)
        seq, self.sequence = self.sequence, self.sequence + 1
        chunk = {"event": event, "data": data, "timestamp": int(time.time() * 1000), "sequenceNumber": seq,
                 "id": f"publish-{seq}:{event}"}
        try:
            await maybe_await(self._publish(chunk))
        except Exception:  # observers never break a run (module docstring)
            log.exception("publish callback failed for %s", event)

    async def part(self, run_id: str, message_id: str, kind: str, delta_event: str,
                   delta: str, extra: dict[str, Any] | None = None) -> None:
        """Emit one part: created, one delta, completed."""
        part_id = f"part_{uuid.uuid4().hex[:12]}"
        base = {"partId": part_id, "runId": run_id, "messageId": message_id, "type": kind, **(extra or {})}
        await self.emit("part.created", base)
        await self.emit(delta_event, {"partId": part_id, "messageId": message_id, "delta": delta,
                                      **(extra or {})})
        await self.emit("part.completed", {**base, "finalContent": delta})


class Parts:
    """The `DELTA_SINK` of one inference: publishes provider deltas as parts as they arrive.

    A delta with a new `key` completes the open part and opens the next (`part.created` with
    `type` "text" or "tool-call", `toolName` and `toolCallId` for tool calls); each non-empty
    delta is one `text.delta` / `tool_call.arguments.delta`; `close()` completes the last part
    (`finalContent`: the part's deltas joined).
    """

    def __init__(self, stream: StreamingContext, run_id: str, message_id: str) -> None:
        self._stream, self._run_id, self._message_id = stream, run_id, message_id
        self._open: tuple[Any, dict[str, Any], list[str]] | None = None
        self.streamed = False
        """True once the model sent a delta (its parts need not be published again)."""

    async def __call__(self, delta: dict[str, Any]) -> None:
        """Publish one delta (adapters/_stream.py shapes)."""
        self.streamed = True
        text = delta["type"] == "text"
        if self._open is None or self._open[0] != delta["key"]:
            await self.close()
            extra = {} if text else {k: v for k, v in (("toolName", delta.get("name")),
                                                         ("toolCallId", delta.get("id"))) if v}
            part = {"partId": f"part_{uuid.uuid4().hex[:12]}", "runId": self._run_id,
                    "messageId": self._message_id, "type": "text" if text else "tool-call", **extra}
            self._open = (delta["key"], part, [])
            await self._stream.emit("part.created", part)
        _, part, pieces = self._open
        if delta["delta"]:
            pieces.append(delta["delta"])
            await self._stream.emit("text.delta" if text else "tool_call.arguments.delta", {
                "partId": part["partId"], "messageId": self._message_id, "delta": delta["delta"],
                **{k: part[k] for k in ("toolName", "toolCallId") if k in part}})

    async def close(self) -> None:
        """Complete the open part, if any."""
        if self._open is not None:
            _, part, pieces = self._open
            self._open = None
            await self._stream.emit("part.completed", {**part, "finalContent": "".join(pieces)})


_END = object()


class RunStream(Generic[T]):
    """A run as an async iterator of its events: `async for event in network.stream(input)`.

    The run starts at the first iteration; events are yielded as published; `result` is what
    `run()` returns once the events end (its error is raised after the last event). Leaving
    the loop early (break, exception) cancels the run: at once inside `async with`, else when
    the iterator is finalised, which asyncio does right after the loop is left.
    """

    def __init__(self, start: Callable[[Publish], Awaitable[T]]) -> None:
        self._start = start
        self._task: asyncio.Future[T] | None = None
        self.result: T | None = None
        """The finished run (NetworkRun) or result (AgentResult), set when the events end."""

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._task is not None:
            raise RuntimeError("a RunStream can be iterated once")
        queue: asyncio.Queue[Any] = asyncio.Queue()
        task = self._task = asyncio.ensure_future(self._start(queue.put_nowait))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while (event := await queue.get()) is not _END:
                yield event
            self.result = task.result()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Cancel the run if it is still going and wait until it has stopped."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])  # its own error or cancellation is not the caller's
            if not task.cancelled():
                task.exception()  # retrieved: the caller left on purpose

    async def __aenter__(self) -> RunStream[T]:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
