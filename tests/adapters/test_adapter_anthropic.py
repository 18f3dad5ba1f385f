"""Anthropic Messages adapter: pure tests of build_request and parse_response."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentkit_min.adapters import anthropic
from agentkit_min.errors import (AuthenticationError, ContextLengthError, ModelHTTPError,
                                 ModelResponseError, RateLimitError, ServerError, UsageError)
from agentkit_min.messages import Message, TextMessage, ToolMessage, text_message, tool_call_message, tool_result_message
from agentkit_min.tool import Tool

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CALL: ToolMessage = {"type": "tool", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
CALL2: ToolMessage = {"type": "tool", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}
THINKING = {"type": "thinking", "thinking": "Need weather.", "signature": "c2ln"}
REDACTED = {"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"}


def tool(name: str = "get_weather", parameters: dict[str, Any] | None = SCHEMA) -> Tool:
    return Tool(name=name, description="Weather", parameters=parameters, handler=lambda a, c: None)


def message(*blocks: dict[str, Any], stop: str = "end_turn", usage: Any = None) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": list(blocks),
            "stop_reason": stop, "stop_sequence": None,
            "usage": usage or {"input_tokens": 10, "output_tokens": 5}}


def build(messages: list[Any], tools: list[Tool] | None = None, choice: str = "auto",
          params: dict[str, Any] | None = None) -> dict[str, Any]:
    return anthropic.build_request("claude-haiku-4-5", messages, tools or [], choice, params).body


def test_system_goes_top_level_and_max_tokens_defaults_to_4096() -> None:
    body = build([text_message("system", "A"), text_message("user", "hi"), text_message("system", "B")])
    assert body == {"model": "claude-haiku-4-5", "max_tokens": 4096, "system": "A\n\nB",
                    "messages": [{"role": "user", "content": "hi"}]}
    assert build([text_message("user", "hi")], params={"max_tokens": 100, "temperature": 0})["max_tokens"] == 100
    request = anthropic.build_request("m", [], [], "auto")
    assert request.path == "messages" and request.headers == {"anthropic-version": "2023-06-01"}


def test_tool_turns_results_in_one_user_turn_with_json_content_and_is_error() -> None:
    body = build([
        text_message("user", "Weather in Paris and Rome?"),
        text_message("assistant", "Checking both.", "stop"),
        tool_call_message([CALL]),
        tool_call_message([CALL2]),
        tool_result_message(CALL, {"data": {"temp_c": 21}}),
        tool_result_message(CALL2, {"error": {"name": "ToolExecutionError", "message": "down"}}),
    ], [tool()])
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking both."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"data":{"temp_c":21}}'},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
             "content": '{"error":{"name":"ToolExecutionError","message":"down"}}'}]},
    ]
    assert body["tools"] == [{"name": "get_weather", "description": "Weather", "input_schema": SCHEMA}]
    assert body["tool_choice"] == {"type": "auto"}


def test_trailing_assistant_from_history_becomes_user_but_prefill_stays_q9() -> None:
    history = [text_message("user", "Write a greeting."), text_message("assistant", "Plan: greet.", "stop")]
    assert build(history)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Write a greeting."},
                                     {"type": "text", "text": "Plan: greet."}]}]
    prefill: TextMessage = {"type": "text", "role": "assistant", "content": "Sure: ", "meta": {"prefill": True}}
    assert build([text_message("user", "Hi"), prefill])["messages"] == [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Sure:"}]  # no trailing space


def test_tool_choice_mapping_and_default_schema() -> None:
    assert build([], [tool()], "any")["tool_choice"] == {"type": "any"}
    assert build([], [tool()], "get_weather")["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert build([], [tool("ping", None)])["tools"][0]["input_schema"] == {"type": "object", "properties": {}}
    with pytest.raises(UsageError):
        build([], [tool()], "other")


def test_thinking_blocks_survive_the_round_trip_in_place() -> None:
    response = message(THINKING, {"type": "text", "text": "Let me look."},
                       {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Oslo"}},
                       stop="tool_use")
    output, _ = anthropic.parse_response(200, response)
    assert output[0] == {"type": "text", "role": "assistant", "content": "Let me look.", "stop_reason": "stop",
                         "meta": {"anthropic": {"before": [THINKING]}}}
    assert output[1]["type"] == "tool_call" and output[1]["tools"][0]["id"] == "toolu_9"
    call = output[1]["tools"][0]
    follow_up = build([text_message("user", "Oslo?"), *output, tool_result_message(call, {"data": 1})], [tool()])
    assert follow_up["messages"][1] == {"role": "assistant", "content": response["content"]}


def test_blocks_without_a_host_become_an_empty_message_that_keeps_them() -> None:
    output, _ = anthropic.parse_response(200, message(REDACTED, stop="max_tokens"))
    assert output == [{"type": "text", "role": "assistant", "content": "", "stop_reason": "stop",
                       "meta": {"anthropic": {"after": [REDACTED], "stop_reason": "max_tokens"}}}]
    resent = build([text_message("user", "x"), *output, text_message("user", "go on")])
    assert resent["messages"][1] == {"role": "assistant", "content": [REDACTED]}


def test_server_tools_citations_and_unknown_blocks_are_kept() -> None:
    server_use = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}}
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    future = {"type": "hologram", "payload": 1}
    cited = {"type": "text", "text": "Paris is sunny.", "citations": [{"type": "web_search_result_location",
                                                                     "url": "https://x", "cited_text": "sunny"}]}
    output, _ = anthropic.parse_response(200, message(server_use, result, cited, future, stop="pause_turn"))
    assert [m["type"] for m in output] == ["text"]
    meta = output[0]["meta"]["anthropic"]
    assert meta["before"] == [server_use, result] and meta["after"] == [future]
    assert meta["stop_reason"] == "pause_turn" and meta["text_extra"] == {"citations": cited["citations"]}
    resent = build([text_message("user", "x"), *output, text_message("user", "continue")])
    assert resent["messages"][1]["content"] == [server_use, result, cited, future]


def test_one_tool_call_message_per_tool_use_block_as_agentkit() -> None:
    output, _ = anthropic.parse_response(200, message(
        {"type": "text", "text": "Both."},
        {"type": "tool_use", "id": "t1", "name": "a", "input": {}},
        {"type": "tool_use", "id": "t2", "name": "b", "input": '{"k": [1]}'}, stop="tool_use"))
    assert [(m["type"], [t["id"] for t in m.get("tools", [])]) for m in output] == [  # type: ignore[attr-defined]
        ("text", []), ("tool_call", ["t1"]), ("tool_call", ["t2"])]
    assert output[2]["tools"][0]["input"] == {"k": [1]}  # type: ignore[typeddict-item]


def test_usage_with_cache_numbers_g2() -> None:
    _, usage = anthropic.parse_response(200, message({"type": "text", "text": "x"}, usage={
        "input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 30,
        "cache_read_input_tokens": 50, "cache_creation": {"ephemeral_5m_input_tokens": 30},
        "service_tier": "standard"}))
    assert usage == {"input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 50,
                     "cache_write_tokens": 30, "total_tokens": 200}


@pytest.mark.parametrize("status, body, error", [
    (401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
     AuthenticationError),
    (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, ServerError),
    (529, {"type": "error", "error": {"type": "overloaded_error", "message": ""}}, ServerError),
    (429, {"type": "error", "error": {"type": "rate_limit_error",
                                      "message": "This request would exceed the rate limit for input tokens per minute"}},
     RateLimitError),
    (400, {"type": "error", "error": {"type": "invalid_request_error",
                                      "message": "prompt is too long: 250000 tokens > 200000 maximum"}},
     ContextLengthError),
    (400, {"type": "error", "error": {"type": "invalid_request_error", "message": "temperature: range: 0..1"}},
     ModelHTTPError),
    (200, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, ServerError),
])
def test_errors_are_typed_with_the_provider_message(status: int, body: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        anthropic.parse_response(status, body)
    assert type(info.value) is error and isinstance(info.value, ModelHTTPError)
    assert info.value.message == (body["error"]["message"] or body["error"]["type"])


@pytest.mark.parametrize("body", ["<html>oops</html>", {"type": "message"}, [], {"content": "text"}])
def test_unusable_success_bodies_are_response_errors(body: Any) -> None:
    with pytest.raises(ModelResponseError):
        anthropic.parse_response(200, body)


def test_tool_use_without_an_id_is_a_response_error() -> None:
    with pytest.raises(ModelResponseError, match="tool_use"):
        anthropic.parse_response(200, message({"type": "tool_use", "name": "f", "input": {}}))


def test_a_streamed_body_is_merged_into_one_message() -> None:
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_s", "type": "message", "role": "assistant",
                                                               "content": [], "usage": {"input_tokens": 7, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "Hmm."}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "signature_delta", "signature": "sig"}}),
        ("ping", {"type": "ping"}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "tool_use", "id": "toolu_s", "name": "f", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"x": '}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": "2}"}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                           "usage": {"output_tokens": 9}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    sse = "".join(f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n" for name, data in events)
    output, usage = anthropic.parse_response(200, sse)
    assert output[0]["type"] == "tool_call" and output[0]["tools"][0]["input"] == {"x": 2}
    assert output[0]["meta"] == {"anthropic": {"before": [
        {"type": "thinking", "thinking": "Hmm.", "signature": "sig"}]}}
    assert usage == {"input_tokens": 7, "output_tokens": 9, "total_tokens": 16}
    error_stream = 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    with pytest.raises(ServerError):
        anthropic.parse_response(200, error_stream)


def test_list_content_and_empty_texts() -> None:
    messages: list[Message] = [
        {"type": "text", "role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        text_message("assistant", ""), text_message("user", "c")]
    assert build(messages)["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}, {"type": "text", "text": "c"}]}]


def test_bodies_given_as_bytes_or_json_text_are_decoded_first() -> None:
    body = message({"type": "text", "text": "hi"})
    assert anthropic.parse_response(200, json.dumps(body).encode())[0][0].get("content") == "hi"
    with pytest.raises(ServerError, match="Overloaded"):
        anthropic.parse_response(529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
