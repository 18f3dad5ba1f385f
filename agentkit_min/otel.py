"""OpenTelemetry spans from run traces (spec/trace.md, "OpenTelemetry").

Imported by trace.py only when `opentelemetry-api` is importable; silent until a tracer provider
is set (globally, or `configure`). Trace spans become live spans, nested as the run is, named by
the GenAI semantic conventions. Message contents only when opted in, as those conventions ask:
`configure(capture_content=True)` or OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from opentelemetry import context
from opentelemetry import trace as otel
from opentelemetry.trace import SpanKind, Status, StatusCode

__all__ = ["configure"]
log = logging.getLogger(__name__)

_settings: dict[str, Any] = {"provider": None, "capture": None, "unset_until": 0.0}
_PROVIDERS = {"azure-openai": "azure.ai.openai", "gemini": "gcp.gemini", "grok": "x_ai"}
# kind -> (gen_ai.operation.name, the attribute naming it); route and history have no GenAI operation
_OPS = {"network": ("invoke_workflow", "gen_ai.workflow.name"), "agent": ("invoke_agent", "gen_ai.agent.name"),
        "inference": ("chat", "gen_ai.request.model"), "tool": ("execute_tool", "gen_ai.tool.name")}


def configure(*, tracer_provider: Any = None, capture_content: bool | None = None) -> None:
    """Use `tracer_provider` instead of the global one (None: the global); opt in to contents."""
    _settings.update(provider=tracer_provider, capture=capture_content, unset_until=0.0)


def bridge() -> Bridge | None:
    """A bridge for one run, or None while no tracer provider is set (looked at once a second)."""
    now = time.monotonic()
    if now < _settings["unset_until"]:
        return None
    provider = _settings["provider"] or otel.get_tracer_provider()
    if isinstance(provider, (otel.ProxyTracerProvider, otel.NoOpTracerProvider)):
        _settings["unset_until"] = now + 1.0
        return None
    capture = _settings["capture"]
    if capture is None:
        capture = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() == "true"
    return Bridge(provider.get_tracer("agentkit_min"), bool(capture))


class Bridge:
    """Mirrors one trace's spans as OpenTelemetry spans (called by `Trace.begin` and `end`)."""

    def __init__(self, tracer: Any, capture: bool) -> None:
        self.tracer, self.capture, self.failed = tracer, capture, False

    def start(self, kind: str, name: str, span: dict[str, Any], content: Any) -> tuple[Any, Any] | None:
        """Start and make current the span of a trace span (so what runs inside nests in it);
        None if the OpenTelemetry SDK raised (a span processor's bug must not fail the run)."""
        try:
            return self._start(kind, name, span, content)
        except Exception as exc:
            self._failed("start", kind, exc)
            return None

    def end(self, kind: str, span: dict[str, Any], error: dict[str, str] | None,
            handle: tuple[Any, Any] | None) -> None:
        """End the span `start` returned; its context is detached even if the SDK raises."""
        if handle is None:
            return
        try:
            try:
                self._end(kind, span, error, handle[0])
            finally:  # ended even if an attribute could not be set
                handle[0].end()
        except Exception as exc:
            self._failed("end", kind, exc)
        finally:
            context.detach(handle[1])

    def _failed(self, where: str, kind: str, exc: Exception) -> None:
        # the type only: a processor's message may quote attributes (contents, when captured)
        (log.debug if self.failed else log.warning)(
            "OpenTelemetry raised %s when a %r span was to %s; the run goes on (spans may be missing)",
            type(exc).__name__, kind, where)
        self.failed = True

    def _start(self, kind: str, name: str, span: dict[str, Any], content: Any) -> tuple[Any, Any]:
        attrs: dict[str, Any] = {"agentkit.span.kind": kind}
        if kind in _OPS:
            op, key = _OPS[kind]
            attrs["gen_ai.operation.name"], attrs[key] = op, name
            title = f"{op} {name}"
        else:
            title, attrs[f"agentkit.{kind}.name"] = f"{kind} {name}", name
        if kind == "inference":
            provider = span.get("provider") or "_OTHER"
            attrs["gen_ai.provider.name"] = _PROVIDERS.get(provider, provider)
        elif kind == "tool":
            attrs["gen_ai.tool.call.id"], attrs["gen_ai.tool.type"] = span.get("call_id") or "", "function"
        elif kind == "mcp":
            title, attrs["mcp.method.name"] = f"{name} {span.get('server', '')}", name
        if self.capture and content is not None:
            attrs["gen_ai.input.messages"] = json.dumps(_messages(content), default=str)
        if self.capture and kind == "tool":
            attrs["gen_ai.tool.call.arguments"] = json.dumps(span.get("input"), default=str)
        started = self.tracer.start_span(title, kind=SpanKind.CLIENT if kind in ("inference", "mcp")
                                         else SpanKind.INTERNAL, attributes=attrs)
        return started, context.attach(otel.set_span_in_context(started))

    def _end(self, kind: str, span: dict[str, Any], error: dict[str, str] | None, started: Any) -> None:
        """Set on the span what the trace span learnt by its end."""
        usage = span.get("usage") or {}
        for key in ("input_tokens", "output_tokens"):
            if key in usage:
                started.set_attribute(f"gen_ai.usage.{key}", int(usage[key]))
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
            output = json.dumps(_messages(span.get("output") or []), default=str)
            started.set_attribute("gen_ai.output.messages", output)
        if self.capture and kind == "tool":
            started.set_attribute("gen_ai.tool.call.result", json.dumps(span.get("output"), default=str))
        if error is not None:
            started.set_attribute("error.type", error["type"])
            started.set_status(Status(StatusCode.ERROR, error["message"]))


def _messages(messages: Any) -> list[dict[str, Any]]:
    """AgentKit messages in the conventions' shape: role + parts."""
    out = []
    for m in messages:
        if m.get("type") == "tool_call":
            out.append({"role": "assistant", "parts": [{"type": "tool_call", "id": t["id"], "name": t["name"],
                                                        "arguments": t.get("input")} for t in m["tools"]]})
        elif m.get("type") == "tool_result":
            out.append({"role": "tool", "parts": [{"type": "tool_call_response", "id": m["tool"]["id"],
                                                   "response": m.get("content")}]})
        else:
            content = m.get("content")
            text = content if isinstance(content, str) else json.dumps(content, default=str)
            out.append({"role": m.get("role", "user"), "parts": [{"type": "text", "content": text}]})
    return out
