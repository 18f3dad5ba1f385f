"""Run events (AgentKit's streaming events, section 7.3; decision G3).

The one network loop emits these to a `publish` callback (sync or async) given as
`network.run(input, publish=...)` or `agent.run(input, publish=...)` for standalone agents:

    run.started(network) run.started(agent)
        part.created(text) text.delta part.completed(text)
        part.created(tool-call) tool_call.arguments.delta part.completed(tool-call)
        part.created(tool-output) tool_call.output.delta part.completed(tool-output)
    run.completed(agent) ... run.completed(network) stream.ended(network)

On failure: run.failed(network), run.completed(network), stream.ended(network).

Each chunk is `{"event", "data", "timestamp" (ms), "sequenceNumber" (0-based, shared by the
network and its agents), "id": "publish-<seq>:<event>"}`; `data` carries `threadId` and, when
`state.data["userId"]` is a string, `userId`. Text is streamed after the full reply arrives
(true token streaming from providers is a later goal). A failing `publish` is logged and
ignored: observers never break a run.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable

from ._aio import maybe_await

__all__ = ["Publish", "StreamingContext"]

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], Any]


class StreamingContext:
    """Numbers and sends events for one run; `None`-safe helpers keep the loop short."""

    def __init__(self, publish: Publish, thread_id: Callable[[], str | None],
                 user_id: Callable[[], str | None]) -> None:
        self._publish = publish
        self._thread_id = thread_id
        self._user_id = user_id
        self.sequence = 0

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        """Number `event` and send it to the publish callback (failures are logged, not raised)."""
        data = dict(data)
        data.setdefault("threadId", self._thread_id())
        user = self._user_id()
        if user is not None:
            data.setdefault("userId", user)
        seq = self.sequence
        self.sequence += 1
        chunk = {
            "event": event, "data": data, "timestamp": int(time.time() * 1000),
            "sequenceNumber": seq, "id": f"publish-{seq}:{event}",
        }
        try:
            await maybe_await(self._publish(chunk))
        except Exception:  # observers never break a run (module docstring)
            log.exception("publish callback failed for %s", event)

    async def part(self, run_id: str, message_id: str, kind: str, delta_event: str,
                   delta: str, extra: dict[str, Any] | None = None) -> None:
        """Emit one part: created, one delta, completed."""
        part_id = f"part_{uuid.uuid4().hex[:12]}"
        base = {"partId": part_id, "runId": run_id, "messageId": message_id, "type": kind,
                **(extra or {})}
        await self.emit("part.created", base)
        await self.emit(delta_event, {"partId": part_id, "messageId": message_id, "delta": delta,
                                      **(extra or {})})
        await self.emit("part.completed", {**base, "finalContent": delta})
