"""xAI Grok <-> AgentKit messages: OpenAI Chat Completions (api.x.ai/v1), reusing `adapters.openai`.

Three differences (decision Q8): every tool is sent with `strict: false` (as AgentKit); no `tools`
key when the agent has none (AgentKit sends `[]`); the key goes in `Authorization: Bearer` (the
model class adds it; AgentKit forgets it outside Inngest). Replies add `reasoning_content` (kept
in meta) and `content: ""` beside tool calls; errors (`{"code", "error"}`, a bad key as a 400)
are read by the shared error mapping.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..messages import Message, Usage
from ..tool import Tool
from . import openai as _openai
from ._common import Request

__all__ = ["PROVIDER", "build_request", "parse_response"]

PROVIDER = "grok"


def build_request(model: str, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                  params: Mapping[str, Any] | None = None) -> Request:
    """The Chat Completions request xAI expects: OpenAI's, tools never strict."""
    return _openai.build_request(model, messages, tools, tool_choice, params,
                                 provider=PROVIDER, force_strict=False)


def parse_response(status: int, body: object,
                   headers: Mapping[str, str] | None = None) -> tuple[list[Message], Usage]:
    """OpenAI's parser, with errors labelled "grok"."""
    return _openai.parse_response(status, body, headers, provider=PROVIDER)
