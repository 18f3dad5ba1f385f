"""xAI Grok <-> AgentKit messages: OpenAI Chat Completions with three differences.

xAI's API is OpenAI-compatible (POST https://api.x.ai/v1/chat/completions), so this module
reuses `adapters.openai` (spec/semantics.md section 5.5; decision Q8):

- every tool is sent with `strict: false` (as AgentKit);
- no `tools` key when the agent has no tools (AgentKit sends `tools: []`);
- the key goes in `Authorization: Bearer` (AgentKit forgets the header outside Inngest),
  which the model class adds.

Responses are OpenAI's shape plus `reasoning_content` (kept in meta) and `content: ""` next to
tool calls; errors use `{"code": "<status text>", "error": "<message>"}` and a bad key is a
400 whose message says so: both are read by the shared error mapping.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..messages import Message, Usage
from ..tool import Tool
from . import openai as _openai
from ._common import Request

__all__ = ["PROVIDER", "build_request", "parse_response"]

PROVIDER = "grok"


def build_request(
    model: str,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    tool_choice: str,
    params: Mapping[str, Any] | None = None,
) -> Request:
    """The Chat Completions request xAI expects: OpenAI's, tools never strict."""
    return _openai.build_request(model, messages, tools, tool_choice, params,
                                 provider=PROVIDER, force_strict=False)


def parse_response(
    status: int, body: object, headers: Mapping[str, str] | None = None
) -> tuple[list[Message], Usage]:
    """OpenAI's parser, with errors labelled "grok"."""
    return _openai.parse_response(status, body, headers, provider=PROVIDER)
