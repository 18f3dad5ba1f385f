"""MCP over WebSocket: `WebSocketTransport`, the asyncio IO around the codec in `websocket.py`.

Not in the MCP spec, but AgentKit offers `{"type": "ws", url}` and the Python SDK 1.x serves it
at `ws://HOST:PORT/ws`, subprotocol `mcp`, one JSON-RPC message per text frame. This module owns
the socket (asyncio streams; `ssl` default context and SNI for `wss://`); every protocol
decision is the codec's. One reader task feeds the codec, writes what it owes (pongs, close
echoes) and queues messages; however the connection ends, the queue ends with an
MCPConnectionError, so `receive()` raises instead of hanging. `close()` sends 1000 and waits
briefly. Not here: proxies, redirects, cookies, reconnection, compression.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from typing import Any
from urllib.parse import urlsplit

from ..errors import (
    LocalProtocolError, MCPConnectionError, MCPTimeoutError, ProtocolError, RemoteProtocolError, UsageError,
)
from .base import MessageQueue
from .jsonrpc import parse_message
from .websocket import Accepted, BinaryMessage, ClientConnection, CloseConnection, Request, State, TextMessage

__all__ = ["WebSocketTransport"]

logger = logging.getLogger(__name__)

_READ_SIZE = 256 * 1024
_CLOSE_TIMEOUT = 5.0  # longest wait for the server's close echo and end of stream


class WebSocketTransport:
    """One MCP server connection over WebSocket (`ws://` or `wss://`).

    Example:
        >>> transport = WebSocketTransport("ws://127.0.0.1:8000/ws")
        >>> transport.url
        'ws://127.0.0.1:8000/ws'
    """

    def __init__(self, url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0,
                 max_message_size: int = 16 * 2**20, ssl_context: ssl.SSLContext | None = None) -> None:
        """Check the arguments; nothing connects until `connect()`.

        Args:
            url: `ws://host[:port]/path` or `wss://...`.
            headers: extra handshake headers (e.g. Authorization). Never logged.
            timeout: seconds allowed for connecting plus the handshake, and for each send.
            max_message_size: largest message accepted; a larger one closes with 1009.
            ssl_context: for `wss://`; default `ssl.create_default_context()` (verifies certs).

        Raises:
            UsageError: the URL is not a ws/wss URL with a host, or an argument is invalid.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise UsageError(f"WebSocket MCP url must look like ws://host:port/path or wss://..., got {url!r}")
        if parts.username is not None or parts.password is not None:
            raise UsageError("put WebSocket credentials in headers, not in the url")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(f"WebSocket MCP url has an invalid port: {url!r}") from None
        if not timeout > 0 or not max_message_size > 0:
            raise UsageError("timeout and max_message_size must be positive")
        if headers is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise UsageError("WebSocket headers must be a dict of strings to strings")
        self.url = url
        self.timeout = timeout
        self._secure = parts.scheme == "wss"
        self._host = parts.hostname
        self._port = port or (443 if self._secure else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host  # IPv6 literal
        self._request = Request(
            host=host if port is None else f"{host}:{port}",
            target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            subprotocols=("mcp",), extra_headers=tuple((headers or {}).items()))
        try:  # bad headers are the caller's mistake: say so now, not after connecting
            ClientConnection().send(self._request)
        except LocalProtocolError as exc:
            raise UsageError(f"invalid WebSocket handshake header: {exc}") from None
        # Errors and logs name the server without the query string, which may carry a token.
        self._label = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self._ssl = ssl_context
        self._codec = ClientConnection(max_message_size=max_message_size)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._inbox = MessageQueue()
        self._closed = False

    async def connect(self) -> None:
        """Open TCP (and TLS), then run the opening handshake, all within `timeout`.

        Raises:
            MCPConnectionError: unreachable, TLS failure, or the server refused the upgrade
                (the message names the URL and, for an HTTP answer, its status and body).
            MCPTimeoutError: no handshake within `timeout` seconds.
        """
        if self._writer is not None or self._closed:
            raise MCPConnectionError(f"WebSocket transport to {self._label} was already used")
        try:
            await asyncio.wait_for(self._handshake(), self.timeout)
        except (OSError, ProtocolError, asyncio.TimeoutError) as exc:
            error = (MCPTimeoutError(f"WebSocket handshake with {self._label} timed out after {self.timeout}s")
                     if isinstance(exc, asyncio.TimeoutError)
                     else MCPConnectionError(f"cannot open WebSocket to MCP server {self._label}: {exc}"))
            self._end(error)  # so a receive() after the failure raises too
            self._abort()
            raise error from None
        except BaseException:  # cancelled from outside: do not leak the socket
            self._end(MCPConnectionError(f"connecting to {self._label} was cancelled"))
            self._abort()
            raise
        logger.debug("WebSocket to %s open", self._label)
        self._task = asyncio.create_task(self._read_loop())

    async def _handshake(self) -> None:
        context = None
        if self._secure:
            context = self._ssl or ssl.create_default_context()
        self._reader, self._writer = await asyncio.open_connection(
            self._host, self._port, ssl=context, server_hostname=self._host if context else None)
        self._writer.write(self._codec.send(self._request))
        while True:
            event = self._codec.next_event()  # one at a time: frames after the 101 stay buffered
            if isinstance(event, Accepted):
                return
            if isinstance(event, CloseConnection):
                raise ConnectionResetError("the server closed the connection during the handshake")
            data = await self._reader.read(_READ_SIZE)
            self._codec.receive_data(data or None)

    async def _read_loop(self) -> None:
        assert self._reader is not None
        codec, ending = self._codec, None
        try:
            while True:
                for event in codec.events():
                    if isinstance(event, (TextMessage, BinaryMessage)):
                        self._deliver(event.data)
                    elif isinstance(event, CloseConnection):
                        ending = self._describe_close(event)
                self._flush()  # pongs (5.5.2) and the close echo (5.5.1)
                if codec.state is State.CLOSED:
                    break
                codec.receive_data(await self._reader.read(_READ_SIZE) or None)
        except RemoteProtocolError as exc:
            self._flush()  # 7.1.7: the close frame that fails the connection
            ending = MCPConnectionError(f"MCP server {self._label} broke the WebSocket protocol "
                                        f"(closed with {exc.close_code}): {exc}")
        except OSError as exc:
            ending = MCPConnectionError(f"WebSocket connection to {self._label} failed: {exc}")
        self._end(ending or MCPConnectionError(f"WebSocket connection to {self._label} ended"))
        # 7.1.1: the server should close TCP first; give it a moment, then close ours anyway.
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(self._drain_to_eof(), min(self.timeout, _CLOSE_TIMEOUT))
        self._abort()

    async def _drain_to_eof(self) -> None:
        assert self._reader is not None
        while await self._reader.read(_READ_SIZE):
            pass

    def _describe_close(self, event: CloseConnection) -> MCPConnectionError:
        if event.code == 1006:
            return MCPConnectionError(f"WebSocket connection to {self._label} dropped (no close frame)")
        reason = f": {event.reason}" if event.reason else ""
        return MCPConnectionError(f"MCP server {self._label} closed the WebSocket (code {event.code}{reason})")

    def _deliver(self, data: str | bytes) -> None:
        try:
            self._inbox.put(parse_message(data))
        except RemoteProtocolError as exc:  # surfaced by receive(); the connection lives on
            self._inbox.put(exc)

    def _flush(self) -> None:
        out = self._codec.data_to_send()
        if out and self._writer is not None and not self._writer.is_closing():
            self._writer.write(out)

    def _end(self, error: MCPConnectionError) -> None:
        if not self._inbox.failed:  # the first reason wins
            logger.debug("WebSocket to %s ended: %s", self._label, error)
        self._inbox.fail(error)

    def _abort(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON-RPC message as one text frame.

        Raises:
            MCPConnectionError: not connected, closing or closed, or the write failed.
            MCPTimeoutError: the socket did not accept the bytes within `timeout`.
        """
        if ended := self._inbox.failed:  # the reason (a close code, a violation), not just "not open"
            raise type(ended)(str(ended))
        if self._writer is None or self._writer.is_closing():
            raise MCPConnectionError(f"WebSocket connection to {self._label} is not open")
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        try:
            self._writer.write(self._codec.send(TextMessage(text)))
            if self._writer.transport.get_write_buffer_size():  # only a backlog can block
                await asyncio.wait_for(self._writer.drain(), self.timeout)
        except asyncio.TimeoutError:
            raise MCPTimeoutError(f"sending to {self._label} timed out after {self.timeout}s") from None
        except LocalProtocolError as exc:
            if self._codec.state is State.OPEN:
                raise  # the message itself is unsendable (a lone surrogate): the caller's bug
            raise MCPConnectionError(f"WebSocket connection to {self._label} is closing") from None
        except OSError as exc:
            raise MCPConnectionError(f"cannot send to {self._label}: {exc}") from None

    async def receive(self) -> dict[str, Any]:
        """The next JSON-RPC message from the server.

        Raises:
            MCPConnectionError: the connection is closed or dropped (again on every later call).
            RemoteProtocolError: one text frame was not a JSON-RPC message; later calls go on.
        """
        if self._writer is None and not self._inbox.failed:
            raise MCPConnectionError(f"WebSocket transport to {self._label} is not connected")
        return await self._inbox.get()

    async def close(self) -> None:
        """Send close 1000, wait (briefly) for the echo and end of stream, release. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._end(MCPConnectionError(f"WebSocket transport to {self._label} was closed"))
        if self._writer is not None and not self._writer.is_closing():
            with contextlib.suppress(OSError, LocalProtocolError):
                self._writer.write(self._codec.send(CloseConnection(1000)))
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), min(self.timeout, _CLOSE_TIMEOUT))
            except (asyncio.TimeoutError, Exception):
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        self._abort()
        if self._writer is not None:
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(self._writer.wait_closed(), 1.0)
