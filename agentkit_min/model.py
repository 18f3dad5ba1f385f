"""The `Model` protocol: what an agent needs from a language model.

A model turns a list of messages plus tool definitions into output messages
(spec/semantics.md, "Models"). Provider factories (`openai(...)`, `anthropic(...)`, ...) and
the test doubles in `agentkit_min.testing` all implement it. Adapters are pure translations;
only `agentkit_min.http` does network IO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

from .messages import JSON, Message, Usage

if TYPE_CHECKING:
    from .tool import Tool

__all__ = ["Model", "ModelResponse", "ToolChoice"]

ToolChoice = str
""""auto" (the model decides), "any" (it must call some tool) or a tool's name."""


@dataclass
class ModelResponse:
    """What one inference returned."""

    output: list[Message]
    """Parsed output messages in AgentKit's shapes."""
    raw: JSON = None
    """The provider's decoded response body, untouched."""
    usage: Usage = field(default_factory=lambda: Usage())
    """Token usage, empty when the provider reported none."""


@runtime_checkable
class Model(Protocol):
    """Anything that can run one inference."""

    async def infer(
        self, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: ToolChoice
    ) -> ModelResponse:
        """Send `messages` and `tools` to the model and return its parsed reply. `messages` is a
        list of the model's own to read, edit or keep (`D-LOG`, agentkit_min/_request.py)."""
        ...
