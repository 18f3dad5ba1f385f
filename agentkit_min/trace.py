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
import threading
import time
from contextlib import suppress
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from ._aio import maybe_await
from ._trace_read import ATTEMPT, END, FAIL, REFAIL, SET, SPAN, Reader, check_document, error_of, span_json

__all__ = ["FORMAT", "VERSION", "Trace", "clock", "model_label", "route_of", "traced"]

FORMAT, VERSION = "agentkit-min/trace", 1
MAX_SPANS = 100_000
"""Spans kept per trace; later ones are only counted (`dropped`): memory stays bounded."""

Span = dict[str, Any]
Event = tuple[Any, ...]
T = TypeVar("T")
_clock = clock = time.perf_counter  # `clock`: what call sites time `push` events with
CURRENT: ContextVar[Trace | None] = ContextVar("agentkit_min_trace", default=None)
"""The trace of the run in progress, for code outside the loop (MCP client, history, HTTP)."""

# Key shapes scrubbed from serialised traces (Inngest's signing keys too), besides the values of
# *_KEY, *_TOKEN, *_SECRET and *_PASSWORD environment variables (INNGEST_SIGNING_KEY, ...).
_KEY = r"\b(?:sk-[\w-]{16,}|AIza[\w-]{30,}|xai-[\w]{20,}|signkey-\w+-[0-9a-f]{16,})|(?<=Bearer )[\w.~+/-]{12,}"
_probe: list[Any] = []  # [the otel module or None], found on first use
_LOCK = threading.RLock()  # reading events as they come (`Trace._live`) or all at once (`_read`)
_routing: list[Any] = []


class Trace:
    """The trace of one run: `spans` in start order, each a JSON dict (spec/trace.md).

    Recorded as events, the least the loop can do per span (bench/trace.py): the call sites of
    the four spans of every iteration push what they already hold, no dict, no Python call, and
    the spans (ids, parents, fields) are rebuilt when the trace is read (`Reader`). `push` is the
    event list's own `extend` (items kept flat: no tuple per event for the cyclic GC):
    - `kind, label, start, a, b` opens a "route" / "agent" / "inference" / "tool" span inside the
      innermost open one (label, a, b: `fields_of`); a start of None is the time of the event
      before it: a network's route starts when the step before it ended, its agent when the route
      ended (spec/trace.md: the loop's own steps are timed end to end, no gaps);
    - `end, value` closes the innermost open span (value: the route's names, the agent's result,
      the tool's result content, an error content failing the tool; an inference closes with
      `end, output, usage`: the response itself, with its raw body, is not kept);
    - `fail(kind, error)`: the innermost open span of `kind` fails, with those inside it.
    An inference's call site pushes only while `len(events) < room`, else calls `begin_inference`:
    that is where the size bound is checked and OpenTelemetry gets its input messages. The root and
    leaves (MCP requests, history hooks: they may run concurrently) go through `begin` / `end`.
    With OpenTelemetry on, or once the trace is full, events are read as they come (`_live`)."""

    def __init__(self, run_id: str) -> None:
        self.id = run_id
        self.events: list[Any] = []  # the events' items, one after another, not yet read
        self.push: Callable[[Event], None] = self.events.extend
        # items before an inference must go through `begin_inference`: 7 per span (5 to open it,
        # 2 to close it); 0 with OpenTelemetry on, for the inference's input messages
        self.room = 7 * MAX_SPANS
        self._reader: Reader | None = None  # made when first read: most traces never are
        self._root: Span | None = None
        self.running = False  # from the root's begin to its end
        self._saved: Trace | None = None  # the trace current before this one (`CURRENT`)
        self._loaded: dict[str, Any] | None = None
        self._t0 = _clock()
        otel = _bridge() if not _probe or _probe[0] is not None else None
        if otel is not None:
            self._reader, self.push, self.room = Reader(otel, MAX_SPANS), self._live, 0

    @property
    def spans(self) -> list[Span]:
        """Every span as a JSON dict, in start order."""
        if self._loaded is not None:
            return list(self._loaded["spans"])
        return [span_json(span, self._t0) for span in self._read().spans]

    @property
    def dropped(self) -> int:
        """Spans past MAX_SPANS: counted, not kept."""
        return int(self._loaded.get("dropped", 0)) if self._loaded is not None else self._read().dropped

    def begin(self, kind: str, name: str, fields: Span | None = None,
              content: Any = None, leaf: bool = False) -> Span:
        """Open a span (the first one is the root); returns `fields` (the span's own dict: fill
        it, pass it to `end`). `content` goes to OpenTelemetry only."""
        span = {} if fields is None else fields
        if self._root is None:  # the root: code outside the loop finds this trace (`CURRENT`)
            self._root, self.running, self._saved = span, True, CURRENT.get()
            CURRENT.set(self)
        if len(self.events) >= self.room:
            self._opening(content)
        self.push((SPAN, kind, name, _clock(), span, leaf))
        return span

    def begin_inference(self, label: tuple[Any, str, Any], prompt: Any, messages: Any) -> None:
        """Open an inference span when `room` says the call site may not: the trace is full, or
        OpenTelemetry is on (its input messages, if content capture is on)."""
        self._opening(messages)
        self.push(("inference", label, _clock(), prompt, len(messages)))

    def _opening(self, content: Any) -> None:
        """A span is about to open past the room: hand OpenTelemetry its `content`, or the trace is full."""
        if self._reader is not None and self._reader.otel is not None:
            self._reader.content = content  # for the span about to open
        elif len(self.events) >= self.room:  # full: from here on new spans are only counted
            self.room, self.push = sys.maxsize, self._live
            self._read()

    def _live(self, event: Event) -> None:
        """`push` with OpenTelemetry on or the trace full: each event is read as it comes."""
        with _LOCK:  # HTTP attempts come from a worker thread
            self._read().feed(event)

    def _read(self) -> Reader:
        with _LOCK:  # the events so far, read once; `del` keeps any pushed meanwhile
            if self._reader is None:
                self._reader = Reader(None, MAX_SPANS)
            n = len(self.events)
            events = self.events[:n]
            del self.events[:n]
            self._reader.feed(events)
        return self._reader

    def attempt(self, info: dict[str, Any]) -> None:
        """One HTTP attempt of the inference in progress (http.py; its worker thread)."""
        if self.running:
            self.push((ATTEMPT, info))

    def end(self, span: Span, fields: Mapping[str, Any] | None = None, error: Any = None) -> None:
        """Close `span` (from `begin`) and any span still open inside it; `error` (an exception
        or a tool result's `{"name", "message"}`) marks it failed. A failed run's root gives the
        exception its trace (`exc.trace`)."""
        if fields:
            span.update(fields)
        self.push((END, span, _clock(), None if error is None else error_of(error)))
        if span is self._root and self.running:  # the context code outside the loop saw goes back
            self.running = False
            CURRENT.set(self._saved)
            if isinstance(error, BaseException):
                with suppress(AttributeError, TypeError):
                    error.trace = self  # type: ignore[attr-defined]

    def note(self, fields: Mapping[str, Any]) -> None:
        """More fields for the innermost open span (a routing agent's choice, on its route)."""
        self.push((SET, dict(fields)))

    def fail(self, span: Span | str | None, error: Any) -> None:
        """`span` fails, with the spans still open inside it: a kind (the innermost open span
        of that kind, from a call site's `push`), a `begin` span, or None (the root). A `begin`
        span already ended "ok" (by a `finally`: cancelled) is marked failed after all."""
        if isinstance(span, str):
            self.push((FAIL, span, _clock(), error_of(error)))
        elif (span is None or span is self._root) and self.running:
            self.end(self._root, None, error)  # type: ignore[arg-type]
        elif self._root is not None:
            self.push((REFAIL, self._root if span is None else span, error_of(error)))

    async def guard(self, span: Span | str | None, work: Awaitable[T]) -> T:
        """`await work`; if it raises, `span` fails (`fail`), so a step outside the loop's own
        try blocks cannot leave it open."""
        try:
            return await work
        except BaseException as exc:
            self.fail(span, exc)
            raise

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain JSON data (a copy, secrets scrubbed; fields: spec/trace.md)."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = None) -> str:
        """`to_dict()` as JSON text."""
        from datetime import datetime, timezone

        started = datetime.fromtimestamp(time.time() - (_clock() - self._t0), timezone.utc)
        data = self._loaded or {"format": FORMAT, "version": VERSION, "id": self.id, "dropped": self.dropped,
                                "started_at": started.isoformat(), "spans": self.spans}
        return _scrub(json.dumps(data, indent=indent, default=str, ensure_ascii=False))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        """A trace read back from `to_dict()` JSON; TraceFormatError (a ValueError) naming the
        first field that is wrong, for another format or version or a malformed document."""
        check_document(data, FORMAT, VERSION)
        trace = cls(str(data["id"]))
        trace._loaded = dict(data)
        return trace

    def write(self, path: str | os.PathLike[str]) -> str:
        """Save the JSON to `path` (whole or not at all: `save_text`); returns the path."""
        return save_text(path, self.to_json(indent=1))

    def page(self, path: str | os.PathLike[str]) -> str:
        """Write the trace page (one self-contained HTML file, trace_page.py) to `path`."""
        from .trace_page import render

        return save_text(path, render(self.to_dict()))


def save_text(path: str | os.PathLike[str], text: str) -> str:
    """Write `text` to a file beside `path`, then rename it over `path`: a crash or a full disk
    never leaves a half-written file (a trace, a cassette) where a whole one was, and readers
    never see one."""
    import tempfile

    target = os.fspath(path)
    # a fresh name made with O_EXCL (mkstemp): no one else's file or link is opened in a shared /tmp
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(target) + ".", suffix=".tmp",
                               dir=os.path.dirname(target) or ".")
    try:
        with open(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, target)  # mode 0600, mkstemp's: a trace or cassette holds conversations
    finally:
        with suppress(FileNotFoundError):
            os.remove(tmp)
    return target


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


def _scrub(text: str) -> str:
    for name, value in os.environ.items():
        if len(value) >= 8 and name.endswith(("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")) and value in text:
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
