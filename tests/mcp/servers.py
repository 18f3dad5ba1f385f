"""Start the real MCP test server (`mcp_server.py`, official Python SDK) for the tests.

HTTP servers run as child processes bound to 127.0.0.1 on a port the server picks itself and
reports on stdout, so there is no port race. Every wait here has a timeout.
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

SCRIPT = str(Path(__file__).with_name("mcp_server.py"))
TRANSPORTS = ("stdio", "sse", "streamable-http")
TOOL_NAMES = ["add", "echo", "fail", "ping_then_echo", "header", "sleep", "die"]
"""What the server offers, in order (the server pages them two at a time)."""


def stdio_config() -> dict[str, Any]:
    """A transport config that starts a fresh stdio server."""
    return {"type": "stdio", "command": sys.executable, "args": [SCRIPT, "stdio"]}


@contextlib.contextmanager
def http_server(kind: str, *options: str) -> Iterator[str]:
    """Run an SSE or Streamable HTTP server; yield its endpoint URL (.../sse or .../mcp)."""
    process = subprocess.Popen(
        [sys.executable, SCRIPT, kind, *options], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"test MCP server {kind} did not start (got {line!r})")
        path = "sse" if kind == "sse" else "mcp"
        yield f"http://127.0.0.1:{int(line.split()[1])}/{path}"
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def server_config(kind: str, *options: str, headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """A transport config for a fresh server of `kind` (any of TRANSPORTS), torn down after."""
    if kind == "stdio":
        yield stdio_config()
        return
    with http_server(kind, *options) as url:
        config: dict[str, Any] = {"type": kind, "url": url}
        if headers:
            config["headers"] = headers
        yield config
