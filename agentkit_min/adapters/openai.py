"""OpenAI Chat Completions <-> AgentKit messages (POST /v1/chat/completions).

Pure translation, no IO; Azure OpenAI, DeepSeek and Grok reuse it (spec/semantics.md section
5.4 for what AgentKit sends; decisions G1, G2 and Q16).

Request:
    text        -> {"role": system|user|assistant, "content": str | [{"type": "text", ...}]}
    tool_call   -> {"role": "assistant", "content": null, "tool_calls": [{id, type, function}]}
    tool_result -> {"role": "tool", "tool_call_id": id, "content": <JSON string>}
    tools       -> {"type": "function", "function": {name, description, parameters, strict}};
                   `strict` is the tool's own choice, else true only when the schema satisfies
                   OpenAI's strict rules (G1); a tool without parameters gets no `parameters`.
    tool_choice -> "auto" | "required" (AgentKit "any") | {"type": "function", "function": {name}}
    parallel_tool_calls: false when there are tools, except for o-series reasoning models that
                   reject the parameter (as AgentKit); `default_parameters` may override it.
    `default_parameters` are merged last and win (as AgentKit's `onCall`).

Response: the choices' messages. Tool calls are decided by the presence of `tool_calls`, not
by `finish_reason` (a forced tool choice answers with finish_reason "stop"). `content` may be
null, "" or a list of parts; a `refusal` becomes a text message marked in `meta`; DeepSeek and
Grok `reasoning_content` is kept in `meta` (and not sent back: DeepSeek rejects it). A reply
with neither text nor tool calls (content filter, length) is one empty text message whose
`meta` says why. Usage: prompt/completion/total tokens, cached and reasoning tokens.

Not done here: streaming, the Responses API, audio and images.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ..errors import ModelResponseError
from ..messages import JSON, Message, StopReason, TextMessage, ToolCallMessage, ToolMessage, Usage
from ..tool import Tool
from ._common import (
    Request,
    check_tool_choice,
    plain_text,
    provider_meta,
    as_list,
    as_object,
    decoded,
    dig,
    json_text,
    parse_arguments,
    raise_body_error,
    raise_for_status,
    usage_from,
)

__all__ = ["PROVIDER", "build_request", "parse_response", "convert_messages", "convert_tools"]

PROVIDER = "openai"
PATH = "chat/completions"

# AgentKit omits parallel_tool_calls for ids containing "o1"/"o3"; o4 models reject it too.
_REASONING_MODEL = re.compile(r"o1|o3|(^|[/:-])o4(-|$)")


def build_request(
    model: str,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    tool_choice: str,
    params: Mapping[str, Any] | None = None,
    *,
    provider: str = PROVIDER,
    force_strict: bool | None = None,
) -> Request:
    """The Chat Completions request for one inference (headers carry no secrets).

    Args:
        model: the model id sent as `model`.
        messages: the conversation in AgentKit shapes.
        tools: the tools the model may call.
        tool_choice: "auto", "any" or a tool name.
        params: `default_parameters`, merged over the body.
        provider: names the provider in errors (Grok, DeepSeek and Azure reuse this).
        force_strict: overrides every tool's `strict` (Grok sends false, decision Q8).
    """
    body: dict[str, Any] = {"model": model, "messages": convert_messages(messages)}
    if tools:
        body["tools"] = convert_tools(tools, force_strict)
        body["tool_choice"] = _tool_choice(tool_choice, tools, provider)
        if not _REASONING_MODEL.search(model):
            body["parallel_tool_calls"] = False
    body.update(params or {})
    return Request(PATH, {}, body)


def _tool_choice(choice: str, tools: Sequence[Tool], provider: str) -> JSON:
    if choice in (None, "", "auto"):
        return "auto"
    if choice == "any":
        return "required"
    check_tool_choice(provider, choice, tools)
    return {"type": "function", "function": {"name": choice}}


# Checking a schema against the strict rules walks all of it; tools live as long as their
# agents, so the answer is remembered per schema object (the object itself is held, so its
# id cannot be reused). A schema mutated after its first request is not re-checked.
_STRICT: dict[int, tuple[Mapping[str, Any], bool]] = {}


def _strict_ok(params: Mapping[str, Any]) -> bool:
    cached = _STRICT.get(id(params))
    if cached is not None and cached[0] is params:
        return cached[1]
    from ..schema import openai_strict_compatible

    if len(_STRICT) > 1024:
        _STRICT.clear()
    ok = openai_strict_compatible(params)
    _STRICT[id(params)] = (params, ok)
    return ok


def convert_tools(tools: Sequence[Tool], force_strict: bool | None = None) -> list[JSON]:
    """Tools as Chat Completions function definitions (decision G1 for `strict`)."""
    out: list[JSON] = []
    for tool in tools:
        fn: dict[str, Any] = {"name": tool.name}
        if tool.description is not None:
            fn["description"] = tool.description
        params = tool.parameters
        strict = tool.strict if tool.strict is not None else (params is not None and _strict_ok(params))
        if force_strict is not None:
            strict = force_strict
        if params is None and strict:  # strict mode needs an explicit empty object schema
            params = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
        if params is not None:
            fn["parameters"] = params
        fn["strict"] = bool(strict)
        out.append({"type": "function", "function": fn})
    return out


def convert_messages(messages: Sequence[Message]) -> list[JSON]:
    """AgentKit messages as Chat Completions messages, one for one, in order."""
    out: list[JSON] = []
    for msg in messages:
        if msg["type"] == "text":
            content = msg["content"]
            if msg["role"] == "assistant" and not content and not provider_meta(msg, "openai").get("refusal"):
                continue  # an empty reply (content filter...) has nothing to send back
            wire: dict[str, Any] = {"role": msg["role"], "content": _content(content)}
            if msg["role"] == "assistant" and provider_meta(msg, "openai").get("refusal"):
                wire["refusal"] = provider_meta(msg, "openai")["refusal"]
            out.append(wire)
        elif msg["type"] == "tool_call":
            out.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": t["id"], "type": "function",
                 "function": {"name": t["name"], "arguments": json_text(t["input"])}}
                for t in msg["tools"]
            ]})
        elif msg["type"] == "tool_result":
            out.append({"role": "tool", "tool_call_id": msg["tool"]["id"],
                        "content": json_text(msg["content"])})
    return out


def _content(content: Any) -> JSON:
    if isinstance(content, str):
        return content
    return [{"type": "text", "text": p.get("text", "")} for p in content if isinstance(p, dict)]



def parse_response(
    status: int, body: object, headers: Mapping[str, str] | None = None, *, provider: str = PROVIDER
) -> tuple[list[Message], Usage]:
    """The output messages and usage of a Chat Completions response.

    Raises:
        ModelHTTPError (a subclass): `status` is an error status.
        ModelResponseError: a success status with a body that holds no usable reply.
    """
    body = decoded(body)
    raise_for_status(provider, status, body, headers)
    if isinstance(body, str):
        from ._stream import OpenAIStream, merged  # a streamed (SSE) body, when one is handed to us

        body = merged(OpenAIStream(provider, headers), body)
    data = as_object(body, provider)
    raise_body_error(provider, data)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ModelResponseError(f"{provider} response has no choices: {str(data)[:200]!r}")
    output: list[Message] = []
    for choice in choices:
        output += _parse_choice(choice if isinstance(choice, dict) else {}, provider)
    return output, parse_usage(data.get("usage"))


def _parse_choice(choice: dict[str, Any], provider: str) -> list[Message]:
    message: dict[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
    calls = [c for c in as_list(message.get("tool_calls"), f"{provider} tool_calls") if isinstance(c, dict)]
    if isinstance(message.get("function_call"), dict):  # the legacy single-function shape
        calls.append({"id": "function_call", "function": message["function_call"]})
    stop: StopReason = "tool" if calls else "stop"
    meta: dict[str, JSON] = {}
    for key in ("refusal", "reasoning_content", "reasoning"):
        if message.get(key):
            meta[key] = message[key]
    text = _text(message.get("content"))
    out: list[Message] = []
    if text.strip() or meta.get("refusal"):
        reply: TextMessage = {"type": "text", "role": "assistant",
                              "content": text or str(meta.get("refusal", "")), "stop_reason": stop}
        if meta:
            reply["meta"] = {"openai": meta}
        out.append(reply)
        meta = {}
    if calls:
        tool_msg: ToolCallMessage = {"type": "tool_call", "role": "assistant",
                                     "tools": [_tool(c, i) for i, c in enumerate(calls)],
                                     "stop_reason": "tool"}
        if meta:
            tool_msg["meta"] = {"openai": meta}
        out.append(tool_msg)
    if not out:  # nothing to say: keep why (finish_reason, reasoning) visible in the output
        meta["finish_reason"] = choice.get("finish_reason")
        out.append({"type": "text", "role": "assistant", "content": "", "stop_reason": "stop",
                    "meta": {"openai": meta}})
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some compatible servers answer with content parts
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _tool(call: dict[str, Any], index: int) -> ToolMessage:
    fn: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
    name = str(fn.get("name") or "")
    if not name:
        raise ModelResponseError(f"tool call #{index} has no function name: {str(call)[:200]!r}")
    call_id = call.get("id")
    return {"type": "tool", "id": str(call_id) if call_id else f"call_{index}", "name": name,
            "input": parse_arguments(fn.get("arguments"), name)}


def parse_usage(usage: Any) -> Usage:
    """Chat Completions usage (and the `input_tokens` names some proxies use) as a Usage."""
    if not isinstance(usage, dict):
        return Usage()
    return usage_from({
        "input_tokens": usage.get("prompt_tokens", usage.get("input_tokens")),
        "output_tokens": usage.get("completion_tokens", usage.get("output_tokens")),
        "total_tokens": usage.get("total_tokens"),
        "cache_read_tokens": dig(usage, "prompt_tokens_details", "cached_tokens")
        if dig(usage, "prompt_tokens_details", "cached_tokens") is not None
        else usage.get("prompt_cache_hit_tokens"),  # DeepSeek's name
        "reasoning_tokens": dig(usage, "completion_tokens_details", "reasoning_tokens"),
    })
