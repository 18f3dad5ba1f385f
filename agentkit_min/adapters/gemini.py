"""Google Gemini generateContent <-> AgentKit messages (POST models/<model>:generateContent).

Pure translation, no IO (spec/semantics.md section 5.6; decisions Q10, G2).

Request:
    system messages -> `systemInstruction` (AgentKit sends them as a user turn; Q10)
    user text -> a "user" content; assistant text -> "model"; tool_call -> "model" content
    with one `functionCall` part per call (AgentKit sends only the first) carrying the call
    id and its `thoughtSignature`; tool_result -> a `functionResponse` part in a "user"
    content, `response: {"name", "content": <JSON string>}` as AgentKit sends it.
    Consecutive contents of one role are merged (D-TURNS). A trailing assistant text from
    history is sent as "user" (as for Anthropic, Q9); a prefill (meta {"prefill": True}) stays "model".
    tools -> one `functionDeclarations` entry; the JSON Schema goes in `parametersJsonSchema`
    unchanged (minus `$schema`), so nothing is lost converting to OpenAPI. tool_choice ->
    `toolConfig.functionCallingConfig` mode AUTO / ANY / ANY + allowedFunctionNames.
    `default_parameters` go under the body (the body wins), e.g. `generationConfig`.

Response: the parts of every candidate. Each `functionCall` part becomes a tool call (several
in a row share one tool_call message) whose id is the part's `id` when Gemini sends one, else
a deterministic id derived from `responseId` and the part's position (unique per response,
stable on replay). `thoughtSignature` is kept in the call's (or text's) `meta` and sent back
on the same part. Thought summaries, empty text parts and unknown part kinds are kept in the
neighbouring message's meta ({"gemini": {"before": [...], "after": [...]}}) and sent back in
place. No candidates (`promptFeedback` block), no parts (SAFETY, MAX_TOKENS) and
MALFORMED_FUNCTION_CALL give one empty text message whose meta says why.
Usage: promptTokenCount, candidatesTokenCount, totalTokenCount, cachedContentTokenCount and
thoughtsTokenCount (not included in candidatesTokenCount by Gemini). Streams: _stream.py.
Not done: files, code execution, the Vertex AI endpoint.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Sequence

from ..errors import ModelResponseError
from ..messages import JSON, Message, TextMessage, ToolCallMessage, ToolMessage, Usage
from ..tool import Tool
from ._common import (
    Request, as_list, as_object, check_tool_choice, decoded, json_text, parse_arguments, provider_meta,
    raise_body_error, raise_for_status, usage_from,
)
from .anthropic import closes_turn, content_texts, merge_turn, meta_of, split_system

__all__ = ["PROVIDER", "build_request", "parse_response"]

PROVIDER = "gemini"
_NORMAL_FINISH = (None, "STOP", "FINISH_REASON_UNSPECIFIED")


def build_request(model: str, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                  params: Mapping[str, Any] | None = None) -> Request:
    """The generateContent request for one inference (the API key is not in it)."""
    system, rest = split_system(messages)
    body: dict[str, Any] = {"contents": _contents(rest)}
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in tools]}]
        body["toolConfig"] = {"functionCallingConfig": _calling_config(tool_choice, tools)}
    return Request(f"models/{model}:generateContent", {}, {**dict(params or {}), **body})


def _declaration(tool: Tool) -> JSON:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    if tool.parameters is not None:
        out["parametersJsonSchema"] = {k: v for k, v in tool.parameters.items() if k != "$schema"}
    return out


def _calling_config(choice: str, tools: Sequence[Tool]) -> JSON:
    if choice in (None, "", "auto"):
        return {"mode": "AUTO"}
    if choice == "any":
        return {"mode": "ANY"}
    check_tool_choice("gemini", choice, tools)
    return {"mode": "ANY", "allowedFunctionNames": [choice]}


def _contents(messages: Sequence[Message]) -> list[JSON]:
    contents: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        meta = provider_meta(msg, "gemini")
        before, after = list(meta.get("before") or []), list(meta.get("after") or [])
        if msg["type"] == "text":
            if msg["role"] == "user":
                merge_turn(contents, "user", [{"text": t} for t in content_texts(msg["content"])], "parts")
                continue
            parts: list[Any] = [{"text": t} for t in content_texts(msg["content"]) if t]
            if i == len(messages) - 1 and closes_turn(msg):
                merge_turn(contents, "user", parts, "parts")  # another agent's answer closes the turn
                continue
            if parts and meta.get("thoughtSignature"):
                parts[-1]["thoughtSignature"] = meta["thoughtSignature"]
            merge_turn(contents, "model", before + parts + after, "parts")
        elif msg["type"] == "tool_call":
            calls = []
            for tool in msg["tools"]:
                part: dict[str, Any] = {"functionCall": {
                    "name": tool["name"], "args": tool["input"], "id": tool["id"]}}
                signature = provider_meta(tool, "gemini").get("thoughtSignature")
                if signature:
                    part["thoughtSignature"] = signature
                calls.append(part)
            merge_turn(contents, "model", before + calls + after, "parts")
        elif msg["type"] == "tool_result":
            name = msg["tool"]["name"]
            merge_turn(contents, "user", [{"functionResponse": {
                "name": name, "id": msg["tool"]["id"],
                "response": {"name": name, "content": json_text(msg["content"])}}}], "parts")
    return list(contents)


def parse_response(status: int, body: object,
                   headers: Mapping[str, str] | None = None) -> tuple[list[Message], Usage]:
    """The output messages and usage of a generateContent response.

    A streamed body (a JSON array of chunks, or SSE text) is merged into one response first.

    Raises:
        ModelHTTPError (a subclass): an error status (400 API_KEY_INVALID is an auth error).
        ModelResponseError: a success status with a body that is not a response.
    """
    body = decoded(body)
    raise_for_status(PROVIDER, status, body, headers)
    if isinstance(body, (str, list)):
        from ._stream import GeminiStream, merge_gemini, merged

        body = merged(GeminiStream(PROVIDER, headers), body) if isinstance(body, str) else merge_gemini(body)
    data = as_object(body, PROVIDER)
    raise_body_error(PROVIDER, data)
    candidates = data.get("candidates")
    if not isinstance(candidates, list):
        if "promptFeedback" not in data:
            raise ModelResponseError(f"gemini response has neither candidates nor promptFeedback: "
                                     f"{str(data)[:200]!r}")
        candidates = []
    seed = str(data.get("responseId") or "") or hashlib.sha1(
        json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
    output: list[Message] = []
    for index, candidate in enumerate(candidates):
        if isinstance(candidate, dict):
            output += _parse_candidate(candidate, f"{seed}-{index}")
    if not output:  # blocked prompt (promptFeedback) or no candidates at all
        output.append(_empty({"promptFeedback": data.get("promptFeedback")}))
    return output, parse_usage(data.get("usageMetadata"))


def _parse_candidate(candidate: dict[str, Any], seed: str) -> list[Message]:
    content: dict[str, Any] = candidate["content"] if isinstance(candidate.get("content"), dict) else {}
    parts = [p for p in as_list(content.get("parts"), "gemini content.parts") if isinstance(p, dict)]
    has_calls = any("functionCall" in p for p in parts)
    output: list[Message] = []
    pending: list[Any] = []
    for position, part in enumerate(parts):
        if isinstance(part.get("functionCall"), dict):
            call = _call(part, f"{seed}-{position}")
            if pending or not output or output[-1]["type"] != "tool_call":
                output.append(ToolCallMessage(type="tool_call", role="assistant", tools=[],
                                              stop_reason="tool"))
            last = output[-1]
            assert last["type"] == "tool_call"
            last["tools"].append(call)
            msg: Message = last
        elif isinstance(part.get("text"), str) and part["text"] and not part.get("thought"):
            msg = TextMessage(type="text", role="assistant", content=part["text"],
                              stop_reason="tool" if has_calls else "stop")
            if part.get("thoughtSignature"):
                msg["meta"] = {"gemini": {"thoughtSignature": part["thoughtSignature"]}}
            output.append(msg)
        else:  # thought summaries, empty text with a signature, code execution, unknown kinds
            pending.append(part)
            continue
        if pending:
            meta_of(msg, PROVIDER)["before"] = pending
            pending = []
    finish = candidate.get("finishReason")
    if not output and (pending or finish not in _NORMAL_FINISH or candidate.get("finishMessage")):
        output.append(_empty({}))
    if pending:
        meta_of(output[-1], PROVIDER)["after"] = pending
    if output and finish not in _NORMAL_FINISH:  # SAFETY, MAX_TOKENS, MALFORMED_FUNCTION_CALL...
        why = meta_of(output[-1], PROVIDER)
        why["finishReason"] = finish
        for key in ("finishMessage", "safetyRatings"):
            if key in candidate:
                why[key] = candidate[key]
    return output


def _call(part: dict[str, Any], fallback_id: str) -> ToolMessage:
    fc = part["functionCall"]
    name = str(fc.get("name") or "")
    if not name:
        raise ModelResponseError(f"gemini functionCall without a name: {str(part)[:200]!r}")
    call: ToolMessage = {"type": "tool", "id": str(fc.get("id") or f"call_{fallback_id}"),
                         "name": name, "input": parse_arguments(fc.get("args"), name)}
    if part.get("thoughtSignature"):
        call["meta"] = {"gemini": {"thoughtSignature": part["thoughtSignature"]}}
    return call


def _empty(why: dict[str, Any]) -> TextMessage:
    meta = {k: v for k, v in why.items() if v is not None}
    return TextMessage(type="text", role="assistant", content="", stop_reason="stop",
                       meta={"gemini": meta})


def parse_usage(usage: Any) -> Usage:
    """Gemini `usageMetadata` as a Usage (each key is Gemini's own number, renamed)."""
    if not isinstance(usage, dict):
        return Usage()
    return usage_from({
        "input_tokens": usage.get("promptTokenCount"),
        "output_tokens": usage.get("candidatesTokenCount"),
        "total_tokens": usage.get("totalTokenCount"),
        "cache_read_tokens": usage.get("cachedContentTokenCount"),
        "reasoning_tokens": usage.get("thoughtsTokenCount"),
    })
