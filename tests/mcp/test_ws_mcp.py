"""WebSocketTransport against a real MCP server: the official Python SDK 1.x WebSocket transport.

The server (`ws_mcp_server.py`) is the same FastMCP test server as the other transports use,
served by `mcp.server.websocket.websocket_server` under uvicorn on 127.0.0.1. First raw
JSON-RPC dicts over the transport, then agentkit-min's own MCPClient, `open_tools` and a
whole agent network over `{"type": "ws"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import subprocess
import sys
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agentkit_min import create_agent, create_network
from agentkit_min.errors import MCPConnectionError, ToolExecutionError
from agentkit_min.mcp import MCPClient, open_tools, transport_from_config
from agentkit_min.mcp.ws import WebSocketTransport
from agentkit_min.testing import ScriptedModel, tool_call

from .servers import TOOL_NAMES

T = TypeVar("T")
SCRIPT = str(Path(__file__).with_name("ws_mcp_server.py"))


def run(awaitable: Awaitable[T], timeout: float = 20) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout)
    return asyncio.run(bounded())


@contextlib.contextmanager
def ws_mcp_server() -> Iterator[str]:
    """Start the SDK's WebSocket server; yield its `ws://127.0.0.1:<port>/ws` URL."""
    process = subprocess.Popen([sys.executable, SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"WebSocket MCP test server did not start (got {line!r})")
        yield f"ws://127.0.0.1:{int(line.split()[1])}/ws"
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with ws_mcp_server() as address:
        yield address


async def receive(transport: WebSocketTransport) -> dict[str, Any]:
    return await asyncio.wait_for(transport.receive(), 10)


def test_raw_initialize_list_and_call(url: str) -> None:
    async def main() -> list[dict[str, Any]]:
        transport = WebSocketTransport(url, timeout=10)
        await transport.connect()
        replies = []
        try:
            await transport.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"}}})
            replies.append(await receive(transport))
            await transport.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            await transport.send({"jsonrpc": "2.0", "id": "list-1", "method": "tools/list"})
            replies.append(await receive(transport))
            await transport.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                  "params": {"name": "echo", "arguments": {"text": "h\u00e9llo \u20ac" * 2000}}})
            replies.append(await receive(transport))
        finally:
            await transport.close()
        return replies

    initialized, listed, called = run(main())
    assert initialized["id"] == 0  # SDK ids start at 0: a falsy id must survive the trip
    assert initialized["result"]["protocolVersion"] == "2025-06-18"
    assert initialized["result"]["serverInfo"]["name"] == "agentkit-min-test"
    assert listed["id"] == "list-1"
    assert [t["name"] for t in listed["result"]["tools"]] == TOOL_NAMES[:2]
    assert listed["result"]["nextCursor"] == "2"
    assert called["result"]["content"] == [{"type": "text", "text": "h\u00e9llo \u20ac" * 2000}]
    assert called["result"]["isError"] is False


def test_client_lists_every_page_calls_tools_and_answers_server_pings(url: str) -> None:
    async def main() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with MCPClient(WebSocketTransport(url, timeout=10), name="ws", timeout=10) as client:
            tools = await client.list_tools()
            added = await client.call_tool("add", {"a": 2, "b": 40})
            failed = await client.call_tool("fail", {"message": "it broke"})
            pinged = await client.call_tool("ping_then_echo", {"text": "hi"})  # server -> client ping
        return tools, added, failed, pinged

    tools, added, failed, pinged = run(main())
    assert [t["name"] for t in tools] == TOOL_NAMES
    assert added["structuredContent"] == {"result": 42} and added["content"][0]["text"] == "42"
    assert failed["isError"] is True and "it broke" in failed["content"][0]["text"]
    assert pinged["content"][0]["text"] == "pinged:hi"


def test_open_tools_over_ws_config(url: str) -> None:
    async def main() -> tuple[list[str], Any, str]:
        async with open_tools([{"name": "calc", "transport": {"type": "ws", "url": url}}], timeout=10) as tools:
            by_name = {t.name: t for t in tools}
            added = await by_name["calc-add"].handler({"a": 1, "b": 2}, None)  # type: ignore[arg-type]
            with pytest.raises(ToolExecutionError) as failure:
                await by_name["calc-fail"].handler({"message": "nope"}, None)  # type: ignore[arg-type]
        return sorted(by_name), added, str(failure.value)

    names, added, failure = run(main())
    assert names == sorted(f"calc-{n}" for n in TOOL_NAMES)
    assert added == [{"type": "text", "text": "3"}]
    assert "nope" in failure
    assert isinstance(transport_from_config({"type": "ws", "url": url}), WebSocketTransport)


def test_server_dying_mid_call_raises_connection_error() -> None:
    async def main() -> list[BaseException | dict[str, Any]]:
        with ws_mcp_server() as address:
            async with MCPClient(WebSocketTransport(address, timeout=10), name="doomed", timeout=10) as client:
                results = await asyncio.gather(client.call_tool("sleep", {"seconds": 5}),
                                               client.call_tool("die", {}), return_exceptions=True)
                with pytest.raises(MCPConnectionError):
                    await client.call_tool("add", {"a": 1, "b": 1})
                return list(results)

    results = run(main())
    assert all(isinstance(r, MCPConnectionError) for r in results), results
    assert "doomed" in str(results[0])


def test_agent_network_calls_the_mcp_tool_over_ws(url: str) -> None:
    model = ScriptedModel([tool_call("calc-add", {"a": 20, "b": 22}, id="c1"), "20 + 22 = 42."])
    agent = create_agent(name="calculator", system="Use the tools.", model=model,
                         mcp_servers=[{"name": "calc", "transport": {"type": "ws", "url": url}}])
    network = create_network(name="math", agents=[agent], max_iter=4,
                             router=lambda args: agent if args.call_count < 2 else None)
    outcome = run(network.run("What is 20 + 22?"))
    assert "calc-add" in model.requests[0].tool_names
    result_message = model.requests[1].json[-1]
    assert result_message["type"] == "tool_result" and result_message["tool"]["id"] == "c1"
    assert result_message["content"] == {"data": [{"type": "text", "text": "42"}]}
    assert [r.agent_name for r in outcome.state.results] == ["calculator", "calculator"]
    model.assert_complete()
