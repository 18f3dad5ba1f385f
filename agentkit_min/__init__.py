"""agentkit-min: Inngest's AgentKit in plain standard-library Python.

Agents, tools, shared state and networks with code and LLM routers; provider adapters over
urllib; MCP tools over stdio, SSE, Streamable HTTP and WebSocket. Importing this package does
nothing but define names: no IO, no environment reads, no output. See README.md and spec/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .agent import Agent, create_agent
from .errors import (AgentKitError, MCPConnectionError, MCPError, ModelError, ModelHTTPError,
                     ProtocolError, RoutingError, ToolError, TransportError, UsageError)
from .history import History, HistoryConfig, HistoryContext, HistoryStore
from .lifecycle import AgentArgs, Lifecycle, LifecycleHooks, ResultArgs, RouterArgs, StartArgs
from .messages import (Message, TextMessage, ToolCallMessage, ToolMessage, ToolResultMessage,
                       Usage, UserMessage)
from .model import Model, ModelResponse
from .network import Network, NetworkRun, create_network
from .result import AgentResult
from .routing import Router, RoutingAgent, create_routing_agent, get_default_routing_agent
from .state import State, create_state
from .step import Step
from .tool import Tool, ToolContext, create_tool

if TYPE_CHECKING:  # loaded on first use (__getattr__ below); type checkers and IDEs see them here
    from .models import anthropic, azure_openai, deepseek, gemini, grok, openai

_LAZY = {"anthropic": "models", "azure_openai": "models", "deepseek": "models", "gemini": "models",
         "grok": "models", "openai": "models"}

__version__ = "0.1.0"

# No NullHandler: with no logging configured, Python's last-resort handler prints WARNING and
# above to stderr (a tool's traceback, a failed server run); DEBUG/INFO stay opt-in.

__all__ = [
    "__version__",
    "Agent", "create_agent", "RoutingAgent", "create_routing_agent", "get_default_routing_agent",
    "Network", "NetworkRun", "create_network", "State", "create_state", "AgentResult",
    "Tool", "ToolContext", "create_tool", "Model", "ModelResponse", "Step",
    "openai", "anthropic", "gemini", "grok", "azure_openai", "deepseek",
    "HistoryConfig", "HistoryContext", "AgentArgs", "StartArgs", "ResultArgs", "RouterArgs",
    "History", "HistoryStore", "Lifecycle", "LifecycleHooks", "Router",
    "Message", "TextMessage", "ToolCallMessage", "ToolMessage", "ToolResultMessage", "Usage",
    "UserMessage",
    "AgentKitError", "UsageError", "ModelError", "ModelHTTPError", "ToolError", "RoutingError",
    "ProtocolError", "TransportError", "MCPError", "MCPConnectionError",
]


def __getattr__(name: str) -> Any:
    """Provider factories load HTTP and adapter code only when first used (PEP 562, issue 14)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = globals()[name] = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
