"""Model factories: keys, URLs, headers, argument checks, secrets, and the Model protocol."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Mapping

import pytest

from agentkit_min.errors import AuthenticationError, MissingAPIKeyError, UsageError
from agentkit_min.http import use_transport
from agentkit_min.messages import Message, text_message
from agentkit_min.model import Model, ModelResponse
from agentkit_min.models import ProviderModel, anthropic, azure_openai, deepseek, gemini, grok, openai

from . import fakes

HELLO: list[Message] = [text_message("user", "Hello")]


class Capture:
    """A transport that records requests and answers with one body."""

    def __init__(self, body: Any, status: int = 200) -> None:
        self.body, self.status = body, status
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                 timeout: float) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((url, dict(headers), json.loads(body)))
        return self.status, {}, json.dumps(self.body).encode()


def infer(model: ProviderModel, transport: Capture) -> ModelResponse:
    with use_transport(transport):
        return asyncio.run(model.infer(HELLO, [], "auto"))


OPENAI_OK = fakes.response("openai", {"text": "Hi"}, 1, "gpt-4o-mini")


@pytest.mark.parametrize("factory, provider, url, header, value", [
    (lambda: openai("gpt-4o-mini", api_key="k-123"), "openai",
     "https://api.openai.com/v1/chat/completions", "authorization", "Bearer k-123"),
    (lambda: grok("grok-3", api_key="k-123"), "grok", "https://api.x.ai/v1/chat/completions",
     "authorization", "Bearer k-123"),
    (lambda: deepseek("deepseek-chat", api_key="k-123"), "deepseek",
     "https://api.deepseek.com/v1/chat/completions", "authorization", "Bearer k-123"),
    (lambda: anthropic("claude-haiku-4-5", api_key="k-123"), "anthropic",
     "https://api.anthropic.com/v1/messages", "x-api-key", "k-123"),
    (lambda: gemini("gemini-2.5-flash", api_key="k-123"), "gemini",
     "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
     "x-goog-api-key", "k-123"),
    (lambda: azure_openai(endpoint="https://res.openai.azure.com", deployment="prod", api_version="2024-10-21",
                          api_key="k-123"), "azure-openai",
     "https://res.openai.azure.com/openai/deployments/prod/chat/completions?api-version=2024-10-21",
     "api-key", "k-123"),
])
def test_factories_send_to_the_provider_url_with_its_key_header(
        factory: Any, provider: str, url: str, header: str, value: str) -> None:
    model: ProviderModel = factory()
    assert isinstance(model, Model) and model.provider == provider and model.model
    body = fakes.response("anthropic" if provider == "anthropic" else "gemini" if provider == "gemini" else "openai",
                          {"text": "Hi"}, 1, "m")
    transport = Capture(body)
    response = infer(model, transport)
    sent_url, headers, _ = transport.requests[0]
    assert sent_url == url and headers[header] == value
    assert response.output[0].get("content") == "Hi" and response.raw == body and response.usage


def test_base_url_and_default_parameters_are_used() -> None:
    model = openai("local-model", api_key="k", base_url="http://127.0.0.1:9/v1",
                   default_parameters={"temperature": 0})
    transport = Capture(OPENAI_OK)
    infer(model, transport)
    url, _, body = transport.requests[0]
    assert url == "http://127.0.0.1:9/v1/chat/completions" and body["temperature"] == 0
    assert body["model"] == "local-model"


def test_anthropic_beta_headers_and_azure_model_attribute() -> None:
    transport = Capture(fakes.response("anthropic", {"text": "x"}, 1, "m"))
    infer(anthropic("claude", api_key="k", beta_headers=["a-1", "b-2"]), transport)
    assert transport.requests[0][1]["anthropic-beta"] == "a-1,b-2"
    az = azure_openai(endpoint="https://r.openai.azure.com/", deployment="dep", api_version="v", api_key="k")
    assert az.model == "dep"
    transport = Capture(OPENAI_OK)
    infer(az, transport)
    assert "model" not in transport.requests[0][2]


def test_keys_are_read_from_the_environment_when_infer_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    model = gemini("gemini-2.5-flash")  # constructing without a key is fine
    monkeypatch.setenv("GEMINI_API_KEY", "env-key-1")
    transport = Capture(fakes.response("gemini", {"text": "x"}, 1, "m"))
    infer(model, transport)
    monkeypatch.setenv("GEMINI_API_KEY", "env-key-2")
    infer(model, transport)
    assert [r[1]["x-goog-api-key"] for r in transport.requests] == ["env-key-1", "env-key-2"]


@pytest.mark.parametrize("factory, env_var", [
    (lambda: openai("m"), "OPENAI_API_KEY"), (lambda: anthropic("m"), "ANTHROPIC_API_KEY"),
    (lambda: gemini("m"), "GEMINI_API_KEY"), (lambda: grok("m"), "XAI_API_KEY"),
    (lambda: deepseek("m"), "DEEPSEEK_API_KEY"),
    (lambda: azure_openai(endpoint="https://e/", deployment="d", api_version="v"), "AZURE_OPENAI_API_KEY"),
])
def test_missing_key_raises_before_any_request(monkeypatch: pytest.MonkeyPatch, factory: Any, env_var: str) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY", "DEEPSEEK_API_KEY",
                "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    transport = Capture(OPENAI_OK)
    with pytest.raises(MissingAPIKeyError) as info:
        infer(factory(), transport)
    assert info.value.env_var == env_var and env_var in str(info.value)
    assert transport.requests == []


def test_grok_does_not_fall_back_to_the_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-only")
    with pytest.raises(MissingAPIKeyError, match="XAI_API_KEY"):
        infer(grok("grok-3"), Capture(OPENAI_OK))


@pytest.mark.parametrize("call, match", [
    (lambda: openai(""), "model must be a non-empty"),
    (lambda: openai("m", max_retries=-1), "max_retries"),
    (lambda: openai("m", timeout=0), "timeout"),
    (lambda: openai("m", base_url="api.openai.com"), "base_url"),
    (lambda: openai("m", default_parameters=[("a", 1)]), "default_parameters"),  # type: ignore[arg-type]
    (lambda: azure_openai(endpoint="", deployment="d", api_version="v"), "endpoint is required"),
    (lambda: azure_openai(endpoint="https://e", deployment="", api_version="v"), "deployment"),
])
def test_caller_mistakes_raise_usage_errors_at_construction(call: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        call()


def test_the_key_never_appears_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-very-secret-key-42"
    caplog.set_level(logging.DEBUG)
    model = openai("gpt-4o-mini", api_key=key)
    echo = {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
    with pytest.raises(AuthenticationError) as info:
        infer(model, Capture(echo, status=401))
    assert key not in repr(model) and key not in str(info.value) and key not in json.dumps(info.value.body)
    assert "<redacted>" in info.value.message
    assert key not in caplog.text and "chat/completions" in caplog.text


def test_an_echoed_key_is_scrubbed_from_raw_responses() -> None:
    key = "sk-very-secret-key-43"
    body = fakes.response("openai", {"text": f"your key is {key}"}, 1, "m")
    response = infer(openai("gpt-4o-mini", api_key=key), Capture(body))
    assert key not in json.dumps(response.raw) and key not in json.dumps(response.output)


def test_real_requests_are_refused_while_the_switch_is_off() -> None:
    model = openai("gpt-4o-mini", api_key="k")
    with pytest.raises(UsageError, match="ALLOW_MODEL_REQUESTS"):
        asyncio.run(model.infer(HELLO, [], "auto"))
