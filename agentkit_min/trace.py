"""Run traces: what a run did, recorded as it happens (format: spec/trace.md).

Every network run and standalone agent run records a trace, always: the run, each router
decision, agent run, inference, tool call, MCP request and history hook, as spans in start
order. A span is a plain JSON dict; recording one is a dict and two list appends, so tracing
can stay on (bench/trace.py measures it). `run.trace` (`result.trace` of a standalone
`agent.run`) is the `Trace`: `to_dict()` is the versioned JSON, `write(path)` saves it,
`page(path)` renders it as one HTML file (agentkit_min.trace_page). When OpenTelemetry is
installed and configured, the same spans are emitted live (agentkit_min.otel).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ._aio import maybe_await

__all__ = ["FORMAT", "VERSION", "Trace", "inference", "inferred", "route_of", "traced"]

FORMAT, VERSION = "agentkit-min/trace", 1
MAX_SPANS = 100_000
"""Spans kept per trace; later ones are counted in `dropped` (a run must not grow memory forever)."""

Span = dict[str, Any]
CURRENT: ContextVar[Trace | None] = ContextVar("agentkit_min_trace", default=None)
"""The trace of the run in progress, for code outside the loop (MCP client, history hooks)."""

# Well-known provider key shapes, scrubbed from serialised traces with the values of *_API_KEY
# style environment variables (secrets never reach a trace file or page).
_KEY = re.compile(r"\b(?:sk-[\w-]{16,}|AIza[\w-]{30,}|xai-[\w]{20,})|(?<=Bearer )[\w.~+/-]{12,}")
_UNFINISHED = {"type": "Unfinished", "message": "an exception ended it before it finished"}
_probe: list[Any] = []


class Trace:
    """The trace of one run: `spans` in start order, each a JSON dict (spec/trace.md)."""

    def __init__(self, run_id: str) -> None:
        self.id = run_id
        self.started_at = datetime.now(timezone.utc).isoformat()
        self.spans: list[Span] = []
        self.dropped = 0
        self._open: list[Span] = []  # the spans begun and not yet ended, outermost first
        self._saved: tuple[Any, ...] = ()
        self._otel = _bridge()
        self._handles: dict[int, Any] = {}  # span id -> its OpenTelemetry span
        self._t0 = time.perf_counter()

    def begin(self, kind: str, name: str, fields: Mapping[str, Any] | None = None,
              content: Any = None, leaf: bool = False) -> Span:
        """Open a span under the innermost open one; `content` goes to OpenTelemetry only.

        A `leaf` (MCP request, history hook) gets no children, so leaves may run concurrently.
        """
        opened = self._open
        span: Span = {"id": len(self.spans) + self.dropped, "parent": opened[-1]["id"] if opened else None,
                      "kind": kind, "name": name, "start_ms": (time.perf_counter() - self._t0) * 1e3,
                      "duration_ms": None, "status": "ok"}
        if fields:
            span.update(fields)
        if not opened:  # the run's root: code outside the loop finds this trace from here
            http = sys.modules.get("agentkit_min.http")  # loaded by any provider model in use
            listener = getattr(http, "ATTEMPT_LISTENER", None)
            self._saved = (CURRENT.get(), listener, listener.get() if listener else None)
            CURRENT.set(self)
            if listener is not None:
                listener.set(_attempt)
        if len(self.spans) < MAX_SPANS:
            self.spans.append(span)
        else:
            self.dropped += 1
        if not leaf:
            opened.append(span)
        if self._otel is not None:
            self._handles[span["id"]] = self._otel.start(span, content)
        return span

    def end(self, span: Span, fields: Mapping[str, Any] | None = None,
            error: BaseException | Mapping[str, Any] | None = None) -> None:
        """Close `span` (and any span still open inside it); `error` marks it failed."""
        if span["duration_ms"] is not None:
            return  # already closed, e.g. by its parent
        if fields:
            span.update(fields)
        now = (time.perf_counter() - self._t0) * 1e3
        opened = self._open
        if opened and opened[-1] is span:
            closing = [opened.pop()]
        else:  # a leaf, or spans still open inside `span`: close those too, innermost first
            i = next((i for i, s in enumerate(opened) if s is span), len(opened))
            closing = opened[i:][::-1] or [span]
            del opened[i:]
        for top in closing:
            top["duration_ms"] = now - top["start_ms"]
            # a span still open inside `span` was left by an exception: it failed
            failed = error if top is span else error or _UNFINISHED
            if failed is not None and top["status"] == "ok":
                top["status"], top["error"] = "error", _error(failed)
            if self._otel is not None:
                self._otel.end(top, self._handles.pop(top["id"]))
        if span["parent"] is None and self._saved:  # the root: restore the caller's context
            previous, listener, old = self._saved
            CURRENT.set(previous)
            if listener is not None:
                listener.set(old)

    def note(self, **fields: Any) -> None:
        """Add fields to the innermost open span."""
        if self._open:
            self._open[-1].update(fields)

    def to_json(self, indent: int | None = None) -> str:
        """The trace as JSON text, secrets scrubbed (spec/trace.md)."""
        spans = [{**s, "start_ms": round(s["start_ms"], 3),
                  "duration_ms": None if s["duration_ms"] is None else round(s["duration_ms"], 3)}
                 for s in self.spans]
        data = {"format": FORMAT, "version": VERSION, "id": self.id, "started_at": self.started_at,
                "dropped": self.dropped, "spans": spans}
        return _scrub(json.dumps(data, indent=indent, default=str, ensure_ascii=False))

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain JSON data (a copy; see spec/trace.md for every field)."""
        data: dict[str, Any] = json.loads(self.to_json())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        """Rebuild a trace from `to_dict()` JSON; ValueError when it is not a version-1 trace."""
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} trace: format={data.get('format')!r}, "
                             f"version={data.get('version')!r}")
        trace = object.__new__(cls)
        trace.id, trace.started_at = str(data["id"]), str(data["started_at"])
        trace.spans, trace.dropped = list(data["spans"]), int(data.get("dropped", 0))
        trace._open, trace._saved, trace._otel = [], (), None
        return trace

    def write(self, path: str | os.PathLike[str]) -> str:
        """Save the JSON to `path`; returns the path."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.to_json(indent=1))
        return os.fspath(path)

    def page(self, path: str | os.PathLike[str]) -> str:
        """Write the trace page (one self-contained HTML file) to `path`; returns the path."""
        from .trace_page import render

        with open(path, "w", encoding="utf-8") as file:
            file.write(render(self.to_dict()))
        return os.fspath(path)


async def traced(kind: str, name: str, fn: Callable[..., Any], *args: Any,
                 fields: Mapping[str, Any] | None = None) -> Any:
    """`await fn(*args)` (sync or async) as a span of the current run's trace, if any."""
    trace = CURRENT.get()
    if trace is None or not trace._open:  # no run in progress here
        return await maybe_await(fn(*args))
    span = trace.begin(kind, name, fields, leaf=True)
    try:
        value = await maybe_await(fn(*args))
    except Exception as exc:
        trace.end(span, None, exc)
        raise
    trace.end(span)
    return value


def route_of(router: Any, call_count: int) -> tuple[str, dict[str, Any]]:
    """The name and fields of the "route" span of asking `router` (None: the default one)."""
    if router is not None and getattr(router, "type", None) != "routing":
        return getattr(router, "__name__", None) or type(router).__name__, {"router": "code", "call_count": call_count}
    from .routing import get_default_routing_agent

    kind = "default_routing_agent" if router in (None, get_default_routing_agent()) else "routing_agent"
    return router.name if router is not None else "Default routing agent", {"router": kind, "call_count": call_count}


def inference(trace: Trace, model: Any, prompt: list[Any], messages: list[Any]) -> Span:
    """Begin the span of one inference by `model`; the messages go to OpenTelemetry only."""
    name = getattr(model, "model", None) or type(model).__name__
    return trace.begin("inference", str(name), {"model": str(name), "provider": getattr(model, "provider", None),
                                                "prompt": prompt, "messages": len(messages)}, messages)


def inferred(trace: Trace, span: Span, response: Any) -> None:
    """End an inference span with the model's reply."""
    output = response.output
    trace.end(span, {"output": output, "usage": response.usage,
                     "stop_reason": output[-1].get("stop_reason") if output else None})


def _attempt(info: dict[str, Any]) -> None:
    """`http.ATTEMPT_LISTENER`: each HTTP attempt of an inference (called on its worker thread)."""
    trace = CURRENT.get()
    if trace is not None and trace._open:
        trace._open[-1].setdefault("attempts", []).append(info)


def _error(error: Any) -> dict[str, str]:
    if isinstance(error, BaseException):
        return {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, Mapping):
        return {"type": str(error.get("type") or error.get("name")), "message": str(error.get("message"))}
    return {"type": "Error", "message": str(error)}


def _scrub(text: str) -> str:
    for name, value in os.environ.items():
        if len(value) >= 8 and name.endswith(("API_KEY", "_TOKEN", "_SECRET")) and value in text:
            text = text.replace(value, "<redacted>")
    return _KEY.sub("<redacted>", text)


def _bridge() -> Any:
    """The OpenTelemetry bridge when opentelemetry-api is importable and a provider is set."""
    if not _probe:
        try:
            import importlib
            import importlib.util

            found = importlib.util.find_spec("opentelemetry.trace") is not None
        except ImportError:  # no `opentelemetry` package at all: nothing more is imported
            found = False
        _probe.append(importlib.import_module(f"{__package__}.otel") if found else None)
    return _probe[0].bridge() if _probe[0] is not None else None
