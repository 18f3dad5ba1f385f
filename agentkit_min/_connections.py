"""Kept-alive HTTP/1.1 connections for model requests (`http.real_transport`), on `http.client`.

Why not urllib: a connection (a TLS handshake) per request, and redirects followed with the
API key (decision Q16). Here:

- one pool per process, keyed by (scheme, host, port, connection class), LIFO, thread-safe;
  idle connections are closed after `idle_seconds` (a reaper thread runs while any are idle)
  and at exit. The class is looked up on `http.client` per call: vcrpy swaps it while a
  cassette is active, so no connection crosses into or out of one (its stubs are never pooled);
- a pooled connection the peer closed is dropped before use; a request that fails on a reused
  one before any response byte is sent again once on a fresh one (the keep-alive race);
- `timeout` bounds the whole attempt: each read gets only the time left (dripped headers
  cannot outlast it); a streamed 2xx body gets `timeout` per read (an idle gap);
- a body over `READ_LIMIT` ends the read; `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are
  honoured as urllib honours them.
"""

from __future__ import annotations

import atexit
import base64
import http.client
import io
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from contextvars import ContextVar
from typing import Any, Iterator, Mapping, Tuple

from .errors import ResponseTooLargeError

READ_LIMIT: ContextVar[int] = ContextVar("agentkit_min_read_limit", default=32 * 1024 * 1024)
_CHUNK = 64 * 1024
Key = Tuple[str, str, int, Any]


class Live:
    """The connections of one attempt, so a cancelled caller can cut its worker short."""

    def __init__(self) -> None:
        self.conns: list[Any] = []
        self.aborted = False

    def abort(self) -> None:
        """Shut down every socket of the attempt (the worker's blocked read fails at once)."""
        self.aborted = True
        for conn in self.conns:
            _shutdown(conn)


LIVE: ContextVar[Live | None] = ContextVar("agentkit_min_live", default=None)


def _shutdown(conn: Any) -> None:
    # shutdown() wakes a read blocked in another thread; close() alone does not (Linux).
    if isinstance(conn.sock, socket.socket):
        try:
            socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _Clock(io.RawIOBase):
    """The socket reader under http.client's response: each read gets only the time left."""

    def __init__(self, raw: Any, sock: socket.socket, exchange: _Exchange) -> None:
        self.raw, self.sock, self.exchange = raw, sock, exchange

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        ex = self.exchange
        left = ex.idle if ex.idle is not None else ex.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete response within the timeout")
        self.sock.settimeout(left)
        n: int = self.raw.readinto(buffer) or 0
        ex.received += n
        return n

    def close(self) -> None:
        self.raw.close()  # the SocketIO: the connection keeps the socket itself
        super().close()


class _Exchange:
    """One request's clock; also http.client's `response_class`, so reads go through _Clock."""

    def __init__(self, deadline: float) -> None:
        self.deadline, self.received = deadline, 0
        self.idle: float | None = None  # a streamed body: the longest gap between reads

    def __call__(self, sock: Any, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        response = http.client.HTTPResponse(sock, *args, **kwargs)
        response.fp = io.BufferedReader(_Clock(response.fp.detach(), sock, self))
        return response


class Pool:
    """Idle kept-alive connections, shared by every model in the process (`http.POOL`)."""

    def __init__(self) -> None:
        self.idle_seconds = 30.0
        """Idle connections older than this are closed (servers drop theirs after 5-120 s)."""
        self.max_idle = 1000
        """Idle connections kept per (scheme, host, port); more are closed when returned."""
        self.ssl_context: ssl.SSLContext | None = None
        """For https; None = `ssl.create_default_context()`, built once on first use."""
        self._idle: dict[Key, list[tuple[Any, float]]] = {}
        self._lock = threading.Lock()
        self._reaping = self._registered = False

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float,
             *, stream: bool = False) -> tuple[int, dict[str, str], Any]:
        """One request; see `agentkit_min.http.real_transport`."""
        parts = urllib.parse.urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        key: Key = (scheme, host, port, cls)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        exchange, conn = _Exchange(time.monotonic() + timeout), self._take(key)
        while True:
            reused, conn = conn is not None, conn or self._connect(cls, scheme, host, port)
            live = LIVE.get()
            if live is not None:
                live.conns.append(conn)
                if live.aborted:
                    conn.close()
                    raise ConnectionError("cancelled")
            try:
                proxied = getattr(conn, "agentkit_proxy_headers", None)  # plain http via a proxy
                return self._exchange(key, conn, exchange, method, url if proxied is not None else target,
                                      {**headers, **(proxied or {})}, body, stream, timeout)
            except BaseException as exc:
                _shutdown(conn)
                conn.close()
                dropped = isinstance(exc, (OSError, http.client.HTTPException))
                if reused and dropped and not exchange.received and not isinstance(exc, TimeoutError):
                    conn = None  # the peer closed it while idle: once more on a fresh connection
                    continue
                if isinstance(exc, http.client.HTTPException):
                    raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
                raise

    def _exchange(self, key: Key, conn: Any, exchange: _Exchange, method: str, target: str,
                  headers: Mapping[str, str], body: bytes, stream: bool, timeout: float,
                  ) -> tuple[int, dict[str, str], Any]:
        left = max(exchange.deadline - time.monotonic(), 0.001)
        if isinstance(conn.sock, socket.socket):
            conn.sock.settimeout(left)
        else:
            conn.timeout = left  # bounds connect() and the TLS handshake
        conn.response_class = exchange
        conn.request(method, target, body, headers)
        response = conn.getresponse()
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            received[name] = f"{received[name]}, {value}" if name in received else value
        if stream and 200 <= response.status < 300:
            exchange.idle = timeout
            return response.status, received, Body(self, key, conn, response)
        limit, data = READ_LIMIT.get(), bytearray()
        too_big = isinstance(response.length, int) and response.length > limit
        while not too_big and (chunk := response.read1(_CHUNK)):
            data += chunk
            too_big = len(data) > limit
        if too_big:
            raise ResponseTooLargeError(f"the response from {key[1]} is over the limit of {limit} bytes "
                                        f"(max_response_bytes)")
        self._finish(key, conn, response)
        return response.status, received, bytes(data)

    def _connect(self, cls: Any, scheme: str, host: str, port: int) -> Any:
        options: dict[str, Any] = {}
        if scheme == "https":
            self.ssl_context = self.ssl_context or ssl.create_default_context()
            options["context"] = self.ssl_context
        proxy = urllib.request.getproxies().get(scheme)
        if not proxy or urllib.request.proxy_bypass(host):
            conn = cls(host, port, **options)
            if type(conn).__module__ == "http.client":  # not a vcrpy stub
                conn._send_output = _one_write.__get__(conn)
            return conn
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        user = f"{urllib.parse.unquote(p.username or '')}:{urllib.parse.unquote(p.password or '')}"
        auth = {"Proxy-Authorization": f"Basic {base64.b64encode(user.encode()).decode()}"} if p.username else {}
        conn = cls(p.hostname or "", p.port or 80, **options)
        if scheme == "https":
            conn.set_tunnel(host, port, auth)  # CONNECT, then TLS to the real host inside it
        else:
            conn.agentkit_proxy_headers = auth  # a plain-http proxy gets absolute URLs
        return conn

    def _take(self, key: Key) -> Any:
        found, stale, now = None, [], time.monotonic()
        with self._lock:
            idle = self._idle.get(key)
            while idle and found is None:
                conn, since = idle.pop()
                # A peek costs a syscall (and the GIL): skipped for a connection used within the
                # last second, whose rare close is caught by the stale-connection retry anyway.
                if now - since < self.idle_seconds and (now - since < 1.0 or _open(conn)):
                    found = conn
                else:
                    stale.append(conn)
        for conn in stale:
            conn.close()
        return found

    def _finish(self, key: Key, conn: Any, response: Any) -> None:
        length = response.length
        response.close()  # http.client's read1 never marks a length-framed body done by itself
        if isinstance(length, int) and length > 0:  # the peer closed before Content-Length
            conn.close()
            raise http.client.IncompleteRead(b"", length)
        if getattr(response, "will_close", True) is not False or not isinstance(conn.sock, socket.socket):
            conn.close()
            return
        with self._lock:
            idle = self._idle.setdefault(key, [])
            keep = len(idle) < self.max_idle
            if keep:
                idle.append((conn, time.monotonic()))
            start, self._reaping = keep and not self._reaping, self._reaping or keep
            if not self._registered:
                self._registered = True
                atexit.register(self.close)
        if not keep:
            conn.close()
        if start:
            threading.Thread(target=self._reap, name="agentkit-min-http-reaper", daemon=True).start()

    def _reap(self) -> None:
        while self._reaping:
            time.sleep(min(self.idle_seconds / 4, 5.0))
            cutoff, old = time.monotonic() - self.idle_seconds, []
            with self._lock:
                for key, idle in list(self._idle.items()):
                    old += [c for c, t in idle if t <= cutoff]
                    self._idle[key] = [(c, t) for c, t in idle if t > cutoff]
                    if not self._idle[key]:
                        del self._idle[key]
                self._reaping = bool(self._idle)
            for conn in old:
                conn.close()

    def close(self, scheme: str | None = None, host: str | None = None, port: int | None = None) -> None:
        """Close idle connections: all of them, or those to one (scheme, host, port)."""
        with self._lock:
            keys = [k for k in self._idle if scheme is None or k[:3] == (scheme, host, port)]
            conns = [c for k in keys for c, _ in self._idle.pop(k)]
        for conn in conns:
            conn.close()

    def idle_count(self) -> int:
        """How many connections are idle in the pool now."""
        with self._lock:
            return sum(len(v) for v in self._idle.values())


def _one_write(self: Any, message_body: Any = None, encode_chunked: bool = False) -> None:
    # http.client sends the head and a bytes body in two send() calls: with Nagle's algorithm
    # the second waits for the ACK of the first. One write instead.
    if not isinstance(message_body, bytes):
        return type(self)._send_output(self, message_body, encode_chunked)  # type: ignore[no-any-return]
    self._buffer.extend((b"", message_body))
    data = b"\r\n".join(self._buffer)
    del self._buffer[:]
    self.send(data)


def _open(conn: Any) -> bool:
    """False when the peer has closed (or written to) an idle connection."""
    sock = conn.sock
    try:  # nothing to read is the only good answer: b"" is EOF, bytes are junk
        sock.settimeout(0)
        if isinstance(sock, ssl.SSLSocket):
            sock.recv(1)  # through TLS: a late session ticket is not junk
        else:
            socket.socket.recv(sock, 1, socket.MSG_PEEK)
        return False
    except (BlockingIOError, ssl.SSLWantReadError):
        return True
    except OSError:
        return False


class Body:
    """A streamed 2xx body: iterate for chunks as they arrive (TimeoutError after an idle gap
    over the timeout, ConnectionError on a drop); read to its end, the connection is pooled;
    `close()` drops it."""

    def __init__(self, pool: Pool, key: Key, conn: Any, response: Any) -> None:
        self._pool, self._key, self._conn, self._response = pool, key, conn, response

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._conn is None:
            raise StopIteration
        try:
            chunk: bytes = self._response.read1(_CHUNK)
            if chunk:
                return chunk
            conn, self._conn = self._conn, None
            self._pool._finish(self._key, conn, self._response)
        except BaseException as exc:
            self.close()
            if isinstance(exc, http.client.HTTPException):
                raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
            raise
        raise StopIteration

    def close(self) -> None:
        """Stop reading: the connection is shut down, not returned to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _shutdown(conn)
            conn.close()
