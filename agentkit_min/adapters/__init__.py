"""Provider adapters: pure translations between AgentKit messages and each provider's JSON.

Each module exposes the same two functions and does no IO (spec/semantics.md section 5):

    build_request(model, messages, tools, tool_choice, params) -> Request(path, headers, body)
    parse_response(status, body, headers=None) -> (messages, usage)

`build_request` never sees an API key: the model class in `agentkit_min.models` joins the
path to its base URL and adds the credential when it sends. `parse_response` raises the typed
errors of `agentkit_min.errors` for error statuses and `ModelResponseError` for a success
status whose body is unusable. Provider data that must survive a round trip (thinking blocks,
thought signatures, refusals) is kept in the optional `meta` of messages and tool calls.

    openai        OpenAI Chat Completions
    anthropic     Anthropic Messages
    gemini        Google Gemini generateContent
    grok          xAI (OpenAI-compatible; tools never strict)
    azure_openai  Azure OpenAI deployments (OpenAI's wire format)
    deepseek      DeepSeek (OpenAI's wire format)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # each adapter loads on first use (__getattr__ below); checkers see them here
    from types import ModuleType

    from . import anthropic, azure_openai, deepseek, gemini, grok, openai
    from ._common import Request

    ADAPTERS: dict[str, ModuleType]
    """Adapter module by provider name (the `provider` attribute of a model)."""

__all__ = ["ADAPTERS", "Request", "anthropic", "azure_openai", "deepseek", "gemini", "grok", "openai"]

_MODULES = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "grok": "grok",
            "azure-openai": "azure_openai", "deepseek": "deepseek"}


def __getattr__(name: str) -> Any:
    """Load an adapter (or `ADAPTERS`, all of them) on first use: a program uses one or two."""
    if name == "ADAPTERS":
        value: Any = {provider: import_module(f"{__name__}.{m}") for provider, m in _MODULES.items()}
    elif name == "Request":
        value = import_module(f"{__name__}._common").Request
    elif name in _MODULES.values():
        value = import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
