"""Streamed response bodies built by hand (constructed) from each provider's streaming reference.

`frames(provider, reply)` renders a provider-neutral reply as the list of SSE frames (bytes)
that provider sends for it, in order; `b"".join(...)` is the whole body. A reply is

    {"text": ["piece", ...], "calls": [{"id", "name", "arguments": ["frag", ...]}]}

The shapes follow the real streams summarised in ../shared/reference/real-traffic/README.md:
OpenAI's first chunk `delta: {role, content: "", refusal: null}`, tool-call fragments by
`index` with the id only on the first, `finish_reason` in its own chunk, usage in a last chunk
with `choices: []`, `data: [DONE]`; Anthropic's named events with `ping`, `input_json_delta`
starting with "", cumulative usage in `message_delta`, `message_stop`; Gemini `alt=sse` chunks
that are whole responses, calls whole in one chunk, `finishReason` only on the last chunk.
"""

from __future__ import annotations

import json
from typing import Any

Reply = dict[str, Any]

TEXT: Reply = {"text": ["Hel", "lo, ", "wörld ", "🌍", "!"]}
TOOL: Reply = {"text": ["Let me ", "check."], "calls": [
    {"id": "call_a1", "name": "get_weather", "arguments": ['{"ci', 'ty": "Par', 'is", "unit": "°C"}']},
    {"id": "call_b2", "name": "get_time", "arguments": ["", '{"tz": ', '"CET"}']}]}
USAGE = {"input": 11, "output": 7}


def _sse(data: Any, event: str | None = None, crlf: bool = False) -> bytes:
    end = "\r\n" if crlf else "\n"
    head = f"event: {event}{end}" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}{end}{end}".encode()


def openai(reply: Reply, model: str = "gpt-4o-mini") -> list[bytes]:
    base = {"id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 1, "model": model,
            "system_fingerprint": "fp_1", "obfuscation": "xx"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                          "finish_reason": finish}], "usage": None})

    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    out += [chunk({"content": piece}) for piece in reply.get("text", [])]
    for i, call in enumerate(reply.get("calls", [])):
        out.append(chunk({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                          "function": {"name": call["name"], "arguments": ""}}]}))
        out += [chunk({"tool_calls": [{"index": i, "function": {"arguments": a}}]})
                for a in call["arguments"] if a]
    out.append(chunk({}, "tool_calls" if reply.get("calls") else "stop"))
    out.append(_sse({**base, "choices": [], "usage": {
        "prompt_tokens": USAGE["input"], "completion_tokens": USAGE["output"],
        "total_tokens": USAGE["input"] + USAGE["output"], "prompt_tokens_details": {"cached_tokens": 0}}}))
    return out + [b"data: [DONE]\n\n"]


def anthropic(reply: Reply, model: str = "claude-haiku-4-5") -> list[bytes]:
    def ev(name: str, **data: Any) -> bytes:
        return _sse({"type": name, **data}, name, crlf=True)

    out = [ev("message_start", message={
        "id": "msg_s1", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": USAGE["input"], "output_tokens": 1}})]
    index = 0
    if reply.get("text"):
        out.append(ev("content_block_start", index=0, content_block={"type": "text", "text": ""}))
        out.append(ev("ping"))
        out += [ev("content_block_delta", index=0, delta={"type": "text_delta", "text": t})
                for t in reply["text"]]
        out.append(ev("content_block_stop", index=0))
        index = 1
    for call in reply.get("calls", []):
        out.append(ev("content_block_start", index=index, content_block={
            "type": "tool_use", "id": call["id"].replace("call_", "toolu_"), "name": call["name"], "input": {}}))
        out += [ev("content_block_delta", index=index, delta={"type": "input_json_delta", "partial_json": a})
                for a in ["", *call["arguments"]]]
        out.append(ev("content_block_stop", index=index))
        index += 1
    out.append(ev("message_delta", delta={"stop_reason": "tool_use" if reply.get("calls") else "end_turn",
                                          "stop_sequence": None},
                  usage={"input_tokens": USAGE["input"], "output_tokens": USAGE["output"]}))
    return out + [ev("message_stop")]


def gemini(reply: Reply, model: str = "gemini-2.5-flash") -> list[bytes]:
    def chunk(parts: list[Any], finish: str | None = None, output: int = 0) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        usage = {"promptTokenCount": USAGE["input"], "totalTokenCount": USAGE["input"] + output}
        if output:
            usage["candidatesTokenCount"] = output
        return _sse({"candidates": [candidate], "usageMetadata": usage, "modelVersion": model,
                     "responseId": "resp_s1"}, crlf=True)

    out = [chunk([{"text": t}]) for t in reply.get("text", [])]
    calls: list[dict[str, Any]] = [{"functionCall": {"name": c["name"], "args": json.loads("".join(c["arguments"]))}}
                                   for c in reply.get("calls", [])]
    if calls:
        calls[0]["thoughtSignature"] = "c2lnbmF0dXJl"
        out.append(chunk(calls))
    return out + [chunk([], "STOP", USAGE["output"])]


FRAMES = {"openai": openai, "anthropic": anthropic, "gemini": gemini}


def frames(provider: str, reply: Reply) -> list[bytes]:
    """The SSE frames `provider` streams for `reply`."""
    return FRAMES[provider](reply)


def body(provider: str, reply: Reply) -> bytes:
    """The whole streamed body."""
    return b"".join(frames(provider, reply))


def final_text(reply: Reply) -> str:
    return "".join(reply.get("text", []))
