"""Validation cost of adversarial tool arguments, for every schema shape the package accepts.

    .venv/bin/python bench/validation.py [--rounds 7]

Each case is a schema that `create_tool` accepts and an argument built to be slow for it (long
runs for patterns, deep or wide values for combinators and `$ref`, big arrays for uniqueItems /
contains). One call = `parse_arguments(text)` + `validate(args, schema)`, i.e. everything a tool
call costs before the handler. Cases run round-robin (interleaved), `--rounds` times; the
median per case is reported, beside the median cost of `json.loads` of the same text (the
baseline: reading the argument at all), measured in the same rounds. The target (issue 10) is
a worst case of <= 5 ms per call; the adversarial cases use arguments of at most ~8 KiB (a
big tool call). The "scaling" rows show that cost is linear in size and capped by `schema.MAX_CHECKS`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentkit_min import _pattern  # noqa: E402
from agentkit_min.adapters._common import parse_arguments  # noqa: E402
from agentkit_min.schema import check_schema, validate  # noqa: E402
from agentkit_min.signature import schema_from_function  # noqa: E402


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def nest(depth: int, leaf: Any = None, key: str = "a") -> Any:
    value = leaf
    for _ in range(depth):
        value = {key: value}
    return value


def tree(depth: int) -> Any:
    return {"v": 1} if depth == 0 else {"v": 1, "l": tree(depth - 1), "r": tree(depth - 1)}


PATTERNS = [r"^[a-z]+(\.[a-z]+)*$", r"^(\d{1,3}\.){3}\d{1,3}$", r"^[^@]+@[^@]+\.[a-z]+$", r"\w+@\w+\.com",
            r"^(?=.*[a-z])(?=.*\d).{8,}$", r"^\w+\s*\w+$", r"[a-z]+@", r"(?i)^[a-z]+A", r"^\S+$",
            r"^https?://[^\s/$.?#].[^\s]*$", r"^(?!.*password).*$"]


def cases() -> list[tuple[str, dict[str, Any], str]]:
    """(name, schema, argument text)."""
    out: list[tuple[str, dict[str, Any], Any]] = []
    limit2 = int(_pattern.BUDGET ** 0.5)  # the longest string a degree-2 pattern is run on
    for p in PATTERNS:
        d = _pattern.degree(p)
        n = int(_pattern.BUDGET ** (1 / d)) - 2 if d > 1 else 8_000
        for filler in ("a", "1", "a.", "a@", " "):
            out.append((f"pattern {p} ({filler!r}*{n}+'!')", obj(s={"type": "string", "pattern": p}),
                        {"s": (filler * n)[:n] + "!"}))
        out.append((f"pattern {p} (60K chars)", obj(s={"type": "string", "pattern": p}), {"s": "a" * 60_000}))
    out.append(("patternProperties keys", {"type": "object", "patternProperties": {r"\w+@\w+\.com": {}}},
                {"a" * (limit2 // 2 - 1) + str(i): 1 for i in range(4)}))
    out.append(("array of pattern strings (budget shared)", {"type": "array", "items": {"type": "string",
                "pattern": "[a-z]+@"}}, ["a" * 900] * 70))
    node = {"oneOf": [{"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}, "required": ["a"]},
                      {"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}, "required": ["b"]},
                      {"type": "null"}]}
    for kw in ("oneOf", "anyOf", "allOf"):
        schema = {"$defs": {"n": {kw: node["oneOf"] if kw != "allOf" else node["oneOf"][:1]}}, "$ref": "#/$defs/n"}
        out.append((f"recursive {kw} x2 branches, 33 levels", schema, nest(33)))
    out.append(("recursive $ref binary tree, 255 nodes", {"$defs": {"t": {"type": "object", "properties": {
        "v": {"type": "integer"}, "l": {"$ref": "#/$defs/t"}, "r": {"$ref": "#/$defs/t"}}}}, "$ref": "#/$defs/t"},
        tree(7)))
    out.append(("nested anyOf of anyOf, 3 wide x 4 deep", _wide(4), nest(4, "x")))
    out.append(("deep argument (parse_arguments: 50K '[')", obj(a={"type": "integer"}), "[" * 50_000))
    out.append(("deep object past the depth limit", {"$defs": {"n": {"type": ["object", "null"],
                "properties": {"a": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"}, nest(99)))
    out.append(("uniqueItems, 300 items (last duplicates)", {"type": "array", "uniqueItems": True},
                [{"k": [i, str(i)]} for i in range(300)] + [{"k": [0, "0"]}]))
    out.append(("contains + maxContains, 1,000 items", {"type": "array", "contains": {"type": "string",
                "minLength": 3}, "maxContains": 2}, list(range(1000))))
    out.append(("enum of 300, deep const", {"enum": [{"x": [i, nest(20, i)]} for i in range(300)]},
                {"x": [299, nest(20, 298)]}))
    out.append(("multipleOf with big numbers", {"type": "array", "items": {"multipleOf": 0.001}},
                [10 ** 300 + 1, 1e300, 123456789.123456789] * 100))
    out.append(("formats on long strings", obj(e={"format": "email"}, t={"format": "date-time"},
                u={"format": "uri"}, i={"format": "ipv6"}), {"e": "a@" + "b." * 2_000, "t": "2" * 4_000,
                                                              "u": "x:" + "y" * 4_000, "i": ":" * 4_000}))
    out.append(("if/then/else + not, nested 30", _if(30), nest(30, 1)))
    out.append(("prefixItems + items, 1,000 items", {"type": "array", "prefixItems": [{"type": "string"}] * 5,
                "items": {"type": "integer"}}, ["a"] * 5 + list(range(1_000))))
    out.append(("typed function (nested objects), 100 rows", schema_from_function(_typed), {
        "rows": [{"a": "x" * 10, "b": [1, 2, 3], "c": None} for _ in range(100)], "mode": "fast"}))
    for n in (1_000, 12_000, 60_000):  # size, not shape: linear, then the MAX_CHECKS cap
        out.append((f"array of {n:,} ints (scaling)", {"type": "array", "items": {"type": "integer",
                    "minimum": 0}}, list(range(n))))
    # Tool arguments are objects: wrap every other value as {"x": value} ($defs stay at the root).
    return [(name, schema, args) if isinstance(args, str) else (name, schema, json.dumps(args))
            if isinstance(args, dict) and schema.get("type") == "object" else
            (name, wrap(schema), json.dumps({"x": args})) for name, schema, args in out]


def wrap(schema: dict[str, Any]) -> dict[str, Any]:
    out = obj(x={k: v for k, v in schema.items() if k != "$defs"})
    return {**out, "$defs": schema["$defs"]} if "$defs" in schema else out


def _wide(depth: int) -> dict[str, Any]:
    leaf: dict[str, Any] = {"type": "string", "minLength": 2}
    for _ in range(depth):
        leaf = {"anyOf": [{"type": "object", "properties": {"a": leaf}, "required": ["a"]},
                          {"type": "object", "properties": {"a": leaf}, "required": ["b"]}, {"type": "integer"}]}
    return leaf


def _if(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(depth):
        schema = {"if": {"type": "object"}, "then": {"properties": {"a": schema}}, "else": {"not": {"type": "string"}}}
    return schema


def _typed(rows: list[dict[str, Any]], mode: str = "fast", limit: int | None = None) -> None:
    """A typed tool."""


def call(schema: dict[str, Any], text: str) -> list[str]:
    return validate(parse_arguments(text, "t"), schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    all_cases = cases()
    for _, schema, _ in all_cases:
        check_schema(schema)  # every shape here is one create_tool accepts
    spent: dict[str, list[float]] = {name: [] for name, _, _ in all_cases}
    base: dict[str, list[float]] = {name: [] for name, _, _ in all_cases}
    errors: dict[str, int] = {}
    for _ in range(rounds):  # interleaved: every case once per round, baseline right before it
        for name, schema, text in all_cases:
            started = time.perf_counter()
            try:
                json.loads(text)
            except (ValueError, RecursionError):
                pass
            base[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            errors[name] = len(call(schema, text))
            spent[name].append(time.perf_counter() - started)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; {rounds} rounds; medians")
    print(f"{'case':64} {'KiB':>6} {'ms/call':>8} {'min ms':>7} {'json ms':>8} {'ratio':>6} errors")
    worst = (0.0, "")
    for name, _, text in all_cases:
        ms, bms = statistics.median(spent[name]) * 1e3, statistics.median(base[name]) * 1e3
        kib = len(text.encode()) / 1024
        if "scaling" not in name:
            worst = max(worst, (ms, name))
        print(f"{name[:64]:64} {kib:6.1f} {ms:8.3f} {min(spent[name]) * 1e3:7.3f} {bms:8.3f} "
              f"{ms / max(bms, 1e-6):6.1f} {errors[name]}")
    print(f"\nworst adversarial case: {worst[0]:.2f} ms ({worst[1]}); target <= 5 ms")


if __name__ == "__main__":
    main()
