"""The Streamable HTTP transport (MCP 2025-03-26 and later, "Transports: Streamable HTTP").

Every message is a POST to one URL (`Accept: application/json, text/event-stream`). A request
is answered with `application/json` or an SSE stream that may carry server requests before the
response; notifications and responses get `202`. Reply streams are read by background tasks,
so a server `ping` can be answered while the call that triggered it is still open.

Sessions: the `Mcp-Session-Id` of the `initialize` reply goes back on every request, with
`MCP-Protocol-Version`. A 404 (Python SDK) or a 400 about the session (TypeScript SDK) on a
request that carried one means the server forgot it: we re-initialize once and retry. After
`notifications/initialized` the optional GET stream is opened (405: none). `close` sends DELETE.
A reply stream that ends early is resumed with `Last-Event-ID` when it had event ids, else the
connection counts as dropped. Not here: batches (gone in 2025-06-18), the 2026-07-28 stateless
handshake, OAuth (pass an `Authorization` header).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..errors import MCPConnectionError, ProtocolError, UsageError
from . import _http
from .base import MessageQueue, cancel_all
from .jsonrpc import encode_message, parse_message
from .sse import SSEDecoder

__all__ = ["StreamableHTTPTransport"]

logger = logging.getLogger(__name__)

_RESUME_ATTEMPTS = 3


class StreamableHTTPTransport:
    """MCP over Streamable HTTP, on agentkit-min's own HTTP client."""

    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
        """Create the transport (nothing is opened until the first `send`).

        Args:
            url: the MCP endpoint, e.g. "http://127.0.0.1:8000/mcp".
            headers: sent on every request (e.g. Authorization).
            timeout: seconds for each HTTP exchange up to its response headers or JSON body.
        """
        if urlsplit(url).scheme not in ("http", "https"):
            raise UsageError(f"Streamable HTTP transport needs an http:// or https:// URL, got {url!r}")
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._initialize: dict[str, Any] | None = None  # kept to re-initialize a lost session
        self._reinit_count = 0
        self._reinit_lock = asyncio.Lock()
        self._inbox = MessageQueue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def connect(self) -> None:
        """Nothing to open: Streamable HTTP connects per request. Reachability shows on `initialize`."""
        if self._closed:
            raise MCPConnectionError(f"Streamable HTTP transport to {self.url} was closed")

    def _request_headers(self, accept: str = "application/json, text/event-stream") -> dict[str, str]:
        headers = {"Accept": accept, **self.headers}
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    def _limit(self, message: dict[str, Any]) -> float | None:
        # A JSON-mode server sends its headers only when the call is done, so a request's POST
        # is bounded by the caller's per-request timeout (MCPClient), not by ours.
        return None if "method" in message and "id" in message else self.timeout

    async def _post(self, message: dict[str, Any]) -> _http.HTTPResponse:
        headers = {"Content-Type": "application/json", **self._request_headers()}
        return await _http.request("POST", self.url, headers=headers, body=encode_message(message),
                                   timeout=self._limit(message))

    async def send(self, message: dict[str, Any]) -> None:
        """POST one message; its reply (JSON or SSE) is read into the inbox.

        Raises:
            MCPConnectionError: the server cannot be reached or refused the message.
        """
        if self._closed or self._inbox.failed:
            raise MCPConnectionError(f"Streamable HTTP transport to {self.url} is not connected")
        if message.get("method") == "initialize":
            self._initialize = message
            self.session_id = self.protocol_version = None
        sent_session = self.session_id
        response = await self._post(message)
        if sent_session is not None and await self._session_lost(response):
            async with self._reinit_lock:  # concurrent calls that all saw the loss re-initialize once
                if self.session_id == sent_session:
                    logger.info("MCP session at %s expired; initializing again", self.url)
                    await self._reinitialize()
            response = await self._post(message)
        await self._accept_reply(message, response)
        if message.get("method") == "notifications/initialized":
            await self._open_get_stream()

    async def _session_lost(self, response: _http.HTTPResponse) -> bool:
        if response.status == 404:
            await response.aclose()
            return True
        if response.status == 400:
            error = await response.refused("POST", self.timeout)
            if "session" in str(error).lower():
                return True
            raise error
        return False

    async def _accept_reply(self, message: dict[str, Any], response: _http.HTTPResponse) -> None:
        if message.get("method") == "initialize" and "mcp-session-id" in response.headers:
            self.session_id = response.headers["mcp-session-id"]
        if not 200 <= response.status < 300:
            raise await response.refused("POST", self.timeout)
        request_id = message.get("id") if "method" in message else None
        if response.content_type == "text/event-stream":
            self._spawn(self._read_reply_stream(response, request_id))
            return
        body = await response.read(timeout=self._limit(message))
        if not body.strip():
            return  # 202 (or 200) for a notification or a response
        if response.content_type != "application/json":
            raise MCPConnectionError(f"POST {self.url} answered with unexpected content type {response.content_type!r}")
        self._deliver(parse_message(body))

    def _deliver(self, message: dict[str, Any]) -> None:
        init = self._initialize
        if init is not None and message.get("id") == init.get("id") and "method" not in message:
            result = message.get("result")
            if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str):
                self.protocol_version = result["protocolVersion"]
        self._inbox.put(message)

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_reply_stream(self, response: _http.HTTPResponse, request_id: Any) -> None:
        """Read one SSE stream until it ends; resume it if it ends before the response awaited."""
        answered, last_id, retry_ms = request_id is None, "", 0
        for attempt in range(_RESUME_ATTEMPTS + 1):
            decoder = SSEDecoder()  # a new stream starts a new parse; the last event id carries over
            error: Exception | None = None
            try:
                async for chunk in response.chunks():
                    for event in decoder.feed(chunk):
                        message = self._event_message(event.event, event.data)
                        if message is not None:
                            answered = answered or (message.get("id") == request_id and "method" not in message)
                            self._deliver(message)
            except (MCPConnectionError, ProtocolError) as exc:
                error = exc
            last_id, retry_ms = decoder.last_event_id or last_id, decoder.retry or retry_ms
            if answered or self._closed:
                return
            if not last_id or attempt == _RESUME_ATTEMPTS:
                reason = f": {error}" if error else ""
                self._inbox.fail(MCPConnectionError(
                    f"the reply stream from {self.url} for request {request_id!r} ended before its response{reason}"
                ))
                return
            await asyncio.sleep(min(retry_ms / 1000, self.timeout))  # the server's `retry`, within reason
            try:
                response = await self._get_stream(last_id)
            except MCPConnectionError as exc:
                self._inbox.fail(MCPConnectionError(f"cannot resume the reply stream from {self.url}: {exc}"))
                return

    def _event_message(self, event: str, data: str) -> dict[str, Any] | None:
        if event != "message" or not data:
            return None  # 2025-11-25 priming events carry an id and empty data
        try:
            return parse_message(data)
        except ProtocolError as exc:
            logger.warning("dropping malformed message from %s: %s", self.url, exc)
            return None

    async def _get_stream(self, last_event_id: str | None = None) -> _http.HTTPResponse:
        headers = self._request_headers("text/event-stream")
        if last_event_id is not None:  # resuming a reply stream
            headers["Last-Event-ID"] = last_event_id
        response = await _http.request("GET", self.url, headers=headers, timeout=self.timeout)
        if response.status != 200 or response.content_type != "text/event-stream":
            await response.aclose()
            raise MCPConnectionError(f"GET {self.url} answered {response.status}")
        return response

    async def _open_get_stream(self) -> None:
        """Open the optional server-to-client stream; any refusal just means there is none."""
        try:
            response = await self._get_stream()
        except MCPConnectionError as exc:
            logger.debug("no GET stream from %s: %s", self.url, exc)
            return
        self._spawn(self._read_reply_stream(response, None))  # no response awaited: never resumed

    async def _reinitialize(self) -> None:
        assert self._initialize is not None
        self._reinit_count += 1
        init = {**self._initialize, "id": f"agentkit-min-reinitialize-{self._reinit_count}"}
        self.session_id = self.protocol_version = None
        response = await self._post(init)
        if response.status != 200:
            await response.aclose()
            raise MCPConnectionError(f"re-initializing the session at {self.url} failed with HTTP {response.status}")
        self.session_id = response.headers.get("mcp-session-id")
        reply = await asyncio.wait_for(self._read_one(response, init["id"]), self.timeout)
        result = reply.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("protocolVersion"), str):
            raise MCPConnectionError(f"re-initializing the session at {self.url} failed: {reply.get('error')}")
        self.protocol_version = result["protocolVersion"]
        response = await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        await self._accept_reply({"method": "notifications/initialized"}, response)
        await self._open_get_stream()

    async def _read_one(self, response: _http.HTTPResponse, request_id: str) -> dict[str, Any]:
        """The response to our own re-initialize request; other messages go to the inbox."""
        if response.content_type == "application/json":
            items = [parse_message(await response.read())]
        else:
            items = []
            decoder = SSEDecoder()
            async for chunk in response.chunks():
                items += [parse_message(e.data) for e in decoder.feed(chunk) if e.event == "message" and e.data]
                if any(item.get("id") == request_id for item in items):
                    await response.aclose()
                    break
        for item in items:
            if item.get("id") == request_id and "method" not in item:
                return item
            self._inbox.put(item)
        raise MCPConnectionError(f"{self.url} did not answer the re-initialize request")

    async def receive(self) -> dict[str, Any]:
        """The next message from any reply stream; MCPConnectionError once the connection is gone."""
        return await self._inbox.get()

    async def close(self) -> None:
        """Stop all readers and end the session with DELETE. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._inbox.fail(MCPConnectionError(f"Streamable HTTP transport to {self.url} was closed"))
        await cancel_all(self._tasks)
        if self.session_id is not None:
            try:
                response = await _http.request("DELETE", self.url, headers=self._request_headers(),
                                               timeout=min(self.timeout, 5.0))
                await response.aclose()
            except (MCPConnectionError, ProtocolError) as exc:
                logger.debug("DELETE %s failed: %s", self.url, exc)

