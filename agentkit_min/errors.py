"""Every error agentkit-min raises, under one root.

Families (spec/semantics.md, "Errors"):

    AgentKitError
    ├── UsageError            the caller misused the API; raised early, before any request
    │   ├── MissingAPIKeyError
    │   └── TraceFormatError      a trace document that is not agentkit-min/trace v1 (also ValueError)
    ├── ModelError            the model provider failed or answered something unusable
    │   ├── ModelHTTPError    HTTP status >= 400 (provider, status, message, body)
    │   │   ├── AuthenticationError   401/403 (and Gemini's 400 API_KEY_INVALID)
    │   │   ├── RateLimitError        429 (retry_after)
    │   │   │   └── QuotaExceededError    a 429 that waiting cannot fix (not retried)
    │   │   ├── ContextLengthError    prompt too long for the model
    │   │   └── ServerError           5xx
    │   ├── ModelResponseError        unparseable body (also ValueError)
    │   │   └── ResponseTooLargeError     over max_response_bytes
    │   ├── ModelConnectionError      connection failed (also ConnectionError)
    │   │   └── ModelTimeoutError     (also TimeoutError)
    │   └── ScriptExhaustedError      a test double was called past its script
    ├── ToolError             a tool could not be run (becomes a tool result, see tool.py)
    │   ├── ToolNotFoundError
    │   ├── ToolArgumentsError
    │   ├── ToolExecutionError
    │   └── ToolResultError   a handler returned a value JSON cannot encode (also TypeError)
    ├── RoutingError          a router asked for an agent that does not exist
    ├── HistoryError          a history store failed (path, reason; the message says what to do)
    │   ├── HistoryBusyError      the database stayed locked past the timeout (also TimeoutError)
    │   └── HistoryDataError      a value cannot be stored, e.g. a lone surrogate (also ValueError)
    ├── ProtocolError         malformed bytes on a wire protocol (also ValueError)
    │   ├── LocalProtocolError    we were asked to send something illegal
    │   └── RemoteProtocolError   the peer sent something illegal
    ├── TransportError        a connection failed or dropped (also ConnectionError)
    └── MCPError              MCP failures
        ├── MCPRemoteError        a JSON-RPC error object from the server (code, message, data)
        └── MCPConnectionError    a server cannot be reached or dropped (also TransportError)
            └── MCPTimeoutError   (also TimeoutError)

Constructors have no side effects (nothing is logged here) and messages say what to change.
Secrets never go into a message: callers pass provider messages, never headers or keys.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AgentKitError", "UsageError", "MissingAPIKeyError", "TraceFormatError", "ModelError", "ModelHTTPError",
    "AuthenticationError", "RateLimitError", "QuotaExceededError", "ContextLengthError", "ServerError",
    "ModelResponseError", "ResponseTooLargeError", "ModelConnectionError", "ModelTimeoutError",
    "ScriptExhaustedError", "ToolError", "ToolNotFoundError", "ToolArgumentsError",
    "ToolExecutionError", "ToolResultError", "RoutingError", "HistoryError", "HistoryBusyError",
    "HistoryDataError", "ProtocolError", "LocalProtocolError", "RemoteProtocolError", "TransportError",
    "MCPError", "MCPRemoteError", "MCPConnectionError", "MCPTimeoutError",
]


class AgentKitError(Exception):
    """Root of every error raised by agentkit-min."""


class UsageError(AgentKitError):
    """The caller used the API wrongly (bad argument, missing model, no router...)."""


class MissingAPIKeyError(UsageError):
    """No API key was passed and the provider's environment variable is unset."""

    def __init__(self, provider: str, env_var: str) -> None:
        super().__init__(
            f"No API key for {provider}: pass api_key=... to the model factory "
            f"or set the {env_var} environment variable."
        )
        self.provider = provider
        self.env_var = env_var


class TraceFormatError(UsageError, ValueError):
    """A trace document (`Trace.from_dict`, the trace page command) is not agentkit-min/trace
    version 1 JSON; the message names the first field that is wrong (spec/trace.md)."""


class ModelError(AgentKitError):
    """The model provider failed, or its answer could not be used."""


class ModelHTTPError(ModelError):
    """The provider answered with an HTTP error status.

    Attributes:
        provider: "openai", "anthropic", "gemini", ...
        status: the HTTP status code.
        message: the provider's own error message (never contains the API key).
        body: the decoded error body (JSON value, or text when it was not JSON).
        headers: the response headers, lower-cased, credentials and cookies removed.
    """

    def __init__(self, provider: str, status: int, message: str, body: Any = None, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{provider} returned HTTP {status}: {message}")
        self.provider = provider
        self.status = status
        self.message = message
        self.body = body
        self.headers = dict(headers or {})

    @property
    def request_id(self) -> str | None:
        """The provider's id of the failed request (quote it to their support), if it sent one."""
        for name in ("x-request-id", "request-id", "apim-request-id", "x-goog-request-id"):
            if self.headers.get(name):
                return self.headers[name]
        found = self.body.get("request_id") if isinstance(self.body, dict) else None  # Anthropic
        return found if isinstance(found, str) else None


class AuthenticationError(ModelHTTPError):
    """The API key was rejected (401/403, or the provider's equivalent)."""


class RateLimitError(ModelHTTPError):
    """429: too many requests. `retry_after` is in seconds when the provider said so."""

    def __init__(
        self, provider: str, status: int, message: str, body: Any = None,
        retry_after: float | None = None, *, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(provider, status, message, body, headers=headers)
        self.retry_after = retry_after


class QuotaExceededError(RateLimitError):
    """A 429 that waiting cannot fix (quota or credit used up, one request over the per-minute
    limit): raised at once, never retried."""


class ContextLengthError(ModelHTTPError):
    """The request is longer than the model's context window."""


class ServerError(ModelHTTPError):
    """5xx: the provider failed; retried before this is raised."""


class ModelResponseError(ModelError, ValueError):
    """The provider's response could not be parsed into messages."""


class ResponseTooLargeError(ModelResponseError):
    """The response body is larger than the model's `max_response_bytes`."""


class ModelConnectionError(ModelError, ConnectionError):
    """The provider could not be reached, or the connection dropped."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ModelTimeoutError(ModelConnectionError, TimeoutError):
    """The provider did not answer within the timeout."""


class ScriptExhaustedError(ModelError):
    """A ScriptedModel was called more times than it has scripted replies."""


class ToolError(AgentKitError):
    """A tool call could not be completed. Inside a run these become tool results."""


class ToolNotFoundError(ToolError):
    """The model asked for a tool the agent does not have."""


class ToolArgumentsError(ToolError, ValueError):
    """The model's arguments do not match the tool's JSON Schema."""


class ToolExecutionError(ToolError):
    """A tool handler raised."""


class ToolResultError(ToolError, TypeError):
    """A tool handler returned a value JSON cannot encode (agentkit_min.tool.to_json)."""


class RoutingError(AgentKitError):
    """A router or routing agent chose an agent that does not exist."""


class HistoryError(AgentKitError):
    """A history store failed. `path` names the store; `reason` is the message without it."""

    def __init__(self, path: str, reason: str, advice: str) -> None:
        super().__init__(f"history {path!r}: {reason}; {advice}")
        self.path, self.reason = path, reason


class HistoryBusyError(HistoryError, TimeoutError):
    """Another writer held the database lock past the timeout. Transient: retry."""


class HistoryDataError(HistoryError, ValueError):
    """A value cannot be stored (text that is not valid Unicode, such as a lone surrogate)."""


class ProtocolError(AgentKitError, ValueError):
    """Malformed data on a wire protocol (SSE, WebSocket, JSON-RPC).

    `close_code` is the WebSocket close code to send back, when one applies.
    """

    def __init__(self, message: str, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code


class LocalProtocolError(ProtocolError):
    """We were asked to send something the protocol forbids."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids."""


class TransportError(AgentKitError, ConnectionError):
    """A connection could not be made, or it dropped."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class MCPError(AgentKitError):
    """Base of MCP failures."""


class MCPRemoteError(MCPError):
    """The MCP server answered with a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"MCP error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class MCPConnectionError(MCPError, TransportError):
    """An MCP server cannot be reached, or dropped while calls were pending."""


class MCPTimeoutError(MCPConnectionError, TimeoutError):
    """An MCP request got no answer within its timeout."""
