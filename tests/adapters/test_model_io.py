"""Model IO on 127.0.0.1 with a raw-socket server: kept-alive connections, deadlines, streaming,
redirects, provider retry rules and bounded responses (issue 9; spec/semantics.md Q16).

`Server` answers each request with the next action of its script; an action writes bytes to
the socket itself, so it can drip headers, close idle connections or send a huge body. Waits
are injected (`sleep=`) or a few tens of milliseconds; every test is bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import tracemalloc
from contextlib import contextmanager
from typing import Any, AsyncContextManager, Callable, Iterator

import pytest

from agentkit_min import _aio, http
from agentkit_min.errors import (AuthenticationError, ModelConnectionError, ModelHTTPError, ModelResponseError,
                                 ModelTimeoutError, QuotaExceededError, RateLimitError,
                                 ResponseTooLargeError, ServerError, UsageError)
from agentkit_min.messages import text_message
from agentkit_min.models import ProviderModel, anthropic, gemini, grok, openai

from . import fakes

Action = Callable[[socket.socket], bool]  # writes a response; returns False to close the connection
HELLO = [text_message("user", "Hello")]


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None, keep: bool = True) -> Action:
    def act(sock: socket.socket) -> bool:
        sock.sendall(response(status, body, headers))
        return keep
    return act


def ok(provider: str = "openai", text: str = "Hi") -> Action:
    return reply(200, fakes.response(provider, {"text": text}, 1, "m"))


class Server:
    """A scripted HTTP/1.1 server on 127.0.0.1 (the last action repeats)."""

    def __init__(self, *script: Action, routes: dict[str, Action] | None = None) -> None:
        self.script = list(script)
        self.routes = routes or {}  # path prefix -> action, instead of the script
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.accepted = 0
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.socks: list[socket.socket] = []

    def _accept(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self.socks.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        try:
            while not self.stop.is_set():
                line = reader.readline()
                if not line:
                    return
                headers = {}
                while (h := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = h.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", 0)))
                self.requests.append((line.decode().split()[1], headers, body))
                path = self.requests[-1][0]
                action = (next(a for p, a in self.routes.items() if path.startswith(p)) if self.routes
                          else self.script.pop(0) if len(self.script) > 1 else self.script[0])
                if not action(sock):
                    return
        except OSError:
            pass
        finally:
            reader.close()
            sock.close()

    def __enter__(self) -> Server:
        self.threads[0].start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for sock in self.socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    http.POOL.close()
    yield
    http.POOL.close()


class Sleeps(list[float]):
    def __call__(self, delay: float) -> None:
        self.append(delay)


def model(factory: Callable[..., ProviderModel], url: str, path: str = "/v1/", **kw: Any) -> ProviderModel:
    kw.setdefault("sleep", Sleeps())
    return factory("m", api_key="test-key-0123456789", base_url=url + path, **kw)


def infer(m: ProviderModel) -> Any:
    return asyncio.run(m.infer(HELLO, [], "auto"))


class Attempts(list[dict[str, Any]]):
    @contextmanager
    def listening(self) -> Iterator[Attempts]:
        token = http.ATTEMPT_LISTENER.set(self.append)
        try:
            yield self
        finally:
            http.ATTEMPT_LISTENER.reset(token)


# --- streaming primitive ----------------------------------------------------------------------

def chunked(parts: list[bytes], gap: float = 0.0, status: int = 200) -> Action:
    def act(sock: socket.socket) -> bool:
        sock.sendall(f"HTTP/1.1 {status} OK\r\nContent-Type: text/event-stream\r\n"
                     f"Transfer-Encoding: chunked\r\n\r\n".encode())
        for i, part in enumerate(parts):
            time.sleep(gap if i else 0)
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        sock.sendall(b"0\r\n\r\n")
        return True
    return act


def stream(url: str, **kw: Any) -> AsyncContextManager[http.StreamResponse]:
    return http.open_stream("openai", url + "/v1/chat/completions", {"authorization": "Bearer k"},
                            {"stream": True}, **kw)


def test_open_stream_hands_out_chunks_as_they_arrive_then_pools_the_connection() -> None:
    parts = [b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"]

    async def run(url: str) -> list[tuple[bytes, float]]:
        got: list[tuple[bytes, float]] = []
        async with stream(url) as r:
            assert r.status == 200 and r.headers["content-type"] == "text/event-stream"
            start = time.monotonic()
            async for chunk in r.chunks():
                got.append((chunk, time.monotonic() - start))
        return got

    with Server(chunked(parts, gap=0.05), ok()) as server:
        got = asyncio.run(run(server.url))
        assert b"".join(c for c, _ in got) == b"".join(parts)
        assert len(got) >= 2 and got[0][1] < got[-1][1]  # not all at the end
        assert http.POOL.idle_count() == 1  # read to its end: back to the pool
        http.post_json("openai", server.url + "/v1/x", {}, {})
        assert server.accepted == 1


def test_open_stream_error_status_is_read_whole_and_retried_like_post_json() -> None:
    body, _ = fakes.error("openai", 500)
    sleeps = Sleeps()

    async def run(url: str) -> tuple[int, Any]:
        async with stream(url, retry=http.RetryPolicy(max_retries=1, sleep=sleeps)) as r:
            return r.status, r.body

    with Server(reply(500, body)) as server:
        assert asyncio.run(run(server.url)) == (500, body)
        assert len(server.requests) == 2 and len(sleeps) == 1


def test_leaving_a_stream_early_closes_the_connection_and_a_stall_times_out() -> None:
    async def early(url: str) -> bytes:
        async with stream(url) as r:
            async for chunk in r.chunks():
                return chunk
        return b""

    async def stalled(url: str) -> None:
        async with stream(url, timeout=0.2, retry=http.RetryPolicy(max_retries=0)) as r:
            async for _ in r.chunks():
                pass

    with Server(chunked([b"a", b"b"], gap=0.05), chunked([b"a", b"b"], gap=1.0)) as server:
        assert asyncio.run(early(server.url)) == b"a"
        assert http.POOL.idle_count() == 0
        start = time.monotonic()
        with pytest.raises(ModelTimeoutError):
            asyncio.run(stalled(server.url))
        assert time.monotonic() - start < 0.9


# --- kept-alive connections -------------------------------------------------------------------

def hangup() -> Action:
    return lambda sock: False  # read the request, close without a response


def closes_idle(delay: float = 0.05) -> Action:
    """Answer with a kept-alive response, then close the idle connection shortly after."""
    def act(sock: socket.socket) -> bool:
        sock.sendall(response(200, fakes.response("openai", {"text": "Hi"}, 1, "m")))
        time.sleep(delay)
        return False
    return act


def test_connections_are_kept_alive_and_reused_across_calls_and_models() -> None:
    with Server(ok()) as server:
        first, second = model(openai, server.url), model(grok, server.url)
        for m in (first, second, first):
            assert infer(m).output[0]["content"] == "Hi"
        assert len(server.requests) == 3 and server.accepted == 1
        with first:
            pass
        assert http.POOL.idle_count() == 0  # close(): the idle connections to that host


@pytest.mark.parametrize("idle", [0.2, 1.2], ids=["retried-when-it-fails", "checked-before-use"])
def test_an_idle_connection_the_server_closed_is_not_used_and_no_attempt_is_lost(idle: float) -> None:
    with Server(closes_idle(), ok()) as server, Attempts().listening() as attempts:
        m = model(openai, server.url, max_retries=0)
        infer(m)
        time.sleep(idle)  # the server has closed the idle connection by now
        assert infer(m).output[0]["content"] == "Hi"
    assert server.accepted == 2 and [a["attempt"] for a in attempts] == [1, 1]


def test_a_reused_connection_dropped_before_any_response_byte_is_retried_once_uncounted() -> None:
    # The keep-alive race: the server closes the connection as our request arrives.
    with Server(ok(), hangup(), ok(text="again")) as server, Attempts().listening() as attempts:
        m = model(openai, server.url, max_retries=0)
        infer(m)
        assert infer(m).output[0]["content"] == "again"
    assert len(server.requests) == 3 and server.accepted == 2
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 200), (1, 200)]


def test_a_fresh_connection_dropped_is_a_counted_failure() -> None:
    with Server(hangup()) as server:
        with pytest.raises(ModelConnectionError) as info:
            infer(model(openai, server.url, max_retries=1))
    assert "RemoteDisconnected" in str(info.value) and len(server.requests) == 2


def test_idle_connections_are_closed_after_idle_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http.POOL, "idle_seconds", 0.2)
    with Server(ok()) as server:
        http.post_json("p", server.url + "/v1/x", {}, {})
        assert http.POOL.idle_count() == 1
        deadline = time.monotonic() + 10  # the reaper wakes every min(idle_seconds / 4, 5) s
        while http.POOL.idle_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.POOL.idle_count() == 0  # the reaper closed it; nobody asked


def test_no_resource_warning_at_exit(tmp_path: Any) -> None:
    import subprocess
    import sys

    with Server(ok()) as server:
        script = (f"from agentkit_min import http\n"
                  f"for _ in range(3): http.post_json('p', {server.url + '/v1/x'!r}, {{}}, {{}})\n"
                  f"assert http.POOL.idle_count() == 1\n")
        done = subprocess.run([sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", script],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ResourceWarning" not in done.stderr, done.stderr


# --- deadlines --------------------------------------------------------------------------------

def drip(every: float) -> Action:
    def act(sock: socket.socket) -> bool:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            time.sleep(every)
            sock.sendall(bytes([byte]))
        return False
    return act


@pytest.mark.parametrize("kept_alive", [False, True])  # a worker reads / the event loop reads
def test_headers_dripped_one_byte_at_a_time_end_within_the_timeout(kept_alive: bool) -> None:
    timeout = 1.0
    with Server(*[ok()] * kept_alive, drip(0.05)) as server:
        m = model(openai, server.url, timeout=timeout, max_retries=0)
        if kept_alive:
            infer(m)
        start = time.monotonic()
        with pytest.raises(ModelTimeoutError):
            infer(m)
        elapsed = time.monotonic() - start
    # +10 % is the design bound; a little more slack for a loaded 2-core machine.
    assert timeout * 0.9 < elapsed < timeout * 1.1 + 0.2, elapsed


def test_the_total_deadline_bounds_retries_across_429s() -> None:
    with Server(reply(429, fakes.error("openai", 429)[0], {"retry-after-ms": "100"})) as server:
        start = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            infer(model(openai, server.url, deadline=0.35, max_retries=20, sleep=None))
        elapsed = time.monotonic() - start
    assert info.value.retry_after == 0.1 and 2 <= len(server.requests) <= 4
    assert elapsed < 0.35 * 3  # real waits (100 ms each), ended by the deadline, not max_retries


def test_a_provider_wait_longer_than_the_deadline_left_ends_the_call_at_once() -> None:
    sleeps = Sleeps()
    with Server(reply(429, fakes.error("openai", 429)[0], {"Retry-After": "30"})) as server:
        with pytest.raises(RateLimitError) as info:
            infer(model(openai, server.url, deadline=10, sleep=sleeps))
    assert info.value.retry_after == 30 and sleeps == [] and len(server.requests) == 1


def hang(stop: threading.Event) -> Action:
    def act(sock: socket.socket) -> bool:
        sock.settimeout(5)
        try:
            stop.set() if sock.recv(1) == b"" else None  # our client shut the socket: EOF
        except OSError:
            pass
        return False
    return act


@pytest.mark.parametrize("kept_alive", [False, True])
def test_cancelling_an_inference_stops_at_once_and_closes_its_socket(kept_alive: bool) -> None:
    closed = threading.Event()

    async def run(m: ProviderModel) -> float:
        if kept_alive:
            await m.infer(HELLO, [], "auto")
        task = asyncio.ensure_future(m.infer(HELLO, [], "auto"))
        await asyncio.sleep(0.2)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    with Server(*[ok()] * kept_alive, hang(closed)) as server:
        assert asyncio.run(run(model(openai, server.url, timeout=30))) < 0.5
        assert closed.wait(3)  # the server saw the connection end long before the 30 s timeout


# --- no key leaks on redirects; keys and headers ----------------------------------------------

def test_a_redirect_to_another_host_is_not_followed() -> None:
    with Server(ok()) as other:
        for location in (other.url + "/v1/chat/completions", "ftp://files.example.test/x"):
            with Server(reply(302, b"", {"Location": location})) as server:
                with pytest.raises(ModelHTTPError) as info:
                    infer(model(openai, server.url))
            host = location.split("/")[2].split(":")[0]
            assert info.value.status == 302 and host in str(info.value) and len(server.requests) == 1
        assert other.requests == []


def test_a_key_with_a_trailing_newline_is_stripped_and_an_inner_control_character_refused() -> None:
    with Server(ok()) as server:
        infer(openai("m", api_key=" test-key-0123456789\n", base_url=server.url + "/v1/"))
        assert server.requests[0][1]["authorization"] == "Bearer test-key-0123456789"
        for bad in ("test-key\x01-0123456789", "test-key\n-0123456789"):
            with pytest.raises(UsageError) as info:
                infer(openai("m", api_key=bad, base_url=server.url + "/v1/"))
            assert "test-key" not in str(info.value) and "control character" in str(info.value)
        with pytest.raises(UsageError, match="'x-extra' header") as header:
            http.post_json("p", server.url + "/v1/x", {"x-extra": "a\r\nInjected: 1"}, {})
        assert "Injected" not in str(header.value)
        assert len(server.requests) == 1


# --- provider retry rules ---------------------------------------------------------------------

def test_x_should_retry_false_is_not_retried_and_true_retries_any_status() -> None:
    body, _ = fakes.error("anthropic", 429)
    with Server(reply(429, body, {"x-should-retry": "false", "request-id": "req_1"})) as server:
        with pytest.raises(RateLimitError) as info:
            infer(model(anthropic, server.url))
    assert len(server.requests) == 1 and info.value.request_id == "req_1"
    sleeps = Sleeps()
    with Server(reply(400, {"error": {"message": "x"}}, {"x-should-retry": "true"}), ok("anthropic")) as server:
        infer(model(anthropic, server.url, sleep=sleeps))
    assert len(server.requests) == 2 and len(sleeps) == 1


def gemini_429(delay: str, quota_id: str = "GenerateRequestsPerMinutePerProjectPerModel") -> dict[str, Any]:
    return {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "You exceeded your current quota",
                      "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                                   "violations": [{"quotaId": quota_id}]},
                                  {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}}


def test_gemini_retry_info_is_the_wait_and_a_longer_one_ends_the_call() -> None:
    sleeps = Sleeps()
    with Server(reply(429, gemini_429("2s")), ok("gemini")) as server:
        infer(model(gemini, server.url, "/v1beta/", sleep=sleeps))
    assert sleeps == [2.0] and len(server.requests) == 2
    with Server(reply(429, gemini_429("48s"))) as server:
        with pytest.raises(RateLimitError) as info:
            infer(model(gemini, server.url, "/v1beta/", deadline=30))
    assert info.value.retry_after == 48 and len(server.requests) == 1


@pytest.mark.parametrize("factory, path, body", [
    (openai, "/v1/", {"error": {"message": "You exceeded your current quota, please check your plan and billing "
                                           "details.", "type": "insufficient_quota", "code": "insufficient_quota"}}),
    (openai, "/v1/", {"error": {"message": "Request too large for gpt-4o on tokens per min (TPM): Limit 30000, "
                                           "Requested 2500013.", "type": "tokens", "code": "rate_limit_exceeded"}}),
    (gemini, "/v1beta/", gemini_429("3s", "GenerateRequestsPerDayPerProjectPerModel-FreeTier")),
])
def test_a_429_that_cannot_succeed_is_one_attempt_and_a_quota_error(
        factory: Callable[..., ProviderModel], path: str, body: Any) -> None:
    with Server(reply(429, body, {"x-request-id": "req_q"})) as server:
        with pytest.raises(QuotaExceededError) as info:
            infer(model(factory, server.url, path))
    assert len(server.requests) == 1 and isinstance(info.value, RateLimitError)
    assert info.value.request_id == "req_q" and info.value.headers["x-request-id"] == "req_q"


@pytest.mark.parametrize("factory, body, error", [
    (openai, {"error": {"message": "Incorrect API key provided: te**89.", "type": "invalid_request_error",
                        "code": "invalid_api_key"}}, AuthenticationError),
    (grok, {"code": "Client specified an invalid argument", "error": "Incorrect API key provided: xai-***"},
     AuthenticationError),
    (openai, {"error": {"message": "The server had an error", "type": "server_error"}}, ServerError),
    (openai, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
     RateLimitError),
])
def test_an_error_object_in_a_200_body_is_the_typed_error_its_code_names(
        factory: Callable[..., ProviderModel], body: Any, error: type[Exception]) -> None:
    with Server(reply(200, body, {"x-request-id": "req_200"})) as server:
        with pytest.raises(error) as info:
            infer(model(factory, server.url))
    assert len(server.requests) == 1
    assert isinstance(info.value, ModelHTTPError)


# --- bounded responses ------------------------------------------------------------------------

def huge(total: int, length: bool) -> Action:
    def act(sock: socket.socket) -> bool:
        head = f"Content-Length: {total}" if length else "Transfer-Encoding: chunked"
        sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{head}\r\n\r\n".encode())
        block = b" " * (1 << 20)
        try:
            for _ in range(total >> 20):
                sock.sendall(block if length else b"%x\r\n%s\r\n" % (len(block), block))
        except OSError:
            pass  # the client stopped reading
        return False
    return act


@pytest.mark.parametrize("kept_alive", [False, True])
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_a_100_mb_body_is_a_typed_error_with_bounded_memory(length: bool, kept_alive: bool) -> None:
    limit = http.MAX_RESPONSE_BYTES
    with Server(*[ok()] * kept_alive, huge(100 << 20, length)) as server:
        m = model(openai, server.url, max_retries=0)
        if kept_alive:
            infer(m)
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError, match="max_response_bytes"):
                infer(m)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 2.5 * limit < 100 << 20, peak


def test_deep_json_is_a_response_error_not_a_recursion_error() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    for status in (200, 500):
        with Server(reply(status, deep)) as server:
            with pytest.raises(ModelResponseError, match="nested too deeply"):
                infer(model(openai, server.url, max_retries=0))


# --- concurrency ------------------------------------------------------------------------------

def gathering(parties: int, seen: list[int]) -> Action:
    barrier = threading.Barrier(parties, timeout=10)

    def act(sock: socket.socket) -> bool:
        seen.append(barrier.wait())
        return ok()(sock)
    return act


def test_fifty_concurrent_inferences_are_all_in_flight_at_once() -> None:
    # More than the default executor's min(32, cpus + 4) workers: no hidden cap.
    seen: list[int] = []

    async def all_of(m: ProviderModel, n: int) -> list[Any]:
        return list(await asyncio.gather(*(m.infer(HELLO, [], "auto") for _ in range(n))))

    with Server(gathering(50, seen)) as server:
        results = asyncio.run(all_of(model(openai, server.url, max_retries=0), 50))
    assert len(results) == 50 and sorted(seen) == list(range(50))


def test_max_concurrency_is_an_explicit_limit() -> None:
    inflight: list[int] = [0, 0]  # now, most
    lock = threading.Lock()

    def counting(sock: socket.socket) -> bool:
        with lock:
            inflight[0] += 1
            inflight[1] = max(inflight[1], inflight[0])
        time.sleep(0.05)
        with lock:
            inflight[0] -= 1
        return ok()(sock)

    async def all_of(m: ProviderModel) -> None:
        await asyncio.gather(*(m.infer(HELLO, [], "auto") for _ in range(6)))

    with Server(counting) as server:
        asyncio.run(all_of(model(openai, server.url, max_concurrency=2)))
    assert inflight[1] == 2
    with pytest.raises(UsageError, match="max_concurrency"):
        openai("m", max_concurrency=0)


def test_an_http_proxy_from_the_environment_gets_absolute_urls_and_its_credentials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with Server(ok()) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://user:p%40ss@"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setattr(http, "ALLOW_MODEL_REQUESTS", True)  # the "provider" is the proxy on loopback
        infer(model(openai, "http://models.example.test"))
    path, headers, _ = proxy.requests[0]
    assert path == "http://models.example.test/v1/chat/completions"
    assert headers["proxy-authorization"] == "Basic dXNlcjpwQHNz"  # base64("user:p@ss")
    assert headers["host"] == "models.example.test"


# --- response framing (our reader on http.client's connections) -------------------------------

def raw(data: bytes, keep: bool = True) -> Action:
    def act(sock: socket.socket) -> bool:
        sock.sendall(data)
        return keep
    return act


BODY = json.dumps(fakes.response("openai", {"text": "framed"}, 1, "m")).encode()
FRAMINGS = {  # constructed responses: every framing RFC 9112 section 6.3 allows a server
    "chunked, extension, trailer": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"5;ext=1\r\n" + BODY[:5] + b"\r\n%x\r\n" % (len(BODY) - 5) + BODY[5:]
                                    + b"\r\n0\r\nX-Trailer: t\r\n\r\n", True, 1),
    "interim 100, folded header": (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n"
                                   b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY, True, 1),
    "HTTP/1.0 until close": (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY, False, 2),
    "Connection: close": (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                          + BODY, False, 2),
}


@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_response_framing_is_read_whole_and_pooled_only_when_reusable(
        framing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data, keep, connections = FRAMINGS[framing]
    with Server(raw(data, keep)) as server:
        m = model(openai, server.url)
        assert [infer(m).output[0]["content"] for _ in range(2)] == ["framed", "framed"]
        assert server.accepted == connections and http.POOL.idle_count() == (1 if keep else 0)
        response = http.post_json("openai", server.url + "/v1/x", {}, {})
    with Server(ok(), raw(data, keep)) as server:  # on a kept-alive connection: read on the event loop
        m = model(openai, server.url)
        infer(m)
        monkeypatch.setattr(_aio, "in_thread", None)  # no worker thread is used for it
        assert infer(m).output[0]["content"] == "framed" and server.accepted == 1
    assert response.status == 200 and response.text == BODY.decode()
    assert response.headers.get("x-folded") == ("a b" if "folded" in framing else None)


@pytest.mark.parametrize("data", [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                  b"SSH-2.0-OpenSSH\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000])
def test_a_malformed_response_is_a_connection_error(data: bytes) -> None:
    with Server(raw(data, keep=False)) as server:
        with pytest.raises(ModelConnectionError):
            infer(model(openai, server.url, max_retries=0))
