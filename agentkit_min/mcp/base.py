"""The transport contract every MCP transport implements, and what they share.

A transport moves whole JSON-RPC 2.0 messages (decoded dicts) to and from one MCP server; it
knows ids and sessions only as far as its wire format requires (Streamable HTTP's
`Mcp-Session-Id`). Matching requests to responses is `jsonrpc.py`'s and `client.py`'s job.
Transports: `stdio`, `http_sse` (legacy HTTP+SSE, MCP 2024-11-05), `streamable_http` (MCP
2025-03-26 and later) and `ws` (not in the MCP spec; served by the Python SDK 1.x).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Iterable, Protocol, Union, runtime_checkable

from ..errors import MCPConnectionError, ProtocolError

__all__ = ["MessageQueue", "Transport", "cancel_all"]


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended, whatever it ends with."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


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


class _End:
    """Marks the end of a MessageQueue (a class, so mypy can tell it from a message)."""


class MessageQueue:
    """The inbox a transport's reader tasks fill and `Transport.receive` drains.

    Messages come out in the order they were put, then the connection error that ended the
    stream, raised again on every later `get`, so nothing waiting on it can hang. A queued
    ProtocolError (one malformed message) is raised by its `get` alone; the stream goes on.
    """

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Union[dict[str, Any], ProtocolError, _End]] = asyncio.Queue()
        self._error: MCPConnectionError | None = None

    @property
    def failed(self) -> MCPConnectionError | None:
        """The error given to `fail` (truthy), or None while the stream is open."""
        return self._error

    def put(self, message: dict[str, Any] | ProtocolError) -> None:
        """Queue a message or a malformed message's error (dropped once the queue has failed)."""
        if self._error is None:
            self._queue.put_nowait(message)

    def fail(self, error: MCPConnectionError) -> None:
        """End the stream with `error`, after the messages already queued. First call wins."""
        if self._error is None:
            self._error = error
            self._queue.put_nowait(_End())

    async def get(self) -> dict[str, Any]:
        """The next message.

        Raises:
            MCPConnectionError: the stream ended (a fresh copy of the error given to `fail`).
        """
        if self._error is not None and self._queue.empty():
            raise type(self._error)(str(self._error))
        item = await self._queue.get()
        if isinstance(item, _End):
            assert self._error is not None
            raise type(self._error)(str(self._error))
        if isinstance(item, ProtocolError):
            raise item
        return item
