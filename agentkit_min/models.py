"""Model factories: `openai(...)`, `anthropic(...)`, `gemini(...)`, `grok(...)`, and more.

Each factory returns a `ProviderModel`, which implements the `Model` protocol by gluing three
parts together (spec/semantics.md section 5.2; decisions Q8, Q16):

    adapter.build_request(...)   pure: AgentKit messages -> provider JSON (no secrets)
    http.post_json_async(...)    the only IO: POST with timeouts, deadline, retries
    adapter.parse_response(...)  pure: provider JSON -> AgentKit messages + usage

API keys come from the `api_key` argument, else from the provider's environment variable,
read when `infer` is called (never at import or construction); surrounding whitespace is
stripped, a missing key raises `MissingAPIKeyError` and one with a control character
`UsageError`, before any request. A key is never logged, never put in an error, and scrubbed
from response bodies if a proxy echoes it back. `infer` sends each attempt from the event loop
or a worker thread (no cap on how many run at once unless `max_concurrency` sets one), waits for
backoff on the event loop; `infer_sync` is the same call, blocking. Connections are kept
alive and shared (`agentkit_min.http.POOL`); `close()` (or `with model:`) closes the idle
ones to this model's host.

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
import contextlib
import json
import os
import urllib.parse
import weakref
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypedDict

from . import http
from .adapters import _stream
from .adapters._common import is_context_length, is_quota_exhausted
from .errors import MissingAPIKeyError, UsageError
from .messages import Message
from .model import ModelResponse
from .streaming import DELTA_SINK, DeltaSink

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .tool import Tool

__all__ = ["ModelOptions", "ProviderModel", "anthropic", "azure_openai", "deepseek", "gemini", "grok",
           "openai"]

Sleep = Callable[[float], Any]


class ModelOptions(TypedDict, total=False):
    """Options every factory takes (AgentKit's `apiKey`, `baseUrl`, `defaultParameters`, ...).

    api_key: the key; default: the provider's environment variable, read at call time.
    base_url: an API root compatible with the provider's (a proxy, a local server...).
    default_parameters: request fields merged over every body (temperature, ...).
    max_retries: retries of transient failures (default 4; 0 disables them).
    timeout: seconds for one attempt: connect, headers and body (default 60).
    deadline: seconds for the whole call, retries and waits included (default 180).
    max_concurrency: at most this many `infer` calls of this model in flight (default: no cap).
    max_response_bytes: a longer response is a ResponseTooLargeError (default 32 MiB).
    sleep: replaces the wait between retries (tests use it to avoid waiting).
    stream: None (default) streams while the run has a subscriber (`publish=`, `.stream()`),
        True always, False never (spec/semantics.md section 8).
    """

    api_key: str | None
    base_url: str | None
    default_parameters: Mapping[str, Any] | None
    max_retries: int
    timeout: float
    deadline: float
    max_concurrency: int | None
    max_response_bytes: int
    sleep: Sleep | None
    stream: bool | None


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _number(where: str, name: str, value: Any, *, whole: bool = False, floor: float = 0) -> None:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < floor or (not whole and value == 0):
        need = f"an int >= {floor}" if whole else "a number of seconds > 0"
        raise UsageError(f"{where}: {name} must be {need}, got {value!r}")


class ProviderModel:
    """A provider's model: implements `Model.infer` over an adapter and `agentkit_min.http`.

    Build it with a factory (`openai(...)`, `anthropic(...)`, ...) rather than directly.
    """

    def __init__(
        self, *, provider: str, model: str, adapter: ModuleType, env_var: str, default_url: str,
        auth: Callable[[str], dict[str, str]], api_key: str | None = None, base_url: str | None = None,
        default_parameters: Mapping[str, Any] | None = None, max_retries: int = 4,
        timeout: float = 60.0, deadline: float = http.DEFAULT_DEADLINE, sleep: Sleep | None = None,
        max_concurrency: int | None = None, max_response_bytes: int = http.MAX_RESPONSE_BYTES,
        path: str | None = None, headers: Mapping[str, str] | None = None, wire_model: str | None = None,
        stream: bool | None = None,
    ) -> None:
        where = f"{provider}(model={model!r})"
        if not isinstance(model, str) or not model:
            raise UsageError(f"{provider}: model must be a non-empty model id string, got {model!r}")
        if default_parameters is not None and not isinstance(default_parameters, Mapping):
            raise UsageError(f"{where}: default_parameters must be a dict of request fields")
        _number(where, "max_retries", max_retries, whole=True)
        _number(where, "timeout", timeout)
        _number(where, "deadline", deadline)
        _number(where, "max_response_bytes", max_response_bytes, whole=True, floor=1)
        if max_concurrency is not None:
            _number(where, "max_concurrency", max_concurrency, whole=True, floor=1)
        base_url = base_url or default_url
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
        self.timeout, self.deadline = float(timeout), float(deadline)
        self.max_concurrency, self.max_response_bytes = max_concurrency, max_response_bytes
        self.retry = http.RetryPolicy(max_retries=max_retries, sleep=sleep)
        """Retry policy of every request; `sleep` is swapped in tests."""
        self.stream = stream
        """Stream responses: None while the run has a subscriber, True always, False never."""
        self._api_key = api_key
        self._auth = auth
        self._path = path
        self._headers = dict(headers or {})
        self._wire_model = model if wire_model is None else wire_model
        self._limits: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:  # never shows the key
        return f"{self.provider}(model={self.model!r}, base_url={self.base_url!r})"

    def api_key(self) -> str:
        """The key to use now: the argument, else the environment variable (read at call time)."""
        key = (self._api_key if self._api_key else os.environ.get(self.env_var, "")).strip()
        if not key:
            raise MissingAPIKeyError(self.provider, self.env_var)
        if not key.isprintable():
            raise UsageError(f"The API key for {self.provider} (api_key=... or {self.env_var}) holds a "
                             f"control character; check how it was read (the key is not shown)")
        return key

    async def infer(
        self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str
    ) -> ModelResponse:
        """One inference: attempts on the event loop or a worker thread, waits on the loop."""
        sink = DELTA_SINK.get()
        if self.stream if self.stream is not None else sink is not None:
            return await self._infer_stream(messages, tools, tool_choice, sink)
        key, url, headers, body = self._request(messages, tools, tool_choice)
        async with self._slot():
            response = await http.post_json_async(self.provider, url, headers, body, **self._options())
        return self._parse(response, key)

    def infer_sync(
        self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str
    ) -> ModelResponse:
        """The same inference, blocking the calling thread: build, POST, parse."""
        key, url, headers, body = self._request(messages, tools, tool_choice)
        return self._parse(http.post_json(self.provider, url, headers, body, **self._options()), key)

    def close(self) -> None:
        """Close the idle kept-alive connections to this model's host (later calls reconnect)."""
        parts = urllib.parse.urlsplit(self.base_url)
        http.POOL.close(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    def __enter__(self) -> ProviderModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ProviderModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def _infer_stream(self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                            sink: DeltaSink | None) -> ModelResponse:
        """`infer` over a streamed response: each delta goes to `sink` as soon as it is decoded."""
        key, url, headers, body = self._request(messages, tools, tool_choice, stream=True)
        async with self._slot(), http.open_stream(self.provider, url, headers, body, **self._options()) as response:
            if not 200 <= response.status < 300 or "json" in response.headers.get("content-type", ""):
                return self._parse(response, key)  # an error, or a server that would not stream
            decoder = _stream.decoder(self.provider, response.headers)
            async for chunk in response.chunks():
                for delta in decoder.feed(chunk):
                    if sink is not None:
                        await sink(delta)
            for delta in decoder.close():
                if sink is not None:
                    await sink(delta)
        merged = _scrub(decoder.result(), key)
        output, usage = self.adapter.parse_response(response.status, merged, response.headers)
        return ModelResponse(output=output, raw=merged, usage=usage)

    def _request(self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                 stream: bool = False) -> tuple[str, str, dict[str, str], dict[str, Any]]:
        key = self.api_key()
        request = self.adapter.build_request(
            self._wire_model, messages, tools, tool_choice or "auto", self.default_parameters)
        if stream:
            request = _stream.stream_request(self.provider, request)
        url = self.base_url + (self._path if self._path is not None else request.path)
        return key, url, {**request.headers, **self._headers, **self._auth(key)}, request.body

    def _options(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "deadline": self.deadline, "retry": self.retry,
                "no_retry": _cannot_succeed, "max_response_bytes": self.max_response_bytes}

    def _slot(self) -> Any:
        if self.max_concurrency is None:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()  # a Semaphore belongs to one loop
        if loop not in self._limits:
            self._limits[loop] = asyncio.Semaphore(self.max_concurrency)
        return self._limits[loop]

    def _parse(self, response: http.HTTPResponse, key: str) -> ModelResponse:
        body = _scrub(response.body, key) if key in response.text else response.body
        headers = response.headers
        if any(key in v for v in headers.values()):  # kept on errors: a proxy may echo the key
            headers = http.scrub(headers, [key])
        output, usage = self.adapter.parse_response(response.status, body, headers)
        return ModelResponse(output=output, raw=body, usage=usage)


def _cannot_succeed(response: http.HTTPResponse) -> bool:
    """A 429 that waiting cannot fix: the prompt is too long (Gemini), or the quota is gone."""
    return response.status == 429 and (is_context_length(response.body) or is_quota_exhausted(response.body))


def _scrub(body: Any, key: str) -> Any:
    """`body` with any echo of the API key replaced (some proxies repeat request headers)."""
    if len(key) < 8:
        return body
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if key not in text:
        return body
    text = text.replace(key, "<redacted>")
    return text if isinstance(body, str) else json.loads(text)


def _adapter(name: str) -> ModuleType:
    """A provider's adapter, loaded when its factory is first called (issue 14)."""
    return import_module(f"{__package__}.adapters.{name}")


def openai(model: str, **options: Unpack[ModelOptions]) -> ProviderModel:
    """An OpenAI Chat Completions model, e.g. "gpt-4o-mini" (AgentKit's `openai({model, ...})`).

    Options (`ModelOptions`): api_key (default OPENAI_API_KEY), base_url, default_parameters,
    max_retries, timeout, deadline, max_concurrency, max_response_bytes, sleep.
    """
    return ProviderModel(provider="openai", model=model, adapter=_adapter("openai"), env_var="OPENAI_API_KEY",
                         auth=_bearer, default_url="https://api.openai.com/v1/", **options)


def anthropic(model: str, *, max_tokens: int | None = None, beta_headers: Sequence[str] = (),
              **options: Unpack[ModelOptions]) -> ProviderModel:
    """An Anthropic Messages model. The key defaults to ANTHROPIC_API_KEY; options as `openai`.

    `max_tokens` (AgentKit's `anthropic({model, max_tokens})`) goes into default_parameters,
    else 4096 is sent. `beta_headers` become the `anthropic-beta` header.
    """
    if max_tokens is not None:
        options["default_parameters"] = {"max_tokens": max_tokens, **(options.get("default_parameters") or {})}
    return ProviderModel(provider="anthropic", model=model, adapter=_adapter("anthropic"), env_var="ANTHROPIC_API_KEY",
                         auth=lambda key: {"x-api-key": key}, default_url="https://api.anthropic.com/v1/",
                         headers={"anthropic-beta": ",".join(beta_headers)} if beta_headers else None,
                         **options)


def gemini(model: str, **options: Unpack[ModelOptions]) -> ProviderModel:
    """A Google Gemini model (generateContent). The key defaults to GEMINI_API_KEY; options as
    `openai`. `default_parameters` go under the body, e.g. `{"generationConfig": {...}}`."""
    return ProviderModel(provider="gemini", model=model, adapter=_adapter("gemini"), env_var="GEMINI_API_KEY",
                         auth=lambda key: {"x-goog-api-key": key},
                         default_url="https://generativelanguage.googleapis.com/v1beta/", **options)


def grok(model: str, **options: Unpack[ModelOptions]) -> ProviderModel:
    """An xAI Grok model (OpenAI-compatible; tools never strict). The key defaults to XAI_API_KEY."""
    return ProviderModel(provider="grok", model=model, adapter=_adapter("grok"), env_var="XAI_API_KEY", auth=_bearer,
                         default_url="https://api.x.ai/v1/", **options)


def deepseek(model: str, **options: Unpack[ModelOptions]) -> ProviderModel:
    """A DeepSeek model (OpenAI-compatible). The key defaults to DEEPSEEK_API_KEY."""
    return ProviderModel(provider="deepseek", model=model, adapter=_adapter("deepseek"), env_var="DEEPSEEK_API_KEY",
                         auth=_bearer, default_url="https://api.deepseek.com/v1/", **options)


def azure_openai(*, endpoint: str, deployment: str, api_version: str, model: str | None = None,
                 **options: Unpack[ModelOptions]) -> ProviderModel:
    """An Azure OpenAI deployment. The key defaults to AZURE_OPENAI_API_KEY; options as `openai`.

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
    return ProviderModel(provider="azure-openai", model=model or deployment, wire_model=model or "", adapter=_adapter("azure_openai"),
                         env_var="AZURE_OPENAI_API_KEY", auth=lambda key: {"api-key": key}, default_url=endpoint,
                         path=_adapter("azure_openai").deployment_path(deployment, api_version), **options)
