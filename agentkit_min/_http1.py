"""HTTP/1.1 responses: the package's one parser, and `Reader`, which runs it on a socket.

The parser is sans-IO (bytes in, values out): `take_head` (RFC 9112 sections 4 and 5),
`body_length` (section 6.3) and `body_pieces` (the body, chunked coding of section 7.1
removed). Three readers share it: `Reader` here (model providers), the MCP client on asyncio
streams (mcp/_http.py) and the WebSocket handshake (mcp/ws_handshake.py, `take_head` only).
Each passes the error its layer raises (`error`: ConnectionError here, RemoteProtocolError for
MCP) and reports a connection that ends early itself (only the reader knows it ended).

Why not http.client's own request and response: its header parsing (the email package) and
per-header checks cost more than our whole model path (bench/http.py). `Reader` sends the
request in one write, skips 1xx responses and reads against the attempt's clock: blocking (a
worker thread; each read gets only the time left) or, with `loop` set, on a non-blocking
socket that waits on the event loop (`wait`, `exchange_async`).
"""

from __future__ import annotations

import http.client
import ssl
import time
from typing import Any, Callable, Generator, Iterator, Mapping, NamedTuple, TypeVar

CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024  # http.client's own bound on a header line; ours on a head, chunk or trailer line
_HEX = b"0123456789abcdefABCDEF"
T = TypeVar("T")
Error = Callable[[str], Exception]
"""Makes the exception a malformed response raises, from its message."""


class Head(NamedTuple):
    """A response's status line and header fields."""

    version: str
    status: int
    reason: str
    headers: dict[str, str]
    """Lower-cased names; repeated fields joined with ", " (RFC 9110 section 5.3)."""
    fields: list[tuple[str, str]]
    """The same fields as sent: names as spelt, repeats apart."""


def take_head(buf: bytearray, limit: int, error: Error = ConnectionError, start: int = 0) -> Head | None:
    """Parse the response head at `buf[start:]` and take it out, blank line included; None
    while it is incomplete.

    latin-1 never fails, so odd bytes pass as text. An obsolete folded line (one starting with
    a space or tab) continues the field above it, joined with a space (RFC 9112 section 5.2).

    Raises:
        `error(message)`: no blank line within `limit` bytes, not an HTTP/1.x status line with
            a 3-digit status, or a field line without a name, with whitespace around its
            name, or without a colon.
    """
    end = buf.find(b"\r\n\r\n", start)
    if end < 0 and len(buf) - start <= limit:
        return None
    if end < 0 or end - start > limit:
        raise error(f"response head exceeds {limit} bytes")
    head = bytes(buf[start:end])
    del buf[start:end + 4]
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not (version.startswith("HTTP/1.") and len(code) == 3 and code.isascii() and code.isdigit()):
        raise error(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    fields: list[tuple[str, str]] = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():  # RFC 9112 5.1: no space before the colon
            if line[:1] not in (" ", "\t") or not fields:
                raise error(f"malformed header line: {line[:80]!r}")
            name, value = fields[-1]  # a fold: checked here, off the common path
            more = line.strip(" \t")
            fields[-1] = (name, f"{value} {more}")
            headers[name.lower()] += " " + more
            continue
        value = value.strip(" \t")
        fields.append((name, value))
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return Head(version, int(code), reason, headers, fields)


def body_length(method: str, head: Head, error: Error = ConnectionError) -> int | None:
    """How the body after `head` is framed (RFC 9112 section 6.3): its length in bytes, None
    when chunked, -1 when it runs until the connection closes.

    Raises:
        `error(message)`: a transfer coding other than a final chunked (we never offer one, and
            cannot decode it), or a Content-Length that is not one number (6.3 items 4 and 5).
    """
    if method == "HEAD" or head.status in (204, 304) or 100 <= head.status < 200:
        return 0
    if (coding := head.headers.get("transfer-encoding")) is not None:
        if coding.rpartition(",")[2].strip(" \t").lower() != "chunked":
            raise error(f"unsupported Transfer-Encoding {coding[:40]!r}")
        return None
    if (declared := head.headers.get("content-length")) is None:
        return -1
    if declared.isdigit() and declared.isascii():
        return int(declared)
    values = {value.strip(" \t") for value in declared.split(",")}  # "5, 5": a joined repeat is fine
    length = values.pop() if len(values) == 1 else ""
    if not (length.isascii() and length.isdigit()):
        raise error(f"bad Content-Length {declared[:40]!r}")
    return int(length)


def body_pieces(buf: bytearray, length: int | None, error: Error = ConnectionError) -> Iterator[bytes]:
    """The body (`length` as `body_length` gives it) taken from the front of `buf` as it fills,
    chunked coding removed (extensions and trailer fields are read and ignored): yields body
    bytes, or b"" when `buf` needs more first (the caller reads, then goes on). Returns once the
    body is complete, what follows it left in `buf`; a body running until the connection closes
    never is (its reader ends it): any other end of the connection first cut the body short.

    Raises:
        `error(message)`: a bad chunk size, a chunk not followed by CRLF, or a chunk or trailer
            line over MAX_HEAD bytes.
    """
    if length is not None:
        while length:
            n = len(buf) if length < 0 else min(length, len(buf))
            piece = bytes(buf[:n])
            del buf[:n]
            length -= n if length > 0 else 0
            yield piece
        return
    while size := _chunk_size((yield from _line(buf, error)), error):
        yield from body_pieces(buf, size, error)
        if (yield from _line(buf, error)):
            raise error("a chunk does not end with CRLF")
    while (yield from _line(buf, error)):  # trailer fields, up to a blank line
        pass


def _line(buf: bytearray, error: Error) -> Generator[bytes, None, bytes]:
    while (at := buf.find(b"\n")) < 0:
        if len(buf) > MAX_HEAD:
            raise error(f"a chunk or trailer line exceeds {MAX_HEAD} bytes")
        yield b""
    line = bytes(buf[:at]).rstrip(b"\r")
    del buf[:at + 1]
    return line


def _chunk_size(line: bytes, error: Error) -> int:
    size = line.split(b";", 1)[0].strip(b" \t")  # a chunk extension is ignored
    if not size or size.strip(_HEX) or len(size) > 16:
        raise error(f"bad chunk size line: {line[:40]!r}")
    return int(size, 16)


class Reader:
    """One response read from a socket, every read against the attempt's clock; `received`
    counts the bytes (none: the request may be sent again)."""

    def __init__(self, sock: Any, deadline: float, loop: Any = None) -> None:
        self.sock, self.deadline, self.received, self.buf = sock, deadline, 0, bytearray()
        self.idle: float | None = None  # a streamed body: the longest gap between reads
        self.loop = loop  # set: the socket is non-blocking and `wait` waits on this event loop

    def more(self) -> bool:
        """Read once more into `buf`; False at the end of the connection."""
        left = self.idle if self.idle is not None else self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete response within the timeout")
        if self.loop is None:
            self.sock.settimeout(left)
        data = self.sock.recv(CHUNK)  # non-blocking: BlockingIOError or SSLWantReadError if none yet
        self.received += len(data)
        self.buf += data
        return bool(data)

    def head(self) -> Head:
        """The response's head; 1xx are skipped."""
        while True:
            while (head := take_head(self.buf, MAX_HEAD)) is None:
                if not self.more():
                    raise (http.client.IncompleteRead(bytes(self.buf)) if self.buf else
                           http.client.RemoteDisconnected("Remote end closed connection without response"))
            if not 100 <= head.status < 200:
                return head

    def piece(self, pieces: Iterator[bytes], length: int | None) -> bytes | None:
        """The next piece of the body from `body_pieces`, reading as needed; None at its end."""
        for piece in pieces:
            if piece:
                return piece
            if not self.more():
                if length == -1:
                    return None
                raise http.client.IncompleteRead(b"")
        return None

    def exchange(self, method: str, target: str, headers: Mapping[str, str], body: bytes,
                 ) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
        """Send the request in one write (no Nagle wait for a second); read the head.
        (status, headers, body pieces, length, this reader if the connection can be reused)."""
        self.sock.settimeout(max(self.deadline - time.monotonic(), 0.001))
        self.sock.sendall(request_bytes(method, target, headers, body))
        return self.framing(method, self.head())

    async def exchange_async(self, method: str, target: str, headers: Mapping[str, str], body: bytes,
                             limit: int) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
        """`exchange` on the event loop, the whole body buffered (to `limit`) before it returns."""
        view = memoryview(request_bytes(method, target, headers, body))
        while view:
            view = view[await self.wait(self.sock.send, view, writing=True):]
        status, received, _, length, keep = self.framing(method, await self.wait(self.head))
        decoder, pieces, size = body_pieces(self.buf, length), [], 0
        while (length or 0) <= limit and size <= limit:  # over: `read_all` refuses it (unread if declared)
            if (piece := await self.wait(self.piece, decoder, length)) is None:
                break
            pieces.append(piece)
            size += len(piece)
        return status, received, iter(pieces), length, keep

    def framing(self, method: str, head: Head) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
        length = body_length(method, head)
        keep = head.version == "HTTP/1.1" and length != -1 and "close" not in head.headers.get(
            "connection", "").lower()
        pieces = body_pieces(self.buf, length)  # read as they arrive: `piece` gives None at the end
        return head.status, head.headers, iter(lambda: self.piece(pieces, length), None), length, keep and self

    async def wait(self, fn: Callable[..., T], *args: Any, writing: bool = False) -> T:
        """`fn(*args)` on the non-blocking socket, waiting on the loop while it would block."""
        while True:
            try:
                return fn(*args)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError) as exc:
                write = isinstance(exc, ssl.SSLWantWriteError) or writing and not isinstance(exc, ssl.SSLWantReadError)
            left, loop, fd = self.deadline - time.monotonic(), self.loop, self.sock.fileno()
            if left <= 0:
                raise TimeoutError("no complete response within the timeout")
            ready = loop.create_future()
            (loop.add_writer if write else loop.add_reader)(fd, _wake, ready, None)
            timer = loop.call_later(left, _wake, ready, TimeoutError("no complete response within the timeout"))
            try:
                await ready
            finally:
                timer.cancel()
                (loop.remove_writer if write else loop.remove_reader)(fd)


def request_bytes(method: str, target: str, headers: Mapping[str, str], body: bytes) -> bytes:
    head = "\r\n".join([f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()])
    return head.encode("latin-1") + b"\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


def _wake(future: Any, error: BaseException | None) -> None:
    if not future.done():
        future.set_result(None) if error is None else future.set_exception(error)
