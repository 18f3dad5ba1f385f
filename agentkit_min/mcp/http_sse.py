"""The legacy HTTP+SSE transport (MCP 2024-11-05, "Transports: HTTP with SSE").

The client GETs an SSE stream whose first event, `endpoint`, is the URL to POST to (resolved
against the SSE URL, used as given: it carries the session id). Every server message, responses
included, arrives on the stream, possibly before the POST's `202 Accepted`, so a background task
reads the stream while POSTs use fresh connections. Not here: reconnecting a dropped stream
(2024-11-05 sessions do not survive it; pending calls fail) and cross-origin endpoints (refused,
as the TypeScript SDK does, so a server cannot aim our POSTs and headers at another host).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

from ..errors import MCPConnectionError, MCPTimeoutError, ProtocolError, UsageError
from . import _http
from .base import MessageQueue, cancel_all
from .jsonrpc import encode_message, parse_message
from .sse import SSEDecoder

__all__ = ["SSETransport"]

logger = logging.getLogger(__name__)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


class SSETransport:
    """MCP over HTTP+SSE (the 2024-11-05 transport), on agentkit-min's own HTTP client."""

    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
        """Create the transport (nothing is opened until `connect`).

        Args:
            url: the SSE endpoint, e.g. "http://127.0.0.1:8000/sse".
            headers: sent on the GET and on every POST (e.g. Authorization).
            timeout: seconds for connecting, for the endpoint event and for each POST.
        """
        if urlsplit(url).scheme not in ("http", "https"):
            raise UsageError(f"SSE transport needs an http:// or https:// URL, got {url!r}")
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.endpoint: str | None = None
        self._inbox = MessageQueue()
        self._endpoint_ready: asyncio.Future[str] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stream: _http.HTTPResponse | None = None
        self._closed = False

    async def connect(self) -> None:
        """Open the stream and wait for the `endpoint` event.

        Raises:
            MCPConnectionError: the URL cannot be reached, answers an error or no stream, or
                sends no endpoint within the timeout (MCPTimeoutError).
        """
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **self.headers}
        response = await _http.request("GET", self.url, headers=headers, timeout=self.timeout)
        if response.status != 200 or response.content_type != "text/event-stream":
            body = (await response.read(limit=4096)) if response.status != 200 else b""
            await response.aclose()
            raise MCPConnectionError(
                f"GET {self.url} answered {response.status} {response.content_type or 'no content type'}"
                f"{': ' + body.decode('utf-8', 'replace')[:200] if body else ''}; expected an SSE stream"
            )
        self._stream = response
        self._endpoint_ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read_stream(response))
        try:
            self.endpoint = await asyncio.wait_for(self._endpoint_ready, self.timeout)
        except asyncio.TimeoutError:
            await self.close()
            raise MCPTimeoutError(f"{self.url} sent no endpoint event within {self.timeout} s") from None
        except BaseException:
            await self.close()
            raise

    async def _read_stream(self, response: _http.HTTPResponse) -> None:
        decoder = SSEDecoder()
        error: MCPConnectionError | None = None
        try:
            async for chunk in response.chunks():
                for event in decoder.feed(chunk):
                    self._handle(event.event, event.data)
            decoder.close()
        except MCPConnectionError as exc:
            error = exc
        except ProtocolError as exc:
            error = MCPConnectionError(f"SSE stream from {self.url} is malformed: {exc}")
        if error is None:
            error = MCPConnectionError(f"the SSE stream from {self.url} ended")
        if not self._closed:
            logger.debug("%s", error)
        self._inbox.fail(error)
        if self._endpoint_ready is not None and not self._endpoint_ready.done():
            self._endpoint_ready.set_exception(error)

    def _handle(self, event: str, data: str) -> None:
        assert self._endpoint_ready is not None
        if event == "endpoint":
            endpoint = urljoin(self.url, data.strip())
            if _origin(endpoint) != _origin(self.url):
                error = MCPConnectionError(f"{self.url} named an endpoint on another origin ({endpoint}); refusing it")
                if not self._endpoint_ready.done():
                    self._endpoint_ready.set_exception(error)
                self._inbox.fail(error)
            elif not self._endpoint_ready.done():
                self._endpoint_ready.set_result(endpoint)
        elif event == "message" and data:
            try:
                self._inbox.put(parse_message(data))
            except ProtocolError as exc:
                logger.warning("dropping malformed message from %s: %s", self.url, exc)
        # Other event types are not part of the transport: ignored.

    async def send(self, message: dict[str, Any]) -> None:
        """POST one message to the endpoint; the answer arrives on the stream.

        Raises:
            MCPConnectionError: not connected, or the POST failed or was refused.
        """
        if self.endpoint is None or self._closed or self._inbox.failed:
            raise MCPConnectionError(f"SSE transport to {self.url} is not connected")
        headers = {"Content-Type": "application/json", **self.headers}
        response = await _http.request("POST", self.endpoint, headers=headers, body=encode_message(message),
                                       timeout=self.timeout)
        if not 200 <= response.status < 300:
            raise await response.refused("POST", self.timeout)
        await response.read(limit=1024 * 1024, timeout=self.timeout)  # "Accepted"

    async def receive(self) -> dict[str, Any]:
        """The next message from the stream; MCPConnectionError once it has ended."""
        return await self._inbox.get()

    async def close(self) -> None:
        """Stop reading and close the stream. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._inbox.fail(MCPConnectionError(f"SSE transport to {self.url} was closed"))
        await cancel_all([self._reader] if self._reader else [])
        if self._stream is not None:
            await self._stream.aclose()
        if self._endpoint_ready is not None and not self._endpoint_ready.done():
            self._endpoint_ready.cancel()
