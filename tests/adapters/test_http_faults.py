"""Fault tests: real HTTP through urllib against a scripted server on 127.0.0.1.

Each failure mode ends in a typed error, within a bounded time: nothing hangs. Backoff sleeps
are recorded instead of slept (the `sleep` hook); only the timeout cases wait, for a fraction
of a second.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentkit_min.errors import (ModelConnectionError, ModelResponseError, ModelTimeoutError,
                                 RateLimitError, ServerError)
from agentkit_min.messages import Message, text_message
from agentkit_min.model import ModelResponse
from agentkit_min.models import ProviderModel

from . import fakes
from .loopback import Barrier, Hang, Raw, Reply, Reset, Trickle, fake_provider
from .scenarios import FACTORIES, MODELS, PROVIDERS

HELLO: list[Message] = [text_message("user", "Hello")]
BASE = {"openai": "/v1/", "grok": "/v1/", "anthropic": "/v1/", "gemini": "/v1beta/"}


class Sleeps(list[float]):
    def __call__(self, delay: float) -> None:
        self.append(delay)


def model(provider: str, url: str, sleeps: Sleeps, **kw: Any) -> ProviderModel:
    return FACTORIES[provider](MODELS[provider], api_key="test-key-123456", base_url=url + BASE[provider],
                               sleep=sleeps, **kw)


def infer(m: ProviderModel) -> ModelResponse:
    return asyncio.run(m.infer(HELLO, [], "auto"))


def ok(provider: str) -> Reply:
    return Reply(200, fakes.response(provider, {"text": "Hi there"}, 1, MODELS[provider]))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_then_200_honours_retry_after(provider: str) -> None:
    sleeps = Sleeps()
    body, _ = fakes.error(provider, 429)
    with fake_provider(Reply(429, body, {"Retry-After": "3"}), ok(provider)) as server:
        response = infer(model(provider, server.url, sleeps))
    assert [m.get("content") for m in response.output] == ["Hi there"]
    assert sleeps == [3.0] and len(server.requests) == 2
    assert server.requests[0][2] == server.requests[1][2]  # the retry resends the same body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_500_five_times_gives_up_after_four_retries(provider: str) -> None:
    sleeps = Sleeps()
    body, _ = fakes.error(provider, 500)
    with fake_provider(Reply(500, body)) as server:
        with pytest.raises(ServerError) as info:
            infer(model(provider, server.url, sleeps))
    assert len(server.requests) == 5 and len(sleeps) == 4
    assert info.value.status == 500 and info.value.provider == provider
    assert info.value.message and "test-key" not in str(info.value)


def test_429_retries_exhausted_is_a_rate_limit_error_with_retry_after() -> None:
    sleeps = Sleeps()
    body, _ = fakes.error("openai", 429)
    with fake_provider(Reply(429, body, {"Retry-After": "2"})) as server:
        with pytest.raises(RateLimitError) as info:
            infer(model("openai", server.url, sleeps, max_retries=2))
    assert info.value.retry_after == 2.0 and sleeps == [2.0, 2.0] and len(server.requests) == 3


def test_connection_reset_is_retried_then_typed() -> None:
    sleeps = Sleeps()
    with fake_provider(Reset()) as server:
        with pytest.raises(ModelConnectionError) as info:
            infer(model("openai", server.url, sleeps, max_retries=2))
    assert not isinstance(info.value, ModelTimeoutError)
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_connection_reset_then_success() -> None:
    with fake_provider(Reset(), ok("anthropic")) as server:
        response = infer(model("anthropic", server.url, Sleeps()))
    assert response.output[0].get("content") == "Hi there"


def test_connection_refused_is_a_connection_error() -> None:
    with fake_provider(Reply()) as server:
        url = server.url  # the server is gone after the block: the port refuses connections
    with pytest.raises(ModelConnectionError, match="connection to"):
        infer(model("openai", url, Sleeps(), max_retries=1))


def test_a_server_that_never_answers_times_out() -> None:
    sleeps = Sleeps()
    with fake_provider(Hang()) as server:
        with pytest.raises(ModelTimeoutError) as info:
            infer(model("gemini", server.url, sleeps, timeout=0.2, max_retries=1))
    assert isinstance(info.value, TimeoutError) and len(server.requests) == 2 and len(sleeps) == 1


def test_a_body_that_trickles_in_forever_times_out() -> None:
    with fake_provider(Trickle(count=10_000, every=0.02)) as server:
        with pytest.raises(ModelTimeoutError):
            infer(model("openai", server.url, Sleeps(), timeout=0.3, max_retries=0))


def test_truncated_json_in_a_complete_response_is_a_response_error() -> None:
    with fake_provider(Reply(200, '{"id": "chatcmpl-1", "choices": [{"message": {"role": "assis')) as server:
        with pytest.raises(ModelResponseError, match="not JSON"):
            infer(model("openai", server.url, Sleeps()))
    assert len(server.requests) == 1  # a 200 is never retried


def test_connection_closed_mid_body_is_a_connection_error() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    with fake_provider(Raw(head + b'{"choices": [')) as server:
        with pytest.raises(ModelConnectionError, match="IncompleteRead"):
            infer(model("openai", server.url, Sleeps(), max_retries=1))
    assert len(server.requests) == 2


def test_html_error_page_from_a_proxy_is_a_server_error_with_its_title() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
    with fake_provider(Reply(502, page, {"Content-Type": "text/html"})) as server:
        with pytest.raises(ServerError) as info:
            infer(model("anthropic", server.url, Sleeps(), max_retries=1))
    assert info.value.status == 502 and info.value.message == "502 Bad Gateway"
    assert info.value.body == page


def test_html_page_with_status_200_is_a_response_error() -> None:
    page = "<!DOCTYPE html><html><body><h1>Please sign in</h1></body></html>"
    with fake_provider(Reply(200, page, {"Content-Type": "text/html"})) as server:
        with pytest.raises(ModelResponseError, match="Please sign in"):
            infer(model("grok", server.url, Sleeps()))


def test_concurrent_inferences_do_not_block_each_other() -> None:
    # The server answers only once both requests are in flight (else 500 after 10s), so this
    # passes only if the two blocking HTTP calls run at the same time, off the event loop.
    reply = ok("openai")

    async def both(m: ProviderModel) -> list[ModelResponse]:
        return list(await asyncio.gather(m.infer(HELLO, [], "auto"), m.infer(HELLO, [], "auto")))

    with fake_provider(Barrier(2, reply)) as server:
        responses = asyncio.run(both(model("openai", server.url, Sleeps(), max_retries=0)))
    assert [r.output[0].get("content") for r in responses] == ["Hi there", "Hi there"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_requests_carry_the_key_in_the_provider_header_only(provider: str) -> None:
    with fake_provider(ok(provider)) as server:
        infer(model(provider, server.url, Sleeps()))
    path, headers, _ = server.requests[0]
    expected = {"openai": ("authorization", "Bearer test-key-123456"),
                "grok": ("authorization", "Bearer test-key-123456"),
                "anthropic": ("x-api-key", "test-key-123456"),
                "gemini": ("x-goog-api-key", "test-key-123456")}[provider]
    assert headers[expected[0]] == expected[1]
    assert "test-key" not in path
    assert headers["content-type"] == "application/json"
    if provider == "anthropic":
        assert headers["anthropic-version"] == "2023-06-01"
    if provider == "gemini":
        assert path == f"/v1beta/models/{MODELS['gemini']}:generateContent"
