"""Azure OpenAI <-> AgentKit messages: OpenAI Chat Completions on a deployment URL.

The wire format is OpenAI's (spec/semantics.md section 5.2); only the address and the key
header differ, and the model class handles both:
`<endpoint>/openai/deployments/<deployment>/chat/completions?api-version=<version>` with the
key in an `api-key` header. The `model` field is sent only when a model id is given (Azure
takes the model from the deployment).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Mapping, Sequence

from ..messages import Message, Usage
from ..tool import Tool
from . import openai as _openai
from ._common import Request

__all__ = ["PROVIDER", "build_request", "deployment_path", "parse_response"]

PROVIDER = "azure-openai"


def deployment_path(deployment: str, api_version: str) -> str:
    """The request path below the resource endpoint."""
    return (f"openai/deployments/{urllib.parse.quote(deployment, safe='')}/chat/completions"
            f"?api-version={urllib.parse.quote(api_version, safe='')}")


def build_request(model: str, messages: Sequence[Message], tools: Sequence[Tool], tool_choice: str,
                  params: Mapping[str, Any] | None = None) -> Request:
    """OpenAI's request; `model` may be "" (then omitted: the deployment decides)."""
    request = _openai.build_request(model, messages, tools, tool_choice, params, provider=PROVIDER)
    if not model:
        request.body.pop("model", None)
    return request


def parse_response(status: int, body: object,
                   headers: Mapping[str, str] | None = None) -> tuple[list[Message], Usage]:
    """OpenAI's parser, with errors labelled "azure-openai"."""
    return _openai.parse_response(status, body, headers, provider=PROVIDER)
