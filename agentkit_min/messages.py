"""Messages in AgentKit's own JSON shapes (spec/semantics.md section "Messages").

Messages are plain dicts typed with TypedDicts, so `json.dumps(message)` is already
AgentKit's wire shape and nothing needs converting:

    {"type": "text", "role": "assistant", "content": "Hi", "stop_reason": "stop"}
    {"type": "tool_call", "role": "assistant", "stop_reason": "tool",
     "tools": [{"type": "tool", "id": "call_1", "name": "add", "input": {"a": 1}}]}
    {"type": "tool_result", "role": "tool_result", "stop_reason": "tool",
     "tool": {"type": "tool", "id": "call_1", "name": "add", "input": {"a": 1}},
     "content": {"data": 3}}

Provider adapters may attach an optional `meta` dict to any message or tool call, holding
provider data that must be sent back unchanged on the next turn (Anthropic thinking blocks,
Gemini thought signatures, OpenAI refusals). Nothing else reads `meta`.

The user's input is a `str` or a `UserMessage` (a small dataclass whose `to_dict()` gives
AgentKit's camelCase JSON).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict, Union

from .errors import UsageError

__all__ = ["JSON", "Role", "StopReason", "TextContent", "TextMessage", "ToolMessage", "ToolCallMessage",
           "ToolResultMessage", "Message", "Usage", "UserMessage", "text_message", "tool_call_message",
           "tool_result_message", "message_text", "input_content"]

JSON = Any
"""A JSON value (dict, list, str, int, float, bool or None). `Any` at parse boundaries."""

Role = Literal["system", "user", "assistant"]
StopReason = Literal["tool", "stop"]


class TextContent(TypedDict):
    type: Literal["text"]
    text: str


class _TextMessageBase(TypedDict):
    type: Literal["text"]
    role: Role
    content: str | list[TextContent]


class TextMessage(_TextMessageBase, total=False):
    """Text from the system, the user or the assistant."""

    stop_reason: StopReason
    meta: dict[str, JSON]


class _ToolMessageBase(TypedDict):
    type: Literal["tool"]
    id: str
    name: str
    input: dict[str, JSON]


class ToolMessage(_ToolMessageBase, total=False):
    """One tool call requested by the model."""

    meta: dict[str, JSON]


class _ToolCallMessageBase(TypedDict):
    type: Literal["tool_call"]
    role: Literal["user", "assistant"]
    tools: list[ToolMessage]
    stop_reason: StopReason


class ToolCallMessage(_ToolCallMessageBase, total=False):
    """The model asks for one or more tool calls."""

    meta: dict[str, JSON]


class _ToolResultMessageBase(TypedDict):
    type: Literal["tool_result"]
    role: Literal["tool_result"]
    tool: ToolMessage
    content: JSON
    stop_reason: StopReason


class ToolResultMessage(_ToolResultMessageBase, total=False):
    """The result of one tool call: `{"data": ...}` or `{"error": {"name", "message"}}`."""

    meta: dict[str, JSON]


Message = Union[TextMessage, ToolCallMessage, ToolResultMessage]


class Usage(TypedDict, total=False):
    """Token usage of one inference, when the provider reports it (decision G2)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int


def text_message(role: Role, content: str, stop_reason: StopReason | None = None) -> TextMessage:
    """Build a text message."""
    msg: TextMessage = {"type": "text", "role": role, "content": content}
    if stop_reason is not None:
        msg["stop_reason"] = stop_reason
    return msg


def tool_call_message(tools: list[ToolMessage]) -> ToolCallMessage:
    """Build an assistant tool-call message holding `tools`."""
    return {"type": "tool_call", "role": "assistant", "tools": tools, "stop_reason": "tool"}


def tool_result_message(tool: ToolMessage, content: JSON) -> ToolResultMessage:
    """Build the tool result answering `tool` (decision Q4: `tool.input` is kept)."""
    call: ToolMessage = {"type": "tool", "id": tool["id"], "name": tool["name"], "input": tool["input"]}
    return {
        "type": "tool_result", "role": "tool_result", "tool": call,
        "content": content, "stop_reason": "tool",
    }


def new_id() -> str:
    """A random (version 4) UUID string; `random` (OS-seeded): os.urandom's syscall drops the GIL."""
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def message_text(message: Message) -> str:
    """The text of a text message (joining list content), or "" for other messages."""
    if message["type"] != "text":
        return ""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


@dataclass
class UserMessage:
    """A user's input with metadata (AgentKit's `UserMessage`).

    `system_prompt`, when set, is appended ("\\n\\n") to every agent's system prompt in the
    run (decision Q7). `to_dict()` gives AgentKit's JSON (`clientTimestamp`, `systemPrompt`).
    """

    content: str
    """The text of the message."""
    id: str = field(default_factory=new_id)
    """A caller-chosen id (kept in history); a UUID when not given."""
    system_prompt: str | None = None
    """Extra system instructions for this run only."""
    client_timestamp: datetime | None = None
    """When the user sent it, as the client saw it."""
    state: dict[str, JSON] | None = None
    """Optional client-side state, passed through untouched."""
    role: Literal["user"] = "user"

    def to_dict(self) -> dict[str, JSON]:
        """AgentKit's JSON for this message (camelCase keys)."""
        out: dict[str, JSON] = {"id": self.id, "content": self.content, "role": "user"}
        if self.state is not None:
            out["state"] = self.state
        if self.client_timestamp is not None:
            out["clientTimestamp"] = self.client_timestamp.isoformat()
        if self.system_prompt is not None:
            out["systemPrompt"] = self.system_prompt
        return out

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> UserMessage:
        """Rebuild from AgentKit's JSON (`clientTimestamp` as ISO text)."""
        ts = data.get("clientTimestamp")
        return cls(
            content=str(data["content"]),
            id=str(data.get("id") or new_id()),
            system_prompt=data.get("systemPrompt"),
            client_timestamp=datetime.fromisoformat(ts) if isinstance(ts, str) else None,
            state=data.get("state"),
        )


def input_content(value: str | UserMessage) -> str:
    """The text of a run's input, whether it is a string or a UserMessage."""
    return value.content if isinstance(value, UserMessage) else value


def check_run_args(where: str, input: Any, state: Any, state_types: tuple[type, ...]) -> None:
    """Raise UsageError, early, for a run input that is not a str or a UserMessage, or a
    `state` that is none of `state_types` (nor None)."""
    if not isinstance(input, (str, UserMessage)):
        raise UsageError(f"{where}: input must be a str or a UserMessage, got {type(input).__name__}")
    if state is not None and not isinstance(state, state_types):
        names = " or ".join(t.__name__ for t in state_types)
        raise UsageError(f"{where}: state must be a {names} (or None for a new one), got {type(state).__name__}")
