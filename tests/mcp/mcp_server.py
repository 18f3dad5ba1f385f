"""A real MCP server for the tests, built on the official MCP Python SDK (dev dependency).

Usage: python mcp_server.py stdio
       python mcp_server.py sse|streamable-http [--json]

For the HTTP transports it binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout
before serving. Its tool listing is paginated two tools per page through the SDK's low-level
`list_tools` handler, so a client only sees every tool if it follows `nextCursor`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from mcp import types
from mcp.server.fastmcp import Context, FastMCP

PAGE_SIZE = 2

server = FastMCP("agentkit-min-test", host="127.0.0.1", json_response="--json" in sys.argv, log_level="WARNING")


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Echo the text back.")
def echo(text: str) -> str:
    return text


@server.tool(description="Always fails with the given message.")
def fail(message: str) -> str:
    raise ValueError(message)


@server.tool(description="Pings the client, then echoes the text.")
async def ping_then_echo(text: str, ctx: Context) -> str:  # type: ignore[type-arg]
    await asyncio.wait_for(ctx.session.send_ping(), 10)
    return f"pinged:{text}"


@server.tool(description="Returns the value of an HTTP request header ('' on stdio).")
def header(name: str, ctx: Context) -> str:  # type: ignore[type-arg]
    request = ctx.request_context.request
    headers = getattr(request, "headers", None)
    return str(headers.get(name, "")) if headers is not None else ""


@server.tool(description="Sleeps, then answers.")
async def sleep(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "slept"


@server.tool(description="Kills the server process mid-call.")
def die() -> str:
    sys.stdout.flush()
    os._exit(3)


@server._mcp_server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
async def list_tools_paged(request: types.ListToolsRequest) -> types.ListToolsResult:
    # (The SDK picks the calling convention from this exact annotation, so no `| None`.)
    tools = await server.list_tools()
    raw: object = request
    if raw is None:  # the SDK's own cache refresh before a call: everything at once
        return types.ListToolsResult(tools=tools)
    cursor = request.params.cursor if request.params is not None else None
    start = int(cursor) if cursor else 0
    end = start + PAGE_SIZE
    return types.ListToolsResult(tools=tools[start:end], nextCursor=str(end) if end < len(tools) else None)


def main() -> None:
    transport = sys.argv[1]
    if transport == "stdio":
        server.run("stdio")
        return
    import uvicorn

    app = server.sse_app() if transport == "sse" else server.streamable_http_app()
    # IPPROTO_TCP, not the default 0: asyncio disables Nagle only on sockets whose proto is
    # IPPROTO_TCP (base_events._set_nodelay), and accepted sockets inherit it. With 0 every
    # reply written in two parts waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # queue connections while uvicorn starts up
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
