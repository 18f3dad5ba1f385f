"""Provider responses built by hand from each provider's published API reference.

These build the *constructed* cassettes in `fixtures/` (see fixtures/README.md) and the
responses of the unit and property tests. A reply is described once, provider-neutrally:

    {"text": "..."}                                         a plain answer
    {"tool_calls": [{"id", "name", "arguments"}], "text"?}  tool calls (optionally with text)

and `response(provider, reply, n)` renders it the way that provider's API documents it,
including the quirks real responses have (OpenAI `content: null` and `refusal: null` next to
tool calls, Grok `content: ""` and `reasoning_content`, Anthropic `thinking` blocks, Gemini
`thoughtSignature` and missing call ids). Error bodies follow each provider's error shape.
Nothing here was recorded from a live API.
"""

from __future__ import annotations

import json
from typing import Any

JSONDict = dict[str, Any]

SIGNATURE = "Q29uc3RydWN0ZWQgdGhvdWdodCBzaWduYXR1cmU="  # base64("Constructed thought signature")


def response(provider: str, reply: JSONDict, n: int, model: str) -> JSONDict:
    """The 200 body `provider` sends for `reply` (n numbers ids and token counts)."""
    if provider == "openai":
        return _openai(reply, n, model)
    if provider == "grok":
        return _grok(reply, n, model)
    if provider == "anthropic":
        return _anthropic(reply, n, model)
    if provider == "gemini":
        return _gemini(reply, n, model)
    raise ValueError(provider)


def _calls(reply: JSONDict) -> list[JSONDict]:
    return list(reply.get("tool_calls") or [])


def _openai(reply: JSONDict, n: int, model: str) -> JSONDict:
    calls = _calls(reply)
    message: JSONDict = {"role": "assistant", "content": reply.get("text"), "refusal": None,
                         "annotations": []}
    if calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function", "function": {
            "name": c["name"], "arguments": json.dumps(c["arguments"], separators=(",", ":"))}}
            for c in calls]
    finish = reply.get("finish_reason") or ("tool_calls" if calls else "stop")
    prompt, completion = 40 + 10 * n, 12 + n
    return {
        "id": f"chatcmpl-constructed{n}", "object": "chat.completion", "created": 1735689600 + n,
        "model": f"{model}-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                "accepted_prediction_tokens": 0,
                                                "rejected_prediction_tokens": 0}},
        "service_tier": "default", "system_fingerprint": "fp_constructed",
    }


def _grok(reply: JSONDict, n: int, model: str) -> JSONDict:
    calls = _calls(reply)
    message: JSONDict = {"role": "assistant", "content": reply.get("text") or "",
                         "reasoning_content": "The user asked something; decide how to answer."}
    if calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function", "function": {
            "name": c["name"], "arguments": json.dumps(c["arguments"], separators=(",", ":"))}}
            for c in calls]
    prompt, completion, reasoning = 150 + 10 * n, 10 + n, 120
    return {
        "id": f"constructed-{n:04d}-grok", "object": "chat.completion", "created": 1735689600 + n,
        "model": model,
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion + reasoning,  # xAI counts reasoning here only
                  "prompt_tokens_details": {"text_tokens": prompt, "audio_tokens": 0,
                                            "image_tokens": 0, "cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                                "accepted_prediction_tokens": 0,
                                                "rejected_prediction_tokens": 0},
                  "num_sources_used": 0},
        "system_fingerprint": "fp_constructed",
    }


def _anthropic(reply: JSONDict, n: int, model: str) -> JSONDict:
    content: list[JSONDict] = []
    if reply.get("thinking"):
        content.append({"type": "thinking", "thinking": reply["thinking"], "signature": SIGNATURE})
    if reply.get("text"):
        content.append({"type": "text", "text": reply["text"]})
    for c in _calls(reply):
        content.append({"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"]})
    return {
        "id": f"msg_constructed{n:02d}", "type": "message", "role": "assistant", "model": model,
        "content": content, "stop_reason": "tool_use" if _calls(reply) else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 300 + 10 * n, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": 20 + n, "service_tier": "standard"},
    }


def _gemini(reply: JSONDict, n: int, model: str) -> JSONDict:
    parts: list[JSONDict] = []
    if reply.get("text"):
        parts.append({"text": reply["text"]})
    for i, c in enumerate(_calls(reply)):
        call: JSONDict = {"name": c["name"], "args": c["arguments"]}
        if reply.get("with_ids"):  # Gemini 3 returns ids; 2.x does not
            call["id"] = c["id"]
        part: JSONDict = {"functionCall": call}
        if i == 0:  # thinking models sign the first call of a turn only
            part["thoughtSignature"] = SIGNATURE
        parts.append(part)
    prompt, out, thoughts = 60 + 10 * n, 8 + n, 30
    return {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP",
                        "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": out,
                          "totalTokenCount": prompt + out + thoughts, "thoughtsTokenCount": thoughts,
                          "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]},
        "modelVersion": model, "responseId": f"constructedResponse{n:02d}",
    }


def error(provider: str, status: int, kind: str = "") -> tuple[JSONDict | str, dict[str, str]]:
    """(body, headers) of an error response in `provider`'s documented shape."""
    headers = {"Retry-After": "2"} if status == 429 else {}
    if provider == "openai":
        messages = {
            401: ("Incorrect API key provided: sk-test1***********5678. You can find your API key "
                  "at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"),
            429: ("Rate limit reached for gpt-4o-mini in organization org-constructed on requests per "
                  "min (RPM): Limit 3, Used 3, Requested 1. Please try again in 2s.", "requests",
                  "rate_limit_exceeded"),
            400: ("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got "
                  "5 instead.", "invalid_request_error", "decimal_above_max_value"),
            500: ("The server had an error while processing your request. Sorry about that!",
                  "server_error", None),
        }
        msg, typ, code = messages[status]
        return {"error": {"message": msg, "type": typ, "param": None, "code": code}}, headers
    if provider == "anthropic":
        errors = {
            401: ("authentication_error", "invalid x-api-key"),
            429: ("rate_limit_error", "Number of requests has exceeded your rate limit. Please try "
                  "again later or contact sales to discuss your options for a rate limit increase."),
            400: ("invalid_request_error", "temperature: range: 0..1"),
            500: ("api_error", "Internal server error"),
            529: ("overloaded_error", "Overloaded"),
        }
        typ, msg = errors[status]
        body: JSONDict = {"type": "error", "error": {"type": typ, "message": msg}}
        if status != 529:  # the overloaded error carries no request id
            body["request_id"] = "req_constructed0001"
        return body, headers
    if provider == "gemini":
        if status == 400 and kind == "bad_key":
            return {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                              "status": "INVALID_ARGUMENT", "details": [
                                  {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                   "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                                   "metadata": {"service": "generativelanguage.googleapis.com"}}]}}, headers
        errors_g = {
            401: ("Request had invalid authentication credentials. Expected OAuth 2 access token, "
                  "login cookie or other valid authentication credential.", "UNAUTHENTICATED"),
            429: ("Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"),
            400: ("* GenerateContentRequest.generation_config.temperature: must be in the range "
                  "[0, 2]\n", "INVALID_ARGUMENT"),
            500: ("An internal error has occurred. Please retry or report in "
                  "https://developers.generativeai.google/guide/troubleshooting", "INTERNAL"),
        }
        msg, st = errors_g[status]
        err: JSONDict = {"code": status, "message": msg, "status": st}
        if status == 429:
            err["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]
        return {"error": err}, headers
    if provider == "grok":
        if status == 400 and kind == "bad_key":
            return {"code": "Client specified an invalid argument",
                    "error": "Incorrect API key provided: xa***78. You can obtain an API key from "
                             "https://console.x.ai."}, headers
        errors_x = {
            401: ("Unauthenticated", "No API key provided. You can obtain an API key from https://console.x.ai."),
            429: ("Too many requests", "Your team has reached its rate limit; please retry later."),
            400: ("Client specified an invalid argument",
                  "temperature must be between 0 and 2, got 5"),
            500: ("Internal error", "Service temporarily unavailable. Please retry."),
        }
        code, msg = errors_x[status]
        return {"code": code, "error": msg}, headers
    raise ValueError(provider)
