"""Reading run traces: the spans (spec/trace.md) that a trace's events describe (trace.py).

The loop only appends events (`Trace`'s docstring); ids, parents, fields and failures of inner
spans are worked out here, once, when the trace is read (or as events come, with OpenTelemetry on).
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

from .errors import TraceFormatError

Span = dict[str, Any]
SPAN, END, FAIL, SET, ATTEMPT, REFAIL = (object() for _ in range(6))  # event heads (Trace's docstring)
UNFINISHED = {"type": "Unfinished", "message": "an exception ended it before it finished"}
_clock = time.perf_counter


class Open:
    """A span being rebuilt from its events (`id` None: dropped, past the cap)."""

    __slots__ = ("id", "parent", "kind", "label", "start", "end", "error", "a", "b", "value", "extra",
                 "generic", "by", "handle")

    def __init__(self, n: int | None, parent: int | None, kind: str, label: Any, start: float, a: Any,
                 b: Any, generic: bool) -> None:
        self.id, self.parent, self.kind, self.label, self.start, self.a, self.b = n, parent, kind, label, start, a, b
        self.end: float | None = None
        self.error: dict[str, str] | None = None
        self.value: Any = None  # from its closing event
        self.extra: dict[str, Any] | None = None  # from `note` and HTTP attempts
        self.by: Open | None = None  # the span whose end ended it, if not its own
        self.handle: Any = None  # its OpenTelemetry span
        self.generic = generic


class Reader:
    """Spans from events, read in order (Trace's docstring); at most `cap` kept. With
    OpenTelemetry on, each span is also an OpenTelemetry span, current while open."""

    def __init__(self, otel: Any, cap: int) -> None:
        self.spans: list[Open] = []
        self.cap = cap  # spans kept (trace.MAX_SPANS)
        self.dropped = 0
        self.stack: list[Open] = []  # the open spans that are not leaves, outermost first
        self.named: dict[int, Open] = {}  # id(fields) -> a `begin` span (kept ones for good)
        self.otel, self.content = otel, None
        self.last = 0.0  # the time of the latest timed event

    def feed(self, items: Sequence[Any]) -> None:
        i, stack = 0, self.stack
        while i < len(items):
            head = items[i]
            if type(head) is float:  # the innermost open span closes (an inference: output, usage)
                self.last = head
                top = stack[-1] if stack and not stack[-1].generic else None
                inference = top is not None and top.kind == "inference"
                if top is not None:
                    self._close(top, head, None, (items[i + 1], items[i + 2]) if inference else items[i + 1])
                i += 3 if inference else 2
            elif type(head) is str:  # a start of None: the time of the event before it
                start = self.last if items[i + 2] is None else items[i + 2]
                self._open(head, items[i + 1], start, items[i + 3], items[i + 4], False, False)
                i += 5
            elif head is SPAN:
                self._open(items[i + 1], items[i + 2], items[i + 3], items[i + 4], None, True, items[i + 5])
                i += 6
            elif head is END or head is FAIL:  # a `begin` span closes; the innermost span of a kind fails
                self.last = items[i + 2]
                span = self.named.get(id(items[i + 1])) if head is END else next(
                    (s for s in reversed(stack) if s.kind == items[i + 1] and not s.generic), None)
                if span is not None:
                    self._close(span, items[i + 2], items[i + 3], None)
                i += 4
            elif head is SET or head is ATTEMPT:
                if stack:
                    extra = stack[-1].extra = stack[-1].extra or {}
                    if head is SET:
                        extra.update(items[i + 1])
                    else:
                        extra.setdefault("attempts", []).append(items[i + 1])
                i += 2
            else:  # REFAIL
                self._refail(self.named.get(id(items[i + 1])), items[i + 2])
                i += 3

    def _open(self, kind: str, label: Any, start: float, a: Any, b: Any, generic: bool, leaf: bool) -> None:
        self.last = start
        keep = len(self.spans) < self.cap
        parent = self.stack[-1].id if self.stack else None
        span = Open(len(self.spans) if keep else None, parent, kind, label, start, a, b, generic)
        if keep:
            self.spans.append(span)
        else:
            self.dropped += 1
        if generic:
            self.named[id(a)] = span
        if not leaf:
            self.stack.append(span)
        if self.otel is not None:
            span.handle = self.otel.start(kind, name_of(span), fields_of(span), self.content)
            self.content = None

    def _close(self, span: Open, end: float, error: dict[str, str] | None, value: Any) -> None:
        if span.end is not None:
            return  # closed already (an error, then a `finally`)
        stack, inside = self.stack, []
        for k in range(len(stack) - 1, -1, -1):
            if stack[k] is span:  # spans left open inside it were ended by an exception
                inside, stack[k:] = stack[k + 1:], []
                break
        for inner in reversed(inside):  # innermost first (OpenTelemetry contexts)
            self._ended(inner, end, error or UNFINISHED, inner.value, span)
        if span.kind == "tool" and not span.generic and type(value) is dict and value.get("error"):
            error = error_of(value["error"])  # a tool's error result
        self._ended(span, end, error, value, None)

    def _ended(self, span: Open, end: float, error: dict[str, str] | None, value: Any, by: Open | None) -> None:
        span.end, span.error, span.value, span.by = end, error, value, by
        if span.generic and span.id is None:
            self.named.pop(id(span.a), None)
        if self.otel is not None:
            self.otel.end(span.kind, fields_of(span), error, span.handle)

    def _refail(self, span: Open | None, error: dict[str, str]) -> None:
        if span is None:
            return  # never began
        if span.end is None:
            self._close(span, _clock(), error, None)
        elif span.error is None:  # ended "ok" by a `finally`: cancelled; so were those it closed
            span.error = error
            for other in self.spans:
                if other.by is span and other.error is UNFINISHED:
                    other.error = error


def name_of(span: Open) -> str:
    label = span.label
    return label if type(label) is str else str(label[1] if span.kind == "inference" else label[0])


def fields_of(span: Open) -> Span:
    """A span's own fields (spec/trace.md) from what its events hold: for a `begin` span its dict;
    route: label (name, router kind), a = call_count, value = names; agent: a = input, value = its
    result; inference: label (model, name, provider), a = prompt, b = messages sent, value = the
    response's (output, usage); tool: a = the call, value = the result content."""
    kind, a, value = span.kind, span.a, span.value
    if span.generic:
        fields = dict(a)
    elif kind == "route":
        fields = {"router": span.label[1], "call_count": a}
        if value is not None:
            fields["returned"] = list(value)
    elif kind == "agent":
        fields = {"input": a} if value is None else {"input": a, "output": value.output, "usage": value.usage}
    elif kind == "inference":
        output, usage = (None, None) if value is None else value
        fields = {"model": span.label[1], "provider": span.label[2], "prompt": a, "messages": span.b,
                  "output": output, "usage": usage,
                  "stop_reason": output[-1].get("stop_reason") if output else None}
    else:  # tool
        fields = {"call_id": a.get("id"), "input": a.get("input")}
        if span.end is not None:
            fields["output"] = value
    if span.extra:
        fields.update(span.extra)
    return fields


def span_json(span: Open, t0: float) -> Span:
    start, end, error = span.start, span.end, span.error
    out: Span = {"id": span.id, "parent": span.parent, "kind": span.kind, "name": name_of(span),
           "start_ms": round((start - t0) * 1e3, 3), "duration_ms": None if end is None else
           round((end - start) * 1e3, 3), "status": "ok" if error is None else "error", "error": error}
    out.update(fields_of(span))  # tuples (a `begin` span's) as the lists JSON has
    return {k: list(v) if type(v) is tuple else v for k, v in out.items() if error is not None or k != "error"}


def error_of(error: Any) -> dict[str, str]:
    if isinstance(error, BaseException):
        return {"type": type(error).__name__, "message": str(error)}
    found: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
    return {"type": str(found.get("type") or found.get("name") or "Error"), "message": str(found.get("message", error))}


def check_document(data: Any, fmt: str, version: int) -> None:
    """Raise TraceFormatError naming the first field of `data` that a version-`version` trace
    document may not hold (spec/trace.md: "Document", "Span"); fields it does not know are kept."""
    def wrong(where: str, value: Any, expected: str) -> TraceFormatError:
        shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
        return TraceFormatError(f"trace document: {where} is {shown}; expected {expected} (spec/trace.md)")

    if not isinstance(data, Mapping):
        raise TraceFormatError(f"not a {fmt} version {version} trace: a {type(data).__name__}, not a JSON object")
    if data.get("format") != fmt or data.get("version") != version:
        raise TraceFormatError(f"not a {fmt} version {version} trace: "
                               f"format={data.get('format')!r}, version={data.get('version')!r}")
    for key, ok, expected in (("id", type(data.get("id")) is str, "a string"),
                              ("dropped", _count(data.get("dropped", 0)), "a count (an int >= 0)"),
                              ("spans", type(data.get("spans")) is list, "a list of spans")):
        if not ok:
            raise wrong(key, data.get(key), expected)
    seen: set[int] = set()
    last = -1
    for i, span in enumerate(data["spans"]):
        if not isinstance(span, Mapping):
            raise wrong(f"spans[{i}]", span, "an object")
        n: Any = span.get("id")
        parent = span.get("parent")
        for key, ok, expected in (
                ("id", _count(n) and n > last, "an int >= 0, above the ids before it"),
                ("parent", parent is None or (type(parent) is int and parent in seen), "null or an earlier span's id"),
                ("kind", type(span.get("kind")) is str, "a string"), ("name", type(span.get("name")) is str, "a string"),
                ("start_ms", _number(span.get("start_ms")), "a number"),
                ("duration_ms", span.get("duration_ms") is None or _number(span.get("duration_ms")), "a number or null"),
                ("status", span.get("status") in ("ok", "error"), '"ok" or "error"'),
                ("error", span.get("error") is None or isinstance(span.get("error"), Mapping), "an object")):
            if not ok:
                raise wrong(f"spans[{i}].{key}", span.get(key), expected)
        seen.add(n)
        last = n


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _number(value: Any) -> bool:
    return type(value) in (int, float) and value == value  # not NaN
