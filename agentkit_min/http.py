"""The one module that does HTTP for model providers: JSON POSTs with retries and deadlines.

What it does (decision Q16 of spec/semantics.md):

- sends on kept-alive `http.client` connections (`real_transport`; the pool is `_connections`)
  and never follows a redirect: a 3xx is a `ModelHTTPError` naming the Location's host;
- `timeout` bounds one attempt (connect, headers, body); `deadline` the whole call, attempts
  and waits together (DEFAULT_DEADLINE = 180 s is the worst case of a call);
- retries with exponential backoff and jitter on connection errors, timeouts and 408, 409,
  429 and 5xx, unless `x-should-retry: false` (`true` makes any status >= 400 retryable) or
  `no_retry` says waiting cannot help. Waits follow `retry-after-ms`, `Retry-After` or Google's
  `RetryInfo`; a wait longer than `max_retry_after` or the deadline left makes that response final;
- `post_json` blocks; `post_json_async` runs an attempt on the loop on an idle kept-alive connection,
  else (and `open_stream`) on an `_aio.in_thread` worker (no cap); cancelling shuts its socket;
- refuses header values and URLs with control characters (a `UsageError` that never shows the
  value), logs the exact body at DEBUG without credentials, and sends nothing while
  `ALLOW_MODEL_REQUESTS` is False, except through a transport (a cassette player) or to loopback.

A `Transport` (installed with `use_transport`, a ContextVar) is `t(method, url, headers, body,
timeout)` -> `(status, headers, body bytes)`, raising `TimeoutError` / another `OSError`;
streaming requests add `stream=True` and may get an iterator of byte chunks as the body.
Not here: HTTP/2, compression, cookies, and provider error mapping (the adapters do that).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import logging
import random
import re
import time
import urllib.parse
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterator, Mapping, Sequence, Tuple

from . import _aio, _connections
from .errors import (ModelConnectionError, ModelHTTPError, ModelResponseError, ModelTimeoutError,
                     ResponseTooLargeError, UsageError)

__all__ = ["ALLOW_MODEL_REQUESTS", "ATTEMPT_LISTENER", "DEFAULT_DEADLINE", "HTTPResponse", "POOL", "RetryPolicy",
           "StreamResponse", "Transport", "open_stream", "post_json", "post_json_async", "real_transport",
           "redact_headers", "redact_url", "retry_after_seconds", "scrub", "use_transport"]

logger = logging.getLogger(__name__)

ALLOW_MODEL_REQUESTS: bool = True
"""Set to False (test suites do) to forbid real requests; replays and loopback still work."""

DEFAULT_DEADLINE = 180.0
"""Seconds one call may take in all, attempts and backoff included (the documented worst case)."""

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""Default `max_response_bytes`: a longer body ends in `ResponseTooLargeError`."""

POOL = _connections.Pool()
"""The kept-alive connections (`POOL.close()`, `POOL.idle_seconds`, `POOL.ssl_context`...)."""

ATTEMPT_LISTENER: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar(
    "agentkit_min_attempt_listener", default=None)
"""Called after every attempt with {attempt, status, error, wait, elapsed} (no secrets): tracing."""

RawResponse = Tuple[int, Mapping[str, str], bytes]
Transport = Callable[..., Any]
"""`(method, url, headers, body, timeout[, stream=True]) -> (status, headers, body)`."""

_TRANSPORT: ContextVar[Transport | None] = ContextVar("agentkit_min_http_transport", default=None)

RETRY_STATUSES = frozenset({408, 409, 429})
"""Retried besides every 5xx: timeouts, conflicts and rate limits are usually transient."""

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie",
                            "set-cookie", "proxy-authorization"})
_SECRET_QUERY = re.compile(r"([?&](?:key|api[-_]?key)=)[^&#]*", re.IGNORECASE)
_URL_KEY = re.compile(r"[?&](?:key|api[-_]?key)=([^&#]*)", re.IGNORECASE)
_HEADER_OK = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_NAME_OK = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_URL_BAD = re.compile(r"[\x00-\x20\x7f]")
_RETRY_INFO = re.compile(r'"retryDelay": "(\d+(?:\.\d+)?)s"')
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # built once: json.dumps(..., ensure_ascii=False) rebuilds it


def real_transport(method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float,
                   *, stream: bool = False) -> tuple[int, dict[str, str], Any]:
    """The built-in sender: `http.client` on a kept-alive connection from `POOL`.

    Every status is returned (redirects too, unfollowed). With `stream=True` a 2xx body is an
    iterator of chunks with `close()`. Raises TimeoutError (the attempt took longer than
    `timeout`), ConnectionError (any other transport failure), ResponseTooLargeError.
    """
    return POOL.send(method, url, headers, body, timeout, stream=stream)


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


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class _Call:
    """One request and its retries: the part the sync and async callers share."""

    def __init__(self, provider: str, url: str, headers: Mapping[str, str], body: Mapping[str, Any],
                 stream: bool, timeout: float = 60.0, deadline: float | None = None,
                 retry: RetryPolicy | None = None, no_retry: Callable[[HTTPResponse], bool] | None = None,
                 max_response_bytes: int | None = None) -> None:
        self.provider, self.url, self.timeout, self.stream, self.no_retry = provider, url, timeout, stream, no_retry
        self.policy, self.limit = retry or RetryPolicy(), max_response_bytes or MAX_RESPONSE_BYTES
        self.transport = _TRANSPORT.get() or real_transport
        if self.transport is real_transport and not ALLOW_MODEL_REQUESTS and not _is_loopback(url):
            raise UsageError(
                f"Real model requests are disabled (agentkit_min.http.ALLOW_MODEL_REQUESTS is False); refusing "
                f"POST {redact_url(url)}. Replay a cassette, use a test model, or set ALLOW_MODEL_REQUESTS = True.")
        self.headers = {"content-type": "application/json", **headers}
        if not (_HEADER_OK.fullmatch("".join(self.headers.values())) and _NAME_OK.fullmatch("".join(self.headers))):
            name = next(k for k, v in self.headers.items() if not (_HEADER_OK.fullmatch(v) and _NAME_OK.fullmatch(k)))
            raise UsageError(f"{provider}: the {name!r} header has a control or non-Latin-1 character "
                             f"(the value is not shown); check how the key or value was read")
        if _URL_BAD.search(url):
            raise UsageError(f"{provider}: the URL has a space or control character: {redact_url(url)!r}")
        self.data = _ENCODER.encode(body).encode("utf-8")
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s request: POST %s headers=%s body=%s", provider, redact_url(url),
                         json.dumps(redact_headers(self.headers)), self.data.decode("utf-8"))
        self.deadline = DEFAULT_DEADLINE if deadline is None else deadline
        self.ends, self.attempt, self.started = time.monotonic() + self.deadline, 0, 0.0

    def send(self, live: _connections.Live | None = None) -> Any:
        """One attempt (on a worker in the async path): (status, headers, data, rest) or the OSError."""
        self.started = time.monotonic()
        left = min(self.timeout, self.ends - self.started)
        tokens = _connections.LIVE.set(live), _connections.READ_LIMIT.set(self.limit)
        try:
            if left <= 0:
                raise TimeoutError(f"the total deadline of {self.deadline}s has passed")
            if not self.stream:
                return (*self.transport("POST", self.url, self.headers, self.data, left), None)
            status, headers, body = self.transport("POST", self.url, self.headers, self.data, left, stream=True)
            if isinstance(body, (bytes, bytearray)):  # a transport that does not stream: one chunk
                return status, headers, bytes(body), iter(()) if 200 <= status < 300 else None
            if 200 <= status < 300:  # retries stay possible until the first byte is handed out
                try:
                    return status, headers, next(body, b""), body
                except BaseException:
                    getattr(body, "close", lambda: None)()
                    raise
            try:
                return status, headers, _connections.read_all(body, self.limit), None
            finally:
                getattr(body, "close", lambda: None)()
        except OSError as exc:
            return exc
        except ResponseTooLargeError as exc:
            raise ResponseTooLargeError(f"{self.provider}: {exc}") from None
        finally:
            _connections.READ_LIMIT.reset(tokens[1])
            _connections.LIVE.reset(tokens[0])

    async def send_async(self) -> Any:
        """`send` on the loop itself when `POOL` has an idle connection; None when it has not."""
        self.started = time.monotonic()
        left = min(self.timeout, self.ends - self.started)
        try:
            sent = None if left <= 0 else await POOL.send_async("POST", self.url, self.headers, self.data, left,
                                                                  self.limit)
            return None if sent is None else (*sent, None)
        except OSError as exc:
            return exc
        except ResponseTooLargeError as exc:
            raise ResponseTooLargeError(f"{self.provider}: {exc}") from None

    def decide(self, outcome: Any) -> HTTPResponse | float:
        """The final response, or the seconds to wait before the next attempt; raises the final failure."""
        self.attempt += 1
        left, error = self.ends - time.monotonic(), None
        if isinstance(outcome, BaseException):
            where, status = redact_url(self.url), None
            error = (ModelTimeoutError(f"{self.provider}: no answer from {where} within "
                                       f"{min(self.timeout, self.deadline)}s ({outcome})")
                     if isinstance(outcome, TimeoutError) else
                     ModelConnectionError(f"{self.provider}: connection to {where} failed: "
                                          f"{type(outcome).__name__}: {outcome}"))
            delay = self.policy.backoff(self.attempt - 1)
            final = self.attempt > self.policy.max_retries or delay >= left
        else:
            response = self._response(*outcome)
            status, hint = response.status, response.headers.get("x-should-retry", "").strip().lower()
            retryable = status >= 400 and (hint == "true" or (
                hint != "false" and (status in RETRY_STATUSES or status >= 500)))
            wait = retry_after_seconds(response.headers, body=response.body) if retryable else None
            delay = 0.0 if not retryable else self.policy.backoff(self.attempt - 1) if wait is None else wait
            final = (not retryable or self.attempt > self.policy.max_retries or delay >= left
                     or delay > self.policy.max_retry_after or bool(self.no_retry and self.no_retry(response)))
        self._notify(status, error, None if final else delay)
        if final and error is not None:
            raise error
        if final:
            logger.debug("%s response: HTTP %d in %.3fs (attempt %d)", self.provider, status,
                         time.monotonic() - self.started, self.attempt)
            return response
        logger.info("%s: retrying after %s (attempt %d of %d, waiting %.2fs)", self.provider,
                    error or f"HTTP {status}", self.attempt, self.policy.max_retries + 1, delay)
        return delay

    def _response(self, status: int, raw_headers: Mapping[str, str], data: bytes, rest: Any) -> HTTPResponse:
        headers = {k.lower(): v for k, v in raw_headers.items()}
        if rest is not None:
            return StreamResponse(status, headers, "", "", data, rest, self.ends, self.timeout, self.limit)
        text = data.decode("utf-8", errors="replace")
        response = HTTPResponse(status, headers, decode_body(text), text)
        if 300 <= status < 400:
            self._notify(status, None, None)
            host = urllib.parse.urlsplit(headers.get("location", "")).hostname or "(no Location)"
            sent = [v.split()[-1] for k, v in self.headers.items() if k.lower() in SECRET_HEADERS and v]
            raise ModelHTTPError(
                self.provider, status, f"redirect to {host} not followed (the API key is never sent to "
                f"another URL); point base_url at the final address",
                headers=scrub(redact_headers(headers), [*_URL_KEY.findall(self.url), *sent]))
        return response

    def _notify(self, status: int | None, error: Exception | None, wait: float | None) -> None:
        listener = ATTEMPT_LISTENER.get()
        if listener is not None:
            listener({"attempt": self.attempt, "status": status, "wait": wait,
                      "error": None if error is None else f"{type(error).__name__}: {error}",
                      "elapsed": time.monotonic() - self.started})

    async def run(self) -> HTTPResponse:
        """Attempts on the loop (a kept-alive connection) or on worker threads; waits on the loop."""
        while True:
            live = _connections.Live()
            outcome = await self.send_async() if self.transport is real_transport and not self.stream else None
            try:
                outcome = await _aio.in_thread(self.send, live) if outcome is None else outcome
            except asyncio.CancelledError:
                live.abort()  # the worker's blocked read fails now instead of at its timeout
                raise
            step = self.decide(outcome)
            if isinstance(step, HTTPResponse):
                return step
            await (asyncio.sleep(step) if self.policy.sleep is None else _aio.maybe_await(self.policy.sleep(step)))


def post_json(provider: str, url: str, headers: Mapping[str, str], body: Mapping[str, Any],
              **options: Any) -> HTTPResponse:
    """POST `body` as JSON to `url`, blocking; retry transient failures; return the last response.

    Options: `timeout` (seconds for one attempt: connect, headers and body; 60),
    `deadline` (seconds for the whole call, waits included; DEFAULT_DEADLINE), `retry` (a
    RetryPolicy), `no_retry` (True for a retryable response waiting cannot fix, e.g. a 429 that
    says the prompt is too long), `max_response_bytes` (MAX_RESPONSE_BYTES). Headers carry the
    credentials; they are never logged. Every status but 3xx is returned: the adapters map
    error statuses to typed errors.

    Raises:
        UsageError: `ALLOW_MODEL_REQUESTS` is False and this would be a real request, or a
            header value or the URL holds a control character.
        ModelHTTPError: a redirect (3xx), which is never followed.
        ModelTimeoutError: no answer within `timeout` (or the deadline) on the last attempt.
        ModelConnectionError: the connection failed or dropped on the last attempt.
        ModelResponseError: the body is over `max_response_bytes` or its JSON nests too deeply.
    """
    call = _Call(provider, url, headers, body, False, **options)
    while not isinstance(step := call.decide(call.send()), HTTPResponse):
        (call.policy.sleep or time.sleep)(step)
    return step


async def post_json_async(provider: str, url: str, headers: Mapping[str, str], body: Mapping[str, Any],
                          **options: Any) -> HTTPResponse:
    """`post_json` for the event loop: attempts on the loop or a worker thread, waits on the loop.

    Cancelling the awaiting task stops the wait at once and shuts the attempt's socket.
    """
    return await _Call(provider, url, headers, body, False, **options).run()


@dataclass(frozen=True)
class StreamResponse(HTTPResponse):
    """A response whose 2xx body is read as it arrives (`chunks()`); other statuses come read
    and decoded in `body` / `text` as in HTTPResponse."""

    _first: bytes = b""
    _rest: Any = field(default=None, repr=False)
    _ends: float = 0.0
    _idle: float = 0.0
    _limit: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive. Raises ModelTimeoutError after an idle gap longer than the
        timeout or past the deadline, ModelConnectionError when the connection drops."""
        chunk: bytes | None = self._first
        size = 0
        while chunk is not None:
            size += len(chunk)
            if size > self._limit:
                self.close()
                raise ResponseTooLargeError(f"the stream is over {self._limit} bytes (max_response_bytes)")
            if chunk:
                yield chunk
            if self._rest is None:
                return
            left = self._ends - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError("the total deadline has passed")
                read = _aio.in_thread(next, self._rest, None)
                chunk = await (read if left > self._idle else asyncio.wait_for(read, left))
            except (TimeoutError, asyncio.TimeoutError) as exc:
                self.close()
                raise ModelTimeoutError(f"the stream stalled: {str(exc) or 'the total deadline passed'}") from None
            except OSError as exc:
                self.close()
                raise ModelConnectionError(f"the stream dropped: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        """Drop the connection (a body read to its end has gone back to the pool already)."""
        getattr(self._rest, "close", lambda: None)()


@asynccontextmanager
async def open_stream(provider: str, url: str, headers: Mapping[str, str], body: Mapping[str, Any],
                      **options: Any) -> AsyncIterator[StreamResponse]:
    """POST and stream the reply: `async with open_stream(...) as r: async for b in r.chunks()`.

    Options as `post_json`. Retries happen only before the first body byte of a 2xx is handed
    out; a non-2xx comes whole in `r.body`. `timeout` bounds the wait for headers and each gap
    between chunks, `deadline` the whole stream. Leaving the block early closes the connection.
    """
    response = await _Call(provider, url, headers, body, True, **options).run()
    if not isinstance(response, StreamResponse):
        response = StreamResponse(response.status, response.headers, response.body, response.text)
    try:
        yield response
    finally:
        response.close()
