"""Anthropic Messages API <-> AgentKit messages (POST /v1/messages).

Pure translation, no IO (spec/semantics.md section 5.3; decisions Q9, G2).

Request:
    system messages -> top-level `system` (several are joined with a blank line)
    text            -> {"type": "text"} blocks; tool_call -> `tool_use` blocks (assistant);
    tool_result     -> a `tool_result` block in a user turn, content as a JSON string,
                       `is_error: true` when the content is `{"error": ...}`
    Consecutive turns of one role are merged (D-TURNS). A trailing assistant text from history
    (another agent's answer) is sent as `user`, as AgentKit does; an assistant prefill
    (meta {"prefill": True}) stays `assistant` (Q9).
    `max_tokens` comes from `default_parameters`, 4096 when absent (AgentKit crashes).

Response: one message per content block, as AgentKit: text -> text message (stop "stop"),
tool_use -> a tool_call message. Every other block (`thinking`, `redacted_thinking`,
`server_tool_use`, `web_search_tool_result`, unknown future types) is kept unchanged in the
`meta` of the neighbouring message ({"anthropic": {"before": [...], "after": [...]}}) and sent
back in place on the next turn, which thinking with tool use requires (Q9). A reply without
text or tool calls is one empty text message whose meta holds the blocks and stop reason.
Usage: input, output, cache read and cache write tokens; total is their sum. Streams: _stream.py.
Not done: prompt caching markers, images and documents.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import ModelResponseError
from ..messages import JSON, Message, TextMessage, ToolCallMessage, Usage
from ..tool import Tool
from ._common import (
    Request, as_object, check_tool_choice, decoded, json_text, parse_arguments, plain_text, provider_meta,
    raise_for_status, usage_from,
)

__all__ = ["PROVIDER", "API_VERSION", "build_request", "parse_response"]

PROVIDER = "anthropic"
PATH = "messages"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096

# Error types Anthropic sends in a body (also inside a 200 stream) -> the HTTP status they mean.
_ERROR_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429,
    "api_error": 500, "overloaded_error": 529,
}


def build_request(model: str, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                  params: Mapping[str, Any] | None = None) -> Request:
    """The Messages API request for one inference (headers carry no secrets)."""
    params = dict(params or {})
    body: dict[str, Any] = {"model": model, "max_tokens": params.get("max_tokens", DEFAULT_MAX_TOKENS)}
    system, rest = split_system(messages)
    if system:
        body["system"] = system
    body["messages"] = _turns(rest)
    if tools:
        body["tools"] = [_tool(t) for t in tools]
        body["tool_choice"] = _tool_choice(tool_choice, tools)
    body.update(params)
    return Request(PATH, {"anthropic-version": API_VERSION}, body)


def split_system(messages: Sequence[Message]) -> tuple[str, list[Message]]:
    """The system messages' text, joined with a blank line, and the other messages (also Gemini's)."""
    system = "\n\n".join(plain_text(m["content"]) for m in messages
                         if m["type"] == "text" and m["role"] == "system")
    return system, [m for m in messages if not (m["type"] == "text" and m["role"] == "system")]


def _tool(tool: Tool) -> JSON:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["input_schema"] = tool.parameters if tool.parameters is not None else {
        "type": "object", "properties": {}}
    return out


def _tool_choice(choice: str, tools: Sequence[Tool]) -> JSON:
    if choice in (None, "", "auto"):
        return {"type": "auto"}
    if choice == "any":
        return {"type": "any"}
    check_tool_choice("anthropic", choice, tools)
    return {"type": "tool", "name": choice}


def _turns(messages: Sequence[Message]) -> list[JSON]:
    turns: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        meta = provider_meta(msg, "anthropic")
        before, after = list(meta.get("before") or []), list(meta.get("after") or [])
        if msg["type"] == "text":
            role: str = msg["role"]
            blocks = _text_blocks(msg["content"], meta.get("text_extra"))
            if role == "assistant" and i == len(messages) - 1:
                if closes_turn(msg):
                    role, before, after = "user", [], []  # Q9: another agent's answer, as TS
                elif blocks:  # the API rejects trailing whitespace
                    blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"].rstrip()}
            merge_turn(turns, role, before + blocks + after)
        elif msg["type"] == "tool_call":
            uses = [{"type": "tool_use", "id": t["id"], "name": t["name"], "input": t["input"]}
                    for t in msg["tools"]]
            merge_turn(turns, "assistant", before + uses + after)
        elif msg["type"] == "tool_result":
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": msg["tool"]["id"],
                                      "content": json_text(msg["content"])}
            if isinstance(msg["content"], dict) and "error" in msg["content"]:
                result["is_error"] = True
            merge_turn(turns, "user", [result])
    for turn in turns:  # a lone plain text block is sent as a string, as AgentKit does
        blocks = turn["content"]
        if len(blocks) == 1 and blocks[0].keys() == {"type", "text"}:
            turn["content"] = blocks[0]["text"]
    return list(turns)


def merge_turn(turns: list[dict[str, Any]], role: str, items: list[Any], key: str = "content") -> None:
    """Add `items` to the last turn when it has `role`, else as a new turn (D-TURNS; also Gemini's)."""
    if not items:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1][key].extend(items)
    else:
        turns.append({"role": role, key: items})


def closes_turn(msg: Message) -> bool:
    """A last assistant text is sent as the user's (another agent's answer, Q9) unless a prefill."""
    meta = msg.get("meta")
    return not (isinstance(meta, dict) and meta.get("prefill"))


def content_texts(content: Any) -> list[str]:
    """The texts of a message's content (a string, or a list of text parts)."""
    if isinstance(content, str):
        return [content]
    return [p.get("text", "") for p in content if isinstance(p, dict)]


def _text_blocks(content: Any, extra: Any = None) -> list[dict[str, Any]]:
    blocks = [{"type": "text", "text": t} for t in content_texts(content) if t]  # the API rejects empty text
    if isinstance(extra, dict) and len(blocks) == 1:  # e.g. citations, sent back as received
        blocks[0] = {**extra, **blocks[0]}
    return blocks


def parse_response(status: int, body: object,
                   headers: Mapping[str, str] | None = None) -> tuple[list[Message], Usage]:
    """The output messages and usage of a Messages API response.

    Raises:
        ModelHTTPError (a subclass): an error status, or an error body (529 overloaded...).
        ModelResponseError: a success status with a body that is not a message.
    """
    body = decoded(body)
    raise_for_status(PROVIDER, status, body, headers)
    if isinstance(body, str):
        from ._stream import AnthropicStream, merged  # a streamed (SSE) body, when one is handed to us

        body = merged(AnthropicStream(PROVIDER, headers), body)
    data = as_object(body, PROVIDER)
    if data.get("type") == "error" or (isinstance(data.get("error"), dict) and "content" not in data):
        err: dict[str, Any] = data["error"] if isinstance(data.get("error"), dict) else {}
        raise_for_status(PROVIDER, _ERROR_STATUS.get(str(err.get("type")), 500), data, headers)
    content = data.get("content")
    if not isinstance(content, list):
        raise ModelResponseError(f"anthropic response has no content list: {str(data)[:200]!r}")
    output = _parse_blocks(content, data.get("stop_reason"))
    return output, parse_usage(data.get("usage"))


def _parse_blocks(content: list[Any], stop_reason: Any) -> list[Message]:
    output: list[Message] = []
    pending: list[Any] = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        msg: Message
        if kind == "text" and isinstance(block.get("text"), str) and block["text"]:
            msg = TextMessage(type="text", role="assistant", content=block["text"], stop_reason="stop")
            extra = {k: v for k, v in block.items() if k not in ("type", "text")}
            if extra:
                msg["meta"] = {"anthropic": {"text_extra": extra}}
        elif kind == "tool_use":
            name = str(block.get("name") or "")
            if not name or not block.get("id"):
                raise ModelResponseError(f"anthropic tool_use block without name or id: {str(block)[:200]!r}")
            msg = ToolCallMessage(type="tool_call", role="assistant", stop_reason="tool", tools=[{
                "type": "tool", "id": str(block["id"]), "name": name,
                "input": parse_arguments(block.get("input"), name)}])
        else:  # thinking, redacted_thinking, server tools, empty text, future block types
            pending.append(block)
            continue
        if pending:
            meta_of(msg, PROVIDER)["before"] = pending
            pending = []
        output.append(msg)
    if not output:
        output.append(TextMessage(type="text", role="assistant", content="", stop_reason="stop"))
    if pending:
        meta_of(output[-1], PROVIDER)["after"] = pending
    if stop_reason not in (None, "end_turn", "tool_use", "stop_sequence"):
        meta_of(output[-1], PROVIDER)["stop_reason"] = stop_reason  # max_tokens, pause_turn, refusal...
    return output


def meta_of(msg: Message, provider: str) -> dict[str, Any]:
    """`msg["meta"][provider]`, created empty when missing (also Gemini's)."""
    found: dict[str, Any] = msg.setdefault("meta", {}).setdefault(provider, {})
    return found


def parse_usage(usage: Any) -> Usage:
    """Anthropic usage as a Usage; `input_tokens` excludes cache reads and writes, as sent."""
    if not isinstance(usage, dict):
        return Usage()
    out = usage_from({
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cache_read_tokens": usage.get("cache_read_input_tokens"),
        "cache_write_tokens": usage.get("cache_creation_input_tokens"),
    })
    if out:
        out["total_tokens"] = sum(v for k, v in out.items())  # type: ignore[misc]
    return out
