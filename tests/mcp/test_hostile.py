"""A remote MCP server controls the bytes: every attack here ends at once with a typed error.

Oversized SSE events and stdio lines, per-server timeouts from `mcp_servers`, a 413 from a real
server, cancellation reaching the server, a connection dying under a send (no stray asyncio errors),
and WebSocket protocol violations reported with their close code. Servers bind 127.0.0.1; the
hostile peers are constructed, not recorded. Every test is bounded by an outer timeout.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import json
import time
import warnings
from typing import Any, Awaitable, TypeVar

import pytest

from agentkit_min.errors import MCPConnectionError, MCPTimeoutError, RemoteProtocolError, UsageError
from agentkit_min.mcp import MCPClient, open_tools, transport_from_config
from agentkit_min.mcp.http_sse import SSETransport
from agentkit_min.mcp.sse import SSEDecoder
from agentkit_min.mcp.ws import WebSocketTransport

from .fake_http import FakeHTTPServer, Seen, head, result_for
from .test_client import Peer, Reply, ok, silent

T = TypeVar("T")


def run(coroutine: Awaitable[T], timeout: float = 30) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, timeout)
    return asyncio.run(bounded())


# -- SSE: an event's size is capped, not only a line's ------------------------------------------

def test_sse_event_data_is_capped_per_event() -> None:
    decoder = SSEDecoder(max_event_size=100)
    assert [e.data for e in decoder.feed(b"data: 0123456789\n" * 9 + b"\n")] == ["\n".join(["0123456789"] * 9)]
    for _ in range(50):  # many small events: the cap is per event, never cumulative
        assert len(decoder.feed(b"data: " + b"x" * 90 + b"\n\n")) == 1
    with pytest.raises(RemoteProtocolError, match="over 100 characters"):
        for _ in range(20):  # bounded: the 10th line is past the cap
            decoder.feed(b"data: 0123456789\n")


def test_default_cap_stops_an_endless_event_before_it_grows_past_16_mib() -> None:
    decoder, fed, line = SSEDecoder(), 0, b"data: " + b"x" * 1017 + b"\n"  # 1 KiB lines, no blank one
    with pytest.raises(RemoteProtocolError, match="SSE event data over 16777216"):
        for _ in range(20 * 1024 // 64):  # at most 20 MiB, in 64 KiB chunks
            decoder.feed(line * 64)
            fed += 64 * len(line)
    assert 16 * 2**20 - 2**16 <= fed <= 17 * 2**20


def test_an_sse_server_streaming_one_endless_event_fails_connect_at_once() -> None:
    async def endless(seen: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", {"Content-Type": "text/event-stream"}, chunked=False))
        for _ in range(20 * 16):  # at most 20 MiB, then the server gives up
            writer.write(b"data: " + b"x" * 65530 + b"\n")
            await writer.drain()

    async def main() -> float:
        async with FakeHTTPServer(endless) as server:
            started = time.monotonic()
            with pytest.raises(MCPConnectionError, match="malformed: SSE event data over"):
                await SSETransport(server.base + "/sse", timeout=30).connect()
            return time.monotonic() - started

    assert run(main()) < 20  # reported when the cap is hit, not at the 30 s timeout


# -- per-server timeout from mcp_servers ---------------------------------------------------------

def test_a_server_timeout_beside_its_name_bounds_each_request() -> None:
    async def never_answers_calls(seen: Seen, writer: asyncio.StreamWriter) -> None:
        message = seen.json() if seen.body else {}
        if message.get("method") == "tools/call":
            await asyncio.sleep(60)  # a stuck tool: only the client's timeout ends the wait
        reply = result_for(message) if seen.method == "POST" else None
        body = json.dumps(reply).encode() if reply else b""
        status = "200 OK" if reply else "202 Accepted" if seen.method == "POST" else "405 Method Not Allowed"
        writer.write(head(status, {"Content-Type": "application/json", "Content-Length": str(len(body))},
                          chunked=False) + body)
        await writer.drain()

    async def main() -> float:
        async with FakeHTTPServer(never_answers_calls) as server:
            config = {"type": "streamable-http", "url": server.base + "/mcp"}
            async with open_tools([{"name": "slow", "transport": config, "timeout": 0.5}], timeout=60) as tools:
                started = time.monotonic()
                with pytest.raises(MCPTimeoutError, match="'slow' did not answer tools/call within 0.5 s"):
                    await tools[0].handler({"text": "x"}, None)  # type: ignore[arg-type]
                return time.monotonic() - started

    assert 0.4 < run(main()) < 10  # the server's own 0.5 s, not open_tools' 60 s


@pytest.mark.parametrize(("server", "match"), [
    ({"name": "s", "transport": {"type": "sse", "url": "http://127.0.0.1:1/sse", "timeout": 5}},
     "put 'timeout' beside 'name'"),
    ({"name": "s", "transport": {"type": "sse", "url": "http://127.0.0.1:1/sse"}, "timeout": "5"},
     "'timeout' must be a positive number"),
    ({"name": "s", "transport": {"type": "sse", "url": "http://127.0.0.1:1/sse"}, "timeout": 0}, "positive"),
    ({"name": "s", "transport": {"type": "sse", "url": "http://127.0.0.1:1/sse"}, "timeout": True}, "positive"),
    ({"name": "s", "transport": {"type": "sse", "url": "http://127.0.0.1:1/sse"}, "timout": 5},
     r"does not take \['timout'\]"),
])
def test_mcp_server_timeout_is_validated(server: dict[str, Any], match: str) -> None:
    async def main() -> None:
        async with open_tools([server]):
            pass

    with pytest.raises(UsageError, match=match):
        run(main())


# -- a 413 (any non-2xx) reports the status and the server's message -------------------------

@pytest.mark.parametrize("kind", ["streamable-http", "sse"])
def test_a_body_over_the_servers_limit_reports_413_and_the_session_lives_on(
        kind: str, sse_url: str, streamable_http_url: str) -> None:
    config = {"type": kind, "url": streamable_http_url if kind == "streamable-http" else sse_url}

    async def main() -> Any:
        async with MCPClient(transport_from_config(config, timeout=20), name="big", timeout=20) as client:
            with pytest.raises(MCPConnectionError, match="'big'.*answered 413: Request body too large"):
                await client.call_tool("echo", {"text": "x" * 5_000_000})  # the SDK's limit is 4 MiB
            ok_big = await client.call_tool("echo", {"text": "y" * 2_000_000})  # 100 Continue, then sent
            return ok_big["content"][0]["text"], await client.call_tool("echo", {"text": "small"})

    big, small = run(main())
    assert big == "y" * 2_000_000 and small["content"][0]["text"] == "small"


# -- cancellation is sent to the server ----------------------------------------------------------

class SlowNotifying(Peer):
    """A peer whose notifications take a moment to send (as over a real connection)."""

    async def send(self, message: dict[str, Any]) -> None:
        if message.get("method") == "notifications/cancelled":
            await asyncio.sleep(0.1)
        await super().send(message)


def test_cancelling_an_in_flight_call_sends_notifications_cancelled() -> None:
    peer = SlowNotifying(silent)

    async def main() -> None:
        async with MCPClient(peer, name="srv") as client:
            call = asyncio.create_task(client.call_tool("slow", {}))
            await asyncio.sleep(0.05)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        # The block closed right away; the notification still went out before the close.

    run(main())
    request = next(m for m in peer.sent if m.get("method") == "tools/call")
    cancelled = [m for m in peer.sent if m.get("method") == "notifications/cancelled"]
    assert [m["params"] for m in cancelled] == [{"requestId": request["id"], "reason": "cancelled"}]
    assert "id" not in cancelled[0] and peer.closed == 1


# -- a dying connection leaves no stray asyncio errors -----------------------------------------

class Dying(Peer):
    """The connection drops while a request is being written: the reader fails first, then the send."""

    async def send(self, message: dict[str, Any]) -> None:
        if message.get("method") == "tools/call":
            self.inbox.fail(MCPConnectionError("connection reset by peer"))
            await asyncio.sleep(0.02)  # the client's reader sees the drop and fails the waiting call
            raise MCPConnectionError("write failed: connection reset by peer")
        await super().send(message)


def test_a_send_failing_on_a_dying_connection_leaves_no_unretrieved_future(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: seen.append(context))
        for _ in range(5):
            client = MCPClient(Dying(silent), name="dying")
            await client.connect()
            with pytest.raises(MCPConnectionError, match="'dying'.*connection reset"):
                await client.call_tool("x", {})
            await client.close()
            del client
            gc.collect()  # an unretrieved future reports itself when collected
            await asyncio.sleep(0)

    with caplog.at_level("ERROR", "asyncio"):
        run(main())
    assert seen == [] and "never retrieved" not in caplog.text


# -- WebSocket protocol violations are reported at once, with the close code --------------------

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
VIOLATIONS = {  # what the server sends in reply to tools/call -> the close code we must report
    "1 TB length": (b"\x81\x7f" + (2**40).to_bytes(8, "big"), 1009),
    "invalid UTF-8": (b"\x81\x02\xff\xfe", 1007),
    "fragmented ping": (b"\x09\x00", 1002),
    "reserved opcode": (b"\x83\x00", 1002),
}


def _text_frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    return b"\x81" + (bytes([len(data)]) if len(data) < 126 else b"\x7e" + len(data).to_bytes(2, "big")) + data


async def _read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    size = b1 & 0x7F
    if size >= 126:
        size = int.from_bytes(await reader.readexactly(2 if size == 126 else 8), "big")
    mask = await reader.readexactly(4)
    return b0 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(size)))


def _violating_server(bad: bytes) -> Any:
    """A constructed WebSocket MCP server: a valid handshake and initialize, then `bad` bytes."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Protocol: mcp\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            for _ in range(10):  # initialize, initialized, tools/call: bounded
                opcode, data = await _read_client_frame(reader)
                message = json.loads(data) if opcode == 1 else {}
                if message.get("method") == "initialize":
                    writer.write(_text_frame(ok(message, {"protocolVersion": "2025-06-18", "capabilities": {},
                                                          "serverInfo": {"name": "bad"}})))
                elif message.get("method") == "tools/call":
                    writer.write(bad)  # then stay connected: the client must not wait for us
                await writer.drain()
            await asyncio.sleep(30)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
    return serve


@pytest.mark.parametrize("kind", list(VIOLATIONS))
def test_websocket_violations_fail_the_call_at_once_with_the_close_code(kind: str) -> None:
    bad, code = VIOLATIONS[kind]

    async def main() -> tuple[float, str, str, str]:
        server = await asyncio.start_server(_violating_server(bad), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = WebSocketTransport(f"ws://127.0.0.1:{port}/ws", timeout=30)
        try:
            async with MCPClient(transport, name="ws", timeout=30) as client:
                started = time.monotonic()
                with pytest.raises(MCPConnectionError) as first:
                    await client.call_tool("x", {})
                took = time.monotonic() - started
                with pytest.raises(MCPConnectionError) as later:
                    await client.call_tool("x", {})
                with pytest.raises(MCPConnectionError) as sent:
                    await transport.send({"jsonrpc": "2.0", "method": "notifications/x"})
                return took, str(first.value), str(later.value), str(sent.value)
        finally:
            server.close()

    took, first, later, sent = run(main())
    assert took < 5  # at once, not at the 30 s timeout
    for message in (first, later, sent):
        assert f"broke the WebSocket protocol (closed with {code})" in message, message
    assert "not open" not in sent


# -- stdio: a line over the cap ends the session, and the child's pipes still close ---------------

_FLOODER = """
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("method") == "initialize":
        sys.stdout.write('{"jsonrpc": "2.0", "id": %d, "result": {"pad": "%s"}}\\n' % (msg["id"], "x" * 1_000_000))
        sys.stdout.flush()
"""


def test_a_stdio_line_over_the_cap_is_a_typed_error_and_leaves_no_open_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server blocks writing a 1 MB line (over a 1 KiB cap here, 64 MiB by default): the call
    fails with the cap named, and closing still reaps the process and closes its pipes (they were
    left open, then reported at garbage collection once the loop was gone)."""
    import sys

    from agentkit_min.mcp import jsonrpc, stdio

    monkeypatch.setattr(stdio, "NDJSONDecoder", lambda: jsonrpc.NDJSONDecoder(1024))
    server = {"name": "flood", "timeout": 10, "transport": {"type": "stdio", "command": sys.executable,
                                                           "args": ["-c", _FLOODER]}}

    async def connect() -> None:
        async with open_tools([server]):
            pass

    started = time.monotonic()
    with pytest.raises(MCPConnectionError, match="line longer than 1024 bytes"):
        run(connect())
    assert time.monotonic() - started < 5  # not the 10 s timeout
    with warnings.catch_warnings():  # an unclosed subprocess transport warns at collection: an error
        warnings.simplefilter("error", ResourceWarning)  # (pytest fails on the unraisable it becomes)
        gc.collect()
