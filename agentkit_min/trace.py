"""Run traces: what a run did, recorded as it happens (format: spec/trace.md).

Every network run and standalone agent run records a trace, always: the run, each router
decision, agent run, inference, tool call, MCP request and history hook, as spans in start
order. A span is a plain JSON dict; recording one is a short list and two appends, so tracing
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
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from ._aio import maybe_await

__all__ = ["FORMAT", "VERSION", "Trace", "inference", "inferred", "route_of", "traced"]

FORMAT, VERSION = "agentkit-min/trace", 1
MAX_SPANS = 100_000
"""Spans kept per trace; later ones are counted in `dropped` (a run must not grow memory forever)."""

Span = dict[str, Any]
T = TypeVar("T")
_clock = time.perf_counter
CURRENT: ContextVar[Trace | None] = ContextVar("agentkit_min_trace", default=None)
"""The trace of the run in progress, for code outside the loop (MCP client, history hooks)."""

# Well-known provider key shapes, scrubbed from serialised traces with the values of *_API_KEY
# style environment variables (secrets never reach a trace file or page).
_KEY = re.compile(r"\b(?:sk-[\w-]{16,}|AIza[\w-]{30,}|xai-[\w]{20,})|(?<=Bearer )[\w.~+/-]{12,}")
_UNFINISHED = {"type": "Unfinished", "message": "an exception ended it before it finished"}
_probe: list[Any] = []
_routing: list[Any] = []
_BASE = frozenset({"id", "parent", "kind", "name", "start_ms", "duration_ms", "status", "error"})


class Trace:
    """The trace of one run: `spans` in start order, each a JSON dict (spec/trace.md)."""

    def __init__(self, run_id: str) -> None:
        self.id = run_id
        self.dropped = 0
        self._n = 0  # spans begun
        # A span is kept as [id, parent, kind, name, start, end, error, fields] (clock seconds): a
        # list is the cheapest record; `fields` is the dict the caller holds and fills (`begin`).
        self._records: list[list[Any]] = []
        self._open: list[list[Any]] = []  # begun and not yet ended, outermost first
        self._leaves: list[list[Any]] = []  # open leaves (they may be concurrent)
        self._saved: tuple[Any, ...] = ()
        self._otel = _bridge()
        self._wall = time.time()
        self._t0 = _clock()

    @property
    def started_at(self) -> str:
        """When the trace began (ISO 8601, UTC)."""
        return datetime.fromtimestamp(self._wall, timezone.utc).isoformat()

    @property
    def spans(self) -> list[Span]:
        """Every span as a JSON dict, in start order (fresh dicts over the recorded values)."""
        return [_json(r, self._t0) for r in self._records]

    def begin(self, kind: str, name: str, fields: Span | None = None,
              content: Any = None, leaf: bool = False) -> Span:
        """Open a span under the innermost open one and return its `fields` dict (fill it in
        place; pass it to `end`). `content` goes to OpenTelemetry only. A `leaf` (MCP request,
        history hook) gets no children, so leaves may run concurrently.
        """
        opened, n = self._open, self._n
        span = {} if fields is None else fields
        record = [n, opened[-1][0] if opened else None, kind, name, _clock(), None, None, span]
        self._n = n + 1
        if not opened:
            self._activate()
        if n < MAX_SPANS:
            self._records.append(record)
        else:
            self.dropped += 1
        (self._leaves if leaf else opened).append(record)
        if self._otel is not None:
            record.append(self._otel.start(kind, name, span, content))
        return span

    def end(self, span: Span, fields: Mapping[str, Any] | None = None,
            error: BaseException | Mapping[str, Any] | None = None) -> None:
        """Close `span` (and any span still open inside it); `error` marks it failed."""
        if fields:
            span.update(fields)
        opened = self._open
        if opened and opened[-1][7] is span and error is None and self._otel is None:
            opened.pop()[5] = _clock()  # the usual case, kept short: the loop calls this for every step
            if not opened:
                self._deactivate()
            return
        now = _clock()
        i = next((i for i, r in enumerate(opened) if r[7] is span), None)
        if i is not None:  # spans still open inside `span` close with it, innermost first
            closing = opened[i:][::-1]
            del opened[i:]
        else:
            closing = [r for r in self._leaves if r[7] is span]
            self._leaves = [r for r in self._leaves if r[7] is not span]
        for record in closing:
            record[5] = now
            # a span still open inside `span` was left by an exception: it failed
            failed = error if record[7] is span else error or _UNFINISHED
            if failed is not None and record[6] is None:
                record[6] = _error(failed)
            if self._otel is not None:
                self._otel.end(record[2], record[7], record[6], record[8])
        if i == 0:
            self._deactivate()
            if isinstance(error, BaseException):  # the caller of a failed run gets its trace
                try:
                    error.trace = self  # type: ignore[attr-defined]
                except (AttributeError, TypeError):
                    pass

    async def guard(self, span: Span | None, work: Awaitable[T]) -> T:
        """`await work`; if it raises, `span` (None: the root) and what is open inside it end failed.

        For the steps of a run outside its own try blocks, so a failure there still ends the run's
        spans and gives the caller's context back (an open root would keep its trace current).
        """
        try:
            return await work
        except BaseException as exc:
            record = next((r for r in self._records if span is None or r[7] is span), None)
            if record is not None and record[5] is None:
                self.end(record[7], None, exc)
            elif record is not None and record[6] is None:  # ended "ok" by a finally: cancelled
                record[6] = _error(exc)
            raise

    def _activate(self) -> None:
        """At the root: code outside the loop (MCP client, history, HTTP) finds this trace."""
        http = sys.modules.get("agentkit_min.http")  # loaded by any provider model in use
        listener = getattr(http, "ATTEMPT_LISTENER", None)
        self._saved = (CURRENT.get(), listener, listener.get() if listener else None)
        CURRENT.set(self)
        if listener is not None:
            listener.set(_attempt)

    def _deactivate(self) -> None:
        """The root ended: restore what `_activate` replaced."""
        if self._saved:
            previous, listener, old = self._saved
            CURRENT.set(previous)
            if listener is not None:
                listener.set(old)

    def note(self, **fields: Any) -> None:
        """Add fields to the innermost open span."""
        if self._open:
            self._open[-1][7].update(fields)

    def to_json(self, indent: int | None = None) -> str:
        """The trace as JSON text, secrets scrubbed (spec/trace.md)."""
        data = {"format": FORMAT, "version": VERSION, "id": self.id, "started_at": self.started_at,
                "dropped": self.dropped, "spans": self.spans}
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
        trace = cls(str(data["id"]))
        trace._wall = datetime.fromisoformat(str(data["started_at"])).timestamp()
        trace.dropped, trace._otel, trace._t0 = int(data.get("dropped", 0)), None, 0.0
        for s in data["spans"]:
            start, took = s["start_ms"] / 1e3, s["duration_ms"]
            trace._records.append([s["id"], s["parent"], s["kind"], s["name"], start,
                                   None if took is None else start + took / 1e3, s.get("error"),
                                   {k: v for k, v in s.items() if k not in _BASE}])
        trace._n = len(trace._records) + trace.dropped
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
                 fields: Span | None = None) -> Any:
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
    if not _routing:
        from .routing import RoutingAgent

        _routing.append(RoutingAgent)
    if router is not None and not isinstance(router, _routing[0]):
        return getattr(router, "__name__", None) or type(router).__name__, {"router": "code", "call_count": call_count}
    from .routing import get_default_routing_agent

    kind = "default_routing_agent" if router in (None, get_default_routing_agent()) else "routing_agent"
    return router.name if router is not None else "Default routing agent", {"router": kind, "call_count": call_count}


def inference(trace: Trace, model: Any, prompt: list[Any], messages: list[Any]) -> Span:
    """Begin the span of one inference by `model`; the messages go to OpenTelemetry only."""
    name = getattr(model, "model", None) or getattr(model, "name", None) or type(model).__name__
    name = name if type(name) is str else str(name)
    return trace.begin("inference", name, {"model": name, "provider": getattr(model, "provider", None),
                                           "prompt": prompt, "messages": len(messages)}, messages)


def inferred(trace: Trace, span: Span, response: Any) -> None:
    """End an inference span with the model's reply."""
    span["output"] = output = response.output
    span["usage"], span["stop_reason"] = response.usage, output[-1].get("stop_reason") if output else None
    trace.end(span)


def _attempt(info: dict[str, Any]) -> None:
    """`http.ATTEMPT_LISTENER`: each HTTP attempt of an inference (called on its worker thread)."""
    trace = CURRENT.get()
    if trace is not None and trace._open:
        trace._open[-1][7].setdefault("attempts", []).append(info)


def _json(record: list[Any], t0: float) -> Span:
    start, end, error = record[4], record[5], record[6]
    span = {"id": record[0], "parent": record[1], "kind": record[2], "name": record[3],
            "start_ms": round((start - t0) * 1e3, 3),
            "duration_ms": None if end is None else round((end - start) * 1e3, 3),
            "status": "ok" if error is None else "error"}
    if error is not None:
        span["error"] = error
    span.update(record[7])
    return span


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
