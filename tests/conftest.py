"""Suite-wide guard: no test may reach a real model provider.

`agentkit_min.http.ALLOW_MODEL_REQUESTS = False` refuses any request that is not answered by
an installed transport (a cassette player) or a server on loopback. Tests that replay with
vcrpy switch it back on inside the vcrpy block, where `record_mode="none"` refuses anything
not in the cassette (tests/adapters/conftest.py).
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
