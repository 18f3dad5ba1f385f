"""Kept-alive HTTP/1.1 connections for model requests (`http.real_transport`), on `http.client`.

Why not urllib: it opens a connection per request (a TLS handshake per inference) and follows
redirects, sending the API key to whatever host a 3xx names. Here (decision Q16):

- one pool per process, keyed by (scheme, host, port, connection class), thread-safe, LIFO,
  at most `max_idle` idle connections per key, each closed after `idle_seconds` (by a reaper
  thread that runs only while connections are idle) and at interpreter exit. The classes are
  looked up on `http.client` at call time because vcrpy replaces them while a cassette is
  active: the class in the key keeps connections from crossing into or out of a cassette, and
  vcrpy's stubs (which cannot say they stay open) are never pooled;
- a pooled connection the peer has closed is dropped before use, and a request that fails on
  a reused connection before any response byte arrived is sent once more on a fresh one (the
  keep-alive race), which the retry policy never sees;
- `timeout` bounds the whole attempt: each socket read gets only the time left until the
  attempt's deadline, so headers dripped a byte at a time cannot outlast it. A streamed 2xx
  body instead allows `timeout` per read (an idle gap);
- a body larger than the `READ_LIMIT` context value ends the read (memory stays bounded);
- redirects are returned, never followed; `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are
  honoured as urllib honours them (CONNECT tunnel for https).
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
    """The connections of one attempt, so a cancelled caller can cut the worker thread short."""

    def __init__(self) -> None:
        self.conns: list[Any] = []
        self.aborted = False

    def abort(self) -> None:
        """Shut down every socket of the attempt (the blocked read in the worker then fails)."""
        self.aborted = True
        for conn in self.conns:
            _shutdown(conn)


LIVE: ContextVar[Live | None] = ContextVar("agentkit_min_live", default=None)


def _shutdown(conn: Any) -> None:
    # shutdown() wakes a read blocked in another thread; close() alone does not (Linux).
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _Clock(io.RawIOBase):
    """The socket reader under http.client's response: every read gets only the time left."""

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
        self.raw.close()  # SocketIO: releases its hold on the socket, which the connection keeps
        super().close()


class _Exchange:
    """One request's clock; also http.client's `response_class` (so reads go through _Clock)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.idle: float | None = None  # set for a streamed body: the longest gap between reads
        self.received = 0

    def __call__(self, sock: Any, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        response = http.client.HTTPResponse(sock, *args, **kwargs)
        response.fp = io.BufferedReader(_Clock(response.fp.detach(), sock, self))
        return response


class Pool:
    """Idle kept-alive connections, shared by every model in the process (`http.POOL`)."""

    def __init__(self) -> None:
        self.idle_seconds = 30.0
        """Idle connections older than this are closed (servers drop theirs after 5-120 s)."""
        self.max_idle = 100
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
        exchange = _Exchange(time.monotonic() + timeout)
        conn = self._take(key)
        while True:
            reused = conn is not None
            if conn is None:
                conn = self._connect(cls, scheme, host, port)
            live = LIVE.get()
            if live is not None:
                live.conns.append(conn)
                if live.aborted:
                    conn.close()
                    raise ConnectionError("cancelled")
            try:
                return self._exchange(key, conn, exchange, method, url, target, headers, body, stream,
                                      timeout)
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

    def _exchange(self, key: Key, conn: Any, exchange: _Exchange, method: str, url: str, target: str,
                  headers: Mapping[str, str], body: bytes, stream: bool, timeout: float,
                  ) -> tuple[int, dict[str, str], Any]:
        proxy_headers = getattr(conn, "agentkit_proxy_headers", None)  # plain http via a proxy
        if proxy_headers is not None:
            target, headers = url, {**headers, **proxy_headers}
        left = max(exchange.deadline - time.monotonic(), 0.001)
        if isinstance(conn.sock, socket.socket):
            conn.sock.settimeout(left)
        else:
            conn.timeout = left  # bounds connect() (and the TLS handshake)
        conn.response_class = exchange
        conn.request(method, target, body, dict(headers))
        response = conn.getresponse()
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            received[name] = f"{received[name]}, {value}" if name in received else value
        if stream and 200 <= response.status < 300:
            exchange.idle = timeout
            return response.status, received, Body(self, key, conn, response)
        limit = READ_LIMIT.get()
        length = response.length
        if isinstance(length, int) and length > limit:
            conn.close()
            raise ResponseTooLargeError(f"the response from {key[1]} is {length} bytes, over the "
                                        f"limit of {limit} (max_response_bytes)")
        data = bytearray()
        while chunk := response.read1(_CHUNK):
            data += chunk
            if len(data) > limit:
                _shutdown(conn)
                conn.close()
                raise ResponseTooLargeError(f"the response from {key[1]} is over the limit of "
                                            f"{limit} bytes (max_response_bytes)")
        _finish(self, key, conn, response)
        return response.status, received, bytes(data)

    def _connect(self, cls: Any, scheme: str, host: str, port: int) -> Any:
        options: dict[str, Any] = {}
        if scheme == "https":
            if self.ssl_context is None:
                self.ssl_context = ssl.create_default_context()
            options["context"] = self.ssl_context
        proxy = urllib.request.getproxies().get(scheme)
        if not proxy or urllib.request.proxy_bypass(host):
            conn = cls(host, port, **options)
            if type(conn).__module__ == "http.client":  # not a vcrpy stub
                conn._send_output = _one_write.__get__(conn)
            return conn
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        auth: dict[str, str] = {}
        if p.username:
            token = base64.b64encode(f"{urllib.parse.unquote(p.username)}:"
                                     f"{urllib.parse.unquote(p.password or '')}".encode()).decode()
            auth = {"Proxy-Authorization": f"Basic {token}"}
        if scheme == "https":  # a CONNECT tunnel; TLS to the real host inside it
            conn = cls(p.hostname or "", p.port or 80, **options)
            conn.set_tunnel(host, port, auth)
            return conn
        conn = cls(p.hostname or "", p.port or 80)
        conn.agentkit_proxy_headers = auth  # a plain-http proxy gets absolute URLs
        return conn

    def _take(self, key: Key) -> Any:
        stale: list[Any] = []
        found = None
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                conn, since = idle.pop()
                if now - since < self.idle_seconds and _open(conn):
                    found = conn
                    break
                stale.append(conn)
        for conn in stale:
            conn.close()
        return found

    def give(self, key: Key, conn: Any) -> None:
        """Keep `conn` for reuse (or close it when `max_idle` are already kept)."""
        with self._lock:
            idle = self._idle.setdefault(key, [])
            keep = len(idle) < self.max_idle
            if keep:
                idle.append((conn, time.monotonic()))
            start = keep and not self._reaping
            self._reaping = self._reaping or keep
            if not self._registered:
                self._registered = True
                atexit.register(self.close)
        if not keep:
            conn.close()
        if start:
            threading.Thread(target=self._reap, name="agentkit-min-http-reaper", daemon=True).start()

    def _reap(self) -> None:
        while True:
            time.sleep(min(self.idle_seconds / 4, 5.0))
            cutoff = time.monotonic() - self.idle_seconds
            with self._lock:
                old = [c for idle in self._idle.values() for c, t in idle if t <= cutoff]
                for key in list(self._idle):
                    self._idle[key] = [(c, t) for c, t in self._idle[key] if t > cutoff]
                    if not self._idle[key]:
                        del self._idle[key]
                self._reaping = bool(self._idle)
            for conn in old:
                conn.close()
            if not self._reaping:
                return

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
    # http.client writes the head and a bytes body with two send() calls: the second waits for
    # the ACK of the first (Nagle's algorithm against delayed ACKs). One write, one segment.
    if not isinstance(message_body, bytes):
        return type(self)._send_output(self, message_body, encode_chunked)  # type: ignore[no-any-return]
    self._buffer.extend((b"", message_body))
    data = b"\r\n".join(self._buffer)
    del self._buffer[:]
    self.send(data)


def _open(conn: Any) -> bool:
    """False when the peer has closed (or written to) an idle connection."""
    sock = conn.sock
    if not isinstance(sock, socket.socket):
        return False
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


def _finish(pool: Pool, key: Key, conn: Any, response: Any) -> None:
    length = response.length
    response.close()  # http.client's read1 never marks a length-framed body done by itself
    if isinstance(length, int) and length > 0:  # the peer closed before Content-Length was reached
        conn.close()
        raise http.client.IncompleteRead(b"", length)
    if getattr(response, "will_close", True) is False and isinstance(conn.sock, socket.socket):
        pool.give(key, conn)
    else:
        conn.close()


class Body:
    """A streamed 2xx body: iterate for byte chunks as they arrive; `close()` drops the connection.

    Raises TimeoutError after an idle gap longer than the timeout, ConnectionError when the
    connection drops. A body read to its end returns the connection to the pool.
    """

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
            _finish(self._pool, self._key, conn, self._response)
        except http.client.HTTPException as exc:
            self.close()
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        except OSError:
            self.close()
            raise
        raise StopIteration

    def close(self) -> None:
        """Stop reading: the connection is shut down, not returned to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _shutdown(conn)
            conn.close()
