"""The test MCP server over WebSocket, with the official MCP Python SDK 1.x (dev dependency).

Usage: python ws_mcp_server.py

Serves the same FastMCP server (same tools, same paginated listing) as `mcp_server.py` next to
it, but through the SDK's `mcp.server.websocket.websocket_server` at `/ws` under Starlette and
uvicorn (subprotocol `mcp`). Binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout
before serving. Runs until killed.
"""

from __future__ import annotations

import importlib.util
import socket
import warnings
from pathlib import Path
from typing import Any

import uvicorn
from mcp.server.websocket import websocket_server
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send


def _load_shared_server() -> Any:
    # Loaded by path: this file runs as a script, and the tools must stay defined in one place.
    spec = importlib.util.spec_from_file_location("mcp_server", Path(__file__).with_name("mcp_server.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.server


class MCPWebSocketEndpoint:
    """A raw ASGI endpoint (a class, so Starlette passes scope/receive/send through unchanged)."""

    def __init__(self, fastmcp: Any) -> None:
        self.lowlevel = fastmcp._mcp_server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with warnings.catch_warnings():  # deprecated in the SDK (removed in 2.0); still what we test
            warnings.simplefilter("ignore", DeprecationWarning)
            session = websocket_server(scope, receive, send)
        async with session as (read_stream, write_stream):
            await self.lowlevel.run(read_stream, write_stream, self.lowlevel.create_initialization_options())


def main() -> None:
    app = Starlette(routes=[WebSocketRoute("/ws", MCPWebSocketEndpoint(_load_shared_server()))])
    # IPPROTO_TCP, not the default 0: asyncio disables Nagle only on sockets whose proto is
    # IPPROTO_TCP (base_events._set_nodelay), and accepted sockets inherit it. With 0 every
    # reply written in two parts waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue while uvicorn starts
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")).run(sockets=[sock])


if __name__ == "__main__":
    main()
