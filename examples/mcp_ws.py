"""An agent whose tools come from an MCP server over WebSocket, started by this script on 127.0.0.1.

Mirrors the seed's "Advanced Patterns > MCP as tools", which connects with the WebSocket
transport: `mcpServers: [{ name, transport: { type: "ws", url: "ws://localhost:8080" } }]`.
Here the script first starts the standard-library calculator server of `mcp_server_http.py`
in a thread on a free port (`ws://127.0.0.1:<port>/ws`, subprotocol `mcp`, one JSON-RPC
message per text frame), so it runs offline and needs no MCP SDK. Everything else is
`mcp_sse.py`: the same agent, question and cassette, only the transport differs.
"""

from __future__ import annotations

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult

from _show import show
from mcp_server_http import running
from mcp_sse import run_with


def main() -> AgentResult:
    with running() as server:
        return run_with({"type": "ws", "url": f"ws://127.0.0.1:{server.port}/ws"})


if __name__ == "__main__":
    show(main())
