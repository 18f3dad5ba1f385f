"""The transport contract every MCP transport implements.

A transport moves whole JSON-RPC 2.0 messages (already-decoded dicts) between this process and
one MCP server. It knows nothing about ids, methods or sessions beyond what its wire format
requires (e.g. Streamable HTTP's `Mcp-Session-Id`); request/response matching lives in
`jsonrpc.py` and `client.py`.

Transports in this package: `stdio.StdioTransport`, `http_sse.SSETransport` (legacy HTTP+SSE,
MCP 2024-11-05), `streamable_http.StreamableHTTPTransport` (MCP 2025-03-26 and later) and
`ws.WebSocketTransport` (not in the MCP spec; served by the Python SDK 1.x).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """One connection to one MCP server, carrying JSON-RPC messages as dicts."""

    async def connect(self) -> None:
        """Open the connection.

        Raises:
            MCPConnectionError: the server cannot be reached (the message names the URL or command).
        """
        ...

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON-RPC message (request, notification or response)."""
        ...

    async def receive(self) -> dict[str, Any]:
        """Return the next JSON-RPC message from the server.

        Raises:
            MCPConnectionError: the connection is closed or dropped.
            RemoteProtocolError: the server sent bytes that are not a JSON-RPC message.
        """
        ...

    async def close(self) -> None:
        """Close the connection and release its resources. Idempotent."""
        ...
