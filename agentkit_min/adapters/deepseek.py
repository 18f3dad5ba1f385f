"""DeepSeek <-> AgentKit messages: OpenAI Chat Completions at https://api.deepseek.com/v1/.

The wire format is OpenAI's (spec/semantics.md section 5.2). DeepSeek-specific fields are
read by the OpenAI parser: `reasoning_content` (kept in meta and never sent back, which the
API forbids) and `prompt_cache_hit_tokens` (usage `cache_read_tokens`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..messages import Message, Usage
from ..tool import Tool
from . import openai as _openai
from ._common import Request

__all__ = ["PROVIDER", "build_request", "parse_response"]

PROVIDER = "deepseek"


def build_request(model: str, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                  params: Mapping[str, Any] | None = None) -> Request:
    """OpenAI's request."""
    return _openai.build_request(model, messages, tools, tool_choice, params, provider=PROVIDER)


def parse_response(status: int, body: object,
                   headers: Mapping[str, str] | None = None) -> tuple[list[Message], Usage]:
    """OpenAI's parser, with errors labelled "deepseek"."""
    return _openai.parse_response(status, body, headers, provider=PROVIDER)
