"""A small HTTP/1.1 client on asyncio streams, just enough for MCP's HTTP transports.

RFC 9112, client side: one request per connection (`Connection: close`), a `Content-Length`
body, a response framed by chunked encoding, `Content-Length` or connection close, read whole
(`read`) or as it arrives (`chunks`, for SSE), parsed by `_http1`'s sans-IO parser (the model
providers' too). `https` uses `ssl.create_default_context()`.
No connection reuse (Node drops idle keep-alive connections after 5 s and a POST cannot be
blindly retried on a reset one; a fresh loopback connection is cheap), redirects, compression,
proxies, cookies or HTTP/2.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Iterator, Mapping
from urllib.parse import urlsplit

from .._http1 import Head, body_length, body_pieces, take_head
from ..errors import LocalProtocolError, MCPConnectionError, MCPTimeoutError, RemoteProtocolError

__all__ = ["HTTPResponse", "request"]

_MAX_HEADER_BYTES = 256 * 1024
_READ_SIZE = 64 * 1024
_EXPECT_ABOVE = 1024 * 1024  # larger bodies wait for 100 Continue (as curl does)
_CONTINUE_WAIT = 1.0  # RFC 9110 10.1.1: a client need not wait for 100 Continue for ever


@dataclass
class HTTPResponse:
    """A response whose headers have arrived; its body is read with `read` or `chunks`."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]
    """Lower-cased names; repeated fields joined with ", "."""
    _reader: asyncio.StreamReader = field(repr=False)
    _writer: asyncio.StreamWriter = field(repr=False)
    _buf: bytearray = field(repr=False)  # read past the head: the start of the body
    _pieces: Iterator[bytes] = field(repr=False)  # `body_pieces` of `_buf`
    _length: int | None = field(repr=False)  # as `body_length` gives it
    _closed: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters ("" when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    async def read(self, limit: int = 64 * 1024 * 1024, timeout: float | None = None) -> bytes:
        """Read the whole body (then close).

        Raises:
            RemoteProtocolError: more than `limit` bytes.
            MCPTimeoutError: the body was not all there within `timeout` seconds (None: no limit).
        """
        try:
            return await asyncio.wait_for(self._read(limit), timeout)
        except asyncio.TimeoutError:
            await self.aclose()
            raise MCPTimeoutError(f"{self.url}: response body not received within {timeout} s") from None

    async def refused(self, method: str, timeout: float | None) -> MCPConnectionError:
        """This answer as an error naming its status and quoting the start of its body."""
        try:
            body = await self.read(limit=4096, timeout=timeout)
        except (RemoteProtocolError, MCPConnectionError) as exc:  # the status is what matters
            body = f"(body not read: {exc})".encode()
        return MCPConnectionError(f"{method} {self.url} answered {self.status}: {body.decode('utf-8', 'replace')[:200]}")

    async def _read(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                await self.aclose()
                raise RemoteProtocolError(f"response body from {self.url} is larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield body bytes as they arrive, chunk framing removed; closes at the end.

        Raises:
            MCPConnectionError: the connection dropped before the body was complete.
            RemoteProtocolError: malformed chunked framing.
        """
        try:
            for piece in self._pieces:
                if piece:
                    yield piece
                elif data := await self._reader.read(_READ_SIZE):
                    self._buf += data
                elif self._length == -1:
                    return
                else:
                    raise MCPConnectionError(f"connection to {self.url} closed mid-body")
        except (ConnectionError, OSError) as exc:
            if isinstance(exc, MCPConnectionError):
                raise
            raise MCPConnectionError(f"connection to {self.url} dropped: {exc!r}") from None
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the connection. Idempotent, never raises."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        try:
            # TLS shutdown waits for the peer; never let that stall us.
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)
        except (Exception, asyncio.CancelledError):
            pass


def _check_header(name: str, value: str) -> None:
    if any(c in name for c in "\r\n:") or "\r" in value or "\n" in value:
        raise LocalProtocolError(f"HTTP header {name!r} contains a line break or colon; refusing to send it")


async def request(method: str, url: str, *, headers: Mapping[str, str] | None = None,
                  body: bytes | None = None, timeout: float | None = 30.0) -> HTTPResponse:
    """Send one request to an absolute http(s) `url`; return once the response headers are in.

    `headers` are extra (Host, Connection and Content-Length are set here); `body` goes with a
    Content-Length. `timeout` bounds connecting, sending and the response headers (None: no
    limit, the caller bounds the whole exchange).

    Raises:
        MCPConnectionError: cannot connect, or the connection dropped before the headers.
        MCPTimeoutError: no response headers within `timeout`.
        RemoteProtocolError: the response is not HTTP/1.x.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LocalProtocolError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host_header = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        host_header += f":{parts.port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}", "Connection: close"]
    fixed = {"host", "connection", "content-length", "transfer-encoding"}
    for name, value in (headers or {}).items():
        _check_header(name, value)
        if name.lower() not in fixed:
            lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    if len(body or b"") > _EXPECT_ABOVE:
        lines.append("Expect: 100-continue")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    context = ssl.create_default_context() if parts.scheme == "https" else None
    try:
        return await asyncio.wait_for(_exchange(url, method, host, port, context, head, body or b""), timeout)
    except asyncio.TimeoutError:
        raise MCPTimeoutError(f"{method} {url}: no response within {timeout} s") from None
    except (MCPConnectionError, RemoteProtocolError):
        raise
    except (OSError, ssl.SSLError) as exc:
        raise MCPConnectionError(f"{method} {url} failed: {exc!r}") from None


async def _exchange(
    url: str, method: str, host: str, port: int, context: ssl.SSLContext | None, head: bytes, body: bytes
) -> HTTPResponse:
    reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host if context else None)
    buf = bytearray()
    answer: asyncio.Future[Head] | None = None
    try:
        # A large body first waits for 100 Continue (RFC 9110 10.1.1), so a server refusing it
        # (413...) answers before the upload, instead of resetting the connection under it,
        # which would lose its answer.
        expect = len(body) > _EXPECT_ABOVE
        writer.write(head if expect else head + body)
        await writer.drain()
        answer = asyncio.ensure_future(_read_head(reader, buf, url))
        if expect and (not (await asyncio.wait({answer}, timeout=_CONTINUE_WAIT))[0] or answer.result().status == 100):
            writer.write(body)
            await writer.drain()
        response = await answer
        while 100 <= response.status < 200 and response.status != 101:  # 100 Continue, 103 Early Hints
            response = await _read_head(reader, buf, url)
        length = body_length(method, response, _remote(url))
    except BaseException:
        if answer is not None:
            answer.cancel()
        writer.close()
        raise
    return HTTPResponse(url, response.status, response.reason, response.headers, reader, writer, buf,
                        body_pieces(buf, length, _remote(url)), length)


async def _read_head(reader: asyncio.StreamReader, buf: bytearray, url: str) -> Head:
    while (head := take_head(buf, _MAX_HEADER_BYTES, _remote(url))) is None:
        if not (data := await reader.read(_READ_SIZE)):
            where = "inside the response headers" if buf else "without answering"
            raise MCPConnectionError(f"{url} closed the connection {where}")
        buf += data
    return head


def _remote(url: str) -> Callable[[str], RemoteProtocolError]:
    return lambda message: RemoteProtocolError(f"{message} (from {url})")
