"""Sans-IO WebSocket client codec: RFC 6455, the subset an MCP client needs.

One client connection as a state machine over bytes (sections 4 and 7): masks and frames what
we send (5.2, 5.3), parses and reassembles what the server sends (5.4-5.6), checks text UTF-8
incrementally (8.1), answers pings and runs the closing handshake (5.5.1, 7.1, 7.4). The
opening handshake is `ws_handshake.py` (re-exported here). Not here: IO, clocks, threads (see
`ws.py`), the server role, extensions (none offered, so a set RSV bit is an error), fragmenting
what we send (MCP servers expect one frame a message).

Four verbs, in the style of h11 and wsproto:
    receive_data(bytes | None)   buffer bytes from the peer; None = the connection dropped
    next_event() / events()      parse buffered bytes into events; None = need more bytes
    send(event) -> bytes         turn one of our events into bytes to write
    data_to_send() -> bytes      what the codec owes the peer on its own: pongs, the close echo,
                                 the close frame that fails the connection

States: `_TRANSITIONS` below is the authority; a drop (reported as CloseConnection(1006)) or a
protocol error leads to CLOSED from any state.
"""

from __future__ import annotations

import codecs
import enum
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import LocalProtocolError, RemoteProtocolError
from .ws_handshake import Accepted, Handshake, Request, accept_key

__all__ = [
    "State", "Opcode", "Request", "Accepted", "TextMessage", "BinaryMessage", "Ping", "Pong",
    "CloseConnection", "Event", "ClientConnection", "accept_key",
]

# 7.4.1 defines these codes; 1004 is reserved, and 1005, 1006 and 1015 "MUST NOT be set as a
# status code in a Close control frame". 1012-1014 were registered with IANA later (7.4.2).
_VALID_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})


class State(enum.Enum):
    """Connection states of RFC 6455 section 4 and 7 (the closing side split in two)."""

    CONNECTING = "connecting"
    OPEN = "open"
    LOCAL_CLOSING = "local-closing"
    REMOTE_CLOSING = "remote-closing"
    CLOSED = "closed"


_TRANSITIONS: dict[tuple[State, str], State] = {
    (State.CONNECTING, "accepted"): State.OPEN,
    (State.CONNECTING, "send_close"): State.CLOSED,  # nothing to say yet: just drop TCP
    (State.OPEN, "send_close"): State.LOCAL_CLOSING,
    (State.OPEN, "recv_close"): State.REMOTE_CLOSING,
    (State.LOCAL_CLOSING, "recv_close"): State.CLOSED,
    (State.REMOTE_CLOSING, "echo_sent"): State.CLOSED,
}
# "dropped" and "failed" lead to CLOSED from every state; they are applied in `_terminate`.


class Opcode(enum.IntEnum):
    """Frame opcodes (5.2); 0x3-0x7 and 0xB-0xF are reserved and rejected."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


@dataclass(frozen=True)
class TextMessage:
    """A whole text message (fragments already joined)."""
    data: str


@dataclass(frozen=True)
class BinaryMessage:
    """A whole binary message (fragments already joined)."""
    data: bytes


@dataclass(frozen=True)
class Ping:
    """A ping; on receipt the codec has already queued the pong (5.5.2)."""
    payload: bytes = b""


@dataclass(frozen=True)
class Pong:
    """A pong, solicited or not (5.5.3)."""
    payload: bytes = b""


@dataclass(frozen=True)
class CloseConnection:
    """A close frame (sent or received), or 1006 when the connection dropped without one."""
    code: int = 1000
    reason: str = ""


_OPCODES = frozenset(int(op) for op in Opcode)

Event = Request | Accepted | TextMessage | BinaryMessage | Ping | Pong | CloseConnection


def _mask(data: bytes, mask: bytes) -> bytes:
    # 5.3: octet i of the payload is XORed with octet i mod 4 of the mask. One big-int XOR does
    # the whole payload at C speed instead of a Python loop per byte.
    n = len(data)
    stream = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def _valid_code(code: int) -> bool:
    # 7.4.2: 0-999 unused, 1000-2999 for the RFC and extensions, 3000-4999 for libraries/apps.
    return code in _VALID_CLOSE_CODES or 3000 <= code <= 4999


class ClientConnection:
    """The client side of one WebSocket connection, as a state machine over bytes (module docstring)."""

    def __init__(self, *, max_message_size: int = 16 * 2**20,
                 random_bytes: Callable[[int], bytes] = os.urandom,
                 max_handshake_size: int = 64 * 1024) -> None:
        """Create a connection in state CONNECTING.

        Args:
            max_message_size: longest message (bytes, after joining fragments) accepted;
                a longer one fails the connection with close code 1009.
            random_bytes: source of the handshake key and frame masks. RFC 10.3 needs these
                unpredictable, so only tests should replace `os.urandom`.
            max_handshake_size: longest 101 response head accepted.
        """
        self.state = State.CONNECTING
        self._max_message = max_message_size
        self._random = random_bytes
        self._handshake = Handshake(random_bytes=random_bytes, max_head=max_handshake_size)
        self._buf = bytearray()
        self._pos = 0  # bytes of _buf already consumed; compacted in receive_data
        self._eof = False
        self._header: tuple[bool, int, int] | None = None  # (fin, opcode, length) awaiting payload
        self._msg_opcode: int | None = None  # opcode of the fragmented message in progress
        self._msg_parts: list[Any] = []  # decoded str fragments of a text message, else bytes
        self._msg_size = 0
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._outbox = bytearray()
        self._echo_queued = False

    # ---- the verbs -------------------------------------------------------------------------

    def receive_data(self, data: bytes | None) -> None:
        """Buffer bytes read from the peer; `None` means the peer closed TCP (b"" is ignored)."""
        if data is None:
            self._eof = True
            return
        if self._eof:
            raise LocalProtocolError("receive_data() called after end of stream was reported")
        if self.state is State.CLOSED:
            return  # 7.1.1: after the closing handshake nothing more is read
        # Drop consumed bytes only once they are at least half the buffer: each byte is then
        # moved O(1) times, even while a large frame accumulates behind its parsed header.
        if self._pos and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def events(self) -> Iterator[Event]:
        """Yield every event the buffered bytes complete. Raises ProtocolError like next_event."""
        while (event := self.next_event()) is not None:
            yield event

    def next_event(self) -> Event | None:
        """Parse the next event, or return None when more bytes are needed.

        Raises:
            RemoteProtocolError: the server broke the protocol. `close_code` says why (1002,
                1007, 1009...; None during the handshake); the close frame is already queued
                in `data_to_send()` and the connection is CLOSED: close the socket.
        """
        try:
            if self.state is State.CONNECTING:
                return self._handshake_event()
            if self.state in (State.OPEN, State.LOCAL_CLOSING):
                return self._frame_event()
            if self._eof and self.state is State.REMOTE_CLOSING:
                self._terminate()  # the close was already reported: no 1006 on top
            return None  # after the server's close frame nothing else is read (5.5.1)
        except RemoteProtocolError as exc:
            # 7.1.7 "Fail the WebSocket Connection": send a close frame if the handshake is done
            # and we have not sent one, then stop processing data.
            if self.state is State.OPEN and exc.close_code is not None:
                self._outbox += self._frame(Opcode.CLOSE, exc.close_code.to_bytes(2, "big"))
            self._terminate()
            raise

    def send(self, event: Event) -> bytes:
        """Return the bytes that carry `event` to the server.

        Raises:
            LocalProtocolError: the event is not allowed in the current state, or is malformed.
        """
        if isinstance(event, Request):
            if self.state is not State.CONNECTING:
                raise LocalProtocolError("the opening handshake can only be sent once, first")
            return self._handshake.request(event)
        if isinstance(event, CloseConnection):
            return self._close(event)
        if self.state is not State.OPEN:
            raise LocalProtocolError(f"cannot send {type(event).__name__} in state {self.state.name}")
        if isinstance(event, TextMessage):
            try:
                return self._frame(Opcode.TEXT, event.data.encode("utf-8"))
            except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form (8.1)
                raise LocalProtocolError("text message is not encodable as UTF-8") from None
        if isinstance(event, BinaryMessage):
            return self._frame(Opcode.BINARY, bytes(event.data))
        if isinstance(event, (Ping, Pong)):
            if len(event.payload) > 125:  # 5.5: control frames carry at most 125 bytes
                raise LocalProtocolError("ping/pong payloads are limited to 125 bytes")
            return self._frame(Opcode.PING if isinstance(event, Ping) else Opcode.PONG, event.payload)
        raise LocalProtocolError(f"a client does not send {type(event).__name__} events")

    def data_to_send(self) -> bytes:
        """Return (and forget) the bytes the codec queued on its own. Write them out."""
        out = bytes(self._outbox)
        self._outbox.clear()
        if self._echo_queued:
            self._echo_queued = False
            if self.state is State.REMOTE_CLOSING:  # a drop may already have CLOSED it
                self._move("echo_sent")
        return out

    # ---- sending ---------------------------------------------------------------------------

    def _move(self, action: str) -> None:
        self.state = _TRANSITIONS[(self.state, action)]

    def _terminate(self) -> None:
        self.state = State.CLOSED
        self._msg_opcode, self._msg_parts = None, []

    def _close(self, event: CloseConnection) -> bytes:
        if self.state is not State.OPEN:
            if self.state is State.CONNECTING:
                self._move("send_close")
            return b""  # closing is idempotent: a close is already on its way (or moot)
        payload = b""
        if event.code != 1005:  # 1005 means "no status code": send an empty close body (5.5.1)
            reason = event.reason.encode("utf-8")
            if not _valid_code(event.code):
                raise LocalProtocolError(f"close code {event.code} may not be sent (RFC 6455 7.4)")
            if len(reason) > 123:  # 125 bytes minus the 2-byte code
                raise LocalProtocolError("close reason is limited to 123 bytes of UTF-8")
            payload = event.code.to_bytes(2, "big") + reason
        self._move("send_close")
        return self._frame(Opcode.CLOSE, payload)

    def _frame(self, opcode: Opcode, payload: bytes) -> bytes:
        # 5.2: FIN=1 (we never fragment), no RSV bits, MASK=1 with a fresh key per frame
        # ("The masking key MUST be derived from a strong source of entropy", 5.3).
        n = len(payload)
        head = bytearray((0x80 | opcode,))
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head.append(0x80 | 126)
            head += n.to_bytes(2, "big")
        else:
            head.append(0x80 | 127)
            head += n.to_bytes(8, "big")
        mask = self._random(4)
        return bytes(head) + mask + _mask(payload, mask)

    # ---- receiving: the handshake ----------------------------------------------------------

    def _handshake_event(self) -> Event | None:
        # The head may be followed by frames in the same read: `_pos` moves past the head only.
        accepted, self._pos = self._handshake.receive(self._buf, self._pos, self._eof)
        if accepted is not None:
            self._move("accepted")
            return accepted
        return self._dropped() if self._eof else None

    def _dropped(self) -> CloseConnection:
        # 7.1.5: a connection closed without a close frame has status 1006 (never on the wire).
        self._terminate()
        return CloseConnection(1006, "connection closed without a close frame")

    # ---- receiving: frames -----------------------------------------------------------------

    def _frame_event(self) -> Event | None:
        while True:  # loops only over non-final fragments, which produce no event
            if self._header is None and not self._parse_header():
                return self._dropped() if self._eof else None
            assert self._header is not None
            fin, opcode, length = self._header
            if len(self._buf) - self._pos < length:
                return self._dropped() if self._eof else None
            with memoryview(self._buf) as view:  # one copy of the payload, not two
                payload = bytes(view[self._pos:self._pos + length])
            self._pos += length
            self._header = None
            event = self._control(opcode, payload) if opcode >= 8 else self._data(fin, opcode, payload)
            if event is not None:
                return event

    def _parse_header(self) -> bool:
        """Validate the next frame header and store it; False when it is incomplete."""
        avail = len(self._buf) - self._pos
        if avail < 2:
            return False
        b0, b1 = self._buf[self._pos], self._buf[self._pos + 1]
        fin, opcode, size = bool(b0 & 0x80), b0 & 0x0F, b1 & 0x7F
        # Checks are ordered by how many header bytes they need, so the first error found does
        # not depend on how the bytes were chunked.
        if b0 & 0x70:  # 5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"
            raise RemoteProtocolError("frame has reserved bits set", close_code=1002)
        if opcode not in _OPCODES:
            raise RemoteProtocolError(f"reserved opcode {opcode:#x}", close_code=1002)
        if b1 & 0x80:  # 5.1: "A client MUST close a connection if it detects a masked frame"
            raise RemoteProtocolError("server frames must not be masked", close_code=1002)
        if opcode >= 8 and (not fin or size > 125):  # 5.5: short and never fragmented
            raise RemoteProtocolError("control frame is fragmented or longer than 125 bytes", close_code=1002)
        if opcode == Opcode.CONTINUATION and self._msg_opcode is None:
            raise RemoteProtocolError("continuation frame with no message to continue", close_code=1002)
        if opcode in (Opcode.TEXT, Opcode.BINARY) and self._msg_opcode is not None:
            raise RemoteProtocolError("new message before the fragmented one ended", close_code=1002)
        extra = {126: 2, 127: 8}.get(size, 0)
        if avail < 2 + extra:
            return False
        if extra:
            size = int.from_bytes(self._buf[self._pos + 2:self._pos + 2 + extra], "big")
            # 5.2: "the minimal number of bytes MUST be used to encode the length", and the
            # 64-bit form's most significant bit MUST be 0.
            if size < (126 if extra == 2 else 65536) or size >> 63:
                raise RemoteProtocolError("frame length is not minimally encoded", close_code=1002)
        if opcode < 8 and self._msg_size + size > self._max_message:
            # 7.4.1: 1009 "a message that is too big for it to process". Checked on the
            # header, so an oversized payload is never buffered.
            raise RemoteProtocolError(f"message exceeds {self._max_message} bytes", close_code=1009)
        self._pos += 2 + extra
        self._header = (fin, opcode, size)
        return True

    def _data(self, fin: bool, opcode: int, payload: bytes) -> Event | None:
        if opcode != Opcode.CONTINUATION:
            self._msg_opcode = opcode
            self._utf8.reset()
        self._msg_size += len(payload)
        text = self._msg_opcode == Opcode.TEXT
        try:  # 8.1: invalid UTF-8 fails with 1007; decoding each fragment as it comes catches it
            # early, and a code point may straddle two fragments.
            self._msg_parts.append(self._utf8.decode(payload, final=fin) if text else payload)
        except UnicodeDecodeError:
            raise RemoteProtocolError("text message is not valid UTF-8", close_code=1007) from None
        if not fin:
            return None
        event: Event = TextMessage("".join(self._msg_parts)) if text else BinaryMessage(b"".join(self._msg_parts))
        self._msg_opcode, self._msg_parts, self._msg_size = None, [], 0
        return event

    def _control(self, opcode: int, payload: bytes) -> Event:
        # Control frames may arrive between the fragments of a message (5.4); they leave the
        # message in progress alone.
        if opcode == Opcode.PING:
            if self.state is State.OPEN:  # 5.5.2: answer with a pong carrying the same data
                self._outbox += self._frame(Opcode.PONG, payload)
            return Ping(payload)
        if opcode == Opcode.PONG:
            return Pong(payload)
        code, reason = _parse_close(payload)
        if self.state is State.OPEN:
            # 5.5.1: "the endpoint MUST send a Close frame in response ... typically echoing
            # the status code it received". No code received: an empty close body.
            echo = b"" if code == 1005 else code.to_bytes(2, "big")
            self._outbox += self._frame(Opcode.CLOSE, echo)
            self._echo_queued = True
        self._move("recv_close")
        return CloseConnection(code, reason)


def _parse_close(payload: bytes) -> tuple[int, str]:
    # 5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
    if not payload:
        return 1005, ""  # 7.1.5: "If ... no status code, _The WebSocket Connection Close Code_ is 1005"
    if len(payload) == 1:
        raise RemoteProtocolError("close frame body of 1 byte", close_code=1002)
    code = int.from_bytes(payload[:2], "big")
    if not _valid_code(code):
        raise RemoteProtocolError(f"invalid close code {code}", close_code=1002)
    try:
        return code, payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteProtocolError("close reason is not valid UTF-8", close_code=1007) from None
