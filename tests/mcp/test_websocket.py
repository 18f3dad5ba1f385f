"""Tests for the sans-IO WebSocket client codec (agentkit_min.mcp.websocket).

Every frame fixture is constructed by hand from RFC 6455 (section 5.7's examples are quoted
byte for byte); none was recorded. Each fixture runs whole, one byte at a time, split at every
offset and under hypothesis-random chunkings, and must give the same events, the same error
and the same bytes to send every time.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit_min.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from agentkit_min.mcp.websocket import (
    Accepted, BinaryMessage, ClientConnection, CloseConnection, Event, Opcode, Ping, Pong,
    Request, State, TextMessage, accept_key,
)

# RFC 6455 1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" is base64 of these 16 bytes, and its accept
# value is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
NONCE = b"the sample nonce"
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
RFC_MASK = bytes.fromhex("37fa213d")  # the mask of RFC 6455 5.7's masked examples

OK_101 = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: " + RFC_ACCEPT.encode() + b"\r\nSec-WebSocket-Protocol: mcp\r\n\r\n")


def state(client: ClientConnection) -> State:
    """The client's state (read through a call so mypy does not pin it after an assert)."""
    return client.state


def fixed_random(masks: Sequence[bytes] = (RFC_MASK,)) -> Callable[[int], bytes]:
    """A random source for tests: the RFC nonce for the key, then `masks` in a cycle."""
    cycle = itertools.cycle(masks)

    def random_bytes(n: int) -> bytes:
        return NONCE if n == 16 else next(cycle)

    return random_bytes


def opened(**kwargs: int) -> ClientConnection:
    client = ClientConnection(random_bytes=fixed_random(), **kwargs)
    client.send(Request(host="example.test", target="/ws", subprotocols=("mcp",)))
    client.receive_data(OK_101)
    assert list(client.events()) == [Accepted("mcp", (
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", RFC_ACCEPT),
        ("Sec-WebSocket-Protocol", "mcp")))]
    assert state(client) is State.OPEN
    return client


# ---- a tiny server side, written independently of the codec -----------------------------------

def server_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
                 mask: bytes | None = None, length_bytes: int | None = None) -> bytes:
    """Encode one frame as a server would (unmasked unless `mask`), allowing illegal shapes."""
    n = len(payload)
    if length_bytes is None:
        length_bytes = 0 if n < 126 else 2 if n < 65536 else 8
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    marker = {0: n, 2: 126, 8: 127}[length_bytes]
    head = bytes([first, (0x80 if mask else 0) | marker])
    head += n.to_bytes(length_bytes, "big") if length_bytes else b""
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def decode_client_frames(data: bytes) -> list[tuple[int, bool, bytes, bytes]]:
    """Decode what the client sent, checking it is masked: (opcode, fin, mask, payload) each."""
    frames = []
    pos = 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert b1 & 0x80, "client frames must be masked (RFC 6455 5.1)"
        assert not b0 & 0x70
        n, pos = b1 & 0x7F, pos + 2
        if n in (126, 127):
            size = 2 if n == 126 else 8
            n, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
        mask, pos = data[pos:pos + 4], pos + 4
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[pos:pos + n]))
        pos += n
        frames.append((b0 & 0x0F, bool(b0 & 0x80), mask, payload))
    return frames


# ---- running a byte stream under a chunking --------------------------------------------------

@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    error: tuple[type, int | None, str] | None = None
    sent: bytes = b""
    state: State = State.OPEN


def run(data: bytes, cuts: Sequence[int], *, eof: bool = False, max_size: int = 2**20) -> Outcome:
    """Feed `data` to a freshly opened client, split at the offsets `cuts`."""
    client = opened(max_message_size=max_size)
    out = Outcome()
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(data))), len(data)]
    chunks: list[bytes | None] = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    for chunk in chunks + ([None] if eof else []):
        client.receive_data(chunk)
        try:
            out.events.extend(client.events())
        except ProtocolError as exc:
            out.error = (type(exc), exc.close_code, str(exc))
            out.sent += client.data_to_send()
            assert state(client) is State.CLOSED and client.next_event() is None
            break
        out.sent += client.data_to_send()
    out.state = client.state
    return out


def chunkings(data: bytes) -> Iterator[list[int]]:
    yield []  # whole
    yield list(range(1, len(data)))  # one byte at a time
    step = 1 if len(data) < 4096 else 997  # every offset; a sample of them for 64 KiB
    for k in range(1, len(data), step):
        yield [k]


def masked_close(code: int | None) -> bytes:
    payload = b"" if code is None else code.to_bytes(2, "big")
    return server_frame(Opcode.CLOSE, payload, mask=RFC_MASK)


HELLO = b"Hello"
SNOWMAN = "h\u00e9\u20ac\U0001d11e".encode()  # 1-, 2-, 3- and 4-byte UTF-8 sequences

GOOD: dict[str, tuple[bytes, bool, list[Event], bytes]] = {
    # RFC 6455 5.7: "A single-frame unmasked text message".
    "rfc-unmasked-text": (bytes.fromhex("810548656c6c6f"), False, [TextMessage("Hello")], b""),
    # 5.7: "A fragmented unmasked text message" ("Hel" then "lo").
    "rfc-fragmented": (bytes.fromhex("010348656c") + bytes.fromhex("80026c6f"), False,
                       [TextMessage("Hello")], b""),
    # 5.7: "Unmasked Ping request" and, as our reply, "masked Ping response" (the pong).
    "rfc-ping": (bytes.fromhex("890548656c6c6f"), False, [Ping(HELLO)],
                 bytes.fromhex("8a8537fa213d7f9f4d5158")),
    # 5.7: "256 bytes binary message in a single unmasked frame" (16-bit length).
    "rfc-binary-256": (bytes.fromhex("827e0100") + bytes(range(256)), False,
                       [BinaryMessage(bytes(range(256)))], b""),
    # 5.7: "64KiB binary message in a single unmasked frame" (64-bit length).
    "rfc-binary-64k": (bytes.fromhex("827f0000000000010000") + b"\xab" * 65536, False,
                       [BinaryMessage(b"\xab" * 65536)], b""),
    "ping-between-fragments": (
        server_frame(1, b"Hel", fin=False) + server_frame(9, b"p") + server_frame(0, b"l", fin=False)
        + server_frame(10, b"q") + server_frame(0, b"o"), False,
        [Ping(b"p"), Pong(b"q"), TextMessage("Hello")], server_frame(10, b"p", mask=RFC_MASK)),
    "utf8-split-across-fragments": (
        server_frame(1, SNOWMAN[:2], fin=False) + server_frame(0, SNOWMAN[2:5], fin=False)
        + server_frame(0, SNOWMAN[5:]), False, [TextMessage(SNOWMAN.decode())], b""),
    "empty-messages": (server_frame(1) + server_frame(2) + server_frame(9), False,
                       [TextMessage(""), BinaryMessage(b""), Ping(b"")],
                       server_frame(10, mask=RFC_MASK)),
    "close-with-code": (server_frame(8, b"\x03\xe8bye") + server_frame(1, b"ignored"), False,
                        [CloseConnection(1000, "bye")], masked_close(1000)),
    "close-app-code": (server_frame(8, (4000).to_bytes(2, "big")), False,
                       [CloseConnection(4000, "")], masked_close(4000)),
    "close-without-code": (server_frame(8), False, [CloseConnection(1005, "")], masked_close(None)),
    "drop-mid-frame": (bytes.fromhex("81054865"), True,
                       [CloseConnection(1006, "connection closed without a close frame")], b""),
    "drop-mid-message": (server_frame(1, b"a", fin=False), True,
                         [CloseConnection(1006, "connection closed without a close frame")], b""),
    "drop-after-message": (server_frame(1, b"a"), True,
                           [TextMessage("a"), CloseConnection(1006, "connection closed without a close frame")], b""),
    "json-line": (server_frame(1, b'{"jsonrpc":"2.0","id":0,"result":{}}'), False,
                  [TextMessage('{"jsonrpc":"2.0","id":0,"result":{}}')], b""),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_good_fixtures_give_the_same_events_under_every_chunking(name: str) -> None:
    data, eof, events, sent = GOOD[name]
    for cuts in chunkings(data):
        outcome = run(data, cuts, eof=eof)
        assert outcome.error is None, (name, cuts)
        assert outcome.events == events, (name, cuts)
        assert outcome.sent == sent, (name, cuts)


BAD: dict[str, tuple[bytes, int, list[Event]]] = {
    "reserved-bit": (server_frame(1, HELLO, rsv=4), 1002, []),
    "rsv3": (server_frame(1, HELLO, rsv=1), 1002, []),
    "reserved-opcode": (server_frame(3, b""), 1002, []),
    "reserved-control-opcode": (server_frame(0xB, b""), 1002, []),
    "masked-server-frame": (server_frame(1, HELLO, mask=RFC_MASK), 1002, []),
    "long-ping": (server_frame(9, b"x" * 126), 1002, []),
    "fragmented-ping": (server_frame(9, b"x", fin=False), 1002, []),
    "orphan-continuation": (server_frame(0, b"x"), 1002, []),
    "interleaved-messages": (server_frame(1, b"a", fin=False) + server_frame(2, b"b"), 1002, []),
    "non-minimal-16": (server_frame(1, HELLO, length_bytes=2), 1002, []),
    "non-minimal-64": (server_frame(2, b"z" * 300, length_bytes=8), 1002, []),
    "length-msb-set": (bytes.fromhex("827f8000000000000000"), 1002, []),
    "invalid-utf8": (server_frame(1, b"\xc3\x28"), 1007, []),
    "invalid-utf8-across-fragments": (server_frame(1, b"\xc3", fin=False) + server_frame(0, b"\x28"), 1007, []),
    "truncated-utf8": (server_frame(1, b"ok\xe2\x82"), 1007, []),
    "surrogate-utf8": (server_frame(1, b"\xed\xa0\x80"), 1007, []),
    "close-one-byte": (server_frame(8, b"\x03"), 1002, []),
    "close-bad-reason": (server_frame(8, b"\x03\xe8\xff"), 1007, []),
    "after-a-message": (server_frame(1, b"ok") + server_frame(1, HELLO, rsv=2), 1002, [TextMessage("ok")]),
    "after-a-ping": (server_frame(9, b"p") + server_frame(0, b"x"), 1002, [Ping(b"p")]),
    "too-big": (server_frame(1, b"x" * 101), 1009, []),
    "too-big-when-joined": (server_frame(2, b"x" * 60, fin=False) + server_frame(0, b"y" * 41), 1009, []),
    # the size check reads the header only, so the 1 GiB payload never has to arrive
    "too-big-header-only": (bytes.fromhex("827f0000000040000000"), 1009, []),
}
for _code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535):
    BAD[f"close-code-{_code}"] = (server_frame(8, _code.to_bytes(2, "big")), 1002, [])


@pytest.mark.parametrize("name", list(BAD))
def test_bad_fixtures_fail_with_the_right_close_code_under_every_chunking(name: str) -> None:
    data, code, events = BAD[name]
    whole = run(data, [], max_size=100)
    assert whole.error is not None and whole.error[0] is RemoteProtocolError
    assert whole.error[1] == code
    assert whole.events == events
    # 7.1.7: fail the connection by sending a close frame carrying the code, then stop.
    assert decode_client_frames(whole.sent)[-1][::3] == (Opcode.CLOSE, code.to_bytes(2, "big"))
    assert whole.state is State.CLOSED
    for cuts in chunkings(data):
        assert run(data, cuts, max_size=100) == whole, cuts


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                  1013, 1014, 3000, 4999])
def test_valid_close_codes_are_accepted_and_echoed(code: int) -> None:
    outcome = run(server_frame(8, code.to_bytes(2, "big") + "\u00e9".encode()), [])
    assert outcome.events == [CloseConnection(code, "\u00e9")]
    assert decode_client_frames(outcome.sent) == [(Opcode.CLOSE, True, RFC_MASK, code.to_bytes(2, "big"))]
    assert outcome.state is State.CLOSED


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(set(GOOD) - {"rfc-binary-64k"}) + sorted(BAD)), data=st.data())
def test_random_chunkings_agree_with_whole_feed(name: str, data: st.DataObject) -> None:
    payload = GOOD[name][0] if name in GOOD else BAD[name][0]
    eof = GOOD[name][1] if name in GOOD else False
    cuts = data.draw(st.lists(st.integers(0, len(payload)), max_size=12))
    assert run(payload, cuts, eof=eof, max_size=100 if name in BAD else 2**20) == \
        run(payload, [], eof=eof, max_size=100 if name in BAD else 2**20)


# ---- fuzzing: events or ProtocolError, never anything else -----------------------------------

def feed_everything(client: ClientConnection, chunks: list[bytes], eof: bool) -> list[Event]:
    events: list[Event] = []
    try:
        for chunk in chunks:
            client.receive_data(chunk)
            events.extend(client.events())
            client.data_to_send()
        if eof:
            client.receive_data(None)
            events.extend(client.events())
    except ProtocolError as exc:
        assert isinstance(exc, RemoteProtocolError)
        assert state(client) is State.CLOSED
    return events


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=40), max_size=10), eof=st.booleans())
def test_garbage_frames_give_events_or_protocol_errors(chunks: list[bytes], eof: bool) -> None:
    client = opened(max_message_size=64)
    events = feed_everything(client, chunks, eof)
    assert all(isinstance(e, (TextMessage, BinaryMessage, Ping, Pong, CloseConnection)) for e in events)


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from([b"", b"HTTP/1.1 101 ", OK_101[:40], OK_101[:-2]]),
       chunks=st.lists(st.binary(max_size=40), max_size=8), eof=st.booleans())
def test_garbage_handshake_gives_events_or_protocol_errors(prefix: bytes, chunks: list[bytes],
                                                           eof: bool) -> None:
    client = ClientConnection(random_bytes=fixed_random(), max_handshake_size=200)
    client.send(Request(host="h"))
    feed_everything(client, [prefix, *chunks], eof)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_streams_give_events_or_protocol_errors(data: st.DataObject) -> None:
    stream = bytearray(b"".join(GOOD[n][0] for n in ("rfc-fragmented", "ping-between-fragments",
                                                     "utf8-split-across-fragments", "close-with-code")))
    for _ in range(data.draw(st.integers(1, 4))):
        stream[data.draw(st.integers(0, len(stream) - 1))] = data.draw(st.integers(0, 255))
    feed_everything(opened(max_message_size=1000), [bytes(stream)], data.draw(st.booleans()))


message = st.one_of(st.text(max_size=300).map(lambda t: TextMessage(t)),
                    st.binary(max_size=300).map(lambda b: BinaryMessage(b)))


@settings(max_examples=150, deadline=None)
@given(messages=st.lists(message, max_size=6), data=st.data())
def test_fragmented_messages_with_interleaved_pings_reassemble(messages: list[Event],
                                                              data: st.DataObject) -> None:
    wire = b""
    expected: list[Event] = []
    for msg in messages:
        assert isinstance(msg, (TextMessage, BinaryMessage))
        raw = msg.data.encode("utf-8", "surrogatepass") if isinstance(msg, TextMessage) else msg.data
        try:  # hypothesis text may hold lone surrogates: those are a 1007 case, not this test's
            raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=4)))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
        for i, piece in enumerate(pieces):
            if i > 0 and data.draw(st.booleans()):  # a ping between two fragments (5.4)
                wire += server_frame(9, b"hb")
                expected.append(Ping(b"hb"))
            opcode = (1 if isinstance(msg, TextMessage) else 2) if i == 0 else 0
            wire += server_frame(opcode, piece, fin=i == len(pieces) - 1)
        expected.append(msg)
    outcome = run(wire, data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    assert outcome.error is None
    assert outcome.events == expected
    pongs = decode_client_frames(outcome.sent)
    assert [(op, payload) for op, _, _, payload in pongs] == [(Opcode.PONG, b"hb")] * sum(
        isinstance(e, Ping) for e in expected)


# ---- the opening handshake ----------------------------------------------------------------

def test_accept_key_matches_rfc_example() -> None:
    assert base64.b64encode(NONCE).decode() == RFC_KEY
    assert accept_key(RFC_KEY.encode()) == RFC_ACCEPT


def test_request_carries_every_required_header() -> None:
    client = ClientConnection(random_bytes=fixed_random())
    raw = client.send(Request(host="127.0.0.1:8000", target="/ws?x=1", subprotocols=("mcp",),
                              extra_headers=(("Authorization", "Bearer t"),)))
    assert raw == (b"GET /ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n"
                   b"Authorization: Bearer t\r\n\r\n")
    with pytest.raises(LocalProtocolError, match="once"):
        client.send(Request(host="h"))


@pytest.mark.parametrize("target", ["ws", "/a b", "/x\r\nEvil: 1", ""])
def test_bad_request_targets_are_refused(target: str) -> None:
    with pytest.raises(LocalProtocolError, match="target"):
        ClientConnection().send(Request(host="h", target=target))


def test_random_key_is_16_bytes_and_fresh() -> None:
    keys = []
    for _ in range(2):
        raw = ClientConnection().send(Request(host="h"))
        line = next(x for x in raw.split(b"\r\n") if x.startswith(b"Sec-WebSocket-Key: "))
        keys.append(base64.b64decode(line.split(b": ")[1]))
    assert all(len(k) == 16 for k in keys) and keys[0] != keys[1]


@pytest.mark.parametrize("headers", [(("Sec-WebSocket-Key", "x"),), (("host", "evil"),),
                                     (("X-A", "1\r\nX-B: 2"),), (("X-\u00e9", "1"),),
                                     (("X-A: b", "1"),), (("", "1"),)])
def test_bad_extra_headers_are_refused(headers: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(LocalProtocolError):
        ClientConnection().send(Request(host="h", extra_headers=headers))


def test_handshake_split_at_every_offset_then_a_frame_in_the_same_read() -> None:
    response = (b"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                b"connection: keep-alive, Upgrade\r\nsec-websocket-accept: " + RFC_ACCEPT.encode()
                + b"\r\n\r\n" + server_frame(1, b"first"))
    for k in range(len(response) + 1):
        client = ClientConnection(random_bytes=fixed_random())
        client.send(Request(host="h", subprotocols=("mcp",)))
        events: list[Event] = []
        for chunk in (response[:k], response[k:]):
            client.receive_data(chunk)
            events.extend(client.events())
        assert [type(e) for e in events] == [Accepted, TextMessage], k
        assert isinstance(events[0], Accepted) and events[0].subprotocol is None
        assert events[1] == TextMessage("first")


def response_with(**changes: str | None) -> bytes:
    fields = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": RFC_ACCEPT}
    for key, value in changes.items():
        name = key.replace("_", "-")
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return b"HTTP/1.1 101 OK\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in fields.items()) + b"\r\n"


@pytest.mark.parametrize(("response", "match"), [
    (response_with(Upgrade=None), "Upgrade"),
    (response_with(Upgrade="h2c"), "Upgrade"),
    (response_with(Connection=None), "Connection"),
    (response_with(Sec_WebSocket_Accept=None), "Accept"),
    (response_with(Sec_WebSocket_Accept=base64.b64encode(hashlib.sha1(b"x").digest()).decode()), "Accept"),
    (response_with(Sec_WebSocket_Extensions="permessage-deflate"), "extension"),
    (response_with(Sec_WebSocket_Protocol="graphql-ws"), "subprotocol"),
    (b"HTTP/1.1 1O1 Switching\r\n\r\n", "status line"),
    (b"HTTP/1.1 \xb9\xb2\xb3 Switching\r\n\r\n", "status line"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "status line"),
    (b"HTTP/1.1 101 OK\r\nno colon here\r\n\r\n", "header line"),
    (b"HTTP/1.1 101 OK\r\n folded: x\r\n\r\n", "header line"),
])
def test_bad_101_responses_fail_the_handshake(response: bytes, match: str) -> None:
    client = ClientConnection(random_bytes=fixed_random())
    client.send(Request(host="h", subprotocols=("mcp",)))
    client.receive_data(response)
    with pytest.raises(RemoteProtocolError, match=match) as info:
        client.next_event()
    assert info.value.close_code is None  # no WebSocket yet, so no close frame (4.1)
    assert state(client) is State.CLOSED and client.data_to_send() == b""


def test_non_101_waits_for_the_body_then_quotes_it() -> None:
    response = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 24\r\n\r\nHost header not allowed."
    client = ClientConnection(random_bytes=fixed_random())
    client.send(Request(host="h"))
    client.receive_data(response[:-10])
    assert client.next_event() is None  # body incomplete: wait rather than lose the snippet
    client.receive_data(response[-10:])
    with pytest.raises(RemoteProtocolError, match="HTTP 403 Forbidden: Host header not allowed"):
        client.next_event()


@pytest.mark.parametrize("head", [b"HTTP/1.1 404 Not Found\r\n\r\nnope",
                                  b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n4\r\nnope\r\n"])
def test_non_101_without_length_is_reported_at_end_of_stream(head: bytes) -> None:
    client = ClientConnection(random_bytes=fixed_random())
    client.send(Request(host="h"))
    client.receive_data(head)
    assert client.next_event() is None
    client.receive_data(None)
    with pytest.raises(RemoteProtocolError, match=r"HTTP (404|500) .*nope"):
        client.next_event()


def test_chunked_non_101_is_reported_at_its_last_chunk() -> None:
    client = ClientConnection(random_bytes=fixed_random())
    client.send(Request(host="h"))
    client.receive_data(b"HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n")
    assert client.next_event() is None
    client.receive_data(b"0\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="HTTP 502 Bad Gateway: 3 bad 0"):
        client.next_event()


def test_oversized_or_dropped_handshake() -> None:
    client = ClientConnection(random_bytes=fixed_random(), max_handshake_size=100)
    client.send(Request(host="h"))
    client.receive_data(b"HTTP/1.1 101 OK\r\n" + b"X-Pad: y\r\n" * 20)
    with pytest.raises(RemoteProtocolError, match="exceeds 100 bytes"):
        client.next_event()
    client = ClientConnection(random_bytes=fixed_random())
    client.send(Request(host="h"))
    client.receive_data(b"HTTP/1.1 101 OK\r\n")
    client.receive_data(None)
    assert list(client.events()) == [CloseConnection(1006, "connection closed without a close frame")]
    assert state(client) is State.CLOSED


# ---- sending ---------------------------------------------------------------------------------

def test_rfc_masked_hello_is_exactly_what_we_send() -> None:
    # RFC 6455 5.7: "A single-frame masked text message": 0x81 0x85 0x37 0xfa 0x21 0x3d ...
    assert opened().send(TextMessage("Hello")) == bytes.fromhex("818537fa213d7f9f4d5158")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70001])
def test_length_encodings_round_trip_through_the_server_decoder(size: int) -> None:
    payload = os.urandom(size)
    raw = opened().send(BinaryMessage(payload))
    assert raw[1] & 0x7F == (size if size < 126 else 126 if size < 65536 else 127)
    assert decode_client_frames(raw) == [(Opcode.BINARY, True, RFC_MASK, payload)]


def test_every_frame_gets_its_own_mask() -> None:
    masks = [bytes([i, 255 - i, i ^ 0x5A, 7]) for i in range(5)]
    client = ClientConnection(random_bytes=fixed_random(masks))
    client.send(Request(host="h"))
    client.receive_data(OK_101.replace(b"Sec-WebSocket-Protocol: mcp\r\n", b""))
    list(client.events())
    raw = b"".join(client.send(TextMessage("same")) for _ in range(3)) + client.send(Ping(b"p"))
    frames = decode_client_frames(raw)
    assert [f[2] for f in frames] == masks[:4]
    assert [f[3] for f in frames] == [b"same"] * 3 + [b"p"]


def test_sending_in_the_wrong_state_or_shape_is_a_local_error() -> None:
    fresh = ClientConnection()
    with pytest.raises(LocalProtocolError, match="CONNECTING"):
        fresh.send(TextMessage("too early"))
    client = opened()
    for bad in (Ping(b"x" * 126), CloseConnection(1006), CloseConnection(999),
                CloseConnection(1000, "r" * 124), Accepted(None, ()), TextMessage("\ud800")):
        with pytest.raises(LocalProtocolError):
            client.send(bad)
    assert state(client) is State.OPEN  # a refused send changes nothing


def test_local_close_handshake_and_idempotent_close() -> None:
    client = opened()
    raw = client.send(CloseConnection(1000, "done"))
    assert decode_client_frames(raw) == [(Opcode.CLOSE, True, RFC_MASK, b"\x03\xe8done")]
    assert state(client) is State.LOCAL_CLOSING
    assert client.send(CloseConnection(1000)) == b""  # a second close sends nothing
    with pytest.raises(LocalProtocolError):
        client.send(TextMessage("after close"))
    # 7.1.1/5.5.1: data still arrives until the peer's close; no pong after our close.
    client.receive_data(server_frame(1, b"late") + server_frame(9, b"p") + server_frame(8, b"\x03\xe8"))
    assert list(client.events()) == [TextMessage("late"), Ping(b"p"), CloseConnection(1000, "")]
    assert client.data_to_send() == b""
    assert state(client) is State.CLOSED
    client.receive_data(server_frame(1, b"ignored"))
    client.receive_data(None)
    assert list(client.events()) == []  # already closed: no 1006 on top
    assert opened().send(CloseConnection(1005)) == bytes.fromhex("8880") + RFC_MASK


def test_remote_close_moves_to_closed_when_the_echo_is_handed_out() -> None:
    client = opened()
    client.receive_data(server_frame(8, b"\x0f\xa0bye"))
    assert list(client.events()) == [CloseConnection(4000, "bye")]
    assert state(client) is State.REMOTE_CLOSING
    assert client.send(CloseConnection(1000)) == b""  # the echo is already queued
    assert decode_client_frames(client.data_to_send()) == [(Opcode.CLOSE, True, RFC_MASK, b"\x0f\xa0")]
    assert state(client) is State.CLOSED
    closing = ClientConnection()
    assert closing.send(CloseConnection()) == b"" and state(closing) is State.CLOSED


# ---- a client/server pair in memory ------------------------------------------------------------

class TinyServer:
    """Just enough of a server to talk to the client: answers the handshake, echoes messages."""

    def __init__(self) -> None:
        self.inbox: list[tuple[int, bytes]] = []

    def handshake(self, request: bytes) -> bytes:
        lines = request.decode().split("\r\n")
        assert lines[0] == "GET /ws HTTP/1.1" and request.endswith(b"\r\n\r\n")
        headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
        assert headers["upgrade"] == "websocket" and headers["sec-websocket-version"] == "13"
        digest = hashlib.sha1(headers["sec-websocket-key"].encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
        return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + base64.b64encode(digest.digest())
                + b"\r\nSec-WebSocket-Protocol: mcp\r\n\r\n")

    def receive(self, data: bytes) -> bytes:
        reply = b""
        for opcode, fin, _, payload in decode_client_frames(data):
            assert fin
            self.inbox.append((opcode, payload))
            if opcode in (1, 2):  # echo, fragmented in two to exercise reassembly
                reply += server_frame(opcode, payload[:3], fin=False) + server_frame(0, payload[3:])
            elif opcode == 8:
                reply += server_frame(8, payload[:2])
        return reply


def test_client_and_tiny_server_talk_in_memory() -> None:
    client, server = ClientConnection(), TinyServer()
    client.receive_data(server.handshake(client.send(Request(host="h", target="/ws",
                                                             subprotocols=("mcp",)))))
    assert [type(e) for e in client.events()] == [Accepted]
    text = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"\u00e9\u20ac"}}'
    client.receive_data(server.receive(client.send(TextMessage(text)) + client.send(BinaryMessage(b"\x00\x01\xff"))))
    client.receive_data(server_frame(9, b"are you there"))
    assert list(client.events()) == [TextMessage(text), BinaryMessage(b"\x00\x01\xff"),
                                     Ping(b"are you there")]
    server.receive(client.data_to_send())
    assert server.inbox[-1] == (Opcode.PONG, b"are you there")
    client.receive_data(server.receive(client.send(CloseConnection(1000))))
    assert list(client.events()) == [CloseConnection(1000, "")]
    assert state(client) is State.CLOSED and server.inbox[-1] == (Opcode.CLOSE, b"\x03\xe8")


# ---- the state machine under random action sequences (h2-style) ---------------------------------

def feed(client: ClientConnection, data: bytes) -> list[Event]:
    client.receive_data(data)
    return list(client.events())


ALLOWED = {(State.OPEN, State.LOCAL_CLOSING), (State.OPEN, State.REMOTE_CLOSING),
           (State.LOCAL_CLOSING, State.CLOSED), (State.REMOTE_CLOSING, State.CLOSED),
           (State.OPEN, State.CLOSED)}
ACTIONS: dict[str, Callable[[ClientConnection], object]] = {
    "send-text": lambda c: c.send(TextMessage("t")),
    "send-ping": lambda c: c.send(Ping(b"")),
    "send-close": lambda c: c.send(CloseConnection(1000)),
    "flush": lambda c: c.data_to_send(),
    "recv-text": lambda c: feed(c, server_frame(1, b"t")),
    "recv-ping": lambda c: feed(c, server_frame(9, b"p")),
    "recv-close": lambda c: feed(c, server_frame(8, b"\x03\xe8")),
    "recv-bad": lambda c: feed(c, server_frame(1, b"x", rsv=1)),
}


@settings(max_examples=300, deadline=None)
@given(actions=st.lists(st.sampled_from(sorted(ACTIONS)), max_size=12), drop=st.booleans())
def test_state_moves_only_along_the_diagram(actions: list[str], drop: bool) -> None:
    client = opened()
    for action in actions:
        before = state(client)
        try:
            ACTIONS[action](client)
        except LocalProtocolError:
            assert action.startswith("send-") and before is not State.OPEN
        except RemoteProtocolError:
            assert action == "recv-bad"
        assert state(client) is before or (before, state(client)) in ALLOWED, (action, before)
    if drop and state(client) is not State.CLOSED:
        before = state(client)
        client.receive_data(None)
        events = list(client.events())
        if before is State.REMOTE_CLOSING:  # the peer's close was already reported
            assert events == []
        else:
            assert len(events) == 1 and isinstance(events[0], CloseConnection)
            assert events[0].code == 1006
        assert state(client) is State.CLOSED


def test_drop_after_server_close_before_echo_is_sent_does_not_crash() -> None:
    client = opened()
    client.receive_data(server_frame(8, (1000).to_bytes(2, "big")))
    assert list(client.events()) == [CloseConnection(1000, "")]
    client.receive_data(None)  # the TCP connection drops before we wrote our echo
    list(client.events())
    client.data_to_send()  # must not raise: the connection is simply closed
    assert client.state is State.CLOSED
