"""Model factories: `openai(...)`, `anthropic(...)`, `gemini(...)`, `grok(...)`, and more.

Each factory returns a `ProviderModel`, which implements the `Model` protocol by gluing three
parts together (spec/semantics.md section 5.2; decisions Q8, Q16):

    adapter.build_request(...)   pure: AgentKit messages -> provider JSON (no secrets)
    http.post_json(...)          the only IO: POST with timeout, retries, typed errors
    adapter.parse_response(...)  pure: provider JSON -> AgentKit messages + usage

API keys come from the `api_key` argument, else from the provider's environment variable,
read when `infer` is called (never at import or construction); a missing key raises
`MissingAPIKeyError` before any request. `infer` runs the whole blocking pipeline
(`infer_sync`) in a worker thread (`asyncio.to_thread`), so concurrent runs do not block
each other or the event loop.
A key is never logged, never put in an error, and scrubbed from response bodies if a proxy
echoes it back.

| factory        | default base URL                                   | key header          | env var              |
|----------------|----------------------------------------------------|---------------------|----------------------|
| openai         | https://api.openai.com/v1/                         | Authorization Bearer| OPENAI_API_KEY       |
| anthropic      | https://api.anthropic.com/v1/                      | x-api-key           | ANTHROPIC_API_KEY    |
| gemini         | https://generativelanguage.googleapis.com/v1beta/  | x-goog-api-key      | GEMINI_API_KEY       |
| grok           | https://api.x.ai/v1/                               | Authorization Bearer| XAI_API_KEY          |
| azure_openai   | <endpoint>/openai/deployments/<deployment>/...     | api-key             | AZURE_OPENAI_API_KEY |
| deepseek       | https://api.deepseek.com/v1/                       | Authorization Bearer| DEEPSEEK_API_KEY     |

Deviations from AgentKit: Gemini's key goes in a header rather than `?key=` (so URLs never
hold it); Grok does not fall back to OPENAI_API_KEY (that would send an OpenAI key to xAI);
Anthropic's `max_tokens` defaults to 4096 instead of crashing when absent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from . import http
from .adapters import anthropic as _anthropic
from .adapters import azure_openai as _azure
from .adapters import deepseek as _deepseek
from .adapters import gemini as _gemini
from .adapters import grok as _grok
from .adapters import openai as _openai
from .adapters._common import is_context_length
from .errors import MissingAPIKeyError, UsageError
from .messages import Message
from .model import ModelResponse

if TYPE_CHECKING:
    from .tool import Tool

__all__ = ["ProviderModel", "anthropic", "azure_openai", "deepseek", "gemini", "grok", "openai"]

Sleep = Callable[[float], None]


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


class ProviderModel:
    """A provider's model: implements `Model.infer` over an adapter and `agentkit_min.http`.

    Build it with a factory (`openai(...)`, `anthropic(...)`, ...) rather than directly.
    """

    def __init__(
        self, *, provider: str, model: str, adapter: ModuleType, base_url: str, env_var: str,
        auth: Callable[[str], dict[str, str]], api_key: str | None = None,
        default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
        timeout: float = 60.0, sleep: Sleep | None = None, path: str | None = None,
        headers: Mapping[str, str] | None = None, wire_model: str | None = None,
    ) -> None:
        where = f"{provider}(model={model!r})"
        if not isinstance(model, str) or not model:
            raise UsageError(f"{provider}: model must be a non-empty model id string, got {model!r}")
        if default_parameters is not None and not isinstance(default_parameters, Mapping):
            raise UsageError(f"{where}: default_parameters must be a dict of request fields")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(f"{where}: max_retries must be an int >= 0, got {max_retries!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise UsageError(f"{where}: timeout must be a number of seconds > 0, got {timeout!r}")
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"{where}: base_url must start with http:// or https://, got {base_url!r}")
        self.provider = provider
        """The provider name ("openai", "anthropic", ...)."""
        self.model = model
        """The model id sent to the provider."""
        self.adapter = adapter
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.env_var = env_var
        self.default_parameters: dict[str, Any] = dict(default_parameters or {})
        self.timeout = float(timeout)
        self.retry = http.RetryPolicy(max_retries=max_retries)
        """Retry policy of every request; `sleep` is swapped in tests."""
        if sleep is not None:
            self.retry = dataclasses.replace(self.retry, sleep=sleep)
        self._api_key = api_key
        self._auth = auth
        self._path = path
        self._headers = dict(headers or {})
        self._wire_model = model if wire_model is None else wire_model

    def __repr__(self) -> str:  # never shows the key
        return f"{self.provider}(model={self.model!r}, base_url={self.base_url!r})"

    def api_key(self) -> str:
        """The key to use now: the argument, else the environment variable (read at call time)."""
        key = self._api_key if self._api_key else os.environ.get(self.env_var, "")
        if not key:
            raise MissingAPIKeyError(self.provider, self.env_var)
        return key

    async def infer(
        self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str
    ) -> ModelResponse:
        """Run one inference in a worker thread (`asyncio.to_thread`), off the event loop."""
        self.api_key()  # a missing key fails here, in the caller's frame, before any request
        return await asyncio.to_thread(self.infer_sync, messages, tools, tool_choice)

    def infer_sync(
        self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str
    ) -> ModelResponse:
        """The same inference, blocking the calling thread: build, POST, parse."""
        key = self.api_key()
        request = self.adapter.build_request(
            self._wire_model, messages, tools, tool_choice or "auto", self.default_parameters)
        url = self.base_url + (self._path if self._path is not None else request.path)
        headers = {**request.headers, **self._headers, **self._auth(key)}
        response = http.post_json(
            self.provider, url, headers, request.body, timeout=self.timeout, retry=self.retry,
            no_retry=_context_error,
        )
        body = _scrub(response.body, key) if key in response.text else response.body
        output, usage = self.adapter.parse_response(response.status, body, response.headers)
        return ModelResponse(output=output, raw=body, usage=usage)


def _context_error(response: http.HTTPResponse) -> bool:
    """A 429 that says the prompt is too long (Gemini does this): retrying cannot help."""
    return response.status == 429 and is_context_length(response.body)


def _scrub(body: Any, key: str) -> Any:
    """`body` with any echo of the API key replaced (some proxies repeat request headers)."""
    if len(key) < 8:
        return body
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if key not in text:
        return body
    text = text.replace(key, "<redacted>")
    return text if isinstance(body, str) else json.loads(text)


def openai(
    model: str, *, api_key: str | None = None, base_url: str | None = None,
    default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
    timeout: float = 60.0, sleep: Sleep | None = None,
) -> ProviderModel:
    """An OpenAI Chat Completions model (AgentKit's `openai({model, apiKey, baseUrl, ...})`).

    Args:
        model: the model id, e.g. "gpt-4o-mini".
        api_key: the key; defaults to the OPENAI_API_KEY environment variable at call time.
        base_url: an OpenAI-compatible API root, default "https://api.openai.com/v1/".
        default_parameters: request fields merged over every body (temperature, ...).
        max_retries: retries of transient failures (0 disables them).
        timeout: seconds allowed for each request.
        sleep: replaces `time.sleep` between retries (tests use it to avoid waiting).
    """
    return ProviderModel(
        provider="openai", model=model, adapter=_openai, env_var="OPENAI_API_KEY", auth=_bearer,
        base_url=base_url or "https://api.openai.com/v1/", api_key=api_key,
        default_parameters=default_parameters, max_retries=max_retries, timeout=timeout, sleep=sleep)


def anthropic(
    model: str, *, api_key: str | None = None, base_url: str | None = None,
    default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
    timeout: float = 60.0, sleep: Sleep | None = None, beta_headers: Sequence[str] = (),
) -> ProviderModel:
    """An Anthropic Messages model. `max_tokens` comes from default_parameters, else 4096.

    `beta_headers` become the `anthropic-beta` header. Other arguments as for `openai`; the
    key defaults to ANTHROPIC_API_KEY.
    """
    extra = {"anthropic-beta": ",".join(beta_headers)} if beta_headers else {}
    return ProviderModel(
        provider="anthropic", model=model, adapter=_anthropic, env_var="ANTHROPIC_API_KEY",
        auth=lambda key: {"x-api-key": key}, base_url=base_url or "https://api.anthropic.com/v1/",
        api_key=api_key, default_parameters=default_parameters, max_retries=max_retries,
        timeout=timeout, sleep=sleep, headers=extra)


def gemini(
    model: str, *, api_key: str | None = None, base_url: str | None = None,
    default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
    timeout: float = 60.0, sleep: Sleep | None = None,
) -> ProviderModel:
    """A Google Gemini model (generateContent). The key defaults to GEMINI_API_KEY.

    `default_parameters` go under the body, e.g. `{"generationConfig": {"temperature": 0}}`.
    """
    return ProviderModel(
        provider="gemini", model=model, adapter=_gemini, env_var="GEMINI_API_KEY",
        auth=lambda key: {"x-goog-api-key": key},
        base_url=base_url or "https://generativelanguage.googleapis.com/v1beta/", api_key=api_key,
        default_parameters=default_parameters, max_retries=max_retries, timeout=timeout, sleep=sleep)


def grok(
    model: str, *, api_key: str | None = None, base_url: str | None = None,
    default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
    timeout: float = 60.0, sleep: Sleep | None = None,
) -> ProviderModel:
    """An xAI Grok model (OpenAI-compatible; tools never strict). The key defaults to XAI_API_KEY."""
    return ProviderModel(
        provider="grok", model=model, adapter=_grok, env_var="XAI_API_KEY", auth=_bearer,
        base_url=base_url or "https://api.x.ai/v1/", api_key=api_key,
        default_parameters=default_parameters, max_retries=max_retries, timeout=timeout, sleep=sleep)


def azure_openai(
    *, endpoint: str, deployment: str, api_version: str, api_key: str | None = None,
    model: str | None = None, default_parameters: Mapping[str, Any] | None = None,
    max_retries: int = 4, timeout: float = 60.0, sleep: Sleep | None = None,
) -> ProviderModel:
    """An Azure OpenAI deployment. The key defaults to AZURE_OPENAI_API_KEY.

    Args:
        endpoint: the resource URL, e.g. "https://my-resource.openai.azure.com/".
        deployment: the deployment name.
        api_version: e.g. "2024-10-21".
        model: the model id to send in the body; by default none (the deployment decides)
            and the model's `model` attribute is the deployment name.
    """
    if not endpoint:
        raise UsageError("azure_openai: endpoint is required, e.g. 'https://<resource>.openai.azure.com/'")
    if not deployment or not api_version:
        raise UsageError("azure_openai: deployment and api_version are required")
    return ProviderModel(
        provider="azure-openai", model=model or deployment, wire_model=model or "", adapter=_azure,
        env_var="AZURE_OPENAI_API_KEY", auth=lambda key: {"api-key": key}, base_url=endpoint,
        api_key=api_key, default_parameters=default_parameters, max_retries=max_retries,
        timeout=timeout, sleep=sleep, path=_azure.deployment_path(deployment, api_version))


def deepseek(
    model: str, *, api_key: str | None = None, base_url: str | None = None,
    default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
    timeout: float = 60.0, sleep: Sleep | None = None,
) -> ProviderModel:
    """A DeepSeek model (OpenAI-compatible). The key defaults to DEEPSEEK_API_KEY."""
    return ProviderModel(
        provider="deepseek", model=model, adapter=_deepseek, env_var="DEEPSEEK_API_KEY",
        auth=_bearer, base_url=base_url or "https://api.deepseek.com/v1/", api_key=api_key,
        default_parameters=default_parameters, max_retries=max_retries, timeout=timeout, sleep=sleep)
