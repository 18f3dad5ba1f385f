"""`AgentResult`: what one agent run produced (AgentKit's AgentResult / InferenceResult).

`to_dict()` / `from_dict()` round-trip AgentKit's JSON (camelCase keys: `agentName`,
`toolCalls`, `createdAt`); `export()` is AgentKit's compact form with a `checksum`.

Deviation (spec/deviations.md D-CHECKSUM): TS hashes with xxHash64 over a locale-dependent
date string; we hash SHA-256 over canonical JSON and the ISO timestamp, keeping the 64-bit
unsigned decimal string form. The value is stable across calls, processes and machines.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .messages import JSON, Message, ToolResultMessage, Usage

__all__ = ["AgentResult"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class AgentResult:
    """The output of one agent run, stored in `state.results` by networks."""

    agent_name: str
    """Name of the agent that produced it."""
    output: list[Message]
    """Parsed model output (after `on_response`)."""
    tool_calls: list[ToolResultMessage]
    """The results of the tools the model called."""
    created_at: datetime = field(default_factory=_now)
    """When the inference happened (UTC)."""
    prompt: list[Message] = field(default_factory=list)
    """The system / user / assistant-prefill messages of the request."""
    history: list[Message] = field(default_factory=list)
    """The history messages sent with the prompt."""
    raw: str = ""
    """The provider's raw response as a JSON string."""
    id: str | None = None
    """A fresh UUID per agent call inside a network."""
    usage: Usage = field(default_factory=lambda: Usage())
    """Token usage summed over the run's inferences (decision G2)."""

    @property
    def checksum(self) -> str:
        """A stable dedupe key: 64-bit unsigned decimal of SHA-256(output + tool calls + time)."""
        payload = json.dumps(
            [*self.output, *self.tool_calls], sort_keys=True, separators=(",", ":"), default=str
        ) + self.created_at.isoformat()
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        return str(int.from_bytes(digest[:8], "big"))

    def export(self) -> dict[str, JSON]:
        """AgentKit's `export()`: agentName, output, toolCalls, createdAt, checksum."""
        return {
            "agentName": self.agent_name, "output": self.output, "toolCalls": self.tool_calls,
            "createdAt": self.created_at.isoformat(), "checksum": self.checksum,
        }

    def to_dict(self) -> dict[str, JSON]:
        """The full JSON form (what `JSON.stringify(result)` gives in TS, plus usage)."""
        out: dict[str, JSON] = {
            "agentName": self.agent_name, "output": self.output, "toolCalls": self.tool_calls,
            "createdAt": self.created_at.isoformat(), "prompt": self.prompt,
            "history": self.history, "raw": self.raw,
        }
        if self.id is not None:
            out["id"] = self.id
        if self.usage:
            out["usage"] = dict(self.usage)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentResult:
        """Rebuild a result from `to_dict()` / `export()` JSON (TS or ours)."""
        created = data.get("createdAt")
        when = datetime.fromisoformat(created.replace("Z", "+00:00")) if isinstance(created, str) else _now()
        return cls(
            agent_name=str(data["agentName"]), output=list(data.get("output") or []),
            tool_calls=list(data.get("toolCalls") or []), created_at=when,
            prompt=list(data.get("prompt") or []), history=list(data.get("history") or []),
            raw=data.get("raw") or "", id=data.get("id"), usage=Usage(**(data.get("usage") or {})),  # type: ignore[typeddict-item]
        )
