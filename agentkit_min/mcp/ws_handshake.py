"""Sans-IO WebSocket opening handshake, client side: RFC 6455 section 4.

Builds the Upgrade request (4.1) with a fresh Sec-WebSocket-Key, refusing caller headers that
would break or smuggle into it; waits for the response head, parses it (RFC 9112:
`_http1.take_head`, the package's one parser) and runs the client's checks on a 101 (4.1
items 2-6, 4.2.2). A non-101 becomes a `RemoteProtocolError` quoting the start of its body
("HTTP 401 Unauthorized: token expired"). The receive buffer and state are
`websocket.ClientConnection`'s (the head is taken out of it; bytes after it may be frames).
Not here: IO, redirects, auth challenges, proxies, extensions, decoding a chunked body (the
quoted snippet is raw text).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from .._http1 import take_head
from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ["Request", "Accepted", "Handshake", "accept_key"]

# RFC 6455 section 1.3: the server proves it read our key by hashing it with this GUID.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Headers the codec itself must own; a caller overriding them would break the handshake.
_RESERVED_HEADERS = frozenset({"host", "upgrade", "connection", "sec-websocket-key",
                               "sec-websocket-version", "sec-websocket-protocol",
                               "sec-websocket-extensions"})
# How much of a refusal's body we wait for and read, and how much of it the error quotes.
_BODY_READ = 512
_BODY_QUOTE = 200


@dataclass(frozen=True)
class Request:
    """Ours: the opening handshake. `host` is the Host header value (with the port if not default)."""
    host: str
    target: str = "/"
    subprotocols: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Accepted:
    """The server accepted the upgrade; `subprotocol` is the one it chose, if any."""
    subprotocol: str | None
    headers: tuple[tuple[str, str], ...]


def accept_key(key: bytes) -> str:
    """The Sec-WebSocket-Accept value a server must answer for our base64 `key` (4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode("ascii")


class Handshake:
    """The client's half of one opening handshake: the request sent, the response awaited.

    Example:
        >>> hs = Handshake(random_bytes=lambda n: bytes(n), max_head=65536)
        >>> hs.request(Request(host="127.0.0.1:8000")).split(b"\\r\\n")[0]
        b'GET / HTTP/1.1'
    """

    def __init__(self, *, random_bytes: Callable[[int], bytes], max_head: int) -> None:
        """Prepare a handshake; nothing is sent until `request`.

        Args:
            random_bytes: source of the 16-byte key (RFC 10.3: must be unpredictable).
            max_head: longest response head accepted, in bytes.
        """
        self._random = random_bytes
        self._max_head = max_head
        self.key: bytes | None = None  # our base64 Sec-WebSocket-Key, once the request is built
        self._offered: tuple[str, ...] = ()
        self._rejected: tuple[int, str, int | None, bool] | None = None

    def request(self, req: Request) -> bytes:
        """Return the Upgrade request for `req`; callable once.

        Raises:
            LocalProtocolError: called twice, or the target or a header is unusable.
        """
        if self.key is not None:
            raise LocalProtocolError("the opening handshake can only be sent once, first")
        if not req.target.startswith("/") or any(c.isspace() for c in req.target):
            raise LocalProtocolError(f"request target must be a path without spaces, got {req.target!r}")
        # 4.1: "a randomly selected 16-byte value that has been base64-encoded".
        self.key = base64.b64encode(self._random(16))
        self._offered = req.subprotocols
        lines = [f"GET {req.target} HTTP/1.1", f"Host: {req.host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {self.key.decode('ascii')}",
                 "Sec-WebSocket-Version: 13"]
        if req.subprotocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(req.subprotocols))
        for name, value in req.extra_headers:
            if name.lower() in _RESERVED_HEADERS:
                raise LocalProtocolError(f"header {name!r} is set by the WebSocket handshake itself")
            if not name or any(c in name for c in ": \t"):
                raise LocalProtocolError(f"invalid header name {name!r}")
            lines.append(f"{name}: {value}")
        text = "\r\n".join(lines)
        # A CR or LF inside a value would let it smuggle extra header lines (injection).
        if any(c in line for line in lines for c in "\r\n\0"):
            raise LocalProtocolError("header names and values must not contain CR, LF or NUL")
        try:
            return (text + "\r\n\r\n").encode("ascii")
        except UnicodeEncodeError:
            raise LocalProtocolError("request target and headers must be ASCII") from None

    def receive(self, buf: bytearray, pos: int, eof: bool) -> tuple[Accepted | None, int]:
        """Look for the server's answer in `buf[pos:]`; a complete head is taken out of `buf`.

        Returns:
            `(Accepted, p)` once a valid 101 head is complete, `p` being where the bytes after
            it (maybe frames) start; else `(None, p)`: more bytes are needed, or, when `eof`,
            the connection dropped before an answer (the caller reports that).

        Raises:
            RemoteProtocolError: the head is malformed or too long, a 101 fails the checks of
                4.1, or the server refused (any other status; raised once its body is in).
        """
        if self._rejected is not None:
            self._rejection(buf, pos, eof)
            return None, pos
        if self.key is None:
            return None, pos  # nothing asked yet: whatever came is kept for later
        # Frames may follow the head in the same read: they start at `pos` once it is out.
        if (head := take_head(buf, self._max_head, RemoteProtocolError, pos)) is None:
            return None, pos
        _, status, reason, fields, headers = head
        if status != 101:
            length = fields.get("content-length", "")
            chunked = "chunked" in fields.get("transfer-encoding", "").lower()
            known = length.isascii() and length.isdigit()
            self._rejected = (status, reason, int(length) if known else None, chunked)
            self._rejection(buf, pos, eof)
            return None, pos
        self._check_upgrade(fields)
        return Accepted(fields.get("sec-websocket-protocol"), tuple(headers)), pos

    def _check_upgrade(self, fields: dict[str, str]) -> None:
        # 4.1, the client's checks on the server's handshake, in the RFC's order (items 2-6).
        def tokens(name: str) -> list[str]:
            return [t.strip().lower() for t in fields.get(name, "").split(",")]

        if "websocket" not in tokens("upgrade"):
            raise RemoteProtocolError("101 response lacks 'Upgrade: websocket'")
        if "upgrade" not in tokens("connection"):
            raise RemoteProtocolError("101 response lacks 'Connection: Upgrade'")
        assert self.key is not None
        if fields.get("sec-websocket-accept") != accept_key(self.key):
            raise RemoteProtocolError("Sec-WebSocket-Accept does not match our key")
        if fields.get("sec-websocket-extensions", "").strip():
            raise RemoteProtocolError("server enabled an extension we did not offer")
        chosen = fields.get("sec-websocket-protocol")
        if chosen is not None and chosen not in self._offered:
            raise RemoteProtocolError(f"server chose subprotocol {chosen!r}, not one we offered")

    def _rejection(self, buf: bytearray, pos: int, eof: bool) -> None:
        # A non-101 answer: wait for (a bit of) its body so the error can quote it. Returns
        # only while more of the body may still come.
        assert self._rejected is not None
        status, reason, length, chunked = self._rejected
        body = bytes(buf[pos:])
        if length is not None:
            done = len(body) >= min(length, _BODY_READ)
        else:
            done = len(body) >= _BODY_READ or (chunked and b"0\r\n\r\n" in body)
        if not (done or eof):
            return
        snippet = " ".join(body[:_BODY_READ].decode("utf-8", "replace").split())[:_BODY_QUOTE]
        raise RemoteProtocolError(f"server refused the WebSocket upgrade: HTTP {status} "
                                  f"{reason}" + (f": {snippet}" if snippet else ""))

