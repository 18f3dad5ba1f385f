"""MCP servers as agentkit tools: `open_tools(servers)` (decision Q14, spec/deviations.md D-Q14).

Each tool of each server becomes a `Tool` named `<server>-<tool>` (AgentKit's naming) with the
server's `inputSchema` unchanged, whose handler calls `tools/call` and returns the MCP content
list. Unlike AgentKit 0.13.2: an unreachable server raises `MCPConnectionError` naming it before
any inference, listing follows cursors, `isError: true` becomes an error tool result, and every
client is closed when the block ends. Not here: caching clients across runs (a restarted server
is simply picked up), `structuredContent`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Mapping, Sequence

from ..errors import MCPRemoteError, ToolExecutionError, UsageError
from ..tool import Tool, ToolContext
from .base import Transport
from .client import MCPClient

__all__ = ["mcp_tool", "open_tools", "transport_from_config"]


def _server_name(index: int, server: Any) -> str:
    if not isinstance(server, Mapping):
        raise UsageError(f"mcp_servers[{index}] must be a dict with 'name' and 'transport', got {type(server).__name__}")
    name = server.get("name")
    if not isinstance(name, str) or not name:
        raise UsageError(f"mcp_servers[{index}] needs a non-empty 'name' string (tools are named '<name>-<tool>')")
    if not isinstance(server.get("transport"), Mapping):
        raise UsageError(f"MCP server {name!r} needs a 'transport' dict, e.g. {{'type': 'streamable-http', 'url': ...}}")
    if "timeout" in server["transport"]:
        raise UsageError(f"MCP server {name!r}: put 'timeout' beside 'name', not inside 'transport'")
    if set(server) - {"name", "transport", "timeout"}:
        raise UsageError(f"MCP server {name!r} does not take {sorted(set(server) - {'name', 'transport', 'timeout'})}; "
                         "it takes 'name', 'transport' and 'timeout' (seconds)")
    timeout = server.get("timeout", 1.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < 1e9:
        raise UsageError(f"MCP server {name!r}: 'timeout' must be a positive number of seconds, got {timeout!r}")
    return name


@contextlib.asynccontextmanager
async def open_tools(
    servers: Sequence[Mapping[str, Any]], *, client_name: str = "agentkit-min", timeout: float = 30.0
) -> AsyncIterator[list[Tool]]:
    """Connect to every server concurrently and yield all their tools; close them all on exit.

    Args:
        servers: AgentKit's `mcp_servers`: `[{"name": ..., "transport": {...}}]`.
        client_name: our `clientInfo.name` in the handshake (AgentKit uses the agent's name).
        timeout: seconds for connecting and for each request, tool calls included; a server's
            own `"timeout": <seconds>` (beside its `name`) overrides it for that server.

    Raises:
        UsageError: a malformed config, or two servers with the same name.
        MCPConnectionError: a server cannot be reached (the message names it).
        MCPError: a server failed the handshake or the tool listing.
    """
    names = [_server_name(i, server) for i, server in enumerate(servers)]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UsageError(f"two MCP servers are named {duplicates[0]!r}; server names must be unique")
    limits = [float(server.get("timeout", timeout)) for server in servers]
    clients = [MCPClient(transport_from_config(server["transport"], timeout=limit), name=name,
                         client_name=client_name, timeout=limit) for server, name, limit in zip(servers, names, limits)]
    try:
        listings = await asyncio.gather(*(_connect_and_list(c) for c in clients), return_exceptions=True)
        for listing in listings:
            if isinstance(listing, BaseException):
                raise listing
        tools = [
            mcp_tool(client, spec) for client, listing in zip(clients, listings)
            if not isinstance(listing, BaseException) for spec in listing
        ]
        yield tools
    finally:
        # Close concurrently; a failing close must not stop the others.
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


async def _connect_and_list(client: MCPClient) -> list[dict[str, Any]]:
    try:
        await client.connect()
        return await client.list_tools()
    except MCPRemoteError as exc:  # say which of the servers refused
        raise MCPRemoteError(exc.code, f"{exc.message} (MCP server {client.name!r}, starting up)", exc.data) from exc


def mcp_tool(client: MCPClient, spec: Mapping[str, Any]) -> Tool:
    """One MCP tool (`spec` from `tools/list`) as an agentkit `Tool` named `<server>-<tool>`."""
    tool_name: str = spec["name"]
    schema = spec.get("inputSchema")

    async def handler(arguments: Any, ctx: ToolContext) -> Any:
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ToolExecutionError(f"MCP tool {tool_name!r} takes an object of arguments, got {type(arguments).__name__}")
        result = await client.call_tool(tool_name, arguments)
        content = result.get("content")
        if result.get("isError"):
            raise ToolExecutionError(_error_text(content) or f"MCP tool {tool_name!r} on {client.name!r} failed")
        return content if content is not None else []

    handler.__name__ = f"{client.name}-{tool_name}"
    description = spec.get("description")
    return Tool(name=f"{client.name}-{tool_name}", handler=handler,
                description=description if isinstance(description, str) else None,
                parameters=schema if isinstance(schema, dict) else None,
                mcp={"server": client.name, "tool": tool_name})


def _error_text(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    texts = [item["text"] for item in content if isinstance(item, dict) and isinstance(item.get("text"), str)]
    return "\n".join(texts)


def transport_from_config(config: Mapping[str, Any], *, timeout: float = 30.0) -> Transport:
    """Build a transport from an AgentKit transport config.

    Accepted shapes: `{"type": "streamable-http", "url", "headers"?}`, `{"type": "sse", "url",
    "headers"?}`, `{"type": "ws", "url", "headers"?}`, `{"type": "stdio", "command", "args"?, "env"?}`.

    Raises:
        UsageError: not a mapping, an unknown type, a missing or mistyped field.
    """
    if not isinstance(config, Mapping):
        raise UsageError(f"an MCP transport config must be a dict, got {type(config).__name__}")
    kind = config.get("type")
    fields = {"streamable-http": {"url", "headers"}, "sse": {"url", "headers"}, "ws": {"url", "headers"},
              "stdio": {"command", "args", "env", "cwd"}}
    if kind not in fields:
        raise UsageError(f"unknown MCP transport type {kind!r}; use one of {', '.join(sorted(fields))}")
    unknown = set(config) - fields[kind] - {"type"}
    if unknown:
        raise UsageError(f"MCP transport {kind!r} does not take {sorted(unknown)}; it takes {sorted(fields[kind])}")
    if kind == "stdio":
        from .stdio import StdioTransport

        return StdioTransport(config.get("command", ""), config.get("args") or (),
                              env=_str_map(config, "env"), cwd=config.get("cwd"))
    url = config.get("url")
    if not isinstance(url, str) or not url:
        raise UsageError(f"MCP transport {kind!r} needs a 'url' string")
    headers = _str_map(config, "headers")
    if kind == "sse":
        from .http_sse import SSETransport

        return SSETransport(url, headers=headers, timeout=timeout)
    if kind == "streamable-http":
        from .streamable_http import StreamableHTTPTransport

        return StreamableHTTPTransport(url, headers=headers, timeout=timeout)
    from .ws import WebSocketTransport  # imported only when asked for, like the others

    return WebSocketTransport(url, headers=headers, timeout=timeout)


def _str_map(config: Mapping[str, Any], key: str) -> dict[str, str] | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise UsageError(f"MCP transport '{key}' must be a dict of strings to strings")
    return dict(value)
