"""The one module that does HTTP for model providers: JSON POSTs with retries and deadlines.

What it does (decision Q16 of spec/semantics.md):

- sends on kept-alive `http.client` connections (`real_transport`; the pool is `_connections`)
  and never follows a redirect: a 3xx is a `ModelHTTPError` naming the Location's host;
- `timeout` bounds one attempt (connect, headers, body); `deadline` the whole call, attempts
  and waits together (DEFAULT_DEADLINE = 180 s is the worst case of a call);
- retries what agentkit_min/_http_policy.py calls transient unless `no_retry` says waiting cannot
  help; a wait longer than `max_retry_after` or the deadline left makes that response final;
- `post_json` blocks; `post_json_async` runs an attempt on the loop on an idle kept-alive connection,
  else (and `open_stream`) on an `_aio.in_thread` worker (no cap); cancelling shuts its socket;
- logs the exact body at DEBUG without credentials (redaction: agentkit_min/_http_policy.py) and sends
  nothing while `ALLOW_MODEL_REQUESTS` is False, except through a transport (a cassette player) or to loopback.

A `Transport` (installed with `use_transport`, a ContextVar) is `t(method, url, headers, body,
timeout)` -> `(status, headers, body bytes)`, raising `TimeoutError` / another `OSError`;
streaming requests add `stream=True` and may get an iterator of byte chunks as the body.
Not here: HTTP/2, compression, cookies, and provider error mapping (the adapters do that).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
import urllib.parse
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterator, Mapping, Tuple

from . import _aio, _connections
from ._http_policy import (RETRY_STATUSES, SECRET_HEADERS, RetryPolicy, check_request, decode_body, failure,
                           redact_headers, redact_url, redirect_error, retry_after_seconds, scrub)
from .errors import ModelConnectionError, ModelTimeoutError, ResponseTooLargeError, UsageError
from .trace import CURRENT

__all__ = ["ALLOW_MODEL_REQUESTS", "ATTEMPT_LISTENER", "DEFAULT_DEADLINE", "HTTPResponse", "POOL", "RETRY_STATUSES",
           "RetryPolicy", "SECRET_HEADERS", "StreamResponse", "Transport", "open_stream", "post_json", "post_json_async",
           "real_transport", "redact_headers", "redact_url", "retry_after_seconds", "scrub", "use_transport"]

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
"""Called after every attempt with {attempt, status, error, wait, elapsed} (no secrets), as the
run's trace gets them (`Trace.attempt`)."""

RawResponse = Tuple[int, Mapping[str, str], bytes]
Transport = Callable[..., Any]
"""`(method, url, headers, body, timeout[, stream=True]) -> (status, headers, body)`."""

_TRANSPORT: ContextVar[Transport | None] = ContextVar("agentkit_min_http_transport", default=None)

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


@contextmanager
def use_transport(transport: Transport) -> Iterator[Transport]:
    """Send every model request made in this context through `transport`."""
    token = _TRANSPORT.set(transport)
    try:
        yield transport
    finally:
        _TRANSPORT.reset(token)


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        check_request(provider, url, self.headers)
        self.data = _ENCODER.encode(body).encode("utf-8")
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s request: POST %s headers=%s body=%s", provider, redact_url(url),
                         json.dumps(redact_headers(self.headers)), self.data.decode("utf-8"))
        self.deadline = DEFAULT_DEADLINE if deadline is None else deadline
        self.ends, self.attempt, self.started = time.monotonic() + self.deadline, 0, 0.0

    def send(self, live: _connections.Live | None = None) -> Any:
        """One attempt (on a worker in the async path): (status, headers, data, rest) or the exception."""
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
        except (OSError, ResponseTooLargeError) as exc:
            return exc
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
        except (OSError, ResponseTooLargeError) as exc:
            return exc

    def decide(self, outcome: Any) -> HTTPResponse | float:
        """The final response, or the seconds to wait before the next attempt; raises the final failure."""
        self.attempt += 1
        left, error = self.ends - time.monotonic(), None
        if isinstance(outcome, ResponseTooLargeError):  # not retried: the same body would come back
            raise ResponseTooLargeError(f"{self.provider}: {outcome}") from None
        if isinstance(outcome, BaseException):
            status, error = None, failure(self.provider, self.url, min(self.timeout, self.deadline), outcome)
            delay = self.policy.backoff(self.attempt - 1)
            final = self.attempt > self.policy.max_retries or delay >= left
        else:
            response = self._response(*outcome)
            status = response.status
            wait = self.policy.wait(self.attempt, status, response.headers, response.body)
            delay = 0.0 if wait is None else wait
            final = (wait is None or self.attempt > self.policy.max_retries or delay >= left
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
        if 300 <= status < 400:
            self._notify(status, None, None)
            raise redirect_error(self.provider, self.url, self.headers, status, headers)
        text = data.decode("utf-8", errors="replace")
        return HTTPResponse(status, headers, decode_body(text), text)

    def _notify(self, status: int | None, error: Exception | None, wait: float | None) -> None:
        listener, trace = ATTEMPT_LISTENER.get(), CURRENT.get()  # and the run's trace (trace.py)
        if listener is not None or trace is not None:
            info = {"attempt": self.attempt, "status": status, "wait": wait,
                    "error": None if error is None else f"{type(error).__name__}: {error}",
                    "elapsed": time.monotonic() - self.started}
            if listener is not None:
                listener(info)
            if trace is not None:
                trace.attempt(info)

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
