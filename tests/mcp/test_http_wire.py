"""Wire-level tests of the HTTP transports against a scripted server (shapes from the MCP
wire notes: TypeScript-style endpoints, chunked 202s, priming events, CR line ends, session
loss answered with 400, resumption with Last-Event-ID). Constructed, not recorded."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import pytest

from agentkit_min.errors import MCPConnectionError, RemoteProtocolError
from agentkit_min.mcp import MCPClient, _http
from agentkit_min.mcp.http_sse import SSETransport
from agentkit_min.mcp.streamable_http import StreamableHTTPTransport

from .fake_http import FakeHTTPServer, Seen, chunk, head, result_for

T = TypeVar("T")


def run(coroutine: Awaitable[T], timeout: float = 10) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, timeout)
    return asyncio.run(bounded())


def test_legacy_sse_typescript_shapes_and_reply_before_202() -> None:
    stream: list[asyncio.StreamWriter] = []

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        if request.method == "GET":
            writer.write(head("200 OK", {"Content-Type": "text/event-stream"}))
            writer.write(chunk(b"event: endpoint\ndata: /message?sessionId=6f9d-uuid\n\n"))
            await writer.drain()
            stream.append(writer)
            await request.reader.read()  # hold the stream open until the client hangs up
            return
        reply = result_for(request.json())
        if reply is not None:  # the answer goes out on the stream before the POST gets its 202
            stream[0].write(chunk(b"event: message\ndata: " + json.dumps(reply).encode() + b"\n\n"))
            await stream[0].drain()
        writer.write(head("202 Accepted") + chunk(b"Accepted") + chunk(b""))

    async def main() -> tuple[list[Seen], Any]:
        async with FakeHTTPServer(handler) as server:
            async with MCPClient(SSETransport(f"{server.base}/sse", headers={"Authorization": "Bearer t"})) as client:
                result = await client.call_tool("echo", {"k": "v"})
            return server.requests, result

    requests, result = run(main())
    assert result["content"] == [{"type": "text", "text": '{"k": "v"}'}]
    posts = [r for r in requests if r.method == "POST"]
    assert {r.target for r in posts} == {"/message?sessionId=6f9d-uuid"}  # used exactly as given
    assert all(r.headers["authorization"] == "Bearer t" for r in requests)
    assert all(r.headers["content-type"] == "application/json" for r in posts)
    assert requests[0].headers["accept"] == "text/event-stream"


@pytest.mark.parametrize("endpoint,status", [(b"http://example.com/steal", "200 OK"), (b"", "404 Not Found")])
def test_legacy_sse_refuses_foreign_endpoint_and_non_streams(endpoint: bytes, status: str) -> None:
    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, {"Content-Type": "text/event-stream" if endpoint else "text/plain"}))
        writer.write(chunk(b"event: endpoint\ndata: " + endpoint + b"\n\n" if endpoint else b"no such thing"))
        writer.write(chunk(b""))
        await writer.drain()
        await request.reader.read()

    async def main() -> None:
        async with FakeHTTPServer(handler) as server:
            transport = SSETransport(f"{server.base}/sse", timeout=5)
            try:
                await transport.connect()
            finally:
                await transport.close()

    with pytest.raises(MCPConnectionError, match="another origin|404"):
        run(main())


def sse_event(message: dict[str, Any], event_id: str, eol: bytes = b"\n") -> bytes:
    return eol.join([b"event: message", b"id: " + event_id.encode(), b"data: " + json.dumps(message).encode(), b"", b""])


def test_streamable_http_headers_priming_cr_lines_and_resumption() -> None:
    pending_call: list[dict[str, Any]] = []

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        if request.method == "GET" and "last-event-id" not in request.headers:
            writer.write(head("405 Method Not Allowed", {"Content-Length": "0"}, chunked=False))
        elif request.method == "GET":  # resumption: replay the call's answer
            writer.write(head("200 OK", {"Content-Type": "text/event-stream"}))
            reply = result_for(pending_call[0])
            assert reply is not None
            writer.write(chunk(sse_event(reply, "e2")) + chunk(b""))
        elif request.method == "DELETE":
            writer.write(head("200 OK", {"Content-Length": "0"}, chunked=False))
        else:
            message = request.json()
            reply = result_for(message)
            if reply is None:
                writer.write(head("202 Accepted", {"Content-Length": "0"}, chunked=False))
            elif message["method"] == "tools/call":  # priming event, then the stream ends early
                pending_call.append(message)
                writer.write(head("200 OK", {"Content-Type": "text/event-stream"}))
                writer.write(chunk(b"id: e1\nretry: 10\ndata: \n\n"))
            else:
                headers = {"Content-Type": "text/event-stream; charset=utf-8", "Mcp-Session-Id": "sess-1"}
                writer.write(head("200 OK", headers) + chunk(b": keepalive\r\r"))
                writer.write(chunk(sse_event(reply, "e0", b"\r")) + chunk(b""))
        await writer.drain()

    async def main() -> tuple[list[Seen], Any]:
        async with FakeHTTPServer(handler) as server:
            async with MCPClient(StreamableHTTPTransport(f"{server.base}/mcp", headers={"X-K": "1"})) as client:
                result = await client.call_tool("echo", {"a": 1})
            return server.requests, result

    requests, result = run(main())
    assert result["content"] == [{"type": "text", "text": '{"a": 1}'}]
    methods = [(r.method, r.json().get("method") if r.body else None) for r in requests]
    assert methods == [("POST", "initialize"), ("POST", "notifications/initialized"), ("GET", None),
                       ("POST", "tools/call"), ("GET", None), ("DELETE", None)]
    initialize, *later = requests
    assert initialize.headers["accept"] == "application/json, text/event-stream"
    assert "mcp-session-id" not in initialize.headers and "mcp-protocol-version" not in initialize.headers
    for request in later:
        assert request.headers["mcp-session-id"] == "sess-1" and request.headers["x-k"] == "1"
        assert request.headers["mcp-protocol-version"] == "2025-06-18"
    assert requests[4].headers["last-event-id"] == "e1"


def test_streamable_http_400_session_loss_reinitializes_once() -> None:
    sessions = iter(["s1", "s2"])

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        message = request.json() if request.body else {}
        if request.method != "POST":
            writer.write(head("405 Method Not Allowed", {"Content-Length": "0"}, chunked=False))
        elif message.get("method") == "tools/list" and request.headers.get("mcp-session-id") == "s1":
            body = b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}'
            writer.write(head("400 Bad Request", {"Content-Type": "application/json"}) + chunk(body) + chunk(b""))
        elif (reply := result_for(message)) is None:
            writer.write(head("202 Accepted", {"Content-Length": "0"}, chunked=False))
        else:
            extra = {"Mcp-Session-Id": next(sessions)} if message["method"] == "initialize" else {}
            body = json.dumps(reply).encode()
            writer.write(head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body)),
                                         **extra}, chunked=False) + body)
        await writer.drain()

    async def main() -> tuple[list[Seen], list[dict[str, Any]], str | None]:
        async with FakeHTTPServer(handler) as server:
            transport = StreamableHTTPTransport(f"{server.base}/mcp")
            async with MCPClient(transport) as client:
                tools = await client.list_tools()
                return server.requests, tools, transport.session_id

    requests, tools, session = run(main())
    assert [t["name"] for t in tools] == ["echo"] and session == "s2"
    posts = [(r.json().get("method"), r.json().get("id"), r.headers.get("mcp-session-id"))
             for r in requests if r.method == "POST"]
    assert posts == [("initialize", 1, None), ("notifications/initialized", None, "s1"), ("tools/list", 2, "s1"),
                     ("initialize", "agentkit-min-reinitialize-1", None), ("notifications/initialized", None, "s2"),
                     ("tools/list", 2, "s2")]


@pytest.mark.parametrize("response,expected", [
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nT: 1\r\n\r\n", b"hello"),
    (b"HTTP/1.1 200 OK\r\n\r\nhello", b"hello"),  # delimited by the connection closing
])
def test_http_body_framings(response: bytes, expected: bytes) -> None:
    assert run(_raw_exchange(response)) == expected


@pytest.mark.parametrize("response,error", [
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", RemoteProtocolError),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", MCPConnectionError),
    (b"SSH-2.0-OpenSSH\r\n\r\n", RemoteProtocolError),
    (b"", MCPConnectionError),
])
def test_http_malformed_responses(response: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        run(_raw_exchange(response))


async def _raw_exchange(response: bytes) -> bytes:
    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(response)
        await writer.drain()

    async with FakeHTTPServer(handler) as server:
        reply = await _http.request("GET", f"{server.base}/", timeout=5)
        return await reply.read()


def json_mcp_handler() -> Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]:
    """A Streamable HTTP server in JSON-reply mode (no GET stream)."""
    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        reply = result_for(request.json()) if request.method == "POST" else None
        if reply is None:
            status = "202 Accepted" if request.method == "POST" else "405 Method Not Allowed"
            writer.write(head(status, {"Content-Length": "0"}, chunked=False))
        else:
            body = json.dumps(reply).encode()
            writer.write(head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body))},
                              chunked=False) + body)
        await writer.drain()
    return handler


def test_https_verifies_the_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throwaway certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    async def main() -> list[dict[str, Any]]:
        async with FakeHTTPServer(json_mcp_handler(), tls=tls) as server:
            assert server.base.startswith("https://")
            async with MCPClient(StreamableHTTPTransport(f"{server.base}/mcp", timeout=5), name="tls") as client:
                return await client.list_tools()

    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))  # trust nothing: must fail
    with pytest.raises(MCPConnectionError, match="tls.*CERTIFICATE_VERIFY_FAILED"):
        run(main())
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust our throwaway CA: must work
    assert [t["name"] for t in run(main())] == ["echo"]
