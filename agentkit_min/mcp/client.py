"""An MCP client over any `Transport`: handshake, requests with timeouts, server requests.

MCP 2025-06-18 "Lifecycle" (initialize, `notifications/initialized`), `ping`, `tools/list`
(following `nextCursor`) and `tools/call`. A background task reads every message: responses
resolve the waiting call (error objects raise `MCPRemoteError`), server requests are answered at
once (see `JSONRPCSession.answer`), and a drop fails every waiting call with
`MCPConnectionError`. Not here: resources, prompts, sampling, elicitation, progress, logging.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any, Mapping

from .. import __version__
from ..errors import MCPConnectionError, MCPError, MCPRemoteError, MCPTimeoutError, ProtocolError, UsageError
from ..trace import traced
from .base import Transport, cancel_all
from .jsonrpc import ErrorResponse, JSONRPCSession, Notification, Request, Response

__all__ = ["MCPClient", "PROTOCOL_VERSION", "SUPPORTED_PROTOCOL_VERSIONS"]

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = "2025-06-18"
"""The version we offer in `initialize`."""
SUPPORTED_PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Versions we accept back (what we use is the same in all of them)."""

_MAX_PAGES = 10_000  # a server repeating cursors forever must not loop us forever


class MCPClient:
    """A connection to one MCP server. Use as `async with MCPClient(transport) as client:`."""

    def __init__(
        self, transport: Transport, *, name: str = "mcp", client_name: str = "agentkit-min", timeout: float = 30.0
    ) -> None:
        """Wrap a transport (nothing happens until `connect`).

        Args:
            transport: an unconnected transport (see `transport_from_config`).
            name: the server's name, used in every error message.
            client_name: our `clientInfo.name` in the handshake.
            timeout: default seconds for connecting and for each request.
        """
        self.transport = transport
        self.name = name
        self.client_name = client_name
        self.timeout = timeout
        self.protocol_version: str | None = None
        self.server_info: dict[str, Any] = {}
        self.server_capabilities: dict[str, Any] = {}
        self.instructions: str | None = None
        self._session = JSONRPCSession()
        self._waiting: dict[int | str, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._answers: set[asyncio.Task[None]] = set()
        self._error: MCPConnectionError | None = None
        self._closed = False

    async def __aenter__(self) -> MCPClient:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect the transport, start reading and run the `initialize` handshake.

        Raises:
            MCPConnectionError: the server cannot be reached or dropped (names the server).
            MCPTimeoutError: no answer within the timeout.
            MCPError: the server speaks a protocol version we do not.
            UsageError: the client was already connected or closed (make a new one).
        """
        if self._reader is not None or self._closed:
            raise UsageError(f"MCPClient for {self.name!r} was already connected; create a new client")
        try:
            try:
                await asyncio.wait_for(self.transport.connect(), self.timeout)
            except asyncio.TimeoutError:
                raise MCPTimeoutError(f"MCP server {self.name!r}: connecting took longer than {self.timeout} s") from None
            except MCPConnectionError as exc:
                raise type(exc)(f"MCP server {self.name!r}: {exc}") from None
            self._reader = asyncio.create_task(self._read_loop())
            await self.initialize()
        except BaseException:
            await self.close()
            raise

    async def initialize(self) -> dict[str, Any]:
        """The handshake: `initialize`, check the version, then `notifications/initialized`."""
        result = await self.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": self.client_name, "version": __version__},
        })
        if not isinstance(result, dict):
            raise MCPError(f"MCP server {self.name!r}: initialize result is not an object")
        version = result.get("protocolVersion")
        if version not in SUPPORTED_PROTOCOL_VERSIONS:
            raise MCPError(
                f"MCP server {self.name!r} answered protocol version {version!r}; agentkit-min speaks "
                f"{', '.join(SUPPORTED_PROTOCOL_VERSIONS)}. Use a server that supports one of them."
            )
        self.protocol_version = version
        self.server_info = result.get("serverInfo") or {}
        self.server_capabilities = result.get("capabilities") or {}
        self.instructions = result.get("instructions")
        await self.notify("notifications/initialized")
        return result

    async def request(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Send a request and return its `result`.

        Raises:
            MCPRemoteError: the server answered with a JSON-RPC error object.
            MCPConnectionError: the connection is gone or dropped while waiting.
            MCPTimeoutError: no answer within `timeout` (default: the client's).
        """
        return await traced("mcp", method, self._request, method, params, timeout, fields={"server": self.name})

    async def _request(self, method: str, params: dict[str, Any] | None, timeout: float | None) -> Any:
        if self._error is not None:
            raise type(self._error)(str(self._error))
        limit = self.timeout if timeout is None else timeout
        request_id, message = self._session.request(method, params)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            return await asyncio.wait_for(self._send_and_wait(message, future), limit)
        except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
            # MCP "Cancellation": a timed-out or cancelled request is cancelled at the server too.
            self._session.forget(request_id)
            timed_out = isinstance(exc, asyncio.TimeoutError)
            if method != "initialize" and self._error is None:
                self._spawn(self._send_quietly(self._session.notification(
                    "notifications/cancelled", {"requestId": request_id, "reason": "timeout" if timed_out else "cancelled"})))
            if not timed_out:
                raise
            raise MCPTimeoutError(f"MCP server {self.name!r} did not answer {method} within {limit} s") from None
        finally:
            self._waiting.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # a drop can fail it after the send already raised: mark it seen

    async def _send_and_wait(self, message: dict[str, Any], future: asyncio.Future[Any]) -> Any:
        try:
            await self.transport.send(message)
        except MCPConnectionError as exc:
            raise type(exc)(f"MCP server {self.name!r}: {exc}") from None
        return await future

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Send a notification."""
        if self._error is not None:
            raise type(self._error)(str(self._error))
        try:
            await asyncio.wait_for(self.transport.send(self._session.notification(method, params)), self.timeout)
        except asyncio.TimeoutError:
            raise MCPTimeoutError(f"MCP server {self.name!r}: sending {method} took longer than {self.timeout} s") from None
        except MCPConnectionError as exc:
            raise type(exc)(f"MCP server {self.name!r}: {exc}") from None

    async def ping(self) -> None:
        """Check the server answers."""
        await self.request("ping")

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool of the server, following `nextCursor` until the last page."""
        tools: list[dict[str, Any]] = []
        cursor: Any = None
        for _ in range(_MAX_PAGES):
            result = await self.request("tools/list", {"cursor": cursor} if cursor is not None else None)
            page = result.get("tools") if isinstance(result, dict) else None
            if not isinstance(page, list):
                raise MCPError(f"MCP server {self.name!r}: tools/list result has no 'tools' list")
            bad: list[Any] = []
            for tool in page:
                (tools if isinstance(tool, dict) and isinstance(tool.get("name"), str) else bad).append(tool)
            if bad:  # skipped, not fatal; said, so that a missing tool is no mystery
                logger.warning("MCP server %r listed %d tool(s) without a string 'name'; skipped: %.200r",
                               self.name, len(bad), bad)
            cursor = result.get("nextCursor")
            if cursor is None:
                return tools
        raise MCPError(f"MCP server {self.name!r}: tools/list still paginating after {_MAX_PAGES} pages")

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Call a tool and return the whole `CallToolResult` (`content`, `isError`, ...)."""
        result = await self.request("tools/call", {"name": name, "arguments": dict(arguments or {})}, timeout=timeout)
        if not isinstance(result, dict):
            raise MCPError(f"MCP server {self.name!r}: tools/call result is not an object")
        return result

    async def _read_loop(self) -> None:
        error: MCPConnectionError
        bad = 0  # consecutive malformed messages; a stream of nothing else is a dead peer
        try:
            while True:
                try:  # one malformed message (e.g. a bad WebSocket text frame) is not fatal
                    message = await self.transport.receive()
                    event = self._session.receive(message)
                    bad = 0
                except ProtocolError as exc:
                    logger.warning("MCP server %r sent an invalid message: %s", self.name, exc)
                    bad += 1
                    if bad >= 100:
                        raise MCPConnectionError(f"100 malformed messages in a row; last: {exc}") from exc
                    continue
                self._dispatch(event)
        except MCPConnectionError as exc:
            error = type(exc)(f"MCP server {self.name!r}: {exc}")
        except Exception as exc:  # a transport bug or malformed stream: still never leave calls hanging
            error = MCPConnectionError(f"MCP server {self.name!r}: connection failed: {exc!r}")
        except asyncio.CancelledError:
            self._fail_all(MCPConnectionError(f"MCP client for {self.name!r} was closed"))
            raise
        self._fail_all(error)

    def _dispatch(self, event: Response | ErrorResponse | Request | Notification | None) -> None:
        if isinstance(event, (Response, ErrorResponse)):
            future = self._waiting.get(event.id) if event.id is not None else None
            if future is None or future.done():
                if isinstance(event, ErrorResponse):
                    logger.warning("MCP server %r: unmatched error %s %s", self.name, event.code, event.message)
                return
            if isinstance(event, Response):
                future.set_result(event.result)
            else:
                future.set_exception(MCPRemoteError(event.code, event.message, event.data))
        elif isinstance(event, Request):
            self._spawn(self._send_quietly(self._session.answer(event)))
        elif isinstance(event, Notification):
            logger.debug("MCP server %r: notification %s", self.name, event.method)

    def _fail_all(self, error: MCPConnectionError) -> None:
        if self._error is None:
            self._error = error
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(type(error)(str(error)))

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(self.transport.send(message), self.timeout)
        except (MCPConnectionError, asyncio.TimeoutError) as exc:
            logger.debug("MCP server %r: could not send %s: %r", self.name, message.get("method", "reply"), exc)

    async def close(self) -> None:
        """Stop reading, fail waiting calls and close the transport. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._answers:  # replies and cancellations still being sent get a moment to go out
                await asyncio.wait(set(self._answers), timeout=min(self.timeout, 1.0))
        finally:  # even when the closing task is cancelled meanwhile: never leak the transport
            self._fail_all(MCPConnectionError(f"MCP client for {self.name!r} was closed"))
            await cancel_all([*self._answers, *([self._reader] if self._reader else [])])
            await self.transport.close()

