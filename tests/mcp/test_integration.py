"""agentkit-min's MCP client against real MCP servers (official Python SDK) on every transport."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any, Awaitable, TypeVar

import pytest

from agentkit_min.errors import (MCPConnectionError, MCPRemoteError, MCPTimeoutError, ToolExecutionError,
                                 UsageError)
from agentkit_min.mcp import MCPClient, open_tools, transport_from_config
from agentkit_min.mcp import _http
from agentkit_min.mcp.base import Transport
from agentkit_min.mcp.streamable_http import StreamableHTTPTransport

from .servers import TOOL_NAMES, TRANSPORTS, server_config

T = TypeVar("T")


def run(awaitable: Awaitable[T], timeout: float = 30) -> T:
    """Run a coroutine with an outer timeout, so a hang fails the test instead of the suite."""
    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout)
    return asyncio.run(bounded())


class Recording:
    """A transport wrapper that remembers every message we sent."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.sent: list[dict[str, Any]] = []

    async def connect(self) -> None:
        await self.inner.connect()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        await self.inner.send(message)

    async def receive(self) -> dict[str, Any]:
        return await self.inner.receive()

    async def close(self) -> None:
        await self.inner.close()


def test_lists_every_page_and_passes_schemas_through(config: dict[str, Any]) -> None:
    async def main() -> tuple[list[dict[str, Any]], list[Any], Any]:
        transport = Recording(transport_from_config(config, timeout=15))
        async with MCPClient(transport, name="srv", timeout=15) as client:
            listed = await client.list_tools()
        cursors = [m.get("params", {}).get("cursor") for m in transport.sent if m.get("method") == "tools/list"]
        async with open_tools([{"name": "srv", "transport": config}], timeout=15) as tools:
            return listed, cursors, [(t.name, t.description, t.parameters, t.mcp) for t in tools]

    listed, cursors, tools = run(main())
    assert [t["name"] for t in listed] == TOOL_NAMES
    assert cursors == [None, "2", "4", "6"]  # four pages of two, each cursor passed back unchanged
    assert [name for name, *_ in tools] == [f"srv-{n}" for n in TOOL_NAMES]
    for (name, description, parameters, mcp), spec in zip(tools, listed):
        assert parameters == spec["inputSchema"]
        assert description == spec["description"]
        assert mcp == {"server": "srv", "tool": spec["name"]}


def test_call_tool_error_result_and_server_ping(config: dict[str, Any]) -> None:
    async def main() -> tuple[Any, str, Any, list[dict[str, Any]]]:
        async with open_tools([{"name": "t", "transport": config}], timeout=15) as tools:
            by_name = {t.name: t for t in tools}
            added = await by_name["t-add"].handler({"a": 2, "b": 40}, None)  # type: ignore[arg-type]
            with pytest.raises(ToolExecutionError) as failure:
                await by_name["t-fail"].handler({"message": "it broke"}, None)  # type: ignore[arg-type]
        transport = Recording(transport_from_config(config, timeout=15))
        async with MCPClient(transport, timeout=15) as client:
            pinged = await client.call_tool("ping_then_echo", {"text": "hi"})
        return added, str(failure.value), pinged, transport.sent

    added, failure, pinged, sent = run(main())
    assert added == [{"type": "text", "text": "42"}]
    assert "it broke" in failure
    assert pinged["content"] == [{"type": "text", "text": "pinged:hi"}]
    # The server's ping was answered with an empty result, echoing the server's own id.
    replies = [m for m in sent if "method" not in m]
    assert len(replies) == 1 and replies[0]["result"] == {} and "id" in replies[0]


def test_unknown_tool_is_a_tool_error_and_unknown_method_a_remote_error(config: dict[str, Any]) -> None:
    async def main() -> tuple[dict[str, Any], MCPRemoteError]:
        async with MCPClient(transport_from_config(config, timeout=15), timeout=15) as client:
            result = await client.call_tool("no_such_tool", {})
            with pytest.raises(MCPRemoteError) as remote:
                await client.request("no/such/method", {})
            await client.ping()
            return result, remote.value

    result, remote = run(main())
    assert result["isError"] is True
    assert remote.code == -32601 or remote.code == -32602


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_server_dying_mid_call_fails_every_call(kind: str) -> None:
    async def main() -> tuple[BaseException, BaseException, BaseException]:
        with server_config(kind) as config:
            async with MCPClient(transport_from_config(config, timeout=15), name="doomed", timeout=15) as client:
                slow = asyncio.create_task(client.call_tool("sleep", {"seconds": 20}))
                await asyncio.sleep(0.2)
                with pytest.raises(MCPConnectionError) as during:
                    await client.call_tool("die", {})
                with pytest.raises(MCPConnectionError) as pending:
                    await slow
                with pytest.raises(MCPConnectionError) as after:
                    await client.call_tool("add", {"a": 1, "b": 1})
                return during.value, pending.value, after.value

    errors = run(main(), timeout=25)
    for error in errors:
        assert not isinstance(error, MCPTimeoutError), error  # failed because of the drop, not a timeout
    assert "doomed" in str(errors[0])


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_unreachable_server_raises_naming_it(kind: str) -> None:
    if kind == "stdio":
        transport: dict[str, Any] = {"type": "stdio", "command": "/nonexistent/agentkit-min-mcp-server"}
    else:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        transport = {"type": kind, "url": f"http://127.0.0.1:{port}/x"}

    async def main() -> None:
        async with open_tools([{"name": "ghost", "transport": transport}], timeout=5):
            raise AssertionError("open_tools should have failed")

    with pytest.raises(MCPConnectionError, match="ghost"):
        run(main())


def test_request_timeout_then_client_still_works(config: dict[str, Any]) -> None:
    async def main() -> dict[str, Any]:
        async with MCPClient(transport_from_config(config, timeout=15), timeout=15) as client:
            with pytest.raises(MCPTimeoutError, match="tools/call"):
                await client.call_tool("sleep", {"seconds": 0.6}, timeout=0.2)
            await asyncio.sleep(0.6)  # the late answer arrives and is ignored
            return await client.call_tool("add", {"a": 3, "b": 4})

    assert run(main())["content"] == [{"type": "text", "text": "7"}]


@pytest.mark.parametrize("kind", ["sse", "streamable-http"])
def test_configured_headers_reach_the_server(kind: str, request: pytest.FixtureRequest) -> None:
    url: str = request.getfixturevalue("sse_url" if kind == "sse" else "streamable_http_url")

    async def main() -> Any:
        servers = [{"name": "h", "transport": {"type": kind, "url": url, "headers": {"X-Agentkit-Test": "v1"}}}]
        async with open_tools(servers, timeout=15) as tools:
            header = next(t for t in tools if t.name == "h-header")
            return await header.handler({"name": "x-agentkit-test"}, None)  # type: ignore[arg-type]

    assert run(main()) == [{"type": "text", "text": "v1"}]


def test_streamable_http_json_replies_and_session_loss() -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any], str | None, str | None]:
        with server_config("streamable-http", "--json") as config:
            transport = StreamableHTTPTransport(config["url"], timeout=15)
            async with MCPClient(transport, timeout=15) as client:
                first = await client.call_tool("echo", {"text": "json"})
                old_session = transport.session_id
                assert old_session is not None
                # End the session behind the client's back: the next call gets 404, re-initializes.
                response = await _http.request("DELETE", config["url"], headers={"Mcp-Session-Id": old_session})
                await response.aclose()
                second = await client.call_tool("echo", {"text": "again"})
                return first, second, old_session, transport.session_id

    first, second, old, new = run(main())
    assert first["content"] == [{"type": "text", "text": "json"}]
    assert second["content"] == [{"type": "text", "text": "again"}]
    assert new is not None and new != old


def test_config_mistakes_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="sse.*stdio.*streamable-http.*ws|streamable-http.*ws"):
        transport_from_config({"type": "carrier-pigeon"})
    with pytest.raises(UsageError, match="url"):
        transport_from_config({"type": "sse"})
    with pytest.raises(UsageError, match="header"):
        transport_from_config({"type": "sse", "url": "http://127.0.0.1:1/sse", "header": {}})

    async def duplicate() -> None:
        stdio = {"type": "stdio", "command": sys.executable}
        async with open_tools([{"name": "a", "transport": stdio}, {"name": "a", "transport": stdio}]):
            pass

    with pytest.raises(UsageError, match="'a'"):
        run(duplicate())
