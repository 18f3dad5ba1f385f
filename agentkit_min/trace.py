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

__all__ = ["FORMAT", "VERSION", "Trace", "clock", "model_label", "route_of", "traced"]

FORMAT, VERSION = "agentkit-min/trace", 1
MAX_SPANS = 100_000
"""Spans kept per trace; later ones are only counted (`dropped`): memory stays bounded."""
_NOTHING: dict[int, Any] = {}  # never written: the OpenTelemetry table of a trace without it
_GONE: set[int] = set()  # never written either

Span = dict[str, Any]
Event = tuple[Any, ...]
_LEAF: Any = object()  # heads a leaf's opening event
_FAILED: Any = object()  # heads a failed span's closing event
T = TypeVar("T")
_clock = clock = time.perf_counter  # `clock`: what call sites time `push` events with
CURRENT: ContextVar[Trace | None] = ContextVar("agentkit_min_trace", default=None)
"""The trace of the run in progress, for code outside the loop (MCP client, history, HTTP)."""

# Key shapes scrubbed from serialised traces, besides *_API_KEY-style environment values.
_KEY = r"\b(?:sk-[\w-]{16,}|AIza[\w-]{30,}|xai-[\w]{20,})|(?<=Bearer )[\w.~+/-]{12,}"
_UNFINISHED = {"type": "Unfinished", "message": "an exception ended it before it finished"}
_probe: list[Any] = []  # [the otel module or None], found on first use
_routing: list[Any] = []


class Trace:
    """The trace of one run: `spans` in start order, each a JSON dict (spec/trace.md).

    Recorded as events, the least the loop can do per span (bench/trace.py): `push((kind, name,
    fields, start))` opens a span inside the innermost open one (`fields`: the span's own dict,
    filled by the caller), `push((fields, end))` closes it and any span still open inside it. `push`
    is the event list's own `extend` (no Python frame; the items are kept flat, no tuple per event
    for the cyclic GC) unless OpenTelemetry is on or the trace is full; spans are rebuilt from the
    events when read (`_event`). The root, leaves (MCP requests, history hooks: no children, so
    they may run concurrently), inferences and failures go through `begin` / `begin_inference` /
    `end`, which do the rest."""

    def __init__(self, run_id: str) -> None:
        self.id, self.dropped = run_id, 0
        self._events: list[Any] = []  # the events' items, one after another
        self._keep: Callable[[Event], None] = self._events.extend  # `_past_limit` once full
        self._otel = _bridge()
        self.push: Callable[[Event], None] = self._keep if self._otel is None else self._push_otel
        self._handles: dict[int, Any] = {} if self._otel is not None else _NOTHING  # OpenTelemetry spans
        self._full_at = 6 * MAX_SPANS  # items: six per span (four to open it, two to close it)
        self._gone: set[int] = _GONE  # ids of spans begun past the limit (its own set once full)
        self._root: Span | None = None
        self.running = False  # from the root's begin to its end
        self.inference: Span | None = None  # the latest inference's span: HTTP attempts go there
        self._content: Any = None
        self._saved: tuple[Any, ...] = ()
        self._loaded: dict[str, Any] | None = None
        self._wall, self._t0 = time.time(), _clock()

    @property
    def spans(self) -> list[Span]:
        """Every span as a JSON dict, in start order."""
        if self._loaded is not None:
            return list(self._loaded["spans"])
        return [_json(record, self._t0) for record in self._records()[:MAX_SPANS]]

    def begin(self, kind: str, name: str, fields: Span | None = None,
              content: Any = None, leaf: bool = False) -> Span:
        """Open a span (the first one is the root); returns `fields` (the span's own dict: fill
        it, pass it to `end`). `content` goes to OpenTelemetry only."""
        span = {} if fields is None else fields
        if self._root is None:  # the root: code outside the loop finds this trace (`CURRENT`)
            self._root, self.running = span, True
            http = sys.modules.get("agentkit_min.http")  # loaded by any provider model in use
            listener = getattr(http, "ATTEMPT_LISTENER", None)
            self._saved = (CURRENT.get(), listener, listener.get() if listener else None)
            CURRENT.set(self)
            if listener is not None:
                listener.set(_attempt)
        if self._otel is not None:
            self._content = content  # for `_push_otel`, which clears it
        self.push((_LEAF, kind, name, span, _clock()) if leaf else (kind, name, span, _clock()))
        return span

    def begin_inference(self, name: str, span: Span, messages: Any) -> None:
        """Open an inference span: also where the trace's size is checked, once per inference."""
        self.inference = span
        if len(self._events) >= self._full_at:  # full: from here on new spans are only counted
            self._keep, self._gone, self._full_at = self._past_limit, set(), sys.maxsize
            self.push = self._keep if self._otel is None else self.push
        if self._otel is not None:  # its input messages, if content capture is on
            self.begin("inference", name, span, messages)
        else:
            self.push(("inference", name, span, _clock()))

    def end(self, span: Span, fields: Mapping[str, Any] | None = None, error: Any = None) -> None:
        """Close `span` and any span still open inside it; `error` (an exception or a tool
        result's `{"name", "message"}`) marks it failed. A failed run's root gives the exception
        its trace (`exc.trace`)."""
        if fields:
            span.update(fields)
        self.push((span, _clock()) if error is None else (_FAILED, span, _clock(), _error(error)))
        if span is self._root and self.running:  # the context code outside the loop saw goes back
            self.running = False
            self._restore()
            if isinstance(error, BaseException):
                with suppress(AttributeError, TypeError):
                    error.trace = self  # type: ignore[attr-defined]

    def _push_otel(self, event: Event) -> None:
        """`push` with OpenTelemetry on: each span is also an OpenTelemetry span, current while open."""
        handles = self._handles
        _, kind, name, span, _, leaf, error = _event(event, 0)
        if kind is not None:  # a span opens: its OpenTelemetry span starts (and is current) now
            handles[id(span)] = (kind, self._otel.start(kind, name, span, self._content), leaf, span)
            self._content = None
        elif id(span) in handles:
            keys = list(handles)  # in start order
            at = keys.index(id(span))
            inside = [] if handles[keys[at]][2] else [k for k in keys[at + 1:] if not handles[k][2]]
            for key in reversed([keys[at], *inside]):  # innermost first
                kind, handle, _, opened = handles.pop(key)
                self._otel.end(kind, opened, error if key == keys[at] else error or _UNFINISHED, handle)
        self._keep(event)

    def _past_limit(self, event: Event) -> None:
        """`push` once the trace is full: new spans are only counted, open ones still close."""
        _, kind, _, span, _, _, _ = _event(event, 0)
        if kind is not None:
            self.dropped += 1
            self._gone.add(id(span))
        elif id(span) in self._gone:
            self._gone.discard(id(span))
        else:
            self._events.extend(event)

    def _records(self) -> list[list[Any]]:
        """The spans the events describe: `[id, parent, kind, name, start, end, error, fields]`."""
        records: list[list[Any]] = []
        where: dict[int, int] = {}  # id(fields) -> its open record
        stack: list[int] = []  # the open spans that are not leaves, outermost first
        events, i = self._events, 0
        while i < len(events):
            i, kind, name, span, when, leaf, error = _event(events, i)
            if kind is not None:
                where[id(span)] = n = len(records)
                records.append([n, stack[-1] if stack else None, kind, name, when, None, None, span])
                if not leaf:
                    stack.append(n)
                continue
            at = where.pop(id(span), None)
            if at is None:
                continue  # closed already (an error, then a `finally`)
            if at in stack:  # spans left open inside it were ended by an exception
                k = stack.index(at)
                inside, stack[k:] = stack[k + 1:], []
                for inner in inside:
                    where.pop(id(records[inner][7]), None)
                    records[inner][5], records[inner][6] = when, error or _UNFINISHED
            records[at][5], records[at][6] = when, error
        return records

    async def guard(self, span: Span | None, work: Awaitable[T]) -> T:
        """`await work`; if it raises, `span` (None: the root) ends failed, so a step outside the
        loop's own try blocks cannot leave the run open (and its trace current)."""
        try:
            return await work
        except BaseException as exc:
            self._failed(span, exc)
            raise

    def _failed(self, span: Span | None, exc: BaseException) -> None:
        target, events, i = self._root if span is None else span, self._events, 0
        began, closing = False, None  # closing: where its closing event is, and its error
        while i < len(events) and closing is None:
            at = i
            i, kind, _, seen, _, _, error = _event(events, i)
            if seen is target:
                began, closing = (True, None) if kind is not None else (began, (at, i, error))
        if not began or target is None:
            return
        if closing is None:
            self.end(target, None, exc)
        elif closing[2] is None:  # ended "ok" by a finally: cancelled
            at, i, _ = closing
            events[at:i] = (_FAILED, target, events[at + 1], _error(exc))

    def _restore(self) -> None:
        if self._saved:
            previous, listener, old = self._saved
            CURRENT.set(previous)
            if listener is not None:
                listener.set(old)

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain JSON data (a copy, secrets scrubbed; fields: spec/trace.md)."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = None) -> str:
        """`to_dict()` as JSON text."""
        from datetime import datetime, timezone

        past = max(0, len(self._records()) - MAX_SPANS) if self._loaded is None else 0
        data = self._loaded or {"format": FORMAT, "version": VERSION, "id": self.id, "dropped": self.dropped + past,
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
    if trace is None or not trace.running:
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
    if trace is not None and trace.inference is not None:
        trace.inference.setdefault("attempts", []).append(info)


def _event(items: Sequence[Any], i: int) -> tuple[int, Any, Any, Span, float, bool, Any]:
    """The event at `items[i]` (Trace's docstring): (where the next starts, kind, name, fields,
    time, leaf, error); kind and name are None for a closing event."""
    head = items[i]
    if type(head) is str:
        return i + 4, head, items[i + 1], items[i + 2], items[i + 3], False, None
    if head is _LEAF:
        return i + 5, items[i + 1], items[i + 2], items[i + 3], items[i + 4], True, None
    if head is _FAILED:
        return i + 4, None, None, items[i + 1], items[i + 2], False, items[i + 3]
    return i + 2, None, None, head, items[i + 1], False, None


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
