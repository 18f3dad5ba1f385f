"""Validation cost is bounded, and every keyword is enforced or refused (issue 10, "Tool calls").

Timing here is only a generous "nothing hangs" bound; the figures live in bench/validation.py.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from agentkit_min import _pattern
from agentkit_min.errors import UsageError
from agentkit_min.schema import ANNOTATIONS, ENFORCED, MAX_CHECKS, check_schema, validate
from agentkit_min.tool import create_tool


def _tool(parameters: dict[str, Any], **options: Any) -> Any:
    return create_tool(name="t", parameters=parameters, handler=lambda args, ctx: args, **options)


@pytest.mark.parametrize(("pattern", "why"), [
    ("^(a+)+$", "exponential"), ("(a|aa)+", "exponential"), (r"^(\w+\s?)+$", "exponential"),
    (r"(\w)\1", "backreferences"), (r"^\d*\d*\d*$", "n**3"), (".*x.*y", "n**4"),
])
def test_catastrophic_patterns_are_refused_at_create_tool(pattern: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        _tool({"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}}})
    assert repr(pattern) in str(info.value) and why in str(info.value), str(info.value)
    with pytest.raises(UsageError, match="stall"):  # keys are model-chosen too
        _tool({"type": "object", "patternProperties": {pattern: True}})


@pytest.mark.parametrize("pattern", [
    r"^[a-z]+(\.[a-z]+)*$", r"^(\d{1,3}\.){3}\d{1,3}$", r"^[^@]+@[^@]+\.[a-z]+$", r"\w+@\w+\.com",
    r"^(?=.*[a-z])(?=.*\d).{8,}$", r"^\S+$", r"^[A-Z]{3}-\d{4}$", r"^(cat|dog)$", r"(?i)^[a-z_]+$",
])
def test_common_patterns_are_accepted(pattern: str) -> None:
    _tool({"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}}})


def test_a_pattern_from_an_unchecked_schema_is_reported_not_run() -> None:
    # MCP servers' schemas do not pass create_tool: validate refuses the pattern itself.
    started = time.monotonic()
    errors = validate({"s": "a" * 40 + "!"}, {"properties": {"s": {"pattern": "^(a+)+$"}}})
    assert time.monotonic() - started < 2.0
    assert errors and "invalid schema: pattern '^(a+)+$' cannot be checked" in errors[0]


def test_a_string_too_long_for_its_pattern_is_an_argument_error_not_a_stall() -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": r"\w+@\w+\.com"}}}
    started = time.monotonic()
    errors = validate({"s": "a" * 64_000}, schema)  # re.search would take ~10 s on this machine
    assert time.monotonic() - started < 2.0
    assert errors == ["$.s: too long to check against pattern '\\\\w+@\\\\w+\\\\.com' in bounded time "
                      "(64000 characters); send a shorter value"]
    assert validate({"s": "ada@example.com"}, schema) == []
    assert validate({"s": "a" * (int(_pattern.BUDGET ** 0.5) - 1)}, schema) != []  # checked: no match


def test_the_regex_budget_is_per_validation_not_per_string() -> None:
    schema = {"type": "array", "items": {"type": "string", "pattern": "[a-z]+@"}}
    assert "too long to check" not in str(validate(["a" * 300], schema))  # alone, within the budget
    errors = validate(["a" * 300] * 5, schema)
    assert any("too long to check" in e for e in errors), errors


def test_recursive_one_of_is_memoised() -> None:
    # Two recursive object branches doubled the work per level (2.7 s at 16 levels before).
    schema = {"$defs": {"node": {"oneOf": [
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/node"}}, "required": ["a"]},
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/node"}}, "required": ["b"]},
        {"type": "null"}]}}, "$ref": "#/$defs/node"}
    value: Any = None
    for _ in range(30):  # 2**30 branch evaluations without the memo
        value = {"a": value}
    started = time.monotonic()
    assert validate(value, schema) == []
    value["b"] = 1  # now both object branches match at the top level
    assert validate(value, schema) == ["$: matches alternatives 1, 2 of oneOf, but exactly one must match"]
    assert time.monotonic() - started < 2.0


def test_work_per_validation_is_capped() -> None:
    errors = validate(list(range(MAX_CHECKS + 10)), {"type": "array", "items": {"type": "integer"}})
    assert errors == [f"$[{MAX_CHECKS - 1}]: the arguments are too large to validate "
                      f"(more than {MAX_CHECKS} checks); send less data"]


@pytest.mark.parametrize(("schema", "good", "bad", "fragment"), [
    ({"not": {"type": "string"}}, 1, "x", "must not match the schema under 'not'"),
    ({"multipleOf": 0.1}, 0.3, 0.35, "must be a multiple of 0.1"),
    ({"uniqueItems": True}, [1, True, "1"], [1, 1.0], "$[1]: duplicate of item 0"),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [2]}], [{"a": [1]}, {"a": [1.0]}], "duplicate"),
    ({"maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}, "at most 1 propert"),
    ({"minProperties": 1}, {"a": 1}, {}, "at least 1 propert"),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", 1], ["a", "b"], "$[1]: expected integer"),
    ({"prefixItems": [{"type": "string"}]}, ["a", 2], [1], "$[0]: expected string"),
    ({"if": {"properties": {"k": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}},
     {"k": "a", "x": 1}, {"k": "b", "x": 1}, "missing required property 'y'"),
    ({"format": "email"}, "ada@example.org", "ada", "expected an email address"),
    ({"patternProperties": {"^n_": {"type": "integer"}}, "additionalProperties": False},
     {"n_1": 1}, {"n_1": "x"}, "$.n_1: expected integer"),
    ({"patternProperties": {"^n_": True}, "additionalProperties": False}, {"n_1": 1}, {"m": 1}, "unexpected property"),
    ({"dependentRequired": {"card": ["cvv"]}}, {"card": 1, "cvv": 2}, {"card": 1}, "'card' requires property 'cvv'"),
    ({"dependentSchemas": {"card": {"required": ["cvv"]}}}, {"x": 1}, {"card": 1}, "missing required property 'cvv'"),
    ({"contains": {"type": "integer"}}, ["a", 1], ["a"], "must contain an item"),
    ({"contains": {"type": "integer"}, "maxContains": 1}, [1, "a"], [1, 2], "at most 1 matching"),
    ({"contains": {"type": "integer"}, "minContains": 2}, [1, 2], [1], "at least 2 matching"),
    ({"propertyNames": {"maxLength": 2}}, {"ab": 1}, {"abc": 1}, "$.abc: must have at most 2"),
])
def test_keywords_the_issue_found_ignored_are_enforced(schema: dict[str, Any], good: Any, bad: Any,
                                                        fragment: str) -> None:
    check_schema(schema)  # accepted by create_tool
    assert validate(good, schema) == []
    errors = validate(bad, schema)
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize(("schema", "keyword"), [
    ({"unevaluatedProperties": False}, "unevaluatedProperties"),
    ({"properties": {"a": {"dependencies": {"x": ["y"]}}}}, "dependencies"),
    ({"items": {"additionalItems": False}}, "additionalItems"),
    ({"$anchor": "x"}, "$anchor"), ({"typo_minimum": 3}, "typo_minimum"),
])
def test_unsupported_keywords_are_refused_by_name(schema: dict[str, Any], keyword: str) -> None:
    with pytest.raises(UsageError, match=re.escape(f"keyword {keyword!r} is not supported")):
        _tool(schema)
    _tool(schema, ignore_unknown_keywords=True)  # the explicit opt-in


def test_unknown_formats_and_draft4_bounds_are_refused() -> None:
    with pytest.raises(UsageError, match="format 'hostname' is not enforced"):
        _tool({"type": "string", "format": "hostname"})
    with pytest.raises(UsageError, match="draft-4 boolean form"):
        _tool({"type": "number", "minimum": 0, "exclusiveMinimum": True})
    _tool({"type": "string", "format": "hostname"}, ignore_unknown_keywords=True)


def test_annotations_and_vendor_extensions_are_accepted() -> None:
    _tool({"type": "object", "title": "T", "description": "d", "$schema": "x", "x-vendor": {"type": "nope"},
           "properties": {"a": {"type": "integer", "default": 1, "examples": [1], "deprecated": True}}})
    assert not ENFORCED & ANNOTATIONS
