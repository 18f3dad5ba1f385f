"""The one module that does HTTP for model providers: a JSON POST on `urllib.request`.

What it does (decision Q16 of spec/semantics.md):

- one JSON POST per call with a timeout on every request: `timeout` bounds the connect and
  every read, and the whole exchange is cut off after `timeout` seconds of reading too;
- retries with exponential backoff and jitter on connection errors, timeouts and the statuses
  408, 409, 429 and 5xx, honouring `Retry-After` (seconds or an HTTP date, RFC 9110 10.2.3);
  4 retries by default, configurable per model;
- logs the exact request body at DEBUG, with secrets removed (auth headers, Gemini's `key=`);
- refuses to send anything when `ALLOW_MODEL_REQUESTS` is False (test suites set it), except
  through an installed transport (a cassette player) or to a loopback address.

The sender is swappable: a `Transport` is any callable
`(method, url, headers, body, timeout) -> (status, headers, body bytes)` that raises
`TimeoutError` or `ConnectionError` (any `OSError`) on failure. `use_transport(fn)` installs one
for the current context (a `contextvars.ContextVar`, so it follows `asyncio.to_thread`), which
is how `agentkit_min.cassette` replays recorded exchanges without vcrpy and without patching.

What it deliberately does not do: streaming, connection pooling, HTTP/2, proxies beyond what
`urllib` reads from the environment, or mapping statuses to provider errors (each adapter's
`parse_response` does that, because only it can read the provider's error body).
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import logging
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Tuple

from .errors import ModelConnectionError, ModelTimeoutError, UsageError

__all__ = [
    "ALLOW_MODEL_REQUESTS",
    "HTTPResponse",
    "RetryPolicy",
    "Transport",
    "post_json",
    "redact_headers",
    "redact_url",
    "retry_after_seconds",
    "urllib_transport",
    "use_transport",
]

logger = logging.getLogger(__name__)

ALLOW_MODEL_REQUESTS: bool = True
"""Set to False (test suites do) to forbid real requests; replays and loopback still work."""

RawResponse = Tuple[int, Mapping[str, str], bytes]
Transport = Callable[[str, str, Mapping[str, str], bytes, float], RawResponse]

_TRANSPORT: ContextVar[Transport | None] = ContextVar("agentkit_min_http_transport", default=None)

RETRY_STATUSES = frozenset({408, 409, 429})
"""Retried besides every 5xx: timeouts, conflicts and rate limits are usually transient."""

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "proxy-authorization"}
)
_SECRET_QUERY = re.compile(r"([?&](?:key|api[-_]?key)=)[^&#]*", re.IGNORECASE)
_READ_CHUNK = 64 * 1024
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # built once: json.dumps(..., ensure_ascii=False) rebuilds it


@dataclass(frozen=True)
class HTTPResponse:
    """What came back: the status, lower-cased headers, and the decoded body."""

    status: int
    headers: Mapping[str, str]
    body: Any
    """Decoded JSON, or the text itself when it is not JSON (proxy HTML pages, truncated JSON)."""
    text: str = ""
    """The body as received (UTF-8 decoded)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How `post_json` retries. `sleep` is injectable so tests never really wait."""

    max_retries: int = 4
    """Retries after the first attempt (Inngest's default policy is 4)."""
    base_delay: float = 0.5
    """First backoff in seconds; doubled on every retry."""
    max_delay: float = 8.0
    """Cap on one computed backoff."""
    max_retry_after: float = 60.0
    """A longer `Retry-After` is not waited for: the response is returned to the caller."""
    sleep: Callable[[float], None] = time.sleep

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        delay = min(self.max_delay, self.base_delay * (2.0**attempt))
        return delay / 2 + random.uniform(0, delay / 2)


@contextmanager
def use_transport(transport: Transport) -> Iterator[Transport]:
    """Send every model request made in this context through `transport`."""
    token = _TRANSPORT.set(transport)
    try:
        yield transport
    finally:
        _TRANSPORT.reset(token)


def redact_url(url: str) -> str:
    """`url` with API keys in the query string replaced by `<redacted>`."""
    return _SECRET_QUERY.sub(r"\1<redacted>", url)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` with every credential header replaced by `<redacted>`."""
    return {k: ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The `Retry-After` delay in seconds (delta-seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, float(when.timestamp()) - current)


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def urllib_transport(
    method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
) -> RawResponse:
    """The default transport: one request with `urllib.request`, every status returned.

    Raises TimeoutError when the server does not answer in time (including a body that
    trickles in for longer than `timeout`), ConnectionError for any other transport failure.
    """
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    deadline = time.monotonic() + timeout
    try:
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:  # a status >= 400 still has a body to read
            response = exc
        with response:
            status = response.status if response.status is not None else 0
            received = dict(response.headers.items())
            data = _read_with_deadline(response, deadline)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (socket.timeout, TimeoutError)):
            raise TimeoutError(f"no answer within {timeout}s") from exc
        raise ConnectionError(str(exc.reason)) from exc
    except (socket.timeout, TimeoutError) as exc:
        raise TimeoutError(f"no answer within {timeout}s") from exc
    except http.client.HTTPException as exc:  # IncompleteRead, RemoteDisconnected, BadStatusLine
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
    return status, received, data


def _read_with_deadline(response: Any, deadline: float) -> bytes:
    # urllib's timeout bounds each socket read, not the whole body; a server that sends one
    # byte a second would never trip it, so reads are chunked and checked against a deadline.
    # read1 returns what one socket read gives; read(n) would block until n bytes arrived.
    read = getattr(response, "read1", None) or response.read
    chunks: list[bytes] = []
    while True:
        chunk = read(_READ_CHUNK)
        if not chunk:
            missing = getattr(response, "length", None)  # Content-Length bytes still expected
            if isinstance(missing, int) and missing > 0:
                raise http.client.IncompleteRead(b"".join(chunks), missing)
            return b"".join(chunks)
        chunks.append(chunk)
        if getattr(response, "length", None) == 0:  # Content-Length reached: no need to ask again
            return b"".join(chunks)
        if time.monotonic() > deadline:
            raise TimeoutError("the response body took longer than the timeout")


def decode_body(text: str) -> Any:
    """JSON when the text is JSON, else the text (so error pages and truncation survive)."""
    if not text.strip():
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _should_retry(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def post_json(
    provider: str,
    url: str,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    *,
    timeout: float = 60.0,
    retry: RetryPolicy | None = None,
    no_retry: Callable[[HTTPResponse], bool] | None = None,
) -> HTTPResponse:
    """POST `body` as JSON to `url`; retry transient failures; return the last response.

    Args:
        provider: names the provider in errors and logs.
        url: the full URL.
        headers: request headers including credentials (they are never logged).
        body: the JSON body.
        timeout: seconds for the connect and for reading the whole response.
        retry: the retry policy (defaults: 4 retries, 0.5s doubling backoff).
        no_retry: return True for a retryable response that must not be retried (for
            example a 429 that actually says the prompt is too long).

    Returns:
        The response, whatever its status: callers map error statuses to typed errors.

    Raises:
        UsageError: `ALLOW_MODEL_REQUESTS` is False and this would be a real request.
        ModelTimeoutError: no answer within `timeout` on the last attempt.
        ModelConnectionError: the connection failed or dropped on the last attempt.
    """
    policy = retry or RetryPolicy()
    transport = _TRANSPORT.get()
    if transport is None:
        if not ALLOW_MODEL_REQUESTS and not _is_loopback(url):
            raise UsageError(
                f"Real model requests are disabled (agentkit_min.http.ALLOW_MODEL_REQUESTS is "
                f"False); refusing POST {redact_url(url)}. Replay a cassette, use a test model, "
                f"or set ALLOW_MODEL_REQUESTS = True."
            )
        transport = urllib_transport
    data = _ENCODER.encode(body).encode("utf-8")
    all_headers = {"content-type": "application/json", **headers}
    debug = logger.isEnabledFor(logging.DEBUG)
    if debug:
        logger.debug(
            "%s request: POST %s headers=%s body=%s", provider, redact_url(url),
            json.dumps(redact_headers(all_headers)), data.decode("utf-8"),
        )
    attempt = 0
    while True:
        started = time.monotonic()
        try:
            status, raw_headers, raw = transport("POST", url, all_headers, data, timeout)
        except TimeoutError as exc:
            failure: Exception = ModelTimeoutError(
                f"{provider}: no answer from {redact_url(url)} within {timeout}s ({exc})"
            )
            delay = policy.backoff(attempt)
        except OSError as exc:  # ConnectionError and every other socket-level failure
            failure = ModelConnectionError(
                f"{provider}: connection to {redact_url(url)} failed: {type(exc).__name__}: {exc}"
            )
            delay = policy.backoff(attempt)
        else:
            text = raw.decode("utf-8", errors="replace")
            response = HTTPResponse(
                status, {k.lower(): v for k, v in raw_headers.items()}, decode_body(text), text
            )
            if debug:
                logger.debug("%s response: HTTP %d in %.3fs (attempt %d)",
                             provider, status, time.monotonic() - started, attempt + 1)
            if not _should_retry(status) or attempt >= policy.max_retries:
                return response
            if no_retry is not None and no_retry(response):
                return response
            wait = retry_after_seconds(response.headers)
            if wait is not None and wait > policy.max_retry_after:
                return response  # the caller decides; waiting minutes here would look like a hang
            delay = wait if wait is not None else policy.backoff(attempt)
            failure = ModelConnectionError(f"{provider}: HTTP {status}")
        if attempt >= policy.max_retries:
            raise failure
        logger.info(
            "%s: retrying after %s (attempt %d of %d, waiting %.2fs)",
            provider, failure, attempt + 1, policy.max_retries + 1, delay,
        )
        policy.sleep(delay)
        attempt += 1
