"""A run's trace as one self-contained HTML page: `python -m agentkit_min.trace_page trace.json [-o page.html]`.

The template (trace_page.html: inline CSS and script, a Content-Security-Policy that forbids any
fetch) opens from disk, offline. Strings over `LIMIT` characters and lists over `ITEMS` items are
cut in the page with their full size noted; the trace file keeps everything (spec/trace.md).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Sequence

__all__ = ["render", "main"]

LIMIT, ITEMS = 4_000, 100


def _cut(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str) and len(value) > LIMIT:
        return f"{value[:LIMIT]}… [truncated: {len(value):,} characters in full]"
    if isinstance(value, list):
        more = f"… [truncated: {len(value) - ITEMS:,} more items, {len(json.dumps(value[ITEMS:])):,} characters]"
        return [_cut(v, depth + 1) for v in value[:ITEMS]] + ([more] if len(value) > ITEMS else [])
    if isinstance(value, dict) and depth < 50:
        return {k: _cut(v, depth + 1) for k, v in value.items()}
    return value


def render(trace: dict[str, Any]) -> str:
    """The HTML page of `trace` (the JSON of `Trace.to_dict()`)."""
    with open(os.path.join(os.path.dirname(__file__), "trace_page.html"), encoding="utf-8") as file:
        template = file.read()
    # every span is shown; what is cut are the values inside them (a spans list over ITEMS is not one)
    shown = {**trace, "spans": [{k: _cut(v, 1) for k, v in span.items()} for span in trace.get("spans", [])]}
    data = json.dumps(shown, ensure_ascii=False)  # "<" escaped: no "</script>" from the data
    return template.replace("/*TRACE*/null", data.replace("<", "\\u003c"), 1)


def main(argv: Sequence[str] | None = None) -> int:
    """The command: read a trace JSON file, write its page, print the page's path."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "-o"):
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    from .trace import Trace

    try:  # a missing file, text that is not JSON, a document that is not a trace: a message, not a traceback
        with open(args[0], encoding="utf-8") as file:
            trace = Trace.from_dict(json.load(file))
        print(trace.page(args[2] if len(args) == 3 else os.path.splitext(args[0])[0] + ".html"))
    except (OSError, ValueError, RecursionError) as exc:
        print(f"trace_page: {args[0]}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
