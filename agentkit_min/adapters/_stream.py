"""Merge a streamed response body into the one non-streamed response it stands for.

agentkit-min never asks for streams, but a proxy may stream anyway, and recorded traffic often
holds streamed bodies. Rather than fail on them, each adapter's `parse_response` hands a text
body here and parses the merged result like any other response:

- OpenAI-compatible SSE: `data: {chunk}` lines ending with `data: [DONE]`; text, refusal and
  reasoning deltas are concatenated, tool calls are accumulated by `index` (not by id: later
  fragments carry no id), usage comes from the last chunk that has it.
- Anthropic SSE: named events; `content_block_start` opens a block, `*_delta` events extend
  it (`input_json_delta` fragments are joined and parsed at the end), `message_delta` carries
  the stop reason and cumulative usage, an `error` event becomes the error body.
- Gemini: a JSON array of chunks (`streamGenerateContent`) or SSE `data:` lines (`alt=sse`);
  each chunk is a whole response, so parts are appended and adjacent text pieces joined.

SSE framing follows the WHATWG event-stream rules that matter here: lines end with CR, LF or
CRLF (never `str.splitlines`, which also splits on U+2028), `data:` lines of one event are
joined with "\\n", a blank line ends an event, lines starting with ":" are comments.
Text that is not an event stream is returned unchanged, for the caller to report.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable, TypeVar

from ..errors import ModelResponseError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["collapse_anthropic", "collapse_gemini", "collapse_openai", "sse_events"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _guarded(fn: F) -> F:
    """A stream whose events have the wrong shapes is a ModelResponseError, not a crash."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise ModelResponseError(f"malformed streamed response ({type(exc).__name__}: {exc})") from exc

    return wrapper  # type: ignore[return-value]


def _index(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """The (event name, data) pairs of an event stream, in order."""
    events: list[tuple[str | None, str]] = []
    name: str | None = None
    data: list[str] = []
    for line in [*_LINE_BREAK.split(text), ""]:
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    return events


def _json_events(text: str) -> list[tuple[str | None, Any]] | None:
    if not re.search(r"^data:", text, re.MULTILINE):
        return None
    out: list[tuple[str | None, Any]] = []
    for name, data in sse_events(text):
        if data.strip() == "[DONE]":
            continue
        try:
            out.append((name, json.loads(data)))
        except ValueError:
            continue  # a keep-alive or a truncated last event: the rest still parses
    return out


@_guarded
def collapse_openai(text: str, provider: str = "openai") -> Any:
    """One chat.completion object from an OpenAI-style SSE body (or `text` unchanged)."""
    events = _json_events(text)
    if events is None:
        return text
    merged: dict[str, Any] = {"object": "chat.completion"}
    choices: dict[int, dict[str, Any]] = {}
    for _, chunk in events:
        if not isinstance(chunk, dict):
            continue
        if "error" in chunk:
            return chunk
        for key in ("id", "model", "created", "system_fingerprint"):
            if chunk.get(key) is not None:
                merged[key] = chunk[key]
        if chunk.get("usage"):
            merged["usage"] = chunk["usage"]
        for delta_choice in chunk.get("choices") or []:
            if isinstance(delta_choice, dict):
                _openai_delta(choices, delta_choice)
    merged["choices"] = []
    for index in sorted(choices):
        choice = choices[index]
        message = choice["message"]
        slots = message.pop("_calls", {})
        calls = [slots[k] for k in sorted(slots)]
        if calls:
            message["tool_calls"] = calls
        merged["choices"].append(choice)
    return merged


def _openai_delta(choices: dict[int, dict[str, Any]], delta_choice: dict[str, Any]) -> None:
    index = _index(delta_choice.get("index"))
    choice = choices.setdefault(index, {"index": index, "message": {"role": "assistant"},
                                        "finish_reason": None})
    message = choice["message"]
    if delta_choice.get("finish_reason"):
        choice["finish_reason"] = delta_choice["finish_reason"]
    delta = delta_choice.get("delta") or {}
    for key in ("content", "refusal", "reasoning_content", "reasoning"):
        if isinstance(delta.get(key), str):
            message[key] = message.get(key, "") + delta[key]
    calls = message.setdefault("_calls", {})
    for fragment in delta.get("tool_calls") or []:
        slot = calls.setdefault(fragment.get("index", len(calls)), {
            "id": None, "type": "function", "function": {"name": "", "arguments": ""}})
        if fragment.get("id"):
            slot["id"] = fragment["id"]
        fn = fragment.get("function") or {}
        if fn.get("name") and not slot["function"]["name"]:  # names are not fragmented; some
            slot["function"]["name"] = fn["name"]              # servers repeat them in every delta
        slot["function"]["arguments"] += fn.get("arguments") or ""


@_guarded
def collapse_anthropic(text: str) -> Any:
    """One Messages API `message` from an Anthropic SSE body (or `text` unchanged)."""
    events = _json_events(text)
    if events is None:
        return text
    message: dict[str, Any] = {"type": "message", "role": "assistant", "content": []}
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for name, data in events:
        if not isinstance(data, dict):
            continue
        kind = data.get("type", name)
        if kind == "error":
            return data
        if kind == "message_start" and isinstance(data.get("message"), dict):
            message.update({k: v for k, v in data["message"].items() if k != "content"})
        elif kind == "content_block_start":
            block = data.get("content_block")
            blocks[_index(data.get("index", len(blocks)))] = dict(block) if isinstance(block, dict) else {}
        elif kind == "content_block_delta":
            index = _index(data.get("index"))
            _anthropic_delta(blocks.setdefault(index, {}), partial, index, data.get("delta") or {})
        elif kind == "message_delta":
            message.update(data.get("delta") or {})
            message["usage"] = {**message.get("usage", {}), **(data.get("usage") or {})}
    for index, fragments in partial.items():
        try:
            blocks[index]["input"] = json.loads(fragments) if fragments.strip() else {}
        except ValueError:
            blocks[index]["input"] = fragments  # the parser reports it, naming the tool
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def _anthropic_delta(block: dict[str, Any], partial: dict[int, str], index: int,
                     delta: dict[str, Any]) -> None:
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + str(delta.get("text", ""))
    elif kind == "input_json_delta":
        partial[index] = partial.get(index, "") + str(delta.get("partial_json", ""))
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
    elif kind == "signature_delta":
        block["signature"] = delta.get("signature", "")
    elif kind == "citations_delta":
        block.setdefault("citations", []).append(delta.get("citation"))


@_guarded
def collapse_gemini(body: Any) -> Any:
    """One generateContent response from streamed chunks (a list or SSE text)."""
    chunks: Any = body
    if isinstance(body, str):
        events = _json_events(body)
        if events is None:
            return body
        chunks = [data for _, data in events]
    if not isinstance(chunks, list):
        return body
    merged: dict[str, Any] = {}
    candidates: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if "error" in chunk:
            return chunk
        for key, value in chunk.items():
            if key != "candidates":
                merged[key] = value  # usageMetadata etc.: the last chunk has the totals
        for candidate in chunk.get("candidates") or []:
            if isinstance(candidate, dict):
                _gemini_candidate(candidates, candidate)
    if candidates:
        merged["candidates"] = [candidates[i] for i in sorted(candidates)]
    return merged


def _gemini_candidate(candidates: dict[int, dict[str, Any]], candidate: dict[str, Any]) -> None:
    index = _index(candidate.get("index"))
    slot = candidates.setdefault(index, {"index": index, "content": {"role": "model", "parts": []}})
    for key, value in candidate.items():
        if key != "content":
            slot[key] = value
    parts = slot["content"]["parts"]
    for part in (candidate.get("content") or {}).get("parts") or []:
        last = parts[-1] if parts else None
        if (isinstance(part, dict) and isinstance(last, dict) and set(part) <= {"text", "thought"}
                and set(last) <= {"text", "thought"} and "text" in part and "text" in last
                and bool(part.get("thought")) == bool(last.get("thought"))):
            parts[-1] = {**last, "text": last["text"] + part["text"]}
        else:
            parts.append(part)
