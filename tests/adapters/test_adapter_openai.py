"""OpenAI Chat Completions adapter (and the OpenAI-compatible Grok, Azure, DeepSeek): pure tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentkit_min.adapters import azure_openai, deepseek, grok, openai
from agentkit_min.errors import (AuthenticationError, ContextLengthError, ModelHTTPError,
                                 ModelResponseError, RateLimitError, ServerError, UsageError)
from agentkit_min.messages import Message, ToolMessage, text_message, tool_call_message, tool_result_message
from agentkit_min.tool import Tool


def tool(name: str = "get_weather", parameters: dict[str, Any] | None = None, strict: bool | None = None,
         description: str | None = "Weather") -> Tool:
    return Tool(name=name, description=description, parameters=parameters, handler=lambda a, c: None,
                strict=strict)


STRICT_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                 "additionalProperties": False}
LOOSE_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["city"]}
CALL: ToolMessage = {"type": "tool", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
CALL_2: ToolMessage = {"type": "tool", "id": "call_2", "name": "get_weather", "input": {"city": "Paris"}}


def choice(message: dict[str, Any], finish: str | None = "stop") -> dict[str, Any]:
    return {"id": "chatcmpl-x", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}]}


def test_messages_map_one_for_one_in_agentkit_order() -> None:
    messages: list[Message] = [
        text_message("system", "Be brief."),
        text_message("user", "Weather in Paris?"),
        text_message("assistant", "Let me check.", "tool"),
        tool_call_message([CALL]),
        tool_result_message(CALL, {"data": {"temp_c": 21}}),
        tool_result_message(CALL_2, {"error": {"name": "ToolExecutionError", "message": "é"}}),
        {"type": "text", "role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    body = openai.build_request("gpt-4o-mini", messages, [], "auto", {}).body
    assert body == {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"data":{"temp_c":21}}'},
        {"role": "tool", "tool_call_id": "call_2",
         "content": '{"error":{"name":"ToolExecutionError","message":"é"}}'},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]}  # no tools -> no tools, tool_choice or parallel_tool_calls


def test_tools_strict_is_automatic_unless_forced_g1() -> None:
    tools = [tool("a", STRICT_SCHEMA), tool("b", LOOSE_SCHEMA), tool("c", None, description=None),
             tool("d", LOOSE_SCHEMA, strict=True), tool("e", STRICT_SCHEMA, strict=False), tool("f", None, strict=True)]
    fns = [t["function"] for t in openai.build_request("gpt-4o", [], tools, "auto").body["tools"]]
    assert [f["strict"] for f in fns] == [True, False, False, True, False, True]
    assert fns[2] == {"name": "c", "strict": False}  # no parameters key, no description key
    assert fns[5]["parameters"] == {"type": "object", "properties": {}, "required": [],
                                    "additionalProperties": False}
    assert fns[0]["parameters"] is STRICT_SCHEMA or fns[0]["parameters"] == STRICT_SCHEMA


@pytest.mark.parametrize("choice_in, choice_out", [
    ("auto", "auto"), ("any", "required"), ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
])
def test_tool_choice_mapping(choice_in: str, choice_out: Any) -> None:
    body = openai.build_request("gpt-4o", [], [tool(parameters=STRICT_SCHEMA)], choice_in).body
    assert body["tool_choice"] == choice_out


def test_tool_choice_naming_an_unknown_tool_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'nope' is not one of the tools"):
        openai.build_request("gpt-4o", [], [tool()], "nope")


@pytest.mark.parametrize("model, sent", [("gpt-4o-mini", True), ("o1-mini", False), ("o3-mini", False),
                                         ("o4-mini", False), ("gpt-4.1", True)])
def test_parallel_tool_calls_false_except_o_series(model: str, sent: bool) -> None:
    body = openai.build_request(model, [], [tool()], "auto").body
    assert ("parallel_tool_calls" in body) is sent
    if sent:
        assert body["parallel_tool_calls"] is False


def test_default_parameters_win_over_the_body() -> None:
    body = openai.build_request("gpt-4o", [], [tool()], "auto",
                                {"parallel_tool_calls": True, "temperature": 0.2}).body
    assert body["parallel_tool_calls"] is True and body["temperature"] == 0.2


def test_tool_calls_with_null_content_and_refusal_null() -> None:
    body = choice({"content": None, "refusal": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
    ]}, "tool_calls")
    output, _ = openai.parse_response(200, body)
    assert output == [{"type": "tool_call", "role": "assistant", "stop_reason": "tool", "tools": [
        {"type": "tool", "id": "call_a", "name": "f", "input": {"x": 1}},
        {"type": "tool", "id": "call_b", "name": "g", "input": {}}]}]


def test_forced_tool_call_with_finish_reason_stop_is_still_a_tool_call() -> None:
    body = choice({"content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a":"b"}'}}]}, "stop")
    output, _ = openai.parse_response(200, body)
    assert [m["type"] for m in output] == ["tool_call"]


def test_text_next_to_tool_calls_gets_stop_reason_tool() -> None:
    body = choice({"content": "Checking.", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "tool_calls")
    output, _ = openai.parse_response(200, body)
    assert output[0] == {"type": "text", "role": "assistant", "content": "Checking.", "stop_reason": "tool"}
    assert output[1]["type"] == "tool_call"


def test_refusal_is_a_text_message_marked_in_meta_and_sent_back() -> None:
    output, _ = openai.parse_response(200, choice({"content": None, "refusal": "I can't help with that."}))
    assert output == [{"type": "text", "role": "assistant", "content": "I can't help with that.",
                       "stop_reason": "stop", "meta": {"openai": {"refusal": "I can't help with that."}}}]
    wire = openai.build_request("gpt-4o", output, [], "auto").body["messages"]
    assert wire == [{"role": "assistant", "content": "I can't help with that.",
                     "refusal": "I can't help with that."}]


def test_empty_reply_keeps_the_finish_reason_and_is_not_sent_back() -> None:
    output, _ = openai.parse_response(200, choice({"content": None}, "content_filter"))
    assert output == [{"type": "text", "role": "assistant", "content": "", "stop_reason": "stop",
                       "meta": {"openai": {"finish_reason": "content_filter"}}}]
    assert openai.build_request("gpt-4o", output, [], "auto").body["messages"] == []


def test_content_parts_and_several_choices_are_flattened() -> None:
    body = {"choices": [
        {"index": 0, "message": {"role": "assistant", "content": [{"type": "text", "text": "A"},
                                                                 {"type": "text", "text": "B"}]}},
        {"index": 1, "message": {"role": "assistant", "content": "C"}, "finish_reason": "length"}]}
    output, _ = openai.parse_response(200, body)
    assert [m.get("content") for m in output] == ["AB", "C"]


@pytest.mark.parametrize("raw, parsed", [
    ('{"a": 1}', {"a": 1}), ("", {}), ("null", {}), ('"{\\"a\\": 1}"', {"a": 1}),
    ("{\"q\": `multi\nline`}", {"q": "multi\nline"}), ({"already": "object"}, {"already": "object"}),
])
def test_argument_parsing_is_lenient_like_agentkit(raw: Any, parsed: Any) -> None:
    body = choice({"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": raw}}]})
    output, _ = openai.parse_response(200, body)
    assert output[0]["type"] == "tool_call" and output[0]["tools"][0]["input"] == parsed


@pytest.mark.parametrize("raw", ['{"a": ', "[1, 2]", "42"])
def test_unusable_arguments_become_a_marked_input_for_call_tool(raw: str) -> None:
    # issue 10: the model gets a ToolArgumentsError result it can correct (tests/tools/test_results.py)
    body = choice({"tool_calls": [{"id": "c", "function": {"name": "lookup", "arguments": raw}}]})
    output, _ = openai.parse_response(200, body)
    assert output[0]["type"] == "tool_call" and output[0]["tools"][0]["input"] == {
        "$invalid_arguments": ("not valid JSON (Expecting value: line 1 column 6 (char 5))" if raw == '{"a": '
                               else "not a JSON object") + f": {raw!r}"}


def test_usage_maps_every_reported_number_g2() -> None:
    body = choice({"content": "x"})
    body["usage"] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                     "prompt_tokens_details": {"cached_tokens": 4},
                     "completion_tokens_details": {"reasoning_tokens": 2}}
    assert openai.parse_response(200, body)[1] == {
        "input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "cache_read_tokens": 4,
        "reasoning_tokens": 2}
    body["usage"] = None
    assert openai.parse_response(200, body)[1] == {}


@pytest.mark.parametrize("status, body, headers, error", [
    (401, {"error": {"message": "Incorrect API key provided: sk-***", "type": "invalid_request_error",
                     "code": "invalid_api_key"}}, {}, AuthenticationError),
    (429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
     {"Retry-After": "7"}, RateLimitError),
    (400, {"error": {"message": "This model's maximum context length is 128000 tokens.",
                     "code": "context_length_exceeded"}}, {}, ContextLengthError),
    (400, {"error": {"message": "Invalid 'temperature'", "code": "decimal_above_max_value"}}, {}, ModelHTTPError),
    (404, {"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}}, {}, ModelHTTPError),
    (500, {"error": {"message": "The server had an error", "type": "server_error"}}, {}, ServerError),
    (503, "upstream connect error or disconnect/reset before headers", {}, ServerError),
])
def test_error_statuses_raise_typed_errors_with_the_provider_message(
        status: int, body: Any, headers: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        openai.parse_response(status, body, headers)
    assert type(info.value) is error
    assert isinstance(info.value, ModelHTTPError) and info.value.status == status
    assert info.value.body == body
    expected = body["error"]["message"] if isinstance(body, dict) else body
    assert info.value.message == expected
    if error is RateLimitError:
        assert isinstance(info.value, RateLimitError) and info.value.retry_after == 7.0


def test_an_error_body_with_status_200_is_raised() -> None:
    with pytest.raises(RateLimitError):
        openai.parse_response(200, {"error": {"message": "Rate limit exceeded", "code": 429}})
    with pytest.raises(ModelResponseError, match="upstream failed"):
        openai.parse_response(200, {"error": {"message": "upstream failed"}})


@pytest.mark.parametrize("body", ["", "not json at all", [1, 2], {"id": "x"}, {"choices": []}])
def test_unusable_success_bodies_are_response_errors(body: Any) -> None:
    with pytest.raises(ModelResponseError):
        openai.parse_response(200, body)


def test_a_streamed_body_is_merged_into_one_response() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None}}]},
        {"choices": [{"index": 0, "delta": {"content": "Let me "}}]},
        {"choices": [{"index": 0, "delta": {"content": "check."}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_s", "type": "function",
                                                            "function": {"name": "f", "arguments": ""}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a"'}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
    ]
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    output, usage = openai.parse_response(200, sse)
    assert output[0]["type"] == "text" and output[0]["content"] == "Let me check."
    assert output[1]["type"] == "tool_call" and output[1]["tools"] == [
        {"type": "tool", "id": "call_s", "name": "f", "input": {"a": 1}}]
    assert usage == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


# --- Grok (decision Q8) ---------------------------------------------------------------------

def test_grok_tools_are_never_strict_and_absent_when_none() -> None:
    body = grok.build_request("grok-3", [], [tool("a", STRICT_SCHEMA, strict=True)], "auto").body
    assert body["tools"][0]["function"]["strict"] is False
    assert "tools" not in grok.build_request("grok-3", [], [], "auto").body


def test_grok_reply_with_empty_content_and_reasoning() -> None:
    body = choice({"content": "", "reasoning_content": "thinking...", "tool_calls": [
        {"id": "call-1b2c-0", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "tool_calls")
    output, _ = grok.parse_response(200, body)
    assert output == [{"type": "tool_call", "role": "assistant", "stop_reason": "tool",
                       "tools": [{"type": "tool", "id": "call-1b2c-0", "name": "f", "input": {}}],
                       "meta": {"openai": {"reasoning_content": "thinking..."}}}]


@pytest.mark.parametrize("status, body, error", [
    (400, {"code": "Client specified an invalid argument",
           "error": "Incorrect API key provided: xa***12. You can obtain an API key from https://console.x.ai."},
     AuthenticationError),
    (400, {"code": "Client specified an invalid argument", "error": "temperature must be <= 2"}, ModelHTTPError),
    (503, {"code": "Service unavailable", "error": "The service is at capacity."}, ServerError),
    (429, {"code": "Too many requests", "error": "slow down"}, RateLimitError),
])
def test_grok_error_shape(status: int, body: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        grok.parse_response(status, body)
    assert type(info.value) is error and isinstance(info.value, ModelHTTPError)
    assert info.value.message == body["error"] and info.value.provider == "grok"


def test_grok_usage_total_includes_reasoning_as_reported() -> None:
    body = choice({"content": "x"})
    body["usage"] = {"prompt_tokens": 256, "completion_tokens": 15, "total_tokens": 519,
                     "completion_tokens_details": {"reasoning_tokens": 248}, "num_sources_used": 0}
    assert grok.parse_response(200, body)[1] == {"input_tokens": 256, "output_tokens": 15,
                                                 "total_tokens": 519, "reasoning_tokens": 248}


# --- Azure and DeepSeek ---------------------------------------------------------------------

def test_azure_path_and_optional_model() -> None:
    assert azure_openai.deployment_path("my dep", "2024-10-21") == \
        "openai/deployments/my%20dep/chat/completions?api-version=2024-10-21"
    assert "model" not in azure_openai.build_request("", [], [], "auto").body
    assert azure_openai.build_request("gpt-4o", [], [], "auto").body["model"] == "gpt-4o"
    with pytest.raises(AuthenticationError) as info:
        azure_openai.parse_response(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}})
    assert info.value.provider == "azure-openai"


def test_deepseek_reasoning_is_kept_but_not_sent_back_and_cache_hits_counted() -> None:
    body = choice({"content": "42", "reasoning_content": "6*7"})
    body["usage"] = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12,
                     "prompt_cache_hit_tokens": 8, "prompt_cache_miss_tokens": 1}
    output, usage = deepseek.parse_response(200, body)
    assert output[0].get("meta") == {"openai": {"reasoning_content": "6*7"}}
    assert usage["cache_read_tokens"] == 8
    wire = deepseek.build_request("deepseek-reasoner", output, [], "auto").body["messages"]
    assert wire == [{"role": "assistant", "content": "42"}]


def test_bodies_given_as_bytes_or_json_text_are_decoded_first() -> None:
    body = choice({"content": "hi"})
    for raw in (json.dumps(body), json.dumps(body).encode(), "  " + json.dumps(body)):
        assert openai.parse_response(200, raw)[0][0].get("content") == "hi"
    with pytest.raises(AuthenticationError) as info:
        openai.parse_response(401, json.dumps({"error": {"message": "Incorrect API key provided"}}).encode())
    assert info.value.message == "Incorrect API key provided"
