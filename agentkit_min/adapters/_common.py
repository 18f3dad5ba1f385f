"""Helpers shared by the provider adapters: errors, tool-result text, usage numbers.

Error statuses become the typed errors of `agentkit_min.errors` here, in one place, reading
every error shape the providers (and the proxies in front of them) are known to send:

    OpenAI / Azure / DeepSeek   {"error": {"message", "type", "param", "code"}}
    Anthropic                   {"type": "error", "error": {"type", "message"}, "request_id"}
    Gemini                      {"error": {"code", "message", "status", "details": [...]}}
    xAI Grok                    {"code": "<status text>", "error": "<message>"}
    proxies                     an HTML page or plain text

Classification, in order: auth (401/403, Gemini's 400 API_KEY_INVALID, Grok's 400 "Incorrect
API key"), context length (by message, whatever the status), 429 rate limit (Retry-After from
the header, else Gemini's RetryInfo), 5xx server error (Anthropic's 529 overloaded included),
anything else `ModelHTTPError`.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, NoReturn, Sequence

from ..errors import (
    UsageError,
    AuthenticationError,
    ContextLengthError,
    ModelHTTPError,
    ModelResponseError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from .._http_policy import decode_body
from ..http import redact_headers, retry_after_seconds
from ..messages import JSON, Usage

__all__ = [
    "Request",
    "as_list",
    "as_object",
    "decoded",
    "dig",
    "error_message",
    "is_context_length",
    "is_quota_exhausted",
    "raise_error_object",
    "json_text",
    "parse_arguments",
    "check_tool_choice",
    "plain_text",
    "provider_meta",
    "raise_body_error",
    "raise_for_status",
    "usage_from",
]

_CONTEXT = re.compile(
    r"context[_ ]length|context window|maximum context|prompt is too long|input token count"
    r".{0,60}exceeds|maximum prompt length|too many (?:input )?tokens|reduce the length of the messages",
    re.IGNORECASE | re.DOTALL,
)
_AUTH = re.compile(r"api[_ ]key[_ ](?:not[_ ]valid|invalid)|incorrect api key|invalid api key"
                   r"|invalid x-api-key|api_key_invalid", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One provider request, as `build_request` returns it: pure data, no secrets.

    The model class joins `path` to its base URL and adds the credential header at send time,
    so logging or asserting on a Request never shows a key.
    """

    path: str
    """Relative to the provider's base URL, e.g. "chat/completions"."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra non-secret headers (e.g. `anthropic-version`)."""
    body: dict[str, Any] = field(default_factory=dict)
    """The JSON body."""


_TAGS = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def json_text(value: JSON) -> str:
    """A tool result's content as sent to providers: strings as is, else compact JSON.

    This is `JSON.stringify` (what AgentKit sends), so non-ASCII text stays readable.
    """
    if isinstance(value, str):
        return value
    return _COMPACT.encode(value)


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once: hot path


def parse_arguments(raw: Any, tool_name: str) -> dict[str, JSON]:
    """Tool-call arguments as a dict: providers send an object or a JSON string of one.

    Like AgentKit's `safeParse`, a string wrapped in stray quotes and `backtick` strings are
    tolerated. Anything else (JSON cut off at max tokens, not an object, nested over 100 levels)
    is `{"$invalid_arguments": "<why>: '<the text, cut>'"}`, which `call_tool` answers with a
    ToolArgumentsError result the model can read; the handler does not run (decision Q5).
    """
    from ..schema import too_deep
    from ..tool import INVALID_ARGUMENTS

    if raw is None or raw == "":
        return {}
    value: Any = raw
    why = "not a JSON object"
    if isinstance(raw, str):
        for candidate in _argument_candidates(raw.strip()):
            try:
                value = json.loads(candidate)
                value = json.loads(value) if isinstance(value, str) else value  # JSON encoded twice
                if value is None:
                    return {}
                break
            except RecursionError:
                why = "nested too deeply"
                break
            except ValueError as exc:  # the first failure (of the text as sent) says the most
                why = f"not valid JSON ({exc})" if why == "not a JSON object" else why
    if isinstance(value, dict) and not too_deep(value):
        return value
    why = "nested more than 100 levels deep" if isinstance(value, dict) else why
    return {INVALID_ARGUMENTS: why + (f": {raw[:300]!r}" if isinstance(raw, str) else "")}


def _argument_candidates(text: str) -> Iterator[str]:
    yield text
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        yield text[1:-1]
    yield re.sub(r"`([^`]*)`", lambda m: json.dumps(m.group(1)), text)


def decoded(body: Any) -> Any:
    """A response body as JSON when it is JSON: bytes and JSON text are decoded, other text
    (an event stream, an HTML page) is returned as text, decoded JSON unchanged."""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
        return decode_body(body)
    return body


def as_object(body: Any, provider: str) -> dict[str, Any]:
    """`body` as a JSON object, or ModelResponseError describing what came instead."""
    if isinstance(body, dict):
        return body
    if isinstance(body, str):
        snippet = _text_of(body)[:200] or "(empty body)"
        raise ModelResponseError(f"{provider} returned a body that is not JSON: {snippet!r}")
    raise ModelResponseError(f"{provider} returned JSON that is not an object: {str(body)[:200]!r}")


def error_message(body: Any) -> str:
    """The provider's own error message from any known error shape, HTML or text."""
    if isinstance(body, list) and len(body) == 1:  # Gemini stream endpoints wrap errors in a list
        body = body[0]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            msg = err.get("message") or err.get("type") or err.get("status") or err.get("code")
            if msg:
                return str(msg)
        if isinstance(err, str) and err:  # xAI: {"code": "...", "error": "..."}
            return err
        for key in ("message", "detail", "code"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        return json.dumps(body)[:300]
    if isinstance(body, str):
        return _text_of(body)[:300] or "(empty body)"
    return str(body)[:300]


def _text_of(text: str) -> str:
    title = _TITLE.search(text)
    if title:
        return " ".join(html.unescape(title.group(1)).split())
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


def _error_code(body: Any) -> str:
    """Machine-readable error codes and types joined, for classification."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    err = body.get("error")
    if isinstance(err, dict):
        parts += [str(err.get(k, "")) for k in ("type", "code", "status")]
        for detail in err["details"] if isinstance(err.get("details"), list) else []:
            if isinstance(detail, dict):
                parts.append(str(detail.get("reason", "")))
    parts.append(str(body.get("code", "")))
    return " ".join(p for p in parts if p)


def is_context_length(body: Any) -> bool:
    """True when the error says the prompt does not fit the model's context window."""
    return bool(_CONTEXT.search(error_message(body))) or "context_length" in _error_code(body)


_QUOTA = re.compile(r'"insufficient_quota"|PerDay|Request too large for')


def is_quota_exhausted(body: Any) -> bool:
    """True for a 429 that waiting cannot fix: OpenAI's `insufficient_quota`, a Gemini per-day
    quota (`QuotaFailure` quotaId "...PerDay..."), or one request larger than the per-minute
    token limit (OpenAI "Request too large for ... Requested N")."""
    text = body if isinstance(body, str) else json.dumps(body)
    return bool(_QUOTA.search(text[:20_000]))


def raise_for_status(
    provider: str, status: int, body: Any, headers: Mapping[str, str] | None = None
) -> None:
    """Raise the typed error for an error status (>= 400); return for a success status."""
    if status < 400:
        return
    _raise(provider, status, body, {k.lower(): v for k, v in (headers or {}).items()})


def _raise(provider: str, status: int, body: Any, headers: Mapping[str, str]) -> NoReturn:
    message = error_message(body)
    code = _error_code(body)
    kept = redact_headers(headers)  # request ids stay; cookies and credentials do not
    if status in (401, 403) or "authentication_error" in code or "invalid_api_key" in code or (
        status == 400 and (_AUTH.search(message) or "API_KEY_INVALID" in code)
    ):
        raise AuthenticationError(provider, status, message, body, headers=kept)
    if is_context_length(body):
        raise ContextLengthError(provider, status, message, body, headers=kept)
    if status == 429 or "rate_limit" in code or "RESOURCE_EXHAUSTED" in code:
        cls = QuotaExceededError if is_quota_exhausted(body) else RateLimitError
        raise cls(provider, status, message, body, retry_after_seconds(headers, body=body), headers=kept)
    if status >= 500 or "overloaded" in code:
        raise ServerError(provider, status, message, body, headers=kept)
    raise ModelHTTPError(provider, status, message, body, headers=kept)


def raise_body_error(provider: str, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
    """Raise for a 200 response whose body is an error object (OpenAI, xAI and proxies do this)."""
    if body.get("error") not in (None, {}):
        raise_error_object(provider, body, headers)


# Error kinds sent inside 200 bodies and streams -> the HTTP status they stand for.
_TYPE_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
                "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429,
                "api_error": 500, "server_error": 500, "overloaded_error": 529,
                "invalid_api_key": 401, "insufficient_quota": 429, "rate_limit_exceeded": 429,
                "context_length_exceeded": 400, "INVALID_ARGUMENT": 400, "UNAUTHENTICATED": 401,
                "PERMISSION_DENIED": 403, "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429,
                "INTERNAL": 500, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504}


def raise_error_object(provider: str, error_obj: Any, headers: Mapping[str, str] | None = None,
                       status: int | None = None) -> NoReturn:
    """Raise the typed error an error object in a 200 body or a stream stands for (as HTTP).

    `error_obj` is the body holding it (`{"error": {...}}`, xAI's `{"code", "error"}`) or the
    inner object. The status is `status`, else the object's numeric `code`, else the one its
    code / type / status names (`invalid_api_key` 401, `RESOURCE_EXHAUSTED` 429...); an
    unknown kind is a ModelResponseError.
    """
    body = error_obj if isinstance(error_obj, dict) and "error" in error_obj else {"error": error_obj}
    err = body["error"] if isinstance(body["error"], dict) else {}
    if status is None:
        code = err.get("code", body.get("code"))
        kinds = [str(err.get(k)) for k in ("code", "type", "status")]
        status = code if isinstance(code, int) and 400 <= code < 600 else next(
            (_TYPE_STATUS[k] for k in kinds if k in _TYPE_STATUS),
            400 if _AUTH.search(error_message(body)) else None)  # 400 + that message: auth
        if status is None:
            raise ModelResponseError(f"{provider} returned an error: {error_message(body)}")
    _raise(provider, status, body, {k.lower(): v for k, v in (headers or {}).items()})


def usage_from(numbers: Mapping[str, Any]) -> Usage:
    """A Usage from `{usage key: provider number}`, dropping numbers that are absent."""
    usage = Usage()
    for key, value in numbers.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        usage[key] = int(value)  # type: ignore[literal-required]
    return usage


def as_list(value: Any, what: str) -> list[Any]:
    """`value` when it is a list, [] when absent; ModelResponseError for anything else."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise ModelResponseError(f"{what} should be a list, got {str(value)[:100]!r}")


def dig(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]...`, or None as soon as a step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def plain_text(content: Any) -> str:
    """A text message's content as one string (list content is joined)."""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def provider_meta(item: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """`item["meta"][provider]`: the data this provider asked us to send back unchanged."""
    meta = item.get("meta")
    found = meta.get(provider) if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def check_tool_choice(provider: str, choice: str, tools: Sequence[Any]) -> None:
    """A forced tool choice must name one of the tools sent (a caller mistake, raised early)."""
    names = [t.name for t in tools]
    if choice not in names:
        raise UsageError(f"{provider}: tool_choice {choice!r} is not one of the tools "
                         f"({', '.join(names)}); use 'auto', 'any' or a tool name")
