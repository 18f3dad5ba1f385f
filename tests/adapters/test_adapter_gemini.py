"""Gemini generateContent adapter: pure tests of build_request and parse_response."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentkit_min.adapters import gemini
from agentkit_min.errors import (AuthenticationError, ContextLengthError, ModelHTTPError,
                                 ModelResponseError, RateLimitError, ServerError, UsageError)
from agentkit_min.messages import TextMessage, text_message, tool_call_message, tool_result_message
from agentkit_min.tool import Tool

SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
SIG = "c2lnbmF0dXJl"


def tool(name: str = "get_weather", parameters: dict[str, Any] | None = SCHEMA) -> Tool:
    return Tool(name=name, description="Weather", parameters=parameters, handler=lambda a, c: None)


def response(*parts: dict[str, Any], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "responseId": "resp1", "modelVersion": "gemini-2.5-flash", **extra}


def build(messages: list[Any], tools: list[Tool] | None = None, choice: str = "auto",
          params: dict[str, Any] | None = None) -> dict[str, Any]:
    return gemini.build_request("gemini-2.5-flash", messages, tools or [], choice, params).body


def test_system_instruction_roles_and_path_q10() -> None:
    request = gemini.build_request("gemini-2.5-flash", [
        text_message("system", "Be brief."), text_message("user", "Hi"),
        text_message("assistant", "Hello!"), text_message("user", "Weather?")], [], "auto")
    assert request.path == "models/gemini-2.5-flash:generateContent" and request.headers == {}
    assert request.body == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]},
                     {"role": "model", "parts": [{"text": "Hello!"}]},
                     {"role": "user", "parts": [{"text": "Weather?"}]}]}  # no tools -> no tools/toolConfig


def test_tools_keep_the_json_schema_and_tool_choice_maps_to_modes() -> None:
    body = build([], [tool(), tool("ping", None)])
    assert body["tools"] == [{"functionDeclarations": [
        {"name": "get_weather", "description": "Weather",
         "parametersJsonSchema": {k: v for k, v in SCHEMA.items() if k != "$schema"}},
        {"name": "ping", "description": "Weather"}]}]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert build([], [tool()], "any")["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert build([], [tool()], "get_weather")["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    with pytest.raises(UsageError):
        build([], [tool()], "nope")


def test_default_parameters_go_under_the_body() -> None:
    body = build([text_message("user", "x")], params={"generationConfig": {"temperature": 0}, "contents": "ignored"})
    assert body["generationConfig"] == {"temperature": 0} and body["contents"][0]["role"] == "user"


def test_every_function_call_is_a_tool_call_with_unique_stable_ids_q10() -> None:
    body = response({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIG},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
                    {"functionCall": {"name": "get_time", "args": {}, "id": "given-id"}})
    output, _ = gemini.parse_response(200, body)
    assert len(output) == 1 and output[0]["type"] == "tool_call"
    calls = output[0]["tools"]
    assert [c["name"] for c in calls] == ["get_weather", "get_weather", "get_time"]
    assert [c["input"] for c in calls] == [{"city": "Paris"}, {"city": "Rome"}, {}]
    ids = [c["id"] for c in calls]
    assert len(set(ids)) == 3 and ids[2] == "given-id" and "get_weather" not in ids
    assert [c["id"] for c in gemini.parse_response(200, body)[0][0]["tools"]] == ids  # type: ignore[typeddict-item]
    assert calls[0]["meta"] == {"gemini": {"thoughtSignature": SIG}} and "meta" not in calls[1]


def test_signatures_ids_and_results_go_back_on_the_same_parts() -> None:
    body = response({"text": "Checking."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIG},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}})
    output, _ = gemini.parse_response(200, body)
    assert output[0] == {"type": "text", "role": "assistant", "content": "Checking.", "stop_reason": "tool"}
    calls = output[1]["tools"]  # type: ignore[typeddict-item]
    follow = build([text_message("user", "Paris and Rome?"), *output,
                    *[tool_result_message(c, {"data": i}) for i, c in enumerate(calls)]], [tool()])
    assert follow["contents"][1] == {"role": "model", "parts": [
        {"text": "Checking."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": calls[0]["id"]},
         "thoughtSignature": SIG},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": calls[1]["id"]}}]}
    assert follow["contents"][2] == {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "id": calls[0]["id"],
                              "response": {"name": "get_weather", "content": '{"data":0}'}}},
        {"functionResponse": {"name": "get_weather", "id": calls[1]["id"],
                              "response": {"name": "get_weather", "content": '{"data":1}'}}}]}


def test_thought_parts_and_unknown_parts_are_kept_and_resent_in_place() -> None:
    thought = {"text": "**Planning**", "thought": True}
    code = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    closing = {"text": "", "thoughtSignature": SIG}
    output, _ = gemini.parse_response(200, response(thought, {"text": "Answer."}, code, closing))
    assert output == [{"type": "text", "role": "assistant", "content": "Answer.", "stop_reason": "stop",
                       "meta": {"gemini": {"before": [thought], "after": [code, closing]}}}]
    assert build([text_message("user", "q"), *output, text_message("user", "more")])["contents"][1] == {
        "role": "model", "parts": [thought, {"text": "Answer."}, code, closing]}


def test_trailing_assistant_from_history_is_sent_as_user_prefill_as_model() -> None:
    assert build([text_message("user", "Write."), text_message("assistant", "Plan: greet.")])["contents"] == [
        {"role": "user", "parts": [{"text": "Write."}, {"text": "Plan: greet."}]}]
    prefill: TextMessage = {"type": "text", "role": "assistant", "content": "Sure", "meta": {"prefill": True}}
    assert build([text_message("user", "Hi"), prefill])["contents"][-1] == {"role": "model", "parts": [{"text": "Sure"}]}


@pytest.mark.parametrize("body, why", [
    ({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4}},
     {"promptFeedback": {"blockReason": "SAFETY"}}),
    ({"candidates": [{"content": {}, "finishReason": "SAFETY", "safetyRatings": [{"blocked": True}]}]},
     {"finishReason": "SAFETY", "safetyRatings": [{"blocked": True}]}),
    ({"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}]}, {"finishReason": "MAX_TOKENS"}),
    ({"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL", "finishMessage": "Malformed function call: x"}]},
     {"finishReason": "MALFORMED_FUNCTION_CALL", "finishMessage": "Malformed function call: x"}),
    ({"candidates": []}, {}),
])
def test_blocked_and_empty_responses_give_an_empty_message_saying_why(body: Any, why: Any) -> None:
    output, _ = gemini.parse_response(200, body)
    assert output == [{"type": "text", "role": "assistant", "content": "", "stop_reason": "stop",
                       "meta": {"gemini": why}}]
    assert build([text_message("user", "q"), *output, text_message("user", "again")])["contents"] == [
        {"role": "user", "parts": [{"text": "q"}, {"text": "again"}]}]


def test_text_cut_by_max_tokens_is_kept_with_the_reason() -> None:
    output, _ = gemini.parse_response(200, response({"text": "The capital of France is"}, finish="MAX_TOKENS"))
    assert output[0]["content"] == "The capital of France is"  # type: ignore[typeddict-item]
    assert output[0]["meta"] == {"gemini": {"finishReason": "MAX_TOKENS"}}


def test_usage_metadata_g2() -> None:
    body = response({"text": "x"}, usageMetadata={
        "promptTokenCount": 83, "candidatesTokenCount": 30, "totalTokenCount": 303, "thoughtsTokenCount": 190,
        "cachedContentTokenCount": 64, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 83}]})
    assert gemini.parse_response(200, body)[1] == {"input_tokens": 83, "output_tokens": 30, "total_tokens": 303,
                                                   "cache_read_tokens": 64, "reasoning_tokens": 190}


@pytest.mark.parametrize("status, error, retry_after", [
    (400, AuthenticationError, None), (429, RateLimitError, 17.0), (500, ServerError, None),
    (503, ServerError, None), (404, ModelHTTPError, None),
])
def test_errors_are_typed(status: int, error: type[Exception], retry_after: float | None) -> None:
    err: dict[str, Any] = {"code": status, "message": f"message {status}", "status": "X"}
    if status == 400:
        err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]
    if status == 429:
        err["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]
    with pytest.raises(error) as info:
        gemini.parse_response(status, {"error": err})
    assert type(info.value) is error and isinstance(info.value, ModelHTTPError)
    assert info.value.message == f"message {status}"
    if isinstance(info.value, RateLimitError):
        assert info.value.retry_after == retry_after


def test_context_overflow_and_list_wrapped_errors() -> None:
    overflow = {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                          "message": "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."}}
    with pytest.raises(ContextLengthError):
        gemini.parse_response(400, overflow)
    with pytest.raises(ContextLengthError):
        gemini.parse_response(429, {"error": {**overflow["error"], "code": 429}})
    with pytest.raises(RateLimitError):
        gemini.parse_response(429, [{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}])


@pytest.mark.parametrize("body", ["<html/>", 7, {}, {"usageMetadata": {}},
                                  {"candidates": "nope", "error": {"message": "bad"}}])
def test_unusable_success_bodies_are_response_errors(body: Any) -> None:
    with pytest.raises(ModelResponseError):
        gemini.parse_response(200, body)


def test_function_call_without_name_is_a_response_error() -> None:
    with pytest.raises(ModelResponseError, match="functionCall"):
        gemini.parse_response(200, response({"functionCall": {"args": {}}}))


def test_streamed_chunks_as_array_or_sse_are_merged() -> None:
    chunks = [
        response({"text": "**Think**", "thought": True}, finish=None),
        response({"text": "How"}, finish=None),
        response({"text": " about Scoop?"}, finish=None),
        response({"text": "", "thoughtSignature": SIG}, finish="STOP",
                 usageMetadata={"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 9}),
    ]
    for body in (chunks, "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks)):
        output, usage = gemini.parse_response(200, body)
        assert output == [{"type": "text", "role": "assistant", "content": "How about Scoop?", "stop_reason": "stop",
                           "meta": {"gemini": {"before": [{"text": "**Think**", "thought": True}],
                                               "after": [{"text": "", "thoughtSignature": SIG}]}}}]
        assert usage == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 9}


def test_tool_call_message_sent_by_another_provider_has_no_gemini_meta() -> None:
    call = {"type": "tool", "id": "call_x", "name": "f", "input": {"a": 1},
            "meta": {"anthropic": {"irrelevant": True}}}
    body = build([text_message("user", "go"), tool_call_message([call])])  # type: ignore[list-item]
    assert body["contents"][1] == {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}, "id": "call_x"}}]}


def test_bodies_given_as_bytes_or_json_text_are_decoded_first() -> None:
    body = response({"text": "hi"})
    assert gemini.parse_response(200, json.dumps(body))[0][0].get("content") == "hi"
    assert gemini.parse_response(200, json.dumps([body]).encode())[0][0].get("content") == "hi"
    with pytest.raises(AuthenticationError):
        gemini.parse_response(400, b'{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",'
                                   b' "status": "INVALID_ARGUMENT"}}')
