"""Fixtures: one shared real MCP server per HTTP transport for the session, configs per transport."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from .servers import TRANSPORTS, http_server, stdio_config


@pytest.fixture(scope="session")
def sse_url() -> Iterator[str]:
    with http_server("sse") as url:
        yield url


@pytest.fixture(scope="session")
def streamable_http_url() -> Iterator[str]:
    with http_server("streamable-http") as url:
        yield url


@pytest.fixture(params=TRANSPORTS)
def config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A transport config for the shared server of each transport (stdio starts its own)."""
    kind: str = request.param
    if kind == "stdio":
        return stdio_config()
    url: str = request.getfixturevalue("sse_url" if kind == "sse" else "streamable_http_url")
    return {"type": kind, "url": url}
