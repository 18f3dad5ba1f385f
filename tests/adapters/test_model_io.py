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

from agentkit_min import http
from agentkit_min.errors import (AuthenticationError, ModelHTTPError, ModelResponseError,
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

    def __init__(self, *script: Action) -> None:
        self.script = list(script)
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
                action = self.script.pop(0) if len(self.script) > 1 else self.script[0]
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
