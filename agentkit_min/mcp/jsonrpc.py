"""Sans-IO JSON-RPC 2.0 for MCP: message validation, id bookkeeping, server-request replies.

JSON-RPC 2.0 as MCP's "Base Protocol" (2025-06-18) uses it: string or integer ids, exactly one
of `result` or `error`; plus stdio's newline-delimited framing (`NDJSONDecoder`). No batches
(removed in 2025-06-18: one from a peer is an error). Server-chosen ids live in the server's id
space and may equal ours, so messages are told apart by `method`, never by id.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Union

from ..errors import RemoteProtocolError

__all__ = ["METHOD_NOT_FOUND", "ErrorResponse", "Event", "JSONRPCSession", "NDJSONDecoder", "Notification",
           "Request", "Response", "encode_message", "parse_message"]

logger = logging.getLogger(__name__)

METHOD_NOT_FOUND = -32601
"""JSON-RPC error code for a method we do not implement."""

RequestId = Union[int, str]


@dataclass(frozen=True)
class Request:
    """A request from the peer; answer it with `JSONRPCSession.answer`."""

    id: RequestId
    method: str
    params: Any = None


@dataclass(frozen=True)
class Notification:
    """A notification from the peer (no answer expected)."""

    method: str
    params: Any = None


@dataclass(frozen=True)
class Response:
    """A successful response to one of our requests."""

    id: RequestId
    result: Any


@dataclass(frozen=True)
class ErrorResponse:
    """An error response; `id` is None when the peer could not read our request's id."""

    id: RequestId | None
    code: int
    message: str
    data: Any = None


Event = Union[Request, Notification, Response, ErrorResponse]


def encode_message(message: dict[str, Any]) -> bytes:
    """Serialise one message as compact UTF-8 JSON (no newline; framing is the transport's job)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _reject_constant(name: str) -> Any:
    raise RemoteProtocolError(f"JSON-RPC message contains {name}, which JSON does not allow")


def parse_message(data: bytes | str) -> dict[str, Any]:
    """Decode and validate one JSON-RPC 2.0 message: a well-formed request, notification or response.

    Raises:
        RemoteProtocolError: not UTF-8, not JSON, not an object, wrong `jsonrpc`, or a shape
            that is neither a request nor a response.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        value = json.loads(text, parse_constant=_reject_constant)
    except RemoteProtocolError:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise RemoteProtocolError(f"invalid JSON-RPC message: {exc}") from None
    if not isinstance(value, dict):
        kind = "a batch" if isinstance(value, list) else type(value).__name__
        raise RemoteProtocolError(f"JSON-RPC message must be an object, got {kind}")
    _validate(value)
    return value


def _is_id(value: Any) -> bool:
    # bool is an int subclass, but JSON `true` is not a valid id.
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _validate(message: dict[str, Any]) -> None:
    if message.get("jsonrpc") != "2.0":
        raise RemoteProtocolError(f"JSON-RPC message must have \"jsonrpc\": \"2.0\", got {message.get('jsonrpc')!r}")
    if "method" in message:
        if not isinstance(message["method"], str):
            raise RemoteProtocolError("JSON-RPC method must be a string")
        if "id" in message and not _is_id(message["id"]):
            raise RemoteProtocolError(f"JSON-RPC request id must be a string or integer, got {message['id']!r}")
        if "result" in message or "error" in message:
            raise RemoteProtocolError("JSON-RPC message has both a method and a result/error")
        return
    has_result, has_error = "result" in message, "error" in message
    if has_result == has_error:
        raise RemoteProtocolError("JSON-RPC response must have exactly one of \"result\" and \"error\"")
    if "id" not in message:
        raise RemoteProtocolError("JSON-RPC response has no id")
    msg_id = message["id"]
    if has_result and not _is_id(msg_id):
        raise RemoteProtocolError(f"JSON-RPC response id must be a string or integer, got {msg_id!r}")
    if has_error:
        if msg_id is not None and not _is_id(msg_id):
            raise RemoteProtocolError(f"JSON-RPC error id must be a string, integer or null, got {msg_id!r}")
        error = message["error"]
        if not isinstance(error, dict):
            raise RemoteProtocolError("JSON-RPC error must be an object")
        code = error.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            raise RemoteProtocolError(f"JSON-RPC error code must be an integer, got {code!r}")
        if not isinstance(error.get("message"), str):
            raise RemoteProtocolError("JSON-RPC error message must be a string")


class NDJSONDecoder:
    """Newline-delimited framing (MCP stdio): bytes in, complete lines out.

    Splitting on LF is safe for UTF-8 (no multi-byte sequence contains 0x0A) and for JSON (a
    string cannot hold a raw newline). A CR before the LF and blank lines are dropped.
    """

    def __init__(self, max_line_length: int = 64 * 1024 * 1024) -> None:
        """Create a decoder; a line longer than `max_line_length` bytes is a RemoteProtocolError."""
        self._parts: list[bytes] = []
        self._size = 0
        self._max = max_line_length

    def feed(self, data: bytes) -> list[bytes]:
        """Return the complete, non-blank lines that `data` finished."""
        lines: list[bytes] = []
        while data:
            newline = data.find(b"\n")
            if newline < 0:
                self._parts.append(data)
                self._size += len(data)
                if self._size > self._max:
                    self._parts, self._size = [], 0
                    raise RemoteProtocolError(f"line longer than {self._max} bytes")
                break
            line = b"".join(self._parts) + data[:newline] if self._parts else data[:newline]
            self._parts, self._size = [], 0
            data = data[newline + 1:]
            line = line.rstrip(b"\r")
            if line.strip():
                lines.append(line)
        return lines


class JSONRPCSession:
    """Client-side JSON-RPC bookkeeping: id allocation, pending ids, classification, replies.

    Example:
        >>> session = JSONRPCSession()
        >>> request_id, message = session.request("tools/list", {})
        >>> session.receive({"jsonrpc": "2.0", "id": request_id, "result": {"tools": []}})
        Response(id=1, result={'tools': []})
    """

    def __init__(self, first_id: int = 1) -> None:
        """Create a session whose first request id is `first_id`."""
        self._next_id = first_id
        self._pending: set[RequestId] = set()
        self._lines = NDJSONDecoder()
        self._ready: deque[bytes] = deque()

    @property
    def pending(self) -> frozenset[RequestId]:
        """Ids of our requests that have not been answered or forgotten."""
        return frozenset(self._pending)

    def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Build a request with a fresh id and remember the id as pending."""
        request_id = self._next_id
        self._next_id += 1
        self._pending.add(request_id)
        return request_id, {"jsonrpc": "2.0", "id": request_id, **self.notification(method, params)}

    def notification(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build a notification."""
        return {"jsonrpc": "2.0", "method": method, **({} if params is None else {"params": params})}

    def forget(self, request_id: RequestId) -> None:
        """Stop expecting an answer to `request_id` (it timed out or was cancelled)."""
        self._pending.discard(request_id)

    def receive(self, message: dict[str, Any]) -> Event | None:
        """Classify one message from the peer.

        Returns:
            The event, or None for a response to an id we are not waiting for (a late answer
            to a request that timed out); that case is logged, not raised.

        Raises:
            RemoteProtocolError: the message is not valid JSON-RPC 2.0.
        """
        if not isinstance(message, dict):
            raise RemoteProtocolError(f"JSON-RPC message must be an object, got {type(message).__name__}")
        _validate(message)
        if "method" in message:
            if "id" in message:
                return Request(message["id"], message["method"], message.get("params"))
            return Notification(message["method"], message.get("params"))
        msg_id = message["id"]
        if msg_id is not None and msg_id not in self._pending:
            logger.debug("ignoring JSON-RPC response for unknown id %r", msg_id)
            return None
        self._pending.discard(msg_id)
        if "result" in message:
            return Response(msg_id, message["result"])
        error = message["error"]
        return ErrorResponse(msg_id, error["code"], error["message"], error.get("data"))

    def feed(self, data: bytes) -> list[Event]:
        """Decode newline-delimited messages (the stdio framing) and classify each.

        Raises:
            RemoteProtocolError: at the first line that is not a JSON-RPC message; that line is
                consumed, and lines after it stay buffered for the next call.
        """
        events: list[Event] = []
        self._ready.extend(self._lines.feed(data))
        while self._ready:
            event = self.receive(parse_message(self._ready.popleft()))
            if event is not None:
                events.append(event)
        return events

    def answer(self, request: Request) -> dict[str, Any]:
        """The reply an MCP client with no capabilities gives to a server request.

        `ping` gets an empty result and `roots/list` an empty list of roots; anything else,
        including `sampling/createMessage` and `elicitation/create`, which we do not offer,
        gets JSON-RPC error -32601.
        """
        if request.method == "ping":
            return {"jsonrpc": "2.0", "id": request.id, "result": {}}
        if request.method == "roots/list":
            return {"jsonrpc": "2.0", "id": request.id, "result": {"roots": []}}
        return {"jsonrpc": "2.0", "id": request.id,
                "error": {"code": METHOD_NOT_FOUND, "message": f"Method not found: {request.method}"}}
