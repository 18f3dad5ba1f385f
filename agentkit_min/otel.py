"""OpenTelemetry spans from run traces (spec/trace.md, "OpenTelemetry").

Imported by `agentkit_min.trace` only when `opentelemetry-api` is importable, and silent until
a tracer provider is set (`opentelemetry.trace.set_tracer_provider`, or `configure`). Each
trace span becomes a live span, nested as the run nests (network -> route / agent ->
inference / tool -> MCP), named and attributed by the GenAI semantic conventions:
`invoke_workflow {network}`, `invoke_agent {agent}`, `chat {model}`, `execute_tool {tool}`.
Message contents (`gen_ai.input.messages`, `gen_ai.output.messages`, tool arguments and
results) are recorded only when opted in, as those conventions require: `configure(
capture_content=True)` or OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from opentelemetry import context
from opentelemetry import trace as otel
from opentelemetry.trace import SpanKind, Status, StatusCode

__all__ = ["configure"]

_settings: dict[str, Any] = {"provider": None, "capture": None, "checked": 0.0, "tracer": None}
_PROVIDERS = {"azure-openai": "azure.ai.openai", "gemini": "gcp.gemini", "grok": "x_ai"}
_OPS = {"network": "invoke_workflow", "agent": "invoke_agent", "inference": "chat", "tool": "execute_tool"}


def configure(*, tracer_provider: Any = None, capture_content: bool | None = None) -> None:
    """Use `tracer_provider` instead of the global one (None: the global); opt in to contents."""
    _settings.update(provider=tracer_provider, capture=capture_content, checked=0.0, tracer=None)


def bridge() -> Bridge | None:
    """A bridge for one run, or None while no real tracer provider is configured.

    Without one, the global provider is looked at again at most once a second (runs stay cheap).
    """
    now = time.monotonic()
    if _settings["tracer"] is None and now - _settings.get("checked", 0.0) > 1.0:
        _settings["checked"] = now
        provider = _settings["provider"] or otel.get_tracer_provider()
        if not isinstance(provider, (otel.ProxyTracerProvider, otel.NoOpTracerProvider)):
            _settings["tracer"] = provider.get_tracer("agentkit_min")
    if _settings["tracer"] is None:
        return None
    capture = _settings["capture"]
    if capture is None:
        capture = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() == "true"
    return Bridge(_settings["tracer"], bool(capture))


class Bridge:
    """Mirrors one trace's spans as OpenTelemetry spans (called by `Trace.begin` / `end`)."""

    def __init__(self, tracer: Any, capture: bool) -> None:
        self.tracer, self.capture = tracer, capture

    def start(self, kind: str, name: str, span: dict[str, Any], content: Any) -> tuple[Any, Any]:
        """Start the OpenTelemetry span of a trace span, as the current span (children nest)."""
        attrs: dict[str, Any] = {"agentkit.span.kind": kind}
        if kind in _OPS:
            attrs["gen_ai.operation.name"] = _OPS[kind]
        if kind == "network":
            title, attrs["gen_ai.workflow.name"] = f"invoke_workflow {name}", name
        elif kind == "agent":
            title, attrs["gen_ai.agent.name"] = f"invoke_agent {name}", name
        elif kind == "inference":
            title = f"chat {span['model']}"
            attrs["gen_ai.request.model"] = span["model"]
            provider = span.get("provider") or "_OTHER"
            attrs["gen_ai.provider.name"] = _PROVIDERS.get(provider, provider)
            if self.capture and content is not None:
                attrs["gen_ai.input.messages"] = json.dumps(_messages(content), default=str)
        elif kind == "tool":
            title, attrs["gen_ai.tool.name"] = f"execute_tool {name}", name
            attrs["gen_ai.tool.call.id"], attrs["gen_ai.tool.type"] = span.get("call_id", ""), "function"
            if self.capture:
                attrs["gen_ai.tool.call.arguments"] = json.dumps(span.get("input"), default=str)
        elif kind == "mcp":
            title, attrs["mcp.method.name"] = f"{name} {span.get('server', '')}".strip(), name
        else:  # route, history: agentkit's own steps, no GenAI operation
            title = f"{kind} {name}"
            attrs[f"agentkit.{kind}.name"] = name
        client = kind in ("inference", "mcp")
        started = self.tracer.start_span(title, kind=SpanKind.CLIENT if client else SpanKind.INTERNAL,
                                         attributes=attrs)
        return started, context.attach(otel.set_span_in_context(started))

    def end(self, kind: str, span: dict[str, Any], error: dict[str, str] | None, handle: tuple[Any, Any]) -> None:
        """End the OpenTelemetry span `start` returned with what the span learnt by its end."""
        started, token = handle
        usage = span.get("usage") or {}
        for ours, theirs in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens")):
            if ours in usage:
                started.set_attribute(f"gen_ai.usage.{theirs}", int(usage[ours]))
        if span.get("stop_reason"):
            started.set_attribute("gen_ai.response.finish_reasons", [str(span["stop_reason"])])
        if kind == "route":
            started.set_attribute("agentkit.route.router", span.get("router", ""))
            started.set_attribute("agentkit.route.returned", list(span.get("returned") or []))
        if span.get("thread_id"):
            started.set_attribute("gen_ai.conversation.id", str(span["thread_id"]))
        for attempt in span.get("attempts", ()):
            started.add_event("agentkit.http.attempt", {k: v for k, v in attempt.items() if v is not None})
        if self.capture and kind == "inference":
            started.set_attribute("gen_ai.output.messages", json.dumps(_messages(span.get("output") or []),
                                                                       default=str))
        if self.capture and kind == "tool":
            started.set_attribute("gen_ai.tool.call.result", json.dumps(span.get("output"), default=str))
        if error is not None:
            started.set_attribute("error.type", error["type"])
            started.set_status(Status(StatusCode.ERROR, error["message"]))
        started.end()
        context.detach(token)


def _messages(messages: Any) -> list[dict[str, Any]]:
    """AgentKit messages in the GenAI conventions' message shape (role + parts)."""
    out = []
    for m in messages:
        if m.get("type") == "tool_call":
            parts = [{"type": "tool_call", "id": t["id"], "name": t["name"], "arguments": t.get("input")}
                     for t in m.get("tools", [])]
            out.append({"role": "assistant", "parts": parts})
        elif m.get("type") == "tool_result":
            out.append({"role": "tool", "parts": [{"type": "tool_call_response", "id": m["tool"]["id"],
                                                   "response": m.get("content")}]})
        else:
            content = m.get("content")
            text = content if isinstance(content, str) else json.dumps(content, default=str)
            out.append({"role": m.get("role", "user"), "parts": [{"type": "text", "content": text}]})
    return out
