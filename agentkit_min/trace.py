"""Run traces: what a run did, recorded as it happens (format: spec/trace.md).

Every network run and standalone agent run records, always, the run, each router decision, agent
run, inference, tool call, MCP request and history hook as spans in start order (cost: bench/trace.py).
`run.trace` / `result.trace` is the `Trace`; `to_dict()` its versioned JSON; with OpenTelemetry
configured, spans also go there (otel.py).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from contextlib import suppress
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Mapping, Sequence, TypeVar

from ._aio import maybe_await

__all__ = ["FORMAT", "VERSION", "Trace", "model_label", "route_of", "traced"]

FORMAT, VERSION = "agentkit-min/trace", 1
MAX_SPANS = 100_000
"""Spans kept per trace; later ones are only counted (`dropped`): memory stays bounded."""
_SPILLED = 1 << 62  # `Trace._open` entries from here on name spans past MAX_SPANS
_NOTHING: dict[int, Any] = {}  # never written: a trace's side tables until it needs them (no dicts per run)

Span = dict[str, Any]
T = TypeVar("T")
_clock = time.perf_counter
CURRENT: ContextVar[Trace | None] = ContextVar("agentkit_min_trace", default=None)
"""The trace of the run in progress, for code outside the loop (MCP client, history, HTTP)."""

# Key shapes scrubbed from serialised traces, besides *_API_KEY-style environment values.
_KEY = r"\b(?:sk-[\w-]{16,}|AIza[\w-]{30,}|xai-[\w]{20,})|(?<=Bearer )[\w.~+/-]{12,}"
_UNFINISHED = {"type": "Unfinished", "message": "an exception ended it before it finished"}
_probe: list[Any] = []  # [the otel module or None], found on first use
_routing: list[Any] = []


class Trace:
    """The trace of one run: `spans` in start order, each a JSON dict (spec/trace.md)."""

    def __init__(self, run_id: str) -> None:
        self.id, self.dropped = run_id, 0
        # span n is `_spans[8n:8n+8]` = id, parent, kind, name, start, end, error, fields (the dict the
        # caller fills, see `begin`): one flat list, no object per span for the cyclic GC (bench/loop.py).
        # `_open`: where the open spans' records start, outermost first (`_SPILLED + k`: `_spill[k]`,
        # the record of a span past MAX_SPANS, kept only while open). Below `_limit` (8 x MAX_SPANS, or
        # 0 with OpenTelemetry on) `begin` and `end` take their short path.
        self._spans: list[Any] = []
        self._open: list[int] = []
        self._leaves: tuple[int, ...] = ()  # open leaves (may be concurrent)
        self._spill: dict[int, list[Any]] = _NOTHING  # its own dict from the first span past MAX_SPANS
        self._saved: tuple[Any, ...] = ()
        self._loaded: dict[str, Any] | None = None
        self._otel = _bridge()
        self._handles: dict[int, Any] = {} if self._otel is not None else _NOTHING  # OpenTelemetry spans, by offset
        self._limit = 0 if self._otel is not None else 8 * MAX_SPANS
        self._wall, self._t0 = time.time(), _clock()

    @property
    def spans(self) -> list[Span]:
        """Every span as a JSON dict, in start order."""
        if self._loaded is not None:
            return list(self._loaded["spans"])
        return [_json(self._spans[i:i + 8], self._t0) for i in range(0, len(self._spans), 8)]

    def _record(self, at: int) -> tuple[list[Any], int]:  # (list, offset) of the record `_open` calls `at`
        return (self._spans, at) if at < _SPILLED else (self._spill[at - _SPILLED], 0)

    def begin(self, kind: str, name: str, fields: Span | None = None,
              content: Any = None, leaf: bool = False) -> Span:
        """Open a span under the innermost open one; returns `fields` (the span's own dict: fill
        it, pass it to `end`). `content` goes to OpenTelemetry only. A `leaf` (MCP request,
        history hook) has no children, so leaves may run concurrently."""
        span = {} if fields is None else fields
        opened, spans = self._open, self._spans
        at = len(spans)
        if opened and at < self._limit and not leaf:  # the usual case, kept short (bench/trace.py)
            spans += (at >> 3, opened[-1] >> 3, kind, name, _clock(), None, None, span)
            opened.append(at)
            return span
        return self._begin(kind, name, span, content, leaf)

    def _begin(self, kind: str, name: str, span: Span, content: Any, leaf: bool) -> Span:
        opened, spans = self._open, self._spans
        n = len(spans) // 8 + self.dropped
        record: list[Any] = [n, None, kind, name, _clock(), None, None, span]
        if opened:
            outer, k = self._record(opened[-1])
            record[1] = outer[k]  # the innermost open span's id
        else:  # the root: code outside the loop finds this trace (`CURRENT`)
            http = sys.modules.get("agentkit_min.http")  # loaded by any provider model in use
            listener = getattr(http, "ATTEMPT_LISTENER", None)
            self._saved = (CURRENT.get(), listener, listener.get() if listener else None)
            CURRENT.set(self)
            if listener is not None:
                listener.set(_attempt)
        if n < MAX_SPANS:
            at = len(spans)
            spans += record
        else:
            self.dropped += 1
            at = _SPILLED + n
            if self._spill is _NOTHING:
                self._spill = {}
            self._spill[n] = record
        if leaf:
            self._leaves += (at,)
        else:
            opened.append(at)
        if self._otel is not None:
            self._handles[at] = self._otel.start(kind, name, span, content)
        return span

    def end(self, span: Span, fields: Mapping[str, Any] | None = None, error: Any = None) -> None:
        """Close `span` and any span still open inside it; `error` (an exception or a tool
        result's `{"name", "message"}`) marks it failed. A failed run's root gives the exception
        its trace (`exc.trace`)."""
        opened = self._open
        if fields is None and error is None and opened:
            at = opened[-1]
            if at < self._limit and self._spans[at + 7] is span:  # the usual case, kept short
                self._spans[at + 5] = _clock()
                opened.pop()
                if not opened:  # the root: the context code outside the loop saw goes back
                    self._restore()
                return
        if fields:
            span.update(fields)
        self._close(span, error)

    def _close(self, span: Span, error: Any) -> None:
        opened = self._open
        i = next((i for i, at in enumerate(opened) if self._fields(at) is span), None)
        closing = opened[i:][::-1] if i is not None else [at for at in self._leaves if self._fields(at) is span]
        if i is not None:
            del opened[i:]
        else:
            self._leaves = tuple(at for at in self._leaves if at not in closing)
        now = _clock()
        for at in closing:  # a span left open inside `span` was ended by an exception
            record, k = self._record(at)
            failed = error if record[k + 7] is span else error or _UNFINISHED
            record[k + 5], record[k + 6] = now, record[k + 6] or (_error(failed) if failed is not None else None)
            if self._otel is not None:
                self._otel.end(record[k + 2], record[k + 7], record[k + 6], self._handles.pop(at))
            self._spill.pop(at - _SPILLED, None)
        if i == 0:
            self._restore()
            if isinstance(error, BaseException):
                with suppress(AttributeError, TypeError):
                    error.trace = self  # type: ignore[attr-defined]

    def _fields(self, at: int) -> Span:
        record, k = self._record(at)
        return record[k + 7]  # type: ignore[no-any-return]

    async def guard(self, span: Span | None, work: Awaitable[T]) -> T:
        """`await work`; if it raises, `span` (None: the root) ends failed, so a step outside the
        loop's own try blocks cannot leave the run open (and its trace current)."""
        try:
            return await work
        except BaseException as exc:
            self._failed(span, exc)
            raise

    def _failed(self, span: Span | None, exc: BaseException) -> None:
        spans = self._spans
        at = next((i for i in range(0, len(spans), 8) if span is None or spans[i + 7] is span), None)
        if at is not None and spans[at + 5] is None:
            self.end(spans[at + 7], None, exc)
        elif at is not None and spans[at + 6] is None:  # ended "ok" by a finally: cancelled
            spans[at + 6] = _error(exc)

    def _restore(self) -> None:
        if self._saved:
            previous, listener, old = self._saved
            CURRENT.set(previous)
            if listener is not None:
                listener.set(old)

    def note(self, **fields: Any) -> None:
        """Add fields to the innermost open span."""
        if self._open:
            self._fields(self._open[-1]).update(fields)

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain JSON data (a copy, secrets scrubbed; fields: spec/trace.md)."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = None) -> str:
        """`to_dict()` as JSON text."""
        from datetime import datetime, timezone

        data = self._loaded or {"format": FORMAT, "version": VERSION, "id": self.id, "dropped": self.dropped,
                                "started_at": datetime.fromtimestamp(self._wall, timezone.utc).isoformat(),
                                "spans": self.spans}
        return _scrub(json.dumps(data, indent=indent, default=str, ensure_ascii=False))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        """A trace read back from `to_dict()` JSON; ValueError for another format or version."""
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} trace: "
                             f"format={data.get('format')!r}, version={data.get('version')!r}")
        trace = cls(str(data["id"]))
        trace._loaded, trace._otel = dict(data), None
        return trace

    def write(self, path: str | os.PathLike[str]) -> str:
        """Save the JSON to `path`; returns the path."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.to_json(indent=1))
        return os.fspath(path)

    def page(self, path: str | os.PathLike[str]) -> str:
        """Write the trace page (one self-contained HTML file, trace_page.py) to `path`."""
        from .trace_page import render

        with open(path, "w", encoding="utf-8") as file:
            file.write(render(self.to_dict()))
        return os.fspath(path)


async def traced(kind: str, name: str, fn: Callable[..., Any], *args: Any, fields: Span | None = None) -> Any:
    """`await fn(*args)` (sync or async) as a leaf span of the run in progress here, if any."""
    trace = CURRENT.get()
    if trace is None or not trace._open:
        return await maybe_await(fn(*args))
    span = trace.begin(kind, name, fields, leaf=True)
    value = await trace.guard(span, maybe_await(fn(*args)))
    trace.end(span)
    return value


def route_of(router: Any) -> tuple[str, str]:
    """The name and `router` field of the "route" spans of asking `router` (None: the default routing agent)."""
    if not _routing:
        from .routing import RoutingAgent, get_default_routing_agent

        _routing.extend((RoutingAgent, get_default_routing_agent))
    if router is not None and not isinstance(router, _routing[0]):
        return getattr(router, "__name__", None) or type(router).__name__, "code"
    default = router is None or router is _routing[1]()
    return ("Default routing agent" if router is None else router.name,
            "default_routing_agent" if default else "routing_agent")


def model_label(model: Any) -> tuple[str, Any]:
    """The name and provider an "inference" span of `model` shows."""
    name = getattr(model, "model", None) or getattr(model, "name", None) or type(model).__name__
    return name if type(name) is str else str(name), getattr(model, "provider", None)


def _attempt(info: dict[str, Any]) -> None:
    """`http.ATTEMPT_LISTENER`: one HTTP attempt of the inference in progress (its worker thread)."""
    trace = CURRENT.get()
    if trace is not None and trace._open:
        trace._fields(trace._open[-1]).setdefault("attempts", []).append(info)


def _json(record: Sequence[Any], t0: float) -> Span:
    start, end, error = record[4], record[5], record[6]
    span = {"id": record[0], "parent": record[1], "kind": record[2], "name": record[3],
            "start_ms": round((start - t0) * 1e3, 3), "duration_ms": None if end is None else
            round((end - start) * 1e3, 3), "status": "ok" if error is None else "error", "error": error}
    span.update(record[7])  # tuples (the route's `returned`) as the lists JSON has
    return {k: list(v) if type(v) is tuple else v for k, v in span.items() if error is not None or k != "error"}


def _error(error: Any) -> dict[str, str]:
    if isinstance(error, BaseException):
        return {"type": type(error).__name__, "message": str(error)}
    found: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
    return {"type": str(found.get("type") or found.get("name") or "Error"), "message": str(found.get("message", error))}


def _scrub(text: str) -> str:
    for name, value in os.environ.items():
        if len(value) >= 8 and name.endswith(("API_KEY", "_TOKEN", "_SECRET")) and value in text:
            text = text.replace(value, "<redacted>")
    return re.sub(_KEY, "<redacted>", text)


def _bridge() -> Any:
    """The OpenTelemetry bridge, when opentelemetry-api is importable and a provider is set."""
    if not _probe:
        import importlib.util

        with suppress(ImportError):  # no `opentelemetry` at all: nothing more is imported
            _probe.append(importlib.util.find_spec("opentelemetry.trace") and importlib.import_module(
                f"{__package__}.otel"))
        _probe.append(None)
    return _probe[0].bridge() if _probe[0] else None
