"""Benchmark: MCP `tools/call` round-trip latency and connection set-up time, per transport.

agentkit-min's client (`MCPClient` over our stdlib transports) against the official MCP
Python SDK 1.x client (`mcp.ClientSession` over its own `stdio_client`, `sse_client`,
`streamable_http_client` and `websocket_client`), in the same run, against the same local
servers: the SDK's FastMCP test server in `tests/mcp/mcp_server.py` (stdio, SSE, Streamable
HTTP) and `tests/mcp/ws_mcp_server.py` (the same server over the SDK's WebSocket transport).

- latency: one open session per client, warm-up calls, then `echo {"text": "hi"}` calls in
  alternating blocks (ours, official, ours, ...) so drift hits both sides alike.
- set-up: from nothing to an initialized session (connect + `initialize` +
  `notifications/initialized`), alternating ours/official; closing is not timed. For stdio
  this includes starting the Python server process, so both sides are dominated by it.

Servers bind 127.0.0.1 only and are killed at the end. Target: ours <= 0.5x official latency.

    python bench/mcp.py             # prints a table (about a minute)
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import select
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named mcp.py: keep its folder off the path so `import mcp` finds the SDK.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from agentkit_min.mcp import MCPClient, transport_from_config  # noqa: E402

SDK_SERVER = str(ROOT / "tests" / "mcp" / "mcp_server.py")
WS_SERVER = str(ROOT / "tests" / "mcp" / "ws_mcp_server.py")
TRANSPORTS = ("stdio", "sse", "streamable-http", "ws")
WARMUP, BLOCK, BLOCKS = 30, 20, 20  # 400 measured calls per client and transport, interleaved
SETUPS = {"stdio": 5, "sse": 20, "streamable-http": 20, "ws": 20}

Call = Callable[[], Awaitable[Any]]


@contextlib.contextmanager
def server(kind: str) -> Iterator[str]:
    """Start the SDK server for an HTTP/WS transport; yield its URL. stdio needs none ("")."""
    if kind == "stdio":
        yield ""
        return
    command = [sys.executable, WS_SERVER] if kind == "ws" else [sys.executable, SDK_SERVER, kind]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"{kind} server did not start: {line!r}")
        port = int(line.split()[1])
        path = {"sse": "http://127.0.0.1:{}/sse", "streamable-http": "http://127.0.0.1:{}/mcp",
                "ws": "ws://127.0.0.1:{}/ws"}[kind]
        yield path.format(port)
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@contextlib.asynccontextmanager
async def ours(kind: str, url: str) -> AsyncIterator[Call]:
    config: dict[str, Any] = ({"type": "stdio", "command": sys.executable, "args": [SDK_SERVER, "stdio"]}
                              if kind == "stdio" else {"type": kind, "url": url})
    async with MCPClient(transport_from_config(config, timeout=30), name=kind, timeout=30) as client:
        yield lambda: client.call_tool("echo", {"text": "hi"})


@contextlib.asynccontextmanager
async def official(kind: str, url: str) -> AsyncIterator[Call]:
    sdk: Any = importlib.import_module("mcp")  # by name: mypy would take this file for `mcp`
    ClientSession, StdioServerParameters = sdk.ClientSession, sdk.StdioServerParameters
    from mcp.client.sse import sse_client
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.client.websocket import websocket_client

    async with contextlib.AsyncExitStack() as stack:
        streams: Any
        if kind == "stdio":
            devnull = stack.enter_context(open(os.devnull, "w"))
            params = StdioServerParameters(command=sys.executable, args=[SDK_SERVER, "stdio"])
            streams = await stack.enter_async_context(stdio_client(params, errlog=devnull))
        elif kind == "sse":
            streams = await stack.enter_async_context(sse_client(url))
        elif kind == "streamable-http":
            streams = await stack.enter_async_context(streamable_http_client(url))
        else:
            with warnings.catch_warnings():  # deprecated (removed in mcp 2.0), still the 1.x client
                warnings.simplefilter("ignore", DeprecationWarning)
                streams = await stack.enter_async_context(websocket_client(url))
        session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
        await session.initialize()
        yield lambda: session.call_tool("echo", {"text": "hi"})


CLIENTS = {"ours": ours, "official": official}


async def latency(kind: str, url: str) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
    async with contextlib.AsyncExitStack() as stack:
        calls = {name: await stack.enter_async_context(make(kind, url)) for name, make in CLIENTS.items()}
        for call in calls.values():
            for _ in range(WARMUP):
                await call()
        for _ in range(BLOCKS):
            for name, call in calls.items():
                for _ in range(BLOCK):
                    start = time.perf_counter()
                    await call()
                    samples[name].append((time.perf_counter() - start) * 1000)
    return samples


async def setup(kind: str, url: str) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
    for _ in range(SETUPS[kind]):
        for name, make in CLIENTS.items():
            async with contextlib.AsyncExitStack() as stack:
                start = time.perf_counter()
                call = await stack.enter_async_context(make(kind, url))
                samples[name].append((time.perf_counter() - start) * 1000)
                await call()  # the session works (not timed)
    return samples


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=10)[-1]


async def measure(kind: str, url: str) -> list[tuple[str, str, dict[str, list[float]]]]:
    return [(kind, "tools/call", await latency(kind, url)), (kind, "set-up", await setup(kind, url))]


def main() -> None:
    rows = []
    for kind in TRANSPORTS:
        with server(kind) as url:
            rows += asyncio.run(asyncio.wait_for(measure(kind, url), 600))
    print(f"MCP client vs official mcp {_sdk_version()} client; ms, median / p90; ratio = ours/official median")
    print(f"{'transport':<16}{'metric':<12}{'ours':>16}{'official':>18}{'ratio':>9}  n")
    for kind, metric, samples in rows:
        (om, op), (sm, sp) = summary(samples["ours"]), summary(samples["official"])
        print(f"{kind:<16}{metric:<12}{om:>8.3f} /{op:>7.3f}{sm:>10.3f} /{sp:>7.3f}{om / sm:>8.2f}x"
              f"  {len(samples['ours'])}")


def _sdk_version() -> str:
    from importlib.metadata import version
    return version("mcp")


if __name__ == "__main__":
    main()
