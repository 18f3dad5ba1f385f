"""WebSocketTransport against the `websockets` library's server on 127.0.0.1 (a dev dependency).

The peer is an independent RFC 6455 implementation, so these tests check our framing against
someone else's: fragmented replies, pings from the server, close codes both ways, messages near
and over the size limit, drops, refusals, timeouts and TLS with SNI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from agentkit_min.errors import MCPConnectionError, MCPTimeoutError, RemoteProtocolError, UsageError
from agentkit_min.mcp.ws import WebSocketTransport

Handler = Callable[[ServerConnection], Awaitable[None]]


def run(coro: Coroutine[Any, Any, None], timeout: float = 15.0) -> None:
    asyncio.run(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def ws_server(handler: Handler, scheme: str = "ws", **kwargs: Any) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol("mcp")], compression=None,
                     ping_interval=None, close_timeout=2, **kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"{scheme}://127.0.0.1:{port}/ws"


def note(method: str, **params: Any) -> str:
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params})


async def recv(transport: WebSocketTransport) -> dict[str, Any]:
    return await asyncio.wait_for(transport.receive(), 5)


def test_round_trip_with_fragmented_reply_headers_and_subprotocol() -> None:
    seen: dict[str, Any] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen.update(path=ws.request.path, auth=ws.request.headers.get("Authorization"),
                    subprotocol=ws.subprotocol, extensions=ws.request.headers.get("Sec-WebSocket-Extensions"))
        text = await ws.recv()
        assert isinstance(text, str)
        await ws.send([text[:7], text[7:20], text[20:]])  # one message, three frames
        await ws.wait_closed()
        seen["close"] = ws.close_code

    async def main() -> None:
        async with ws_server(handler) as url:
            transport = WebSocketTransport(url + "?session=1", headers={"Authorization": "Bearer t0k"})
            await transport.connect()
            message = {"jsonrpc": "2.0", "id": 0, "method": "echo", "params": {"text": "h\u00e9\u20ac\U0001d11e" * 50}}
            await transport.send(message)
            reply = await recv(transport)
            assert reply == message
            await transport.close()
            await transport.close()  # idempotent
            await asyncio.sleep(0.05)
        assert seen == {"path": "/ws?session=1", "auth": "Bearer t0k", "subprotocol": "mcp",
                        "extensions": None, "close": 1000}

    run(main())


def test_server_ping_is_answered_with_a_pong() -> None:
    async def handler(ws: ServerConnection) -> None:
        waiter = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(waiter, 5)  # resolves only if our pong carries the payload
        await ws.send(note("pong-received", latency=latency))
        await ws.wait_closed()

    async def main() -> None:
        async with ws_server(handler) as url:
            transport = WebSocketTransport(url)
            await transport.connect()
            reply = await recv(transport)
            assert reply["method"] == "pong-received" and reply["params"]["latency"] >= 0
            await transport.close()

    run(main())


@pytest.mark.parametrize(("code", "reason"), [(1001, "going away"), (4001, "custom"), (1000, "")])
def test_server_close_code_reaches_receive_and_is_echoed(code: int, reason: str) -> None:
    echoed: list[int | None] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(note("before-close"))
        await ws.close(code, reason)
        echoed.append(ws.close_code)  # the code of the close frame we sent back

    async def main() -> None:
        async with ws_server(handler) as url:
            transport = WebSocketTransport(url)
            await transport.connect()
            assert (await recv(transport))["method"] == "before-close"  # delivered before the end
            with pytest.raises(MCPConnectionError, match=f"code {code}") as info:
                await recv(transport)
            assert reason in str(info.value)
            with pytest.raises(MCPConnectionError):  # and again: the end is sticky
                await recv(transport)
            with pytest.raises(MCPConnectionError):
                await transport.send({"jsonrpc": "2.0", "method": "late"})
            await transport.close()
        assert echoed == [code]

    run(main())


def test_message_near_the_limit_passes_and_over_the_limit_closes_with_1009() -> None:
    limit = 256 * 1024
    envelope = len(note("big", data=""))
    close_codes: list[int | None] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(note("big", data="x" * (limit - envelope)))  # exactly `limit` bytes
        await ws.send(note("big", data="x" * (limit - envelope + 1)))  # one byte over
        await ws.wait_closed()
        close_codes.append(ws.close_code)

    async def main() -> None:
        async with ws_server(handler, max_size=None) as url:
            transport = WebSocketTransport(url, max_message_size=limit)
            await transport.connect()
            first = await recv(transport)
            assert len(first["params"]["data"]) == limit - envelope
            with pytest.raises(MCPConnectionError, match="1009"):
                await recv(transport)
            await transport.close()
        assert close_codes == [1009]

    run(main())


def test_large_send_waits_for_the_socket_and_round_trips() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(await ws.recv())
        await ws.wait_closed()

    async def main() -> None:
        async with ws_server(handler, max_size=None) as url:
            transport = WebSocketTransport(url)
            await transport.connect()
            big = {"jsonrpc": "2.0", "id": 7, "method": "big", "params": {"blob": "\u00e9" * (3 * 2**20)}}
            await transport.send(big)  # 6 MiB: far over the write buffer's high-water mark
            assert await recv(transport) == big
            await transport.close()

    run(main())


def test_invalid_json_is_a_protocol_error_and_the_connection_lives_on() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("{not json")
        await ws.send("[1, 2]")  # a batch: not one JSON-RPC message
        await ws.send(note("fine").encode())  # a binary frame holding JSON is accepted too
        await ws.wait_closed()

    async def main() -> None:
        async with ws_server(handler) as url:
            transport = WebSocketTransport(url)
            await transport.connect()
            with pytest.raises(RemoteProtocolError, match="JSON"):
                await recv(transport)
            with pytest.raises(RemoteProtocolError, match="batch"):
                await recv(transport)
            assert (await recv(transport))["method"] == "fine"
            await transport.close()

    run(main())


def test_dropped_connection_fails_pending_and_later_receives() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await asyncio.sleep(0.1)  # let the client's receive() start waiting
        ws.transport.abort()  # TCP reset, no close frame

    async def main() -> None:
        async with ws_server(handler) as url:
            transport = WebSocketTransport(url)
            await transport.connect()
            pending = asyncio.create_task(transport.receive())
            await transport.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call"})
            with pytest.raises(MCPConnectionError, match="dropped|failed"):
                await asyncio.wait_for(pending, 5)
            with pytest.raises(MCPConnectionError):
                await recv(transport)
            await transport.close()

    run(main())


def test_unreachable_refused_and_not_connected() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def main() -> None:
        transport = WebSocketTransport(f"ws://127.0.0.1:{port}/ws?token=secret")
        with pytest.raises(MCPConnectionError) as info:
            await transport.receive()
        assert "not connected" in str(info.value)
        with pytest.raises(MCPConnectionError) as info:
            await transport.connect()
        assert f"ws://127.0.0.1:{port}/ws" in str(info.value)
        assert "secret" not in str(info.value)  # the query may carry a token: never echoed
        with pytest.raises(MCPConnectionError):
            await recv(transport)

        def refuse(connection: ServerConnection, request: Request) -> Response:
            return connection.respond(HTTPStatus.FORBIDDEN, "Invalid Host header\n")

        async with ws_server(lambda ws: ws.wait_closed(), process_request=refuse) as url:
            with pytest.raises(MCPConnectionError, match="HTTP 403 Forbidden: Invalid Host header"):
                await WebSocketTransport(url).connect()

    run(main())


def test_handshake_timeout_and_a_server_that_hangs_up() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        await reader.read(1000)  # returns when the client gives up and closes
        writer.close()

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        writer.close()

    async def main() -> None:
        for callback, error, pattern in ((silent, MCPTimeoutError, "timed out after 0.3s"),
                                         (hang_up, MCPConnectionError, "during the handshake")):
            server = await asyncio.start_server(callback, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            transport = WebSocketTransport(f"ws://127.0.0.1:{port}/ws", timeout=0.3)
            with pytest.raises(error, match=pattern):
                await transport.connect()
            await transport.close()
            server.close()
            await server.wait_closed()
        # cancelled from outside mid-handshake: the socket is released and receive() fails fast
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        transport = WebSocketTransport(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ws")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(transport.connect(), 0.2)
        with pytest.raises(MCPConnectionError, match="cancelled"):
            await recv(transport)
        await transport.close()
        server.close()
        await server.wait_closed()

    run(main())


def test_bad_arguments_raise_usage_errors_early() -> None:
    for url in ("http://127.0.0.1/ws", "ws:///ws", "ws://user:pw@h/ws", "ws://h:99999/ws", "127.0.0.1:80"):
        with pytest.raises(UsageError):
            WebSocketTransport(url)
    with pytest.raises(UsageError):
        WebSocketTransport("ws://h/ws", timeout=0)
    transport = WebSocketTransport("ws://[::1]:8080/ws")
    assert transport.url == "ws://[::1]:8080/ws"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a throwaway certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def test_wss_verifies_the_certificate_and_sends_sni(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, ctx: names.append(name)

    async def handler(ws: ServerConnection) -> None:
        await ws.send(await ws.recv())
        await ws.wait_closed()

    async def main() -> None:
        async with ws_server(handler, scheme="wss", ssl=server_context) as url:
            url = url.replace("127.0.0.1", "localhost")
            with pytest.raises(MCPConnectionError, match="CERTIFICATE_VERIFY_FAILED|certificate verify"):
                await WebSocketTransport(url).connect()  # default context: self-signed is refused
            trusted = ssl.create_default_context(cafile=str(cert))
            transport = WebSocketTransport(url, ssl_context=trusted)
            await transport.connect()
            await transport.send({"jsonrpc": "2.0", "id": "s", "method": "secure"})
            assert (await recv(transport))["id"] == "s"
            await transport.close()
        assert names and set(names) == {"localhost"}

    run(main())


def test_bad_headers_are_refused_before_connecting() -> None:
    for headers in ({"X-Bad": "a\r\nInjected: 1"}, {"Sec-WebSocket-Key": "mine"}, {"X-\u00e9": "1"}):
        with pytest.raises(UsageError, match="header"):
            WebSocketTransport("ws://127.0.0.1:9/ws", headers=headers)
