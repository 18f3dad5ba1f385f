"""HTTP/1.1 on a connected socket: the request in one write, the response read by `Reader`.

Why not http.client's own request and response: its header parsing (the email package) and
per-header checks cost more than our whole model path (bench/http.py). `Reader` frames the
body as RFC 9112 section 6.3 says (Content-Length, chunked, or to the end of the connection),
skips 1xx responses, joins repeated headers with ", ", and reads against the attempt's clock:
blocking (a worker thread; each read gets only the time left) or, with `loop` set, on a
non-blocking socket that waits on the event loop (`wait`, `exchange_async`).
"""

from __future__ import annotations

import http.client
import ssl
import time
from typing import Any, Callable, Iterator, Mapping, TypeVar

CHUNK = 64 * 1024
_MAX_HEAD = 64 * 1024  # http.client's own bound on a header line
T = TypeVar("T")


class Reader:
    """One response read from a socket (RFC 9112 section 6.3 framing), every read against the
    attempt's clock; `received` counts the bytes (none: the request may be sent again)."""

    def __init__(self, sock: Any, deadline: float, loop: Any = None) -> None:
        self.sock, self.deadline, self.received, self.buf = sock, deadline, 0, bytearray()
        self.idle: float | None = None  # a streamed body: the longest gap between reads
        self.loop = loop  # set: the socket is non-blocking and `wait` waits on this event loop
        self.scanned = self.sized = 0  # `fill`: where `chunked_end` goes on, the chunk bytes before it

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

    def line(self, end: bytes = b"\n") -> bytes:
        while (at := self.buf.find(end)) < 0:
            if len(self.buf) > _MAX_HEAD:
                raise http.client.LineTooLong("response head or chunk line")
            if not self.more():
                raise (http.client.IncompleteRead(bytes(self.buf)) if self.buf else
                       http.client.RemoteDisconnected("Remote end closed connection without response"))
        line = bytes(self.buf[:at])
        del self.buf[:at + len(end)]
        return line.rstrip(b"\r")

    def head(self) -> tuple[str, int, dict[str, str]]:
        """(version, status, lower-cased headers, repeats joined with ", "); 1xx are skipped."""
        while True:
            lines = self.line(b"\r\n\r\n").decode("latin-1").split("\r\n")
            version, _, rest = lines[0].partition(" ")
            if not (version.startswith("HTTP/") and rest[:3].isdigit()):
                raise ConnectionError(f"not an HTTP response: {lines[0][:100]!r}")
            headers: dict[str, str] = {}
            name = ""
            for line in lines[1:]:
                if line[:1] in (" ", "\t") and name:  # an obsolete folded continuation
                    headers[name] += " " + line.strip()
                    continue
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            if not 100 <= int(rest[:3]) < 200:
                return version, int(rest[:3]), headers

    def exchange(self, method: str, target: str, headers: Mapping[str, str], body: bytes,
                 ) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
        """Send the request in one write (no Nagle wait for a second); read the head.
        (status, headers, body pieces, length, this reader if the connection can be reused)."""
        self.sock.settimeout(max(self.deadline - time.monotonic(), 0.001))
        self.sock.sendall(request_bytes(method, target, headers, body))
        return self.framing(method, *self.head())

    async def exchange_async(self, method: str, target: str, headers: Mapping[str, str], body: bytes,
                             limit: int) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
        """`exchange` on the event loop, the whole body buffered (to `limit`) before it returns."""
        view = memoryview(request_bytes(method, target, headers, body))
        while view:
            view = view[await self.wait(self.sock.send, view, writing=True):]
        status, received, pieces, length, keep = self.framing(method, *await self.wait(self.head))
        await self.wait(self.fill, length, limit)
        return status, received, pieces, length, keep

    def framing(self, method: str, version: str, status: int, received: dict[str, str],
                ) -> tuple[int, dict[str, str], Iterator[bytes], int | None, Any]:
        length: int | None = -1  # to the end of the connection
        if status in (204, 304) or method == "HEAD":
            length = 0
        elif "chunked" in received.get("transfer-encoding", "").lower():
            length = None
        elif (declared := received.get("content-length", "")).isdigit():
            length = int(declared)
        keep = version == "HTTP/1.1" and length != -1 and "close" not in received.get("connection", "").lower()
        return status, received, self.body(length), length, keep and self

    def fill(self, length: int | None, limit: int) -> None:
        """Read until the whole body is in `buf`, the peer closes, or it is over `limit` (a chunked
        body's framing is in `buf` too: up to twice `limit` of it)."""
        while not (0 <= length <= len(self.buf) if length is not None else chunked_end(self)):
            over = max(self.sized, len(self.buf) // 2) if length is None else max(length, len(self.buf))
            if over > limit or not self.more():
                return

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

    def body(self, length: int | None) -> Iterator[bytes]:
        """The body in pieces as they arrive: `length` bytes, chunked (None), or to EOF (-1)."""
        if length is None:
            while size := chunk_size(self.line()):
                yield from self.body(size)
                if self.line():
                    raise ConnectionError("a chunk of the response does not end with CRLF")
            while self.line():  # trailers
                pass
            return
        while length:
            if not self.buf and not self.more():
                if length > 0:
                    raise http.client.IncompleteRead(b"", length)
                return
            n = len(self.buf) if length < 0 else min(length, len(self.buf))
            piece = bytes(self.buf[:n])
            del self.buf[:n]
            length -= n if length > 0 else 0
            yield piece


def request_bytes(method: str, target: str, headers: Mapping[str, str], body: bytes) -> bytes:
    head = "\r\n".join([f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()])
    return head.encode("latin-1") + b"\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


def _wake(future: Any, error: BaseException | None) -> None:
    if not future.done():
        future.set_result(None) if error is None else future.set_exception(error)


def chunked_end(reader: Reader) -> bool:
    """Whether `reader.buf` holds a whole chunked body, trailers included (nothing is consumed;
    `reader.scanned` remembers the complete chunks already seen)."""
    buf, at = reader.buf, reader.scanned
    while (eol := buf.find(b"\n", at)) >= 0:
        if not (size := chunk_size(bytes(buf[at:eol]).rstrip(b"\r"))):
            while (at := buf.find(b"\n", eol + 1)) >= 0:
                if not buf[eol + 1:at].strip():
                    return True
                eol = at
            return False
        if not (at := buf.find(b"\n", eol + 1 + size) + 1):  # past the data's CRLF
            return False
        reader.scanned, reader.sized = at, reader.sized + size
    return False


def chunk_size(line: bytes) -> int:
    try:
        if (size := int(line.split(b";", 1)[0], 16)) >= 0:
            return size
    except ValueError:
        pass
    raise ConnectionError(f"bad chunk size line in the response: {line[:40]!r}")
