"""An agent whose tools come from an MCP server over SSE, started by this script on 127.0.0.1.

Mirrors the seed's "Advanced Patterns > MCP as tools" with the seed's own SSE transport,
`mcpServers: [{ name, transport: { type: "sse", url } }]`. The seed connects to a server that
is already running; here the script first starts the standard-library calculator server of
`mcp_server_http.py` in a thread on a free port, so it runs offline and needs no MCP SDK.
`mcp_ws.py` is the same over WebSocket, `mcp_agent.py` over stdio.

`"timeout"` beside the server's `name` bounds connecting and each request to that server
(default 30 s). The agent, its question and its model replies are those of `mcp_agent.py`:
with OPENAI_API_KEY set the model is gpt-4o-mini; without it the cassette
fixtures/examples/mcp_agent.json answers. The MCP server always runs for real.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult, create_agent

from _models import provider_model, replay
from _show import show
from mcp_server_http import running

QUESTION = "What is (3 + 4) * 6? Use the calculator."


def run_with(transport: dict[str, Any]) -> AgentResult:
    """Ask the calculator agent QUESTION, with its MCP server reached through `transport`."""
    math_agent = create_agent(
        name="Math agent",
        system="You are a careful assistant. Do every arithmetic operation with the calculator "
               "tools, one at a time, then state the result.",
        model=provider_model("openai", "gpt-4o-mini"),
        mcp_servers=[{"name": "calc", "transport": transport, "timeout": 10}],
    )
    with replay("mcp_agent"):  # offline: the cassette of mcp_agent.py, same requests
        return math_agent.run_sync(QUESTION, max_iter=5)


def main() -> AgentResult:
    with running() as server:
        return run_with({"type": "sse", "url": f"http://127.0.0.1:{server.port}/sse"})


if __name__ == "__main__":
    show(main())
