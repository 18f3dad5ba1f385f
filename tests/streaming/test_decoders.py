"""The incremental stream decoders (adapters/_stream.py), sans-IO: deltas as bytes arrive, and a
final response equal to what `parse_response` makes of the same body whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min.adapters import ADAPTERS, _stream
from agentkit_min.errors import ModelResponseError, RateLimitError, ServerError

from .bodies import TEXT, TOOL, Reply, body, final_text, frames

PROVIDERS = ["openai", "anthropic", "gemini"]
REPLIES = {"text": TEXT, "tool": TOOL}


def decode(provider: str, chunks: list[bytes]) -> tuple[list[dict[str, Any]], Any]:
    decoder = _stream.decoder(provider)
    deltas = [d for chunk in chunks for d in decoder.feed(chunk)]
    return deltas + decoder.close(), decoder.result()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


def parts_of(deltas: list[dict[str, Any]], kind: str) -> dict[str, str]:
    joined: dict[str, str] = {}
    for delta in deltas:
        if delta["type"] == kind:
            joined[delta["key"]] = joined.get(delta["key"], "") + delta["delta"]
    return joined


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", REPLIES)
def test_deltas_add_up_to_the_final_messages_of_the_whole_body(provider: str, name: str) -> None:
    reply: Reply = REPLIES[name]
    deltas, merged = decode(provider, frames(provider, reply))
    adapter = ADAPTERS[provider]
    output, usage = adapter.parse_response(200, merged)
    assert (output, usage) == adapter.parse_response(200, body(provider, reply))  # same as whole
    assert "".join(parts_of(deltas, "text").values()) == final_text(reply)
    assert [m["content"] for m in output if m["type"] == "text"] == [final_text(reply)]
    calls = [t for m in output if m["type"] == "tool_call" for t in m["tools"]]
    streamed = [d for d in deltas if d["type"] == "tool_call"]
    assert [json.loads(a) for a in parts_of(deltas, "tool_call").values()] == [c["input"] for c in calls]
    assert [c["input"] for c in calls] == [json.loads("".join(c["arguments"])) for c in reply.get("calls", [])]
    assert list(dict.fromkeys((d["id"], d["name"]) for d in streamed)) == [(c["id"], c["name"]) for c in calls]
    assert usage["input_tokens"] == 11 and usage["output_tokens"] == 7


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_text_delta_is_handed_out_by_the_frame_that_carries_it(provider: str) -> None:
    decoder = _stream.decoder(provider)
    seen = [[d["delta"] for d in decoder.feed(frame) if d["type"] == "text"] for frame in frames(provider, TEXT)]
    assert [piece for pieces in seen for piece in pieces] == TEXT["text"]
    assert all(len(pieces) <= 1 for pieces in seen)  # nothing held back for a later frame


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(list(REPLIES)), cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_any_byte_split_gives_the_same_deltas_and_final_response(provider: str, name: str, cuts: list[int]) -> None:
    whole = body(provider, REPLIES[name])
    assert decode(provider, split(whole, cuts)) == decode(provider, [whole])


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("cut", ["end_marker", "mid_frame"])
def test_a_truncated_stream_is_a_response_error(provider: str, cut: str) -> None:
    sent = frames(provider, TOOL)
    chunks = sent[:-1] if cut == "end_marker" else [b"".join(sent)[: len(b"".join(sent)) * 2 // 3]]
    decoder = _stream.decoder(provider)
    for chunk in chunks:
        decoder.feed(chunk)
    with pytest.raises(ModelResponseError, match="truncated"):
        decoder.close()
    with pytest.raises(ModelResponseError, match="truncated"):
        ADAPTERS[provider].parse_response(200, b"".join(chunks))


ERRORS = {
    "anthropic": (b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
                  b'"message": "Overloaded"}}\n\n', ServerError),
    "openai": (b'data: {"error": {"message": "Rate limit reached", "type": "tokens", '
               b'"code": "rate_limit_exceeded"}}\n\n', RateLimitError),
    "gemini": (b'data: {"error": {"code": 503, "message": "The model is overloaded.", '
               b'"status": "UNAVAILABLE"}}\n\n', ServerError),
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_error_event_mid_stream_raises_the_typed_http_error_at_once(provider: str) -> None:
    error, kind = ERRORS[provider]
    decoder = _stream.decoder(provider)
    sent = frames(provider, TEXT)
    assert [d["delta"] for d in decoder.feed(b"".join(sent[:4])) if d["type"] == "text"]
    with pytest.raises(kind) as caught:
        decoder.feed(error)
    assert getattr(caught.value, "provider", None) == provider
    with pytest.raises(kind):
        ADAPTERS[provider].parse_response(200, b"".join(sent[:4]) + error)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_malformed_events_are_response_errors(provider: str) -> None:
    decoder = _stream.decoder(provider)
    with pytest.raises(ModelResponseError, match="not JSON"):
        decoder.feed(b"data: {not json\n\n")
    shape = b'data: {"choices": [{"delta": {"tool_calls": [7]}}], "candidates": [{"content": {"parts": 3}}],' \
            b' "type": "content_block_delta", "delta": 5}\n\n'
    with pytest.raises(ModelResponseError, match="malformed"):
        _stream.decoder(provider).feed(shape)


def test_stream_requests_ask_each_provider_for_its_stream() -> None:
    req = ADAPTERS["openai"].build_request("m", [], [], "auto", {"stream_options": {"x": 1}})
    assert _stream.stream_request("openai", req).body == {
        "model": "m", "messages": [], "stream": True, "stream_options": {"x": 1, "include_usage": True}}
    assert _stream.stream_request("anthropic", ADAPTERS["anthropic"].build_request("m", [], [], "auto")).body["stream"]
    gem = _stream.stream_request("gemini", ADAPTERS["gemini"].build_request("g-1", [], [], "auto"))
    assert gem.path == "models/g-1:streamGenerateContent?alt=sse" and "stream" not in gem.body
