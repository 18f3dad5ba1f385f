"""MCPClient and open_tools against an in-memory scripted peer (no sockets, no processes).

The peer's replies are constructed by hand; the real-server behaviour is covered by
test_integration.py.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, TypeVar

import pytest

from agentkit_min.errors import (MCPConnectionError, MCPError, MCPRemoteError, MCPTimeoutError, ToolExecutionError,
                                 UsageError)
from agentkit_min.mcp import MCPClient, client as client_module
from agentkit_min.mcp.base import MessageQueue, Transport
from agentkit_min.mcp.tools import mcp_tool

T = TypeVar("T")
Reply = list[dict[str, Any]]


def run(coroutine: Awaitable[T], timeout: float = 10) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, timeout)
    return asyncio.run(bounded())


class Peer:
    """A Transport whose server side is a function from each sent message to the replies."""

    def __init__(self, handle: Callable[[dict[str, Any]], Reply], version: str = "2025-06-18") -> None:
        self.handle = handle
        self.version = version
        self.sent: list[dict[str, Any]] = []
        self.inbox = MessageQueue()
        self.closed = 0

    async def connect(self) -> None:
        pass

    async def send(self, message: dict[str, Any]) -> None:
        if self.inbox.failed:
            raise MCPConnectionError("peer is gone")
        self.sent.append(message)
        if message.get("method") == "initialize":
            replies: Reply = [ok(message, {"protocolVersion": self.version, "capabilities": {"tools": {}},
                                           "serverInfo": {"name": "peer", "version": "1"}})]
        elif message.get("method") == "notifications/initialized":
            replies = []
        else:
            replies = self.handle(message)
        for reply in replies:
            self.inbox.put(reply)

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def close(self) -> None:
        self.closed += 1
        self.inbox.fail(MCPConnectionError("closed"))


def ok(request: dict[str, Any], result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def silent(message: dict[str, Any]) -> Reply:
    return []


def test_handshake_order_and_identity() -> None:
    peer = Peer(silent)

    async def main() -> MCPClient:
        async with MCPClient(peer, client_name="my-agent") as client:
            return client

    client = run(main())
    initialize, initialized = peer.sent
    assert initialize["method"] == "initialize" and initialize["id"] == 1
    assert initialize["params"]["protocolVersion"] == "2025-06-18"
    assert initialize["params"]["clientInfo"]["name"] == "my-agent"
    assert initialized == {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert client.server_info == {"name": "peer", "version": "1"} and client.protocol_version == "2025-06-18"
    assert peer.closed == 1


@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])
def test_accepts_known_versions(version: str) -> None:
    async def main() -> str | None:
        async with MCPClient(Peer(silent, version)) as client:
            return client.protocol_version
    assert run(main()) == version


def test_rejects_unknown_version_and_closes() -> None:
    peer = Peer(silent, "2099-01-01")
    with pytest.raises(MCPError, match="2099-01-01.*2024-11-05"):
        run(MCPClient(peer, name="future").connect())
    assert peer.closed == 1
    assert [m.get("method") for m in peer.sent] == ["initialize"]  # no `initialized` after a refusal


def test_error_objects_and_server_requests_mid_call() -> None:
    def handle(message: dict[str, Any]) -> Reply:
        if message.get("method") == "tools/call":
            return [
                {"jsonrpc": "2.0", "id": "str-id-8", "method": "sampling/createMessage", "params": {}},
                {"jsonrpc": "2.0", "id": 0, "method": "ping"},
                {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}},
                {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32000, "message": "nope", "data": [1]}},
            ]
        return []

    peer = Peer(handle)

    async def main() -> MCPRemoteError:
        async with MCPClient(peer) as client:
            with pytest.raises(MCPRemoteError) as caught:
                await client.call_tool("x", {})
            await asyncio.sleep(0.05)  # let the answers to the server's requests go out
            return caught.value

    error = run(main())
    assert (error.code, error.message, error.data) == (-32000, "nope", [1])
    answers = {m["id"]: m for m in peer.sent if "method" not in m}
    assert answers["str-id-8"]["error"]["code"] == -32601
    assert answers[0]["result"] == {}


def test_drop_fails_every_pending_call_and_later_ones() -> None:
    peer = Peer(silent)

    async def main() -> list[BaseException]:
        async with MCPClient(peer, name="flaky") as client:
            calls = [asyncio.create_task(client.call_tool("slow", {})) for _ in range(3)]
            await asyncio.sleep(0.05)
            peer.inbox.fail(MCPConnectionError("stream reset"))
            errors = [e for e in await asyncio.gather(*calls, return_exceptions=True) if isinstance(e, BaseException)]
            with pytest.raises(MCPConnectionError, match="flaky"):
                await client.ping()
            return errors

    errors = run(main())
    assert len(errors) == 3
    for error in errors:
        assert isinstance(error, MCPConnectionError) and not isinstance(error, MCPTimeoutError)
        assert "flaky" in str(error) and "stream reset" in str(error)


def test_timeout_sends_cancelled_and_ignores_the_late_answer() -> None:
    late: list[dict[str, Any]] = []

    def handle(message: dict[str, Any]) -> Reply:
        if message.get("method") == "tools/call":
            late.append(message)
            return []
        if message.get("method") == "ping":
            return [ok(late[0], {"content": "too late"}), ok(message, {})]
        return []

    peer = Peer(handle)

    async def main() -> None:
        async with MCPClient(peer) as client:
            with pytest.raises(MCPTimeoutError, match="tools/call"):
                await client.call_tool("slow", {}, timeout=0.05)
            await client.ping()

    run(main())
    cancelled = [m for m in peer.sent if m.get("method") == "notifications/cancelled"]
    assert cancelled and cancelled[0]["params"]["requestId"] == late[0]["id"]


def test_pagination_follows_cursors_and_stops_a_loop(monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    def pages(message: dict[str, Any]) -> Reply:
        cursor = (message.get("params") or {}).get("cursor")
        tool = {"name": f"t{cursor or 0}", "inputSchema": {"type": "object"}}
        return [ok(message, {"tools": [tool, {"bad": "entry"}], "nextCursor": {None: "c1", "c1": "c2"}.get(cursor)})]

    async def listing(handle: Callable[[dict[str, Any]], Reply]) -> list[dict[str, Any]]:
        async with MCPClient(Peer(handle)) as client:
            return await client.list_tools()

    assert [t["name"] for t in run(listing(pages))] == ["t0", "tc1", "tc2"]
    skipped = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(skipped) == 3 and "listed 1 tool(s) without a string 'name'; skipped: [{'bad': 'entry'}]" in skipped[0]
    monkeypatch.setattr(client_module, "_MAX_PAGES", 5)
    forever: Callable[[dict[str, Any]], Reply] = lambda m: [ok(m, {"tools": [], "nextCursor": "same"})]
    with pytest.raises(MCPError, match="5 pages"):
        run(listing(forever))


def test_tool_handler_results_and_errors() -> None:
    def handle(message: dict[str, Any]) -> Reply:
        args = message["params"]["arguments"]
        if args.get("mode") == "error-no-text":
            return [ok(message, {"content": [{"type": "image", "data": "", "mimeType": "image/png"}], "isError": True})]
        if args.get("mode") == "error":
            return [ok(message, {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                                 "isError": True})]
        return [ok(message, {"content": [{"type": "text", "text": repr(sorted(args))}], "structuredContent": {}})]

    async def main() -> tuple[Any, Any, str, str]:
        async with MCPClient(Peer(handle), name="srv") as client:
            tool = mcp_tool(client, {"name": "do", "description": 5, "inputSchema": {"type": "object", "x-k": 1}})
            assert (tool.name, tool.description, tool.parameters) == ("srv-do", None, {"type": "object", "x-k": 1})
            good = await tool.handler({"b": 1, "a": 2}, None)  # type: ignore[arg-type]
            empty = await tool.handler(None, None)  # type: ignore[arg-type]
            with pytest.raises(ToolExecutionError) as both:
                await tool.handler({"mode": "error"}, None)  # type: ignore[arg-type]
            with pytest.raises(ToolExecutionError) as fallback:
                await tool.handler({"mode": "error-no-text"}, None)  # type: ignore[arg-type]
            with pytest.raises(ToolExecutionError):
                await tool.handler(["not", "an", "object"], None)  # type: ignore[arg-type]
            return good, empty, str(both.value), str(fallback.value)

    good, empty, both, fallback = run(main())
    assert good == [{"type": "text", "text": "['a', 'b']"}]
    assert empty == [{"type": "text", "text": "[]"}]
    assert both == "a\nb"
    assert "'do'" in fallback and "'srv'" in fallback


def test_open_tools_closes_every_client_when_one_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkit_min.mcp import tools as tools_module

    peers: dict[str, Peer] = {}

    def fake_transport(config: dict[str, Any], *, timeout: float = 30.0) -> Transport:
        if config["type"] == "broken":
            class Broken(Peer):
                async def connect(self) -> None:
                    raise MCPConnectionError("cannot connect to http://127.0.0.1:1/mcp")
            peer: Peer = Broken(silent)
        elif config["type"] == "refusing":
            peer = Peer(lambda m: [{"jsonrpc": "2.0", "id": m["id"], "error": {"code": -32601, "message": "no"}}])
        else:
            peer = Peer(lambda m: [ok(m, {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]})])
        peers[config["type"]] = peer
        return peer

    monkeypatch.setattr(tools_module, "transport_from_config", fake_transport)

    async def main(servers: list[dict[str, Any]]) -> list[str]:
        async with tools_module.open_tools(servers) as tools:
            return [t.name for t in tools]

    assert run(main([{"name": "a", "transport": {"type": "good"}}])) == ["a-t"]
    assert peers["good"].closed == 1
    with pytest.raises(MCPConnectionError, match="'b'.*127.0.0.1:1"):
        run(main([{"name": "a", "transport": {"type": "good"}}, {"name": "b", "transport": {"type": "broken"}}]))
    assert peers["good"].closed == 1 and peers["broken"].closed == 1
    with pytest.raises(MCPRemoteError, match="-32601.*'c'"):
        run(main([{"name": "c", "transport": {"type": "refusing"}}]))
    assert peers["refusing"].closed == 1
    for bad in ([{"transport": {"type": "good"}}], [{"name": "a"}], ["a"]):
        with pytest.raises(UsageError):
            run(main(bad))  # type: ignore[arg-type]


class GarblingPeer(Peer):
    """A peer whose transport raises a protocol error for every message marked garbled."""

    async def receive(self) -> dict[str, Any]:
        message = await self.inbox.get()
        if message.get("garbled"):
            from agentkit_min.errors import RemoteProtocolError
            raise RemoteProtocolError("bad frame")
        return message


def test_one_malformed_message_does_not_end_the_session() -> None:
    def handle(message: dict[str, Any]) -> Reply:
        return [{"garbled": True}, ok(message, {"tools": []})]

    async def main() -> Any:
        async with MCPClient(GarblingPeer(handle)) as client:
            return await client.request("tools/list", timeout=5)

    assert run(main()) == {"tools": []}


def test_a_stream_of_only_malformed_messages_fails_pending_calls() -> None:
    def handle(message: dict[str, Any]) -> Reply:
        return [{"garbled": True}] * 100

    async def main() -> Any:
        async with MCPClient(GarblingPeer(handle)) as client:
            return await client.request("tools/list", timeout=5)

    with pytest.raises(MCPConnectionError, match="malformed"):
        run(main())
