"""What agentkit_min.http decides without doing IO (decision Q16 of spec/semantics.md), which
re-exports the public names:

- retries with exponential backoff and jitter (`RetryPolicy`) on connection errors, timeouts and
  408, 409, 429 and 5xx, unless `x-should-retry: false` (`true` makes any status >= 400
  retryable). Waits follow `retry-after-ms`, `Retry-After` or Google's `RetryInfo`;
- a failed attempt becomes a `ModelTimeoutError` or `ModelConnectionError`, a redirect a
  `ModelHTTPError` naming only the Location's host, a body nesting too deeply a `ModelResponseError`;
- credentials never leave: they are redacted from URLs, headers and values, and header values or
  URLs with control characters are refused (a `UsageError` that never shows the value).
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .errors import ModelConnectionError, ModelHTTPError, ModelResponseError, ModelTimeoutError, UsageError

RETRY_STATUSES = frozenset({408, 409, 429})
"""Retried besides every 5xx: timeouts, conflicts and rate limits are usually transient."""

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie",
                            "set-cookie", "proxy-authorization"})
_URL_KEY = re.compile(r"([?&](?:key|api[-_]?key)=)([^&#]*)", re.IGNORECASE)
_HEADER_OK = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_NAME_OK = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_URL_BAD = re.compile(r"[\x00-\x20\x7f]")
_RETRY_INFO = re.compile(r'"retryDelay": "(\d+(?:\.\d+)?)s"')


@dataclass(frozen=True)
class RetryPolicy:
    """How a call retries. `sleep` is injectable so tests never really wait."""

    max_retries: int = 4
    """Retries after the first attempt (Inngest's default policy is 4)."""
    base_delay: float = 0.5
    """First backoff in seconds; doubled on every retry."""
    max_delay: float = 8.0
    """Cap on one computed backoff."""
    max_retry_after: float = 60.0
    """A longer provider wait is not waited for: the response is returned to the caller."""
    sleep: Callable[[float], Any] | None = None
    """Replaces the wait (`time.sleep` / `asyncio.sleep`); may return an awaitable."""

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        delay = min(self.max_delay, self.base_delay * (2.0**attempt))
        return delay / 2 + random.uniform(0, delay / 2)

    def wait(self, attempt: int, status: int, headers: Mapping[str, str], body: Any) -> float | None:
        """Seconds to wait before retrying a response with `status` after `attempt` attempts (the
        provider's own wait, else the backoff); None when the status is not retryable."""
        hint = headers.get("x-should-retry", "").strip().lower()
        retryable = hint == "true" or hint != "false" and (status in RETRY_STATUSES or status >= 500)
        if status < 400 or not retryable:
            return None
        wait = retry_after_seconds(headers, body=body)
        return self.backoff(attempt - 1) if wait is None else wait


def redact_url(url: str) -> str:
    """`url` with API keys in the query string replaced by `<redacted>`."""
    return _URL_KEY.sub(r"\1<redacted>", url)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` with every credential header replaced by `<redacted>`."""
    return {k: ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None,
                        body: Any = None) -> float | None:
    """The wait the provider asks for: `retry-after-ms`, `Retry-After` (delta-seconds or an HTTP
    date), else a Google `RetryInfo.retryDelay` ("48s") in the error body; None if none."""
    for value, scale in ((headers.get("retry-after-ms"), 0.001), (headers.get("retry-after"), 1.0)):
        try:
            return max(0.0, float(value or "") * scale)
        except ValueError:
            pass
    try:
        when = email.utils.parsedate_to_datetime(headers.get("retry-after", ""))
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError):
        pass
    found = _RETRY_INFO.search(json.dumps(body)[:20_000]) if isinstance(body, (dict, list)) else None
    return float(found.group(1)) if found else None


def scrub(values: Mapping[str, str], secrets: Sequence[str]) -> dict[str, str]:
    """A copy of `values` with every secret (8 characters or more) replaced by `<redacted>`."""
    out = dict(values)
    for secret in (s for s in secrets if len(s) >= 8):
        out = {k: v.replace(secret, "<redacted>") for k, v in out.items()}
    return out


def check_request(provider: str, url: str, headers: Mapping[str, str]) -> None:
    """Refuse header names and values or a URL with control characters, never showing a value."""
    if not (_HEADER_OK.fullmatch("".join(headers.values())) and _NAME_OK.fullmatch("".join(headers))):
        name = next(k for k, v in headers.items() if not (_HEADER_OK.fullmatch(v) and _NAME_OK.fullmatch(k)))
        raise UsageError(f"{provider}: the {name!r} header has a control or non-Latin-1 character "
                         f"(the value is not shown); check how the key or value was read")
    if _URL_BAD.search(url):
        raise UsageError(f"{provider}: the URL has a space or control character: {redact_url(url)!r}")


def failure(provider: str, url: str, timeout: float, exc: BaseException) -> ModelConnectionError:
    """What an attempt that got no response (`exc`) is called; `timeout` is its time limit."""
    if isinstance(exc, TimeoutError):
        return ModelTimeoutError(f"{provider}: no answer from {redact_url(url)} within {timeout}s ({exc})")
    return ModelConnectionError(f"{provider}: connection to {redact_url(url)} failed: {type(exc).__name__}: {exc}")


def redirect_error(provider: str, url: str, sent: Mapping[str, str], status: int,
                   headers: Mapping[str, str]) -> ModelHTTPError:
    """A redirect is never followed: the error names the Location's host, never a credential."""
    host = urllib.parse.urlsplit(headers.get("location", "")).hostname or "(no Location)"
    keys = [v.split()[-1] for k, v in sent.items() if k.lower() in SECRET_HEADERS and v]
    return ModelHTTPError(
        provider, status, f"redirect to {host} not followed (the API key is never sent to another URL); "
        "point base_url at the final address",
        headers=scrub(redact_headers(headers), [*(key for _, key in _URL_KEY.findall(url)), *keys]))


def decode_body(text: str) -> Any:
    """JSON when the text is JSON, else the text (so error pages and truncation survive)."""
    if not text or text.isspace():
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
    except RecursionError:
        raise ModelResponseError(f"the response is JSON nested too deeply to decode "
                                 f"({len(text)} characters)") from None
