"""A small HTTP/1.1 client on asyncio streams, just enough for MCP's HTTP transports.

RFC 9112, client side: one request per connection (`Connection: close`), a `Content-Length`
body, a response framed by chunked encoding, `Content-Length` or connection close, read whole
(`read`) or as it arrives (`chunks`, for SSE). `https` uses `ssl.create_default_context()`.
No connection reuse (Node drops idle keep-alive connections after 5 s and a POST cannot be
blindly retried on a reset one; a fresh loopback connection is cheap), redirects, compression,
proxies, cookies or HTTP/2.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import AsyncIterator, Mapping
from urllib.parse import urlsplit

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
    _framing: str = field(repr=False)  # "chunked", "length", "close" or "none"
    _length: int = field(default=0, repr=False)
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
            if self._framing == "length":
                async for data in self._exactly(self._length, "mid-body"):
                    yield data
            elif self._framing == "chunked":
                async for data in self._chunked():
                    yield data
            elif self._framing == "close":
                while data := await self._reader.read(_READ_SIZE):
                    yield data
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            if isinstance(exc, MCPConnectionError):
                raise
            raise MCPConnectionError(f"connection to {self.url} dropped: {exc!r}") from None
        finally:
            await self.aclose()

    async def _chunked(self) -> AsyncIterator[bytes]:
        while True:
            line = await self._reader.readline()
            if not line.endswith(b"\n"):
                raise MCPConnectionError(f"connection to {self.url} closed mid-body")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
                if size < 0 or not size_text.isalnum():
                    raise ValueError(size_text)
            except ValueError:
                raise RemoteProtocolError(f"bad chunk size {line[:40]!r} from {self.url}") from None
            if size == 0:
                while (await self._reader.readline()).strip():
                    pass  # trailer fields: ignored
                return
            async for data in self._exactly(size, "mid-chunk"):
                yield data
            if (await self._reader.readexactly(2)) != b"\r\n":
                raise RemoteProtocolError(f"chunk from {self.url} not followed by CRLF")

    async def _exactly(self, size: int, where: str) -> AsyncIterator[bytes]:
        while size > 0:
            data = await self._reader.read(min(size, _READ_SIZE))
            if not data:
                raise MCPConnectionError(f"connection to {self.url} closed {where}")
            size -= len(data)
            yield data

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
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
        raise MCPConnectionError(f"{method} {url} failed: {exc!r}") from None


async def _exchange(
    url: str, method: str, host: str, port: int, context: ssl.SSLContext | None, head: bytes, body: bytes
) -> HTTPResponse:
    reader, writer = await asyncio.open_connection(
        host, port, ssl=context, server_hostname=host if context else None, limit=_MAX_HEADER_BYTES
    )
    answer: asyncio.Future[tuple[int, str, dict[str, str]]] | None = None
    try:
        # A large body first waits for 100 Continue (RFC 9110 10.1.1), so a server refusing it
        # (413...) answers before the upload, instead of resetting the connection under it,
        # which would lose its answer.
        expect = len(body) > _EXPECT_ABOVE
        writer.write(head if expect else head + body)
        await writer.drain()
        answer = asyncio.ensure_future(_read_head(reader, url))
        if expect and (not (await asyncio.wait({answer}, timeout=_CONTINUE_WAIT))[0] or answer.result()[0] == 100):
            writer.write(body)
            await writer.drain()
        status, reason, headers = await answer
        while 100 <= status < 200 and status != 101:  # interim responses (100 Continue, 103 Early Hints)
            status, reason, headers = await _read_head(reader, url)
    except BaseException:
        if answer is not None:
            answer.cancel()
        writer.close()
        raise
    encoding = headers.get("transfer-encoding", "").lower()
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        framing, length = "none", 0
    elif encoding:
        if encoding.rsplit(",", 1)[-1].strip() != "chunked":
            writer.close()
            raise RemoteProtocolError(f"unsupported Transfer-Encoding {encoding!r} from {url}")
        framing, length = "chunked", 0
    elif "content-length" in headers:
        text = headers["content-length"].split(",")[0].strip()
        if not text.isdigit():
            writer.close()
            raise RemoteProtocolError(f"bad Content-Length {text!r} from {url}")
        framing, length = "length", int(text)
    else:
        framing, length = "close", 0
    return HTTPResponse(url, status, reason, headers, reader, writer, framing, length)


async def _read_head(reader: asyncio.StreamReader, url: str) -> tuple[int, str, dict[str, str]]:
    try:
        status_line = await reader.readline()
    except ValueError:  # asyncio's LimitOverrunError on a giant line
        raise RemoteProtocolError(f"status line from {url} too long") from None
    if not status_line:
        raise MCPConnectionError(f"{url} closed the connection without answering")
    fields = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/1.") or not fields[1].isdigit():
        raise RemoteProtocolError(f"not an HTTP/1.x response from {url}: {status_line[:60]!r}")
    headers: dict[str, str] = {}
    total = 0
    while True:
        try:
            line = await reader.readline()
        except ValueError:
            raise RemoteProtocolError(f"header line from {url} too long") from None
        total += len(line)
        if total > _MAX_HEADER_BYTES:
            raise RemoteProtocolError(f"response headers from {url} exceed {_MAX_HEADER_BYTES} bytes")
        if not line.endswith(b"\n"):
            raise MCPConnectionError(f"{url} closed the connection inside the response headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, sep, value = text.partition(":")
        if not sep:
            raise RemoteProtocolError(f"malformed header line from {url}: {text[:60]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(fields[1]), fields[2] if len(fields) > 2 else "", headers
