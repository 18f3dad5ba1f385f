"""Adapter tests never reach a real provider: real requests are switched off for each test.

Loopback servers (127.0.0.1) and installed transports (cassette players) still work; tests
that replay with vcrpy switch the guard back on inside the vcrpy block, where vcrpy's
`record_mode="none"` refuses anything not in the cassette.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from agentkit_min import http


@pytest.fixture(autouse=True)
def no_real_model_requests() -> Iterator[None]:
    saved = http.ALLOW_MODEL_REQUESTS
    http.ALLOW_MODEL_REQUESTS = False
    try:
        yield
    finally:
        http.ALLOW_MODEL_REQUESTS = saved
