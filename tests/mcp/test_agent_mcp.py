"""Agents with `mcp_servers` in a network, against the real MCP test server on each transport."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from agentkit_min.agent import Agent, create_agent
from agentkit_min.errors import MCPConnectionError
from agentkit_min.network import create_network
from agentkit_min.testing import ScriptedModel, tool_call


def calc_network(servers: list[dict[str, Any]], model: ScriptedModel) -> Any:
    agent = create_agent(name="calc", system="You add numbers.", mcp_servers=servers)

    def router(args: Any) -> Agent | None:
        return agent if args.call_count < 2 else None

    return create_network(agents=[agent], default_model=model, router=router)


def test_network_run_calls_an_mcp_tool_and_sends_its_result(config: dict[str, Any]) -> None:
    model = ScriptedModel([
        tool_call("calc-add", {"a": 2, "b": 3}, more=[("calc-fail", {"message": "bad input"})]),
        "The sum is 5.",
    ])
    network = calc_network([{"name": "calc", "transport": config}], model)
    run = asyncio.run(asyncio.wait_for(network.run("What is 2+3?"), 60))

    first, second = model.requests
    assert {"calc-add", "calc-fail", "calc-echo"} <= set(first.tool_names)
    added = next(t for t in first.tools if t.name == "calc-add")
    assert added.mcp == {"server": "calc", "tool": "add"} and added.parameters is not None
    assert set(added.parameters["properties"]) == {"a", "b"}
    results = [m for m in second.messages if m["type"] == "tool_result"]
    assert [r["content"] for r in results] == [
        {"data": [{"type": "text", "text": "5"}]},
        {"error": {"name": "ToolExecutionError", "message": "Error executing tool fail: bad input"}},
    ]
    assert run.state.results[-1].output[0]["content"] == "The sum is 5."


def test_unreachable_server_fails_the_run_before_any_inference() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = ScriptedModel(["never used"])
    network = calc_network([{"name": "offline", "transport": {"type": "streamable-http",
                                                              "url": f"http://127.0.0.1:{port}/mcp"}}], model)
    with pytest.raises(MCPConnectionError, match="offline"):
        asyncio.run(asyncio.wait_for(network.run("hi"), 30))
    assert model.requests == []
