"""Incremental, sans-IO decoders for provider response streams, one per provider (D-STREAM).

`feed(bytes)` returns the deltas those bytes completed; `close()` ends the body (no end marker is
a ModelResponseError: a cut stream must not pass for a complete answer); `result()` is the one
non-streamed response the stream stands for, which `parse_response` reads like any other. Whole
streamed bodies (recordings, proxies that stream anyway) go through the same decoders
(`merged`). Framing is the package's one SSE decoder (`mcp.sse`). Deltas, in arrival order:

    {"type": "text", "key": k, "delta": "..."}                    answer text (not reasoning)
    {"type": "tool_call", "key": k, "delta": "...", "id", "name"}  tool-call argument text

`key` names the part (text block or tool call); a tool call's first delta may be "". OpenAI
accumulates tool calls by `index` (later fragments have no id) and takes usage from the last
chunk that has it; Anthropic joins `input_json_delta`s and parses them at the end; each Gemini
chunk is a whole response whose parts are appended (JSON-array bodies: `merge_gemini`). End
markers: `[DONE]`, `message_stop`, a Gemini `finishReason` or blocked prompt. An error object in
a stream raises what an HTTP error with that body would (`_common.raise_error_object`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

from ..errors import ModelResponseError, ProtocolError
from ._common import Request

__all__ = ["AnthropicStream", "GeminiStream", "OpenAIStream", "StreamDecoder", "decoder", "merge_gemini",
           "merged", "stream_request"]

Delta = dict[str, Any]
_DATA_LINE = re.compile(r"^data:", re.MULTILINE)
_SHAPE_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError)


def _index(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class StreamDecoder:
    """SSE framing and one JSON object per event; subclasses merge chunks and know their end."""

    def __init__(self, provider: str, headers: Mapping[str, str] | None = None) -> None:
        from ..mcp.sse import SSEDecoder

        self.provider = provider
        self.headers = dict(headers or {})
        self.done = False
        """True once the end marker arrived."""
        self._sse = SSEDecoder()
        self._out: list[Delta] = []

    def feed(self, data: bytes) -> list[Delta]:
        """The deltas completed by `data`; raises the typed error of an error event."""
        try:
            return self._decode(self._sse.feed(data))
        except ProtocolError as exc:  # e.g. a line over the decoder's size cap
            raise ModelResponseError(f"{self.provider} stream: {exc}") from exc

    def close(self) -> list[Delta]:
        """End of body: the last deltas; ModelResponseError when the end marker never came."""
        deltas = self._decode(self._sse.close())
        if not self.done:
            raise ModelResponseError(f"{self.provider} stream ended before its end marker "
                                     f"(truncated response)")
        return deltas

    def _decode(self, events: Iterable[Any]) -> list[Delta]:
        self._out = []
        for event in events:
            data = event.data.strip()
            if data == "[DONE]":
                self.done = True
            elif data:
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise ModelResponseError(f"{self.provider} stream event is not JSON: {data[:200]!r}") from None
                self.add(chunk, event.event)
        return self._out

    def add(self, chunk: Any, name: str = "message") -> None:
        """Merge one decoded chunk (raises for an error object or a malformed shape)."""
        if not isinstance(chunk, dict):
            return
        if chunk.get("type") == "error" or chunk.get("error"):
            from ._common import raise_error_object

            raise_error_object(self.provider, chunk, self.headers)
        try:
            self._chunk(chunk)
        except _SHAPE_ERRORS as exc:
            raise ModelResponseError(f"malformed {self.provider} stream ({type(exc).__name__}: {exc})") from exc

    def _chunk(self, chunk: dict[str, Any]) -> None:
        raise NotImplementedError

    def result(self) -> dict[str, Any]:
        """The non-streamed response body this stream stands for."""
        raise NotImplementedError


def merged(decoder: StreamDecoder, text: str) -> Any:
    """The response a whole streamed body stands for; text that is not an event stream unchanged."""
    if not _DATA_LINE.search(text):
        return text
    decoder.feed(text.encode("utf-8"))
    decoder.close()
    return decoder.result()


class OpenAIStream(StreamDecoder):
    """Chat Completions chunks -> one `chat.completion`."""

    def __init__(self, provider: str = "openai", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(provider, headers)
        self._merged: dict[str, Any] = {"object": "chat.completion"}
        self._choices: dict[int, dict[str, Any]] = {}
        self._calls: dict[int, dict[Any, dict[str, Any]]] = {}

    def _chunk(self, chunk: dict[str, Any]) -> None:
        for key in ("id", "model", "created", "system_fingerprint"):
            if chunk.get(key) is not None:
                self._merged[key] = chunk[key]
        if chunk.get("usage"):
            self._merged["usage"] = chunk["usage"]
        for delta_choice in chunk.get("choices") or []:
            if isinstance(delta_choice, dict):
                self._choice(delta_choice)

    def _choice(self, delta_choice: dict[str, Any]) -> None:
        index = _index(delta_choice.get("index"))
        choice = self._choices.setdefault(index, {"index": index, "message": {"role": "assistant"},
                                                  "finish_reason": None})
        message = choice["message"]
        if delta_choice.get("finish_reason"):
            choice["finish_reason"] = delta_choice["finish_reason"]
        delta = delta_choice.get("delta") or {}
        for key in ("content", "refusal", "reasoning_content", "reasoning"):
            piece = delta.get(key)
            if isinstance(piece, str):
                message[key] = message.get(key, "") + piece
                if key == "content" and piece:
                    self._out.append({"type": "text", "key": f"text{index}", "delta": piece})
        calls = self._calls.setdefault(index, {})
        for fragment in delta.get("tool_calls") or []:
            slot_key = fragment.get("index", len(calls))
            new = slot_key not in calls
            slot = calls.setdefault(slot_key, {"id": None, "type": "function",
                                               "function": {"name": "", "arguments": ""}})
            if fragment.get("id"):
                slot["id"] = fragment["id"]
            fn = fragment.get("function") or {}
            if fn.get("name") and not slot["function"]["name"]:  # names are not fragmented; some
                slot["function"]["name"] = fn["name"]              # servers repeat them in every delta
            piece = fn.get("arguments") or ""
            slot["function"]["arguments"] += piece
            if new or piece:
                self._out.append({"type": "tool_call", "key": f"tool{index}.{slot_key}", "delta": piece,
                                  "id": slot["id"], "name": slot["function"]["name"]})

    def result(self) -> dict[str, Any]:
        """One `chat.completion` with every choice's text and tool calls."""
        out = {**self._merged, "choices": []}
        for index in sorted(self._choices):
            choice = {**self._choices[index]}
            slots = self._calls.get(index) or {}
            if slots:
                choice["message"] = {**choice["message"], "tool_calls": [slots[k] for k in sorted(slots)]}
            out["choices"].append(choice)
        return out


class AnthropicStream(StreamDecoder):
    """Messages API events -> one `message`."""

    def __init__(self, provider: str = "anthropic", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(provider, headers)
        self._message: dict[str, Any] = {"type": "message", "role": "assistant", "content": []}
        self._blocks: dict[int, dict[str, Any]] = {}
        self._partial: dict[int, str] = {}

    def _chunk(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "message_start" and isinstance(data.get("message"), dict):
            self._message.update({k: v for k, v in data["message"].items() if k != "content"})
        elif kind == "content_block_start":
            index = _index(data.get("index", len(self._blocks)))
            block = data.get("content_block")
            block = self._blocks[index] = dict(block) if isinstance(block, dict) else {}
            if block.get("type") == "tool_use":
                self._partial[index] = ""
                self._out.append({"type": "tool_call", "key": f"block{index}", "delta": "",
                                  "id": block.get("id"), "name": block.get("name")})
            elif block.get("type") == "text" and block.get("text"):
                self._out.append({"type": "text", "key": f"block{index}", "delta": str(block["text"])})
        elif kind == "content_block_delta":
            self._delta(_index(data.get("index")), data.get("delta") or {})
        elif kind == "message_delta":
            self._message.update(data.get("delta") or {})
            self._message["usage"] = {**self._message.get("usage", {}), **(data.get("usage") or {})}
        elif kind == "message_stop":
            self.done = True

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        block = self._blocks.setdefault(index, {})
        kind = delta.get("type")
        if kind == "text_delta":
            piece = str(delta.get("text", ""))
            block["text"] = block.get("text", "") + piece
            if piece:
                self._out.append({"type": "text", "key": f"block{index}", "delta": piece})
        elif kind == "input_json_delta":
            piece = str(delta.get("partial_json", ""))
            self._partial[index] = self._partial.get(index, "") + piece
            if piece:
                self._out.append({"type": "tool_call", "key": f"block{index}", "delta": piece,
                                  "id": block.get("id"), "name": block.get("name")})
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature", "")
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))

    def result(self) -> dict[str, Any]:
        """One `message`; tool inputs parsed from their joined JSON fragments."""
        blocks = {i: dict(b) for i, b in self._blocks.items()}
        for index, fragments in self._partial.items():
            try:
                blocks[index]["input"] = json.loads(fragments) if fragments.strip() else {}
            except ValueError:
                blocks[index]["input"] = fragments  # the parser reports it, naming the tool
        return {**self._message, "content": [blocks[i] for i in sorted(blocks)]}


def _joinable(part: Any) -> bool:
    return isinstance(part, dict) and set(part) <= {"text", "thought"} and "text" in part


class GeminiStream(StreamDecoder):
    """generateContent chunks (each a whole response) -> one response."""

    def __init__(self, provider: str = "gemini", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(provider, headers)
        self._merged: dict[str, Any] = {}
        self._candidates: dict[int, dict[str, Any]] = {}

    def _chunk(self, chunk: dict[str, Any]) -> None:
        for key, value in chunk.items():
            if key != "candidates":
                self._merged[key] = value  # usageMetadata etc.: the last chunk has the totals
        if (chunk.get("promptFeedback") or {}).get("blockReason"):
            self.done = True  # a blocked prompt: no candidates will follow
        for candidate in chunk.get("candidates") or []:
            if isinstance(candidate, dict):
                self._candidate(candidate)

    def _candidate(self, candidate: dict[str, Any]) -> None:
        index = _index(candidate.get("index"))
        slot = self._candidates.setdefault(index, {"index": index, "content": {"role": "model", "parts": []}})
        slot.update((k, v) for k, v in candidate.items() if k != "content")
        if candidate.get("finishReason"):
            self.done = True
        parts = slot["content"]["parts"]
        for part in (candidate.get("content") or {}).get("parts") or []:
            if parts and _joinable(part) and _joinable(parts[-1]) and \
                    bool(part.get("thought")) == bool(parts[-1].get("thought")):
                parts[-1] = {**parts[-1], "text": parts[-1]["text"] + part["text"]}
            else:
                parts.append(part)
            if not isinstance(part, dict):
                continue
            key, fc = f"{index}.{len(parts) - 1}", part.get("functionCall")
            if isinstance(part.get("text"), str) and part["text"] and not part.get("thought"):
                self._out.append({"type": "text", "key": key, "delta": part["text"]})
            elif isinstance(fc, dict):  # the id rule of gemini.parse_response (one candidate)
                rid = self._merged.get("responseId")
                call_id = fc.get("id") or (f"call_{rid}-{index}-{len(parts) - 1}" if rid else None)
                self._out.append({"type": "tool_call", "key": key, "delta": json.dumps(fc.get("args") or {}),
                                  "id": call_id, "name": fc.get("name")})

    def result(self) -> dict[str, Any]:
        """One response with each candidate's parts merged."""
        out = dict(self._merged)
        if self._candidates:
            out["candidates"] = [self._candidates[i] for i in sorted(self._candidates)]
        return out


def merge_gemini(chunks: list[Any]) -> dict[str, Any]:
    """One response from a JSON array of chunks (`streamGenerateContent` without `alt=sse`)."""
    decoder = GeminiStream()
    for chunk in chunks:
        decoder.add(chunk)
    return decoder.result()


def stream_request(provider: str, request: Request) -> Request:
    """`request` (from the provider's `build_request`) asking for a streamed response."""
    if provider == "gemini":  # SSE framing instead of one JSON array
        return Request(request.path.replace(":generateContent", ":streamGenerateContent") + "?alt=sse",
                       request.headers, request.body)
    body = {**request.body, "stream": True}
    if provider != "anthropic":  # OpenAI-compatible: usage arrives in a last, choice-less chunk
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    return Request(request.path, request.headers, body)


def decoder(provider: str, headers: Mapping[str, str] | None = None) -> StreamDecoder:
    """A fresh decoder for `provider`'s streams (every other provider speaks OpenAI's)."""
    kind = {"anthropic": AnthropicStream, "gemini": GeminiStream}.get(provider, OpenAIStream)
    return kind(provider, headers)
