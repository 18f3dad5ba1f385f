"""A run's trace as one self-contained HTML page (spec/trace.md, "Trace page").

    python -m agentkit_min.trace_page trace.json -o page.html

The page (template: trace_page.html, inline CSS and script, a Content-Security-Policy that
forbids every network fetch) opens from disk, offline. Strings longer than `LIMIT` characters
and lists longer than `ITEMS` are cut in the page, each with its full size noted; the trace
file keeps everything.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Sequence

__all__ = ["render", "main"]

LIMIT, ITEMS = 4_000, 100


def _cut(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str) and len(value) > LIMIT:
        return f"{value[:LIMIT]}… [truncated: {len(value):,} characters in full]"
    if isinstance(value, list):
        kept = [_cut(v, depth + 1) for v in value[:ITEMS]]
        if len(value) > ITEMS:
            size = len(json.dumps(value[ITEMS:], default=str))
            kept.append(f"… [truncated: {len(value) - ITEMS:,} more items, {size:,} characters]")
        return kept
    if isinstance(value, dict) and depth < 50:
        return {k: _cut(v, depth + 1) for k, v in value.items()}
    return value


def render(trace: dict[str, Any]) -> str:
    """The HTML page of `trace` (the JSON of `Trace.to_dict()`)."""
    with open(os.path.join(os.path.dirname(__file__), "trace_page.html"), encoding="utf-8") as file:
        template = file.read()
    data = json.dumps(_cut(trace), ensure_ascii=False, default=str)
    # inside <script>, "<" as \u003c keeps "</script>" or "<!--" in the data from ending it
    return template.replace("/*TRACE*/null", data.replace("<", "\\u003c"), 1)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: read a trace JSON file, write its page."""
    parser = argparse.ArgumentParser(prog="python -m agentkit_min.trace_page", description=__doc__.split("\n")[0])
    parser.add_argument("trace", help="a trace JSON file (Trace.write)")
    parser.add_argument("-o", "--output", help="the HTML file to write (default: the trace's name + .html)")
    args = parser.parse_args(argv)
    from .trace import Trace

    with open(args.trace, encoding="utf-8") as file:
        trace = Trace.from_dict(json.load(file))
    out = args.output or os.path.splitext(args.trace)[0] + ".html"
    print(trace.page(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
