"""`AgentResult`: what one agent run produced (AgentKit's AgentResult / InferenceResult).

`to_dict()` / `from_dict()` round-trip AgentKit's JSON (camelCase keys: `agentName`,
`toolCalls`, `createdAt`); `export()` is AgentKit's compact form with a `checksum`.

Deviation (spec/deviations.md D-CHECKSUM): TS hashes with xxHash64 over a locale-dependent
date string; we hash SHA-256 over canonical JSON and the ISO timestamp, keeping the 64-bit
unsigned decimal string form. The value is stable across calls, processes and machines.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .messages import JSON, Message, ToolResultMessage, Usage, new_id

if TYPE_CHECKING:
    from .trace import Trace

__all__ = ["AgentResult"]

NEW_ID: Any = object()
"""`AgentResult(id=NEW_ID)`: a fresh UUID, made when `id` is first read (a network run's results)."""


class _Joined(tuple):  # type: ignore[type-arg]
    """Slices `(list, start, stop, ...)` joined only when read: results share the state's log, not
    an O(history) copy each (issue 14). No list is edited below its slice (the log only grows)."""

    __slots__ = ()

    @classmethod
    def of(cls, items: list[Message]) -> _Joined:
        return cls((items, 0, len(items)))

    def __add__(self, other: _Joined) -> _Joined:  # type: ignore[override]
        if self[-3] is other[0] and self[-1] == other[1]:  # adjacent slices of one list: one slice
            return _Joined(self[:-1] + other[2:])
        return _Joined(tuple.__add__(self, other))

    def into(self, out: list[Message]) -> list[Message]:
        for i in range(0, len(self), 3):
            items, start, stop = self[i:i + 3]
            out += items if start == 0 and stop == len(items) else items[start:stop]  # one copy, not two
        return out


class AgentResult:
    """The output of one agent run, stored in `state.results` by networks.

    Attributes: `agent_name`; `output` (parsed model output, after `on_response`); `tool_calls`
    (the results of the tools the model called); `created_at` (when the inference happened,
    UTC); `prompt` (the system / user / assistant-prefill messages of the request); `history`
    (the history messages sent with the prompt); `raw` (the provider's raw response as a JSON
    string); `id` (a fresh UUID per agent call inside a network); `usage` (token usage summed
    over the run's inferences, decision G2).
    """

    __slots__ = ("agent_name", "output", "tool_calls", "_created", "prompt", "_history", "_cut", "raw", "_id",
                 "usage", "_trace")
    _trace: Trace  # set on a standalone run's result only (see `trace`)

    def __init__(self, agent_name: str, output: list[Message], tool_calls: list[ToolResultMessage],
                 created_at: datetime | None = None, prompt: list[Message] | None = None,
                 history: list[Message] | _Joined | None = None, raw: str = "", id: str | None = None,
                 usage: Usage | None = None) -> None:
        self.agent_name = agent_name
        self.output = output
        self.tool_calls = tool_calls
        self._created: datetime | float = time.time() if created_at is None else created_at
        self.prompt: list[Message] = [] if prompt is None else prompt
        self._history: list[Message] | _Joined = [] if history is None else history
        self._cut: tuple[int, int] | None = None
        if type(history) is _Joined and len(history) == 3:  # one slice: the list and two ints, no tuple
            self._history, self._cut = history[0], history[1:]  # holding the list (issue 14: GC work)
        self.raw = raw
        self._id = id
        self.usage: Usage = Usage() if usage is None else usage

    @property
    def trace(self) -> Trace | None:
        """A standalone `agent.run`'s `Trace` (spec/trace.md); None for results of a network run."""
        return getattr(self, "_trace", None)

    @property
    def id(self) -> str | None:
        """A fresh UUID per agent call inside a network (None for a standalone run's result)."""
        if self._id is NEW_ID:  # made on first read: most results' ids are never read (bench/loop.py)
            self._id = new_id()
        return self._id

    @id.setter
    def id(self, value: str | None) -> None:
        self._id = value

    @property
    def created_at(self) -> datetime:
        """When the inference happened (UTC); a float until first read (no datetime per run)."""
        if isinstance(self._created, float):
            self._created = datetime.fromtimestamp(self._created, timezone.utc)
        return self._created

    @created_at.setter
    def created_at(self, value: datetime) -> None:
        self._created = value

    @property
    def history(self) -> list[Message]:
        """The history messages sent with the prompt (a list of its own, made on first read)."""
        view = self._view()
        if isinstance(view, _Joined):
            self._history, self._cut = view.into([]), None
        return self._history  # type: ignore[return-value]  # a list from here on

    @history.setter
    def history(self, value: list[Message]) -> None:
        self._history, self._cut = value, None

    def _view(self) -> list[Message] | _Joined:
        """The history as given: a list, or slices of the state's log not copied yet."""
        return self._history if self._cut is None else _Joined((self._history, *self._cut))

    def _fields(self) -> tuple[Any, ...]:
        return (self.agent_name, self.output, self.tool_calls, self.created_at, self.prompt,
                self.history, self.raw, self.id, self.usage)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        names = ("agent_name", "output", "tool_calls", "created_at", "prompt", "history", "raw", "id", "usage")
        return f"AgentResult({', '.join(f'{n}={v!r}' for n, v in zip(names, self._fields()))})"

    @property
    def checksum(self) -> str:
        """A stable dedupe key: 64-bit unsigned decimal of SHA-256(output + tool calls + time)."""
        payload = json.dumps(
            [*self.output, *self.tool_calls], sort_keys=True, separators=(",", ":"), default=str
        ) + self.created_at.isoformat()
        import hashlib  # here: only checksums need it

        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        return str(int.from_bytes(digest[:8], "big"))

    def export(self) -> dict[str, JSON]:
        """AgentKit's `export()`: agentName, output, toolCalls, createdAt, checksum."""
        return {"agentName": self.agent_name, "output": self.output, "toolCalls": self.tool_calls,
                "createdAt": self.created_at.isoformat(), "checksum": self.checksum}

    def to_dict(self) -> dict[str, JSON]:
        """The full JSON form (what `JSON.stringify(result)` gives in TS, plus usage)."""
        out: dict[str, JSON] = {"agentName": self.agent_name, "output": self.output, "toolCalls": self.tool_calls,
                                "createdAt": self.created_at.isoformat(), "prompt": self.prompt,
                                "history": self.history, "raw": self.raw}
        if self.id is not None:
            out["id"] = self.id
        if self.usage:
            out["usage"] = dict(self.usage)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentResult:
        """Rebuild a result from `to_dict()` / `export()` JSON (TS or ours)."""
        created = data.get("createdAt")
        when = datetime.fromisoformat(created.replace("Z", "+00:00")) if isinstance(created, str) else None
        return cls(agent_name=str(data["agentName"]), output=list(data.get("output") or []),
                   tool_calls=list(data.get("toolCalls") or []), created_at=when,
                   prompt=list(data.get("prompt") or []), history=list(data.get("history") or []),
                   raw=data.get("raw") or "", id=data.get("id"), usage=Usage(**(data.get("usage") or {})))  # type: ignore[typeddict-item]
