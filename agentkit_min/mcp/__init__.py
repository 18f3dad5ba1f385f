"""agentkit-min's own MCP client: JSON-RPC 2.0 over stdio, SSE, Streamable HTTP and WebSocket.

No MCP SDK at runtime: the transports sit on asyncio streams and subprocesses, the codecs
(`sse`, `jsonrpc`) are sans-IO. What an agent uses is `open_tools`:

    async with open_tools([{"name": "docs", "transport": {"type": "streamable-http",
                                                          "url": "http://127.0.0.1:8000/mcp"}}]) as tools:
        ...  # tools named "docs-<tool>"

`MCPClient` is the single-server client; `transport_from_config` maps AgentKit's transport
configs (`streamable-http`, `sse`, `ws`, `stdio`) to transports.
"""

from .base import Transport
from .client import MCPClient
from .tools import open_tools, transport_from_config

__all__ = ["MCPClient", "Transport", "open_tools", "transport_from_config"]
