"""The package's one HTTP/1.1 response parser (`agentkit_min._http1`), sans-IO, and its three
readers agreeing on it: the model providers' `Reader`, the MCP client (mcp/_http.py) and the
WebSocket handshake.

Every fixture runs whole, byte at a time and split at every offset, and must give the same head,
the same body and the same bytes left over (what follows the body), or the same typed error.
Responses are constructed by hand from RFC 9112's framings, not recorded.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import time
from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min._http1 import Head, Reader, body_length, body_pieces, take_head
from agentkit_min.errors import MCPConnectionError, RemoteProtocolError
from agentkit_min.mcp import _http
from agentkit_min.mcp.websocket import ClientConnection, Request

from .mcp.fake_http import FakeHTTPServer, Seen


class Bad(Exception):
    """The error the tests ask the parser to raise (each reader passes its own)."""


def splits(data: bytes) -> Iterator[list[bytes]]:
    """The data whole, byte at a time, and cut in two at every offset."""
    yield [data]
    yield [data[i:i + 1] for i in range(len(data))]
    for k in range(1, len(data)):
        yield [data[:k], data[k:]]


def parse(chunks: list[bytes], method: str = "GET") -> tuple[Head, bytes, bytes]:
    """Feed `chunks` as a reader would: (head, body, bytes left after the body)."""
    buf, feed = bytearray(), iter(chunks)
    while (head := take_head(buf, 1024, Bad)) is None:
        buf += next(feed)
    length, body = body_length(method, head, Bad), bytearray()
    for piece in body_pieces(buf, length, Bad):
        if piece:
            body += piece
        elif (data := next(feed, None)) is not None:
            buf += data
        elif length == -1:  # the end of the connection ends such a body
            break
        else:
            raise EOFError("cut short")
    return head, bytes(body), bytes(buf) + b"".join(feed)


GOOD = {  # response bytes -> (status, headers, body, left over)
    "content-length, then the next response": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloHTTP/1.1",
        200, {"content-length": "5", "x-a": "1, 2"}, b"hello", b"HTTP/1.1"),
    "chunked, extensions, trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"3;a=b\r\nhel\r\n2 \r\nlo\r\nA\r\n0123456789\r\n0\r\nT: 1\r\nU: 2\r\n\r\nnext",
        200, {"transfer-encoding": "gzip, chunked"}, b"hello0123456789", b"next"),
    "chunked, bare LF line ends in the body": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n", 200,
        {"transfer-encoding": "chunked"}, b"x", b""),
    "folded field, repeated Content-Length": (
        b"HTTP/1.0 201 Created\r\nX-F: a\r\n \tb\r\nContent-Length: 2, 2\r\n\r\nok", 201,
        {"x-f": "a b", "content-length": "2, 2"}, b"ok", b""),
    "until the connection closes": (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of\r\n\r\nit", 200,
        {"content-type": "text/plain"}, b"all of\r\n\r\nit", b""),
    "204: no body whatever the headers say": (
        b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\nHTTP/1.1", 204, {"content-length": "9"}, b"",
        b"HTTP/1.1"),
}


@pytest.mark.parametrize("name", GOOD)
def test_every_framing_gives_the_same_result_under_every_split(name: str) -> None:
    data, status, headers, body, left = GOOD[name]
    for chunks in splits(data):
        head, got, rest = parse(chunks)
        assert (head.status, head.headers, got, rest) == (status, headers, body, left), chunks


def test_fields_keep_their_names_as_sent_and_the_reason() -> None:
    head, _, _ = parse([b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX: a\r\n b\r\n\r\n"])
    assert (head.version, head.reason) == ("HTTP/1.1", "Switching Protocols")
    assert head.fields == [("Upgrade", "websocket"), ("X", "a b")]


BAD = {  # response bytes -> what the error says
    b"SSH-2.0-OpenSSH\r\n\r\n": "status line",
    b"HTTP/1.1 2000 OK\r\n\r\n": "status line",
    b"HTTP/1.1 \xb2\xb2\xb2 OK\r\n\r\n": "status line",  # digits in latin-1, not ASCII ones
    b"HTTP/2 200\r\n\r\n": "status line",
    b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n": "header line",
    b"HTTP/1.1 200 OK\r\n folded: first\r\n\r\n": "header line",
    b"HTTP/1.1 200 OK\r\nName : space\r\n\r\n": "header line",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 1100: "exceeds 1024 bytes",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n": "Transfer-Encoding",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n": "Content-Length",
    b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n": "Content-Length",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n": "chunk size",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\n": "chunk size",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+1\r\n": "chunk size",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n": "CRLF",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 70_000: "chunk or trailer line",
}


@pytest.mark.parametrize("data", BAD, ids=[v for v in BAD.values()])
def test_every_malformed_response_is_the_callers_error_under_every_split(data: bytes) -> None:
    for chunks in splits(data) if len(data) < 2000 else [[data]]:
        with pytest.raises(Bad, match=BAD[data]):
            parse(chunks)


@pytest.mark.parametrize("data", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
                                  b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                                  b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n"])
def test_a_body_cut_short_is_left_to_its_reader_to_report(data: bytes) -> None:
    for chunks in splits(data):
        with pytest.raises(EOFError):
            parse(chunks)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.lists(st.binary(max_size=30), max_size=6))
def test_garbage_gives_a_response_or_the_callers_error(prefix: bytes, chunks: list[bytes]) -> None:
    try:
        parse([b"HTTP/1.1 200 OK\r\n" + prefix, *chunks])
    except (Bad, EOFError, StopIteration):  # StopIteration: the head never ended
        pass
    try:
        parse([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + prefix, *chunks])
    except (Bad, EOFError):
        pass


# ---- the three readers agree -------------------------------------------------------------

def read_with_reader(data: bytes) -> tuple[int, dict[str, str], bytes]:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(data)
        theirs.shutdown(socket.SHUT_WR)
        status, headers, pieces, _, _ = Reader(ours, time.monotonic() + 5).exchange("GET", "/", {}, b"")
        return status, headers, b"".join(pieces)


async def read_with_mcp(data: bytes) -> tuple[int, dict[str, str], bytes]:
    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    async with FakeHTTPServer(handler) as server:
        response = await _http.request("GET", f"{server.base}/", timeout=5)
        return response.status, response.headers, await response.read(timeout=5)


@pytest.mark.parametrize("name", GOOD)
def test_the_provider_reader_and_the_mcp_client_read_alike(name: str) -> None:
    data, status, headers, body, _ = GOOD[name]
    assert read_with_reader(data) == (status, headers, body)
    assert asyncio.run(asyncio.wait_for(read_with_mcp(data), 10)) == (status, headers, body)


@pytest.mark.parametrize(("data", "mcp_error", "match"), [
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", RemoteProtocolError, "chunk size.*from http"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", RemoteProtocolError, "status line.*from http"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", MCPConnectionError, "closed mid-body"),
])
def test_each_reader_raises_its_own_error_types(data: bytes, mcp_error: type[Exception], match: str) -> None:
    with pytest.raises((ConnectionError, http.client.HTTPException)):  # the pool: all ConnectionError
        read_with_reader(data)
    with pytest.raises(mcp_error, match=match):
        asyncio.run(asyncio.wait_for(read_with_mcp(data), 10))


def test_the_websocket_handshake_parses_its_refusal_with_the_same_parser() -> None:
    client = ClientConnection(random_bytes=lambda n: bytes(n))
    client.send(Request(host="h"))
    client.receive_data(b"HTTP/1.1 403 Forbidden\r\nX: a\r\n b\r\ncontent-length: 4\r\n\r\nnope")
    with pytest.raises(RemoteProtocolError, match="HTTP 403 Forbidden: nope"):
        client.next_event()
    client = ClientConnection(random_bytes=lambda n: bytes(n))
    client.send(Request(host="h"))
    client.receive_data(b"HTTP/1.1 101 OK\r\nName : v\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="malformed header line"):
        client.next_event()
