"""Kept-alive HTTP/1.1 connections for model requests (`http.real_transport`).

Why not urllib: a connection (a TLS handshake) per request, and redirects followed with the
API key (decision Q16). Here:

- one pool per process, keyed by (scheme, host, port, connection class), LIFO, thread-safe;
  idle connections are closed after `idle_seconds` (by a reaper thread) and at exit. The class
  is looked up on `http.client` per call: vcrpy swaps it while a cassette is active, so no
  connection crosses into or out of one (its stubs, used through their API, are never pooled);
- `http.client` opens connections (TCP, a proxy's CONNECT tunnel, TLS), `_http1` talks on
  them; `send_async` does that on the event loop when a connection is idle (no thread waits);
- a pooled connection the peer closed is dropped before use; a request that fails on a reused
  one before any response byte is sent again once on a fresh one (the keep-alive race);
- `timeout` bounds the whole attempt: each read gets only the time left (dripped headers
  cannot outlast it); a streamed 2xx body gets `timeout` per read (an idle gap);
- a body over `READ_LIMIT` ends the read; `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are
  honoured as urllib honours them.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from contextvars import ContextVar
from typing import Any, Iterable, Iterator, Mapping, Tuple

from ._http1 import CHUNK, Reader
from .errors import ResponseTooLargeError

READ_LIMIT: ContextVar[int] = ContextVar("agentkit_min_read_limit", default=32 * 1024 * 1024)
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


def read_all(pieces: Iterable[bytes], limit: int, length: int | None = None) -> bytes:
    """A body read to its end; ResponseTooLargeError past `limit` bytes (unread if `length` says so)."""
    data = bytearray()
    for piece in () if (length or 0) > limit else pieces:
        data += piece
        if len(data) > limit:
            break
    if max(len(data), length or 0) > limit:
        raise ResponseTooLargeError(f"the response is over the limit of {limit} bytes (max_response_bytes)")
    return bytes(data)


def _failed(conn: Any, exc: BaseException, reused: Any) -> bool:
    """Drop `conn` after `exc`; True if the request may go again on a fresh connection: the peer
    closed a reused one (a `Reader`) while idle, before any response byte."""
    _shutdown(conn)
    conn.close()
    if reused and not reused.received and isinstance(exc, (OSError, http.client.HTTPException)) and not isinstance(
            exc, TimeoutError):
        return True
    if isinstance(exc, http.client.HTTPException):
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
    return False


def _wire(conn: Any, url: str, name: str, target: str, headers: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    proxied = getattr(conn, "agentkit_proxy_headers", None)  # plain http via a proxy: absolute URLs
    return (target if proxied is None else url), {"host": name, "accept-encoding": "identity", **headers,
                                                  **(proxied or {})}


def _shutdown(conn: Any) -> None:
    # shutdown() wakes a read blocked in another thread; close() alone does not (Linux).
    if isinstance(conn.sock, socket.socket):
        try:
            socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)
        except OSError:
            pass


def _stub(conn: Any, deadline: float, method: str, target: str, headers: Mapping[str, str], body: bytes,
          ) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
    conn.timeout = max(deadline - time.monotonic(), 0.001)
    conn.request(method, target, body, dict(headers))
    response = conn.getresponse()
    received: dict[str, str] = {}
    for name, value in response.getheaders():
        name = name.lower()
        received[name] = f"{received[name]}, {value}" if name in received else value
    return response.status, received, iter(lambda: response.read1(CHUNK), b""), response.length, None  # never pooled


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
        self._routes: dict[str, tuple[str, str, int, str, str]] = {}

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float,
             *, stream: bool = False) -> tuple[int, dict[str, str], Any]:
        """One request; see `agentkit_min.http.real_transport`."""
        key, name, target = self._key(url)
        deadline, conn = time.monotonic() + timeout, self._take(key)
        while True:
            reused, conn, reader = conn is not None, conn or self._connect(*key), None
            live = LIVE.get()
            if live is not None:
                live.conns.append(conn)
                if live.aborted:
                    conn.close()
                    raise ConnectionError("cancelled")
            try:
                if type(conn).__module__ != "http.client":  # a vcrpy stub: through http.client's API
                    status, received, pieces, length, keep = _stub(conn, deadline, method, target, headers, body)
                else:
                    if conn.sock is None:
                        conn.timeout = max(deadline - time.monotonic(), 0.001)  # connect and TLS handshake
                        conn.connect()
                    reader = Reader(conn.sock, deadline)
                    status, received, pieces, length, keep = reader.exchange(method, *_wire(conn, url, name, target,
                                                                                          headers), body)
                if stream and 200 <= status < 300:
                    if reader is not None:
                        reader.idle = timeout
                    return status, received, Body(self, key, conn, pieces, keep)
                return status, received, self._read(key, conn, pieces, length, keep, READ_LIMIT.get())
            except BaseException as exc:
                if _failed(conn, exc, reused and reader):
                    conn = None  # the peer closed it while idle: once more on a fresh connection
                    continue
                raise

    async def send_async(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float,
                         limit: int) -> tuple[int, dict[str, str], bytes] | None:
        """`send` on the event loop itself, if a kept-alive connection is idle: its socket is made
        non-blocking, so no thread waits for the provider. None: do `send` on a worker (which
        connects), as after a stale connection."""
        loop, (key, name, target) = asyncio.get_running_loop(), self._key(url)
        if type(loop).add_reader is asyncio.BaseEventLoop.add_reader or (conn := self._take(key)) is None:
            return None  # a loop without add_reader (Windows' proactor), or no idle connection
        reader = Reader(conn.sock, time.monotonic() + timeout, loop)
        try:
            conn.sock.settimeout(0.0)
            status, received, pieces, length, keep = await reader.exchange_async(
                method, *_wire(conn, url, name, target, headers), body, limit)
            return status, received, self._read(key, conn, pieces, length, keep, limit)
        except BaseException as exc:
            if _failed(conn, exc, reader):
                return None
            raise

    def _key(self, url: str) -> tuple[Key, str, str]:
        """The pool key, Host header and request target of a URL (the parsing is remembered)."""
        scheme, host, port, name, target = self._routes.get(url) or self._route(url)
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return (scheme, host, port, cls), name, target

    def _route(self, url: str) -> tuple[str, str, int, str, str]:
        parts = urllib.parse.urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port, default = parts.port, 443 if scheme == "https" else 80
        name = (f"[{host}]" if ":" in host else host) if host.isascii() else host.encode("idna").decode()
        route = (scheme, host, port or default, name if port in (None, default) else f"{name}:{port}",
                 (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        if len(self._routes) > 256:
            self._routes.clear()
        self._routes[url] = route
        return route

    def _read(self, key: Key, conn: Any, pieces: Iterator[bytes], length: int | None, keep: Any,
              limit: int) -> bytes:
        data = read_all(pieces, limit, length)
        self._finish(key, conn, keep)
        return data

    def _connect(self, scheme: str, host: str, port: int, cls: Any) -> Any:
        options: dict[str, Any] = {}
        if scheme == "https":
            self.ssl_context = self.ssl_context or ssl.create_default_context()
            options["context"] = self.ssl_context
        proxy = urllib.request.getproxies().get(scheme)
        if not proxy or urllib.request.proxy_bypass(host):
            return cls(host, port, **options)
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

    def _finish(self, key: Key | None, conn: Any, keep: Any) -> None:
        """Pool `conn` after a response read to its end, if `keep` (its reader) has nothing left over."""
        if key is None or not keep or keep.buf:
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

    def __init__(self, pool: Pool, key: Key | None, conn: Any, pieces: Iterator[bytes], keep: Any) -> None:
        self._pool, self._key, self._conn, self._pieces, self._keep = pool, key, conn, pieces, keep

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._conn is None:
            raise StopIteration
        try:
            for chunk in self._pieces:
                if chunk:
                    return chunk
            conn, self._conn = self._conn, None
            self._pool._finish(self._key, conn, self._keep)
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
