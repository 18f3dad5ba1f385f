"""A tiny scripted HTTP/1.1 server on 127.0.0.1 for wire-level transport tests.

Each test supplies a handler that receives the parsed request and writes raw response bytes,
so the tests can construct exactly the shapes the MCP wire notes describe (chunked 202s,
priming events, CR-only line ends, replies racing the POST's own response...). Constructed,
not recorded.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Awaitable, Callable


@dataclass
class Seen:
    """One request the server received."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    reader: asyncio.StreamReader = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


class FakeHTTPServer:
    """`async with FakeHTTPServer(handler) as server:`; `server.base` is http(s)://127.0.0.1:<port>."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.requests: list[Seen] = []
        self.base = ""
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FakeHTTPServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        port = self._server.sockets[0].getsockname()[1]
        self.base = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            seen = Seen(method, target, headers, body, reader)
            self.requests.append(seen)
            await self.handler(seen, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._connections.discard(task)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (with an extension, which clients must ignore)."""
    return b"%x;ext=1\r\n%s\r\n" % (len(data), data) if data else b"0\r\nTrailer-Field: x\r\n\r\n"


def head(status: str, headers: dict[str, str] | None = None, chunked: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def result_for(message: dict[str, Any], version: str = "2025-06-18") -> dict[str, Any] | None:
    """What a minimal MCP server answers (None for notifications)."""
    method = message.get("method")
    if "id" not in message:
        return None
    if method == "initialize":
        result: Any = {"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": {"name": "fake"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
    elif method == "tools/call":
        result = {"content": [{"type": "text", "text": json.dumps(message["params"]["arguments"])}]}
    else:
        result = {}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}
