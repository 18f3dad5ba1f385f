"""A tiny MCP server over stdio, standard library only: a calculator with `add` and `multiply`.

The server side of the seed's "Advanced Patterns > MCP as tools" (a self-hosted MCP server),
in about 60 lines so the protocol is visible. `examples/mcp_agent.py` starts it as a child
process through agentkit-min's stdio transport; you can also talk to it by hand:

    printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | python3 examples/mcp_server_stdio.py

MCP's stdio transport is newline-delimited JSON-RPC 2.0 on stdin/stdout; logs would go to
stderr. This server answers `initialize`, `ping`, `tools/list` and `tools/call`; it ignores
notifications (messages without an id) and answers any other method with JSON-RPC's
"method not found" error. Tool failures are results with `isError: true`, as the spec asks,
so the model can read them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

NUMBER = {"type": "number"}
PAIR = {"type": "object", "properties": {"a": NUMBER, "b": NUMBER}, "required": ["a", "b"],
        "additionalProperties": False}
TOOLS = [
    {"name": "add", "description": "Add two numbers: a + b", "inputSchema": PAIR},
    {"name": "multiply", "description": "Multiply two numbers: a * b", "inputSchema": PAIR},
]


def call_tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """A tools/call result: the answer as text content, or an error the model can read."""
    a, b = args.get("a"), args.get("b")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
        return {"content": [{"type": "text", "text": "a and b must be numbers"}], "isError": True}
    operations = {"add": lambda: a + b, "multiply": lambda: a * b}  # type: ignore[operator]
    if name not in operations:
        return {"content": [{"type": "text", "text": f"unknown tool {name!r}"}], "isError": True}
    return {"content": [{"type": "text", "text": json.dumps(operations[name]())}], "isError": False}


def handle(message: dict[str, Any]) -> dict[str, Any] | None:
    """The response to one JSON-RPC message, or None for a notification."""
    if "id" not in message:
        return None  # e.g. notifications/initialized
    method, params = message.get("method"), message.get("params") or {}
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),  # agree with the client
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "calculator", "version": "1.0.0"},
        }
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        result = call_tool(str(params.get("name")), params.get("arguments") or {})
    else:
        return {"jsonrpc": "2.0", "id": message["id"],
                "error": {"code": -32601, "message": f"Method not found: {method}"}}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def main() -> None:
    """Serve until stdin closes (the client closing it is the spec's shutdown signal)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            response = handle(json.loads(line))
        except ValueError:
            response = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        if response is not None:
            sys.stdout.write(json.dumps(response) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
