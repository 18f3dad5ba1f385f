"""agentkit-min's own MCP client: JSON-RPC 2.0 over stdio, SSE, Streamable HTTP and WebSocket.

No MCP SDK at runtime: the transports sit on asyncio streams and subprocesses, the codecs
(`sse`, `jsonrpc`) are sans-IO. What an agent uses is `open_tools`:

    async with open_tools([{"name": "docs", "transport": {"type": "streamable-http",
                                                          "url": "http://127.0.0.1:8000/mcp"}}]) as tools:
        ...  # tools named "docs-<tool>"

`MCPClient` is the single-server client; `transport_from_config` maps AgentKit's transport
configs (`streamable-http`, `sse`, `ws`, `stdio`) to transports.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on first use (__getattr__ below); checkers see them here
    from .base import Transport
    from .client import MCPClient
    from .tools import open_tools, transport_from_config

__all__ = ["MCPClient", "Transport", "open_tools", "transport_from_config"]

_HOMES = {"MCPClient": "client", "Transport": "base", "open_tools": "tools", "transport_from_config": "tools"}


def __getattr__(name: str) -> Any:
    """Load the client and transport code on first use (PEP 562, issue 14)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    return value
