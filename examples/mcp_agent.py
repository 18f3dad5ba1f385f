"""An agent whose tools come from an MCP server, started by this script over stdio.

Mirrors the seed's "Advanced Patterns > MCP as tools": `createAgent({ ..., mcpServers: [{ name,
transport }] })`. The seed connects over WebSocket to a server already running; here the
agent starts `examples/mcp_server_stdio.py` (standard library only) as a child process with
the `stdio` transport, so the example is self-contained. The other transports are configured
the same way: `{"type": "ws" | "sse" | "streamable-http", "url": ...}`.

For each run the agent connects, lists the server's tools and offers them to the model as
`<server name>-<tool name>` ("calc-add", "calc-multiply"), with the server's input schemas;
the server is stopped when the run ends.

With OPENAI_API_KEY set the model is gpt-4o-mini; without it the cassette
fixtures/examples/mcp_agent.json answers the model's requests (the MCP server always runs
for real).
"""

from __future__ import annotations

import sys
from pathlib import Path

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult, create_agent

from _models import provider_model, replay
from _show import show

SERVER = Path(__file__).resolve().parent / "mcp_server_stdio.py"
QUESTION = "What is (3 + 4) * 6? Use the calculator."


def main() -> AgentResult:
    math_agent = create_agent(
        name="Math agent",
        system="You are a careful assistant. Do every arithmetic operation with the calculator "
               "tools, one at a time, then state the result.",
        model=provider_model("openai", "gpt-4o-mini"),
        mcp_servers=[{
            "name": "calc",
            "transport": {"type": "stdio", "command": sys.executable, "args": [str(SERVER)]},
        }],
    )
    with replay("mcp_agent"):  # offline: fixtures/examples/mcp_agent.json
        return math_agent.run_sync(QUESTION, max_iter=5)  # a tool loop: call, read, call, answer


if __name__ == "__main__":
    show(main())
