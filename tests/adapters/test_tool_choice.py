"""A forced tool choice naming no tool is a caller mistake, raised before any request."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from agentkit_min import UsageError, create_tool


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "grok"])
def test_forced_tool_choice_must_name_a_tool_in_every_adapter(provider: str) -> None:
    adapter = importlib.import_module(f"agentkit_min.adapters.{provider}")
    tool = create_tool(name="add", handler=lambda args, ctx: 1)
    msgs: list[Any] = [{"type": "text", "role": "user", "content": "hi"}]
    with pytest.raises(UsageError, match=rf"{provider}: tool_choice 'nope' is not one of the tools \(add\)"):
        adapter.build_request("m", msgs, [tool], "nope", {})
    assert adapter.build_request("m", msgs, [tool], "add", {}) is not None
