"""Tests for agentkit_min.schema: every keyword, check_schema, strict mode, signatures, properties."""

from __future__ import annotations

import copy
import math
from datetime import timezone
from typing import Any, Dict, List, Literal, Optional, Union

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentkit_min.errors import UsageError
from agentkit_min.schema import check_schema, openai_strict_compatible, validate
from agentkit_min.signature import schema_from_function

# --------------------------------------------------------------------------- type


@pytest.mark.parametrize(
    ("type_name", "good", "bad", "bad_name"),
    [
        ("string", "x", 1, "integer"),
        ("number", 1.5, "1.5", "string"),
        ("number", 3, True, "boolean"),
        ("integer", 3, 3.5, "number"),
        ("integer", 3.0, False, "boolean"),
        ("boolean", False, 0, "integer"),
        ("object", {"a": 1}, [1], "array"),
        ("array", [1, "a"], {"a": 1}, "object"),
        ("array", (1, 2), "[]", "string"),
        ("null", None, 0, "integer"),
    ],
)
def test_type_accepts_matching_and_rejects_other_types(type_name: str, good: Any, bad: Any, bad_name: str) -> None:
    assert validate(good, {"type": type_name}) == []
    assert validate(bad, {"type": type_name}) == [f"$: expected {type_name}, got {bad_name}"]


def test_type_list_is_a_union() -> None:
    schema = {"type": ["string", "null"]}
    assert validate("a", schema) == []
    assert validate(None, schema) == []
    assert validate(1, schema) == ["$: expected string or null, got integer"]


def test_non_json_values_match_no_type_and_do_not_raise() -> None:
    assert validate(b"x", {"type": "string"}) == ["$: expected string, got non-JSON bytes"]
    assert validate({1, 2}, {"type": "array"}) == ["$: expected array, got non-JSON set"]
    assert validate(object(), {}) == []
    assert validate(object(), {"type": "object"}) == ["$: expected object, got non-JSON object"]


def test_nan_and_infinity_are_numbers_but_not_integers() -> None:
    assert validate(math.inf, {"type": "number"}) == []
    assert validate(math.inf, {"type": "integer"}) == ["$: expected integer, got number"]
    assert validate(math.nan, {"type": "integer"}) == ["$: expected integer, got number"]


def test_type_mismatch_suppresses_the_other_keywords_of_that_schema() -> None:
    assert validate(5, {"type": "string", "enum": ["a"], "const": "a"}) == ["$: expected string, got integer"]
    assert validate(2.5, {"type": "integer", "minimum": 5}) == ["$: expected integer, got number"]


# --------------------------------------------------------------------------- objects


PERSON = {
    "type": "object",
    "properties": {
        "userId": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["userId"],
}


def test_properties_are_checked_with_their_path() -> None:
    assert validate({"userId": "u1", "age": 3, "tags": ["a"]}, PERSON) == []
    assert validate({"userId": "u1", "age": "3"}, PERSON) == ["$.age: expected integer, got string"]
    assert validate({"userId": "u1", "tags": ["a", 2, "c", None]}, PERSON) == [
        "$.tags[1]: expected string, got integer",
        "$.tags[3]: expected string, got null",
    ]


def test_required_reports_each_missing_property() -> None:
    schema = {"type": "object", "required": ["userId", "b"]}
    assert validate({}, schema) == ["$: missing required property 'userId'", "$: missing required property 'b'"]
    assert validate({"userId": None, "b": 0}, schema) == []


def test_required_and_properties_only_apply_to_objects() -> None:
    assert validate("text", {"required": ["a"], "properties": {"a": {"type": "string"}}}) == []


def test_nested_paths() -> None:
    schema = {"type": "object", "properties": {"created": {"type": "object", "properties": {
        "gte": {"type": "string", "format": "date"}}}}}
    assert validate({"created": {"gte": "2024-13-01"}}, schema) == [
        "$.created.gte: expected a date (YYYY-MM-DD), got '2024-13-01'"]


def test_keys_that_are_not_identifiers_are_quoted_in_paths() -> None:
    schema = {"properties": {"a b": {"type": "integer"}, "x.y": {"type": "integer"}}}
    assert validate({"a b": "1", "x.y": "2"}, schema) == [
        '$["a b"]: expected integer, got string',
        '$["x.y"]: expected integer, got string',
    ]


def test_additional_properties_false_names_the_extra_key_and_the_allowed_ones() -> None:
    schema = {"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": False}
    assert validate({"a": 1}, schema) == []
    assert validate({"a": 1, "c": 2}, schema) == ["$: unexpected property 'c' (allowed: 'a', 'b')"]
    empty = {"type": "object", "additionalProperties": False}
    assert validate({"z": 1}, empty) == ["$: unexpected property 'z' (no properties are allowed)"]


def test_additional_properties_schema_applies_to_the_extra_keys_only() -> None:
    schema = {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}}
    assert validate({"a": "s", "n": 1, "m": 2}, schema) == []
    assert validate({"a": "s", "n": "1"}, schema) == ["$.n: expected integer, got string"]
    assert validate({"n": "1"}, {"additionalProperties": True}) == []


# --------------------------------------------------------------------------- arrays, enum, const


def test_items_and_item_counts() -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}
    assert validate([1, 2.0, 3], schema) == []
    assert validate([], schema) == ["$: must have at least 1 item(s), got 0"]
    assert validate([1, 2, 3, 4], schema) == ["$: must have at most 3 item(s), got 4"]
    assert validate([1, "x"], schema) == ["$[1]: expected integer, got string"]


def test_nested_arrays_paths() -> None:
    schema = {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}}
    assert validate([[True], [False, 1]], schema) == ["$[1][1]: expected boolean, got integer"]


def test_enum() -> None:
    schema = {"enum": ["c", "f", None]}
    assert validate("c", schema) == []
    assert validate(None, schema) == []
    assert validate("k", schema) == ["$: expected one of 'c', 'f', None, got 'k'"]


def test_enum_uses_json_equality() -> None:
    assert validate(True, {"enum": [1]}) == ["$: expected one of 1, got True"]
    assert validate(1, {"enum": [True]}) == ["$: expected one of True, got 1"]
    assert validate(1.0, {"enum": [1]}) == []
    assert validate([1, {"a": [True]}], {"enum": [[1, {"a": [True]}]]}) == []
    assert validate([1, {"a": [1]}], {"enum": [[1, {"a": [True]}]]}) != []
    assert validate({"a": 1}, {"enum": [{"a": 1, "b": 2}]}) != []


def test_long_enums_are_shortened_in_messages() -> None:
    message = validate("zz", {"enum": [f"v{i}" for i in range(50)]})[0]
    assert message.startswith("$: expected one of 'v0', 'v1'")
    assert "'v10'" not in message and ", ..., got 'zz'" in message


def test_const() -> None:
    assert validate("search", {"const": "search"}) == []
    assert validate("other", {"const": "search"}) == ["$: expected 'search', got 'other'"]
    assert validate(0, {"const": False}) == ["$: expected False, got 0"]
    assert validate(None, {"const": None}) == []


# --------------------------------------------------------------------------- numbers, strings


@pytest.mark.parametrize(
    ("keyword", "limit", "ok", "bad", "message"),
    [
        ("minimum", 2, 2, 1, "$: must be >= 2, got 1"),
        ("maximum", 2, 2, 2.5, "$: must be <= 2, got 2.5"),
        ("exclusiveMinimum", 0, 0.1, 0, "$: must be > 0, got 0"),
        ("exclusiveMaximum", 10, 9, 10, "$: must be < 10, got 10"),
    ],
)
def test_numeric_bounds(keyword: str, limit: float, ok: float, bad: float, message: str) -> None:
    assert validate(ok, {keyword: limit}) == []
    assert validate(bad, {keyword: limit}) == [message]
    assert validate("not a number", {keyword: limit}) == []


def test_draft4_boolean_exclusive_bounds_are_ignored_not_errors() -> None:
    assert validate(5, {"minimum": 5, "exclusiveMinimum": True}) == []
    assert validate(4, {"minimum": 5, "exclusiveMinimum": True}) == ["$: must be >= 5, got 4"]


def test_string_length_counts_code_points() -> None:
    schema = {"type": "string", "minLength": 2, "maxLength": 3}
    assert validate("\U0001F600\U0001F600", schema) == []  # two emoji are two code points
    assert validate("é", schema) == ["$: must have at least 2 character(s), got 1"]
    assert validate("abcd", schema) == ["$: must have at most 3 character(s), got 4"]


def test_pattern_is_searched_not_anchored() -> None:
    assert validate("xx-12", {"pattern": "[0-9]+"}) == []
    assert validate("abc", {"pattern": "^[0-9]+$"}) == ["$: must match pattern '^[0-9]+$', got 'abc'"]
    assert validate(12, {"pattern": "^a"}) == []


@pytest.mark.parametrize(
    "text", ["2024-02-29", "2023-12-31", "0001-01-01"],
)
def test_format_date_valid(text: str) -> None:
    assert validate(text, {"type": "string", "format": "date"}) == []


@pytest.mark.parametrize(
    "text", ["2024-13-01", "2023-02-29", "2024-04-31", "2024-1-01", "20240101", "2024-01-01T00:00:00Z",
             "\uff12\uff10\uff12\uff14-01-01", " 2024-01-01", "2024-W01-1"],
)
def test_format_date_invalid(text: str) -> None:
    assert validate(text, {"format": "date"}) == [f"$: expected a date (YYYY-MM-DD), got {text!r}"]


@pytest.mark.parametrize(
    "text", ["2024-01-31T09:30:00Z", "2024-01-31t09:30:00z", "2024-01-31T09:30:00.123456+05:30",
             "2024-01-31T23:59:60-00:00", "1999-12-31T00:00:00+23:59"],
)
def test_format_date_time_valid(text: str) -> None:
    assert validate(text, {"format": "date-time"}) == []


@pytest.mark.parametrize(
    "text", ["2024-01-31T09:30:00", "2024-01-31 09:30:00Z", "2024-01-31", "2024-01-31T24:00:00Z",
             "2024-01-31T09:60:00Z", "2024-01-31T09:30:61Z", "2024-02-30T09:30:00Z", "2024-01-31T09:30Z",
             "2024-01-31T09:30:00+24:00", "2024-01-31T09:30:00.Z"],
)
def test_format_date_time_invalid(text: str) -> None:
    errors = validate(text, {"format": "date-time"})
    assert errors == [f"$: expected a date-time (RFC 3339, e.g. '2024-01-31T09:30:00Z'), got {text!r}"]


@pytest.mark.parametrize(("fmt", "good", "bad"), [
    ("email", "ada@example.org", "not an email"), ("email", "a.b+c@mail.example.co.uk", "a@b"),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"),
    ("uri", "https://example.org/a?b", "example.org/a"), ("ipv4", "192.168.0.1", "256.1.1.1"),
    ("ipv6", "::1", "1:2:3"), ("time", "09:30:00Z", "9:30"),
])
def test_formats_are_enforced(fmt: str, good: str, bad: str) -> None:
    assert validate(good, {"format": fmt}) == []
    assert len(validate(bad, {"format": fmt})) == 1 and validate(bad, {"format": fmt})[0].startswith("$: expected ")


def test_formats_on_non_strings_and_unknown_formats_in_validate_are_ignored() -> None:
    assert validate(5, {"format": "date"}) == []
    assert validate("x", {"format": "hostname"}) == []  # check_schema refuses it; validate skips it


# --------------------------------------------------------------------------- combinators


def test_any_of_passes_when_one_branch_matches() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]}
    assert validate("a", schema) == []
    assert validate(3, schema) == []
    assert validate(3, {"anyOf": [{"type": "integer"}, {"type": "number"}]}) == []  # several may match


def test_any_of_type_failures_merge_into_one_expected_list() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert validate(1, schema) == ["$: expected string or null, got integer"]


def test_any_of_summary_hides_branches_that_failed_on_type_alone() -> None:
    schema = {"properties": {"n": {"anyOf": [{"type": "string", "minLength": 3}, {"type": "null"}]}}}
    assert validate({"n": "ab"}, schema) == [
        "$.n: matches none of the anyOf alternatives: [1] must have at least 3 character(s), got 2"]


def test_any_of_summary_keeps_deeper_paths_and_counts_extra_errors() -> None:
    obj = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    schema = {"anyOf": [obj, {"type": "object", "required": ["z"]}]}
    assert validate({"a": 1, "b": 2}, schema) == [
        "$: matches none of the anyOf alternatives: [1] $.a: expected string, got integer (+1 more); "
        "[2] missing required property 'z'"]


def test_one_of() -> None:
    schema = {"oneOf": [{"type": "integer"}, {"type": "number", "maximum": 10}]}
    assert validate(20, schema) == []  # only the integer branch
    assert validate(2.5, schema) == []  # only the number branch
    assert validate(5, schema) == ["$: matches alternatives 1, 2 of oneOf, but exactly one must match"]
    assert validate("x", schema) == ["$: expected integer or number, got string"]


def test_all_of_reports_every_branch() -> None:
    schema = {"allOf": [{"type": "object", "required": ["a"]}, {"required": ["b"]}]}
    assert validate({"a": 1, "b": 2}, schema) == []
    assert validate({}, schema) == ["$: missing required property 'a'", "$: missing required property 'b'"]


# --------------------------------------------------------------------------- $ref, nullable, unknowns

TREE = {
    "$ref": "#/$defs/node",
    "$defs": {"node": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
}


def test_ref_to_defs_recursive_schema() -> None:
    good = {"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}
    assert validate(good, TREE) == []
    bad = {"name": "root", "children": [{"name": "a", "children": [{"name": 3}]}]}
    assert validate(bad, TREE) == ["$.children[0].children[0].name: expected string, got integer"]


def test_ref_to_definitions_root_and_escaped_pointers() -> None:
    schema = {"definitions": {"a/b": {"type": "integer"}, "m~n": {"type": "string"}}, "properties": {
        "x": {"$ref": "#/definitions/a~1b"}, "y": {"$ref": "#/definitions/m~0n"}, "z": {"$ref": "#"}}}
    assert validate({"x": 1, "y": "s", "z": {"x": 2}}, schema) == []
    assert validate({"x": "1", "z": {"y": 2}}, schema) == [
        "$.x: expected integer, got string", "$.z.y: expected string, got integer"]


def test_ref_cycles_are_reported_not_followed_forever() -> None:
    schema = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}}
    errors = validate(1, schema)
    assert len(errors) == 1 and "refers to itself in a loop" in errors[0]


def test_unresolvable_ref_is_reported() -> None:
    assert validate(1, {"$ref": "#/$defs/missing"}) == ["$: invalid schema: cannot resolve $ref '#/$defs/missing'"]
    assert validate(1, {"$ref": "https://example.com/s.json"}) == [
        "$: invalid schema: cannot resolve $ref 'https://example.com/s.json'"]


def test_nullable_allows_null_and_is_named_in_type_errors() -> None:
    schema = {"type": "string", "nullable": True, "minLength": 2}
    assert validate(None, schema) == []
    assert validate("ab", schema) == []
    assert validate(3, schema) == ["$: expected string or null, got integer"]
    assert validate(None, {"type": "string", "nullable": False}) == ["$: expected string, got null"]


def test_unknown_keywords_are_ignored() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "T", "description": "d",
              "default": 3, "examples": [1], "x-vendor": {"type": "nonsense"}, "type": "integer"}
    assert validate(1, schema) == []


def test_boolean_schemas() -> None:
    assert validate({"anything": [1]}, True) == []  # type: ignore[arg-type]
    assert validate(1, {"properties": {"a": False}}) == []
    assert validate({"a": 1}, {"properties": {"a": False}}) == ["$.a: no value is allowed here"]


# --------------------------------------------------------------------------- never raises


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "strng"}, "$: invalid schema: 'type' must be one of string, number"),
        ({"type": []}, "$: invalid schema: 'type'"),
        ({"type": [{"a": 1}]}, "$: invalid schema: 'type'"),
        ({"properties": 5}, "$: invalid schema: 'properties' must be an object"),
        ({"required": "a"}, "$: invalid schema: 'required' must be a list"),
        ({"enum": "ab"}, "$: invalid schema: 'enum' must be a list"),
        ({"minimum": "3"}, "$: invalid schema: 'minimum' must be a number, got '3'"),
        ({"anyOf": []}, "$: invalid schema: 'anyOf' must be a non-empty list"),
        ({"oneOf": {"type": "string"}}, "$: invalid schema: 'oneOf' must be a non-empty list"),
        ({"items": 3}, "$[0]: invalid schema: a schema must be an object or a boolean, got 3"),
    ],
)
def test_malformed_schemas_are_reported_not_raised(schema: dict[str, Any], fragment: str) -> None:
    instance: Any = [1] if "items" in schema else ({"a": 1} if "properties" in schema or "required" in schema
                                                   else 1)
    errors = validate(instance, schema)
    assert any(e.startswith(fragment) for e in errors), errors


@pytest.mark.parametrize(
    ("schema", "instance", "fragment"),
    [
        ({"minLength": -1}, "a", "'minLength' must be a count (integer >= 0), got -1"),
        ({"maxItems": 1.5}, [1], "'maxItems' must be a count (integer >= 0), got 1.5"),
        ({"pattern": "("}, "a", "pattern '(' cannot be checked: missing ), unterminated subpattern"),
        ({"pattern": 5}, "a", "pattern 5 cannot be checked: "),
    ],
)
def test_malformed_string_and_array_keywords(schema: dict[str, Any], instance: Any, fragment: str) -> None:
    errors = validate(instance, schema)
    assert len(errors) == 1 and errors[0].startswith(f"$: invalid schema: {fragment}"), errors


def test_a_schema_that_is_not_a_mapping_is_reported() -> None:
    assert validate(1, [1, 2]) == ["$: invalid schema: a schema must be an object or a boolean, got [1, 2]"]  # type: ignore[arg-type]


def test_deeply_nested_instances_stop_at_the_depth_limit() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    errors = validate(deep, {"type": "array", "items": {"$ref": "#"}})
    assert len(errors) == 1 and "nested too deeply" in errors[0]


def test_self_referencing_python_schema_does_not_recurse_forever() -> None:
    schema: dict[str, Any] = {"allOf": []}
    schema["allOf"].append(schema)
    errors = validate(1, schema)
    assert len(errors) == 1 and "nested too deeply" in errors[0]


def test_broken_repr_in_instance_does_not_raise() -> None:
    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert validate(Weird(), {"enum": [1]}) == ["$: expected one of 1, got <Weird>"]


# --------------------------------------------------------------------------- check_schema


def _usage_error(schema: Any, where: str = "create_tool('t') parameters") -> str:
    with pytest.raises(UsageError) as caught:
        check_schema(schema, where=where)
    return str(caught.value)


def test_check_schema_accepts_valid_schemas() -> None:
    check_schema(PERSON)
    check_schema(TREE)
    check_schema({"type": "object", "properties": {"a": True, "b": {"type": ["string", "null"]}},
                  "additionalProperties": False, "anyOf": [{"required": ["a"]}], "pattern": "^x"})


def test_check_schema_rejects_non_dicts() -> None:
    message = _usage_error(["type", "object"])
    assert message.startswith("create_tool('t') parameters: a JSON Schema must be a dict") and "got list" in message


def test_check_schema_suggests_the_json_schema_type_name() -> None:
    message = _usage_error({"type": "object", "properties": {"age": {"type": "int"}}})
    assert message == ("create_tool('t') parameters: invalid JSON Schema at $.properties.age.type: "
                       "'int' is not a JSON Schema type; did you mean 'integer'")
    message = _usage_error({"type": ["string", "text"]}, where="schema")
    assert message.startswith("schema: invalid JSON Schema at $.type: 'text' is not a JSON Schema type; use one of")


def test_check_schema_required_must_be_a_list_of_strings() -> None:
    message = _usage_error({"properties": {"a": {"type": "string", "required": True}}})
    assert "at $.properties.a.required: 'required' must be a list of property names" in message
    assert "parent object's 'required'" in message
    assert "at $.required:" in _usage_error({"required": ["a", 1]})


def test_check_schema_properties_must_map_names_to_schemas() -> None:
    assert "at $.properties: 'properties' must be a dict" in _usage_error({"properties": ["a"]})
    message = _usage_error({"properties": {"my name": "string"}})
    assert "at $.properties[\"my name\"]: expected a schema such as {'type': 'string'}" in message


def test_check_schema_refs_must_resolve_locally() -> None:
    message = _usage_error({"properties": {"a": {"$ref": "#/$defs/missing"}}})
    assert "at $.properties.a.$ref: cannot resolve '#/$defs/missing'" in message and "'#/$defs/Name'" in message
    assert "cannot resolve 'other.json#/x'" in _usage_error({"$ref": "other.json#/x"})


def test_check_schema_patterns_must_compile() -> None:
    message = _usage_error({"properties": {"code": {"type": "string", "pattern": "[a-"}}})
    assert "at $.properties.code.pattern: '[a-' is not a valid regular expression" in message


def test_check_schema_walks_items_combinators_and_defs() -> None:
    assert "at $.items.type:" in _usage_error({"type": "array", "items": {"type": "float"}})
    assert "at $.anyOf[1].type:" in _usage_error({"anyOf": [{"type": "string"}, {"type": "nil"}]})
    assert "at $.oneOf: 'oneOf' must be a non-empty list" in _usage_error({"oneOf": {}})
    assert "at $.$defs.a.type:" in _usage_error({"$defs": {"a": {"type": "str"}}})
    assert "at $.definitions.b.required:" in _usage_error({"definitions": {"b": {"required": "x"}}})
    assert "at $.additionalProperties:" in _usage_error({"additionalProperties": "no"})


# --------------------------------------------------------------------------- openai strict


STRICT_OK = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "limit": {"type": ["integer", "null"]},
        "filter": {"type": "object", "properties": {"tag": {"type": "string"}}, "required": ["tag"],
                   "additionalProperties": False},
        "rows": {"type": "array", "items": {"type": "object", "properties": {}, "additionalProperties": False}},
    },
    "required": ["query", "limit", "filter", "rows"],
    "additionalProperties": False,
}


def test_strict_compatible_schema() -> None:
    assert openai_strict_compatible(STRICT_OK)


def _with(schema: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `schema` with the key at `path` set to `value` (None deletes it)."""
    result = copy.deepcopy(schema)
    node = result
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return result


@pytest.mark.parametrize(
    "broken",
    [
        _with(STRICT_OK, "additionalProperties", value=None),
        _with(STRICT_OK, "additionalProperties", value=True),
        _with(STRICT_OK, "required", value=["query", "filter", "rows"]),
        _with(STRICT_OK, "properties", "filter", "additionalProperties", value=None),
        _with(STRICT_OK, "properties", "filter", "required", value=[]),
        _with(STRICT_OK, "properties", "rows", "items", "additionalProperties", value={"type": "string"}),
        _with(STRICT_OK, "properties", "limit", value={"anyOf": [{"type": "object"}, {"type": "null"}]}),
        _with(STRICT_OK, "$defs", value={"d": {"type": "object", "properties": {"x": {}}}}),
        _with(STRICT_OK, "properties", "query", value=True),
        _with(STRICT_OK, "type", value="array"),
    ],
)
def test_strict_incompatible_schemas(broken: dict[str, Any]) -> None:
    assert not openai_strict_compatible(broken)


def test_strict_rejects_non_schemas() -> None:
    assert not openai_strict_compatible(None)
    assert not openai_strict_compatible({"type": "object", "properties": [], "additionalProperties": False})


# --------------------------------------------------------------------------- schema_from_function


def search(query: str, limit: int, ratio: float, exact: bool, tags: list[str], weights: dict[str, float],
           unit: Literal["c", "f"], since: str | None, page: Optional[int] = None, mode: str = "fast",
           ctx: Any = None) -> list[str]:
    """Search the catalogue.

    Longer explanation that is not part of the description.
    """
    return []


def test_schema_from_function_maps_the_signature() -> None:
    assert schema_from_function(search) == {
        "type": "object",
        "description": "Search the catalogue.",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer"},
            "ratio": {"type": "number"},
            "exact": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "weights": {"type": "object", "additionalProperties": {"type": "number"}},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "since": {"type": ["string", "null"]},
            "page": {"type": ["integer", "null"], "default": None},
            "mode": {"type": "string", "default": "fast"},
        },
        "required": ["query", "limit", "ratio", "exact", "tags", "weights", "unit", "since"],
        "additionalProperties": False,
    }


def test_schema_from_function_output_validates_real_calls() -> None:
    schema = schema_from_function(search)
    check_schema(schema)
    call = {"query": "q", "limit": 2, "ratio": 0.5, "exact": True, "tags": [], "weights": {"a": 1},
            "unit": "c", "since": None}
    assert validate(call, schema) == []
    assert validate({**call, "unit": "k"}, schema) == ["$.unit: expected one of 'c', 'f', got 'k'"]


def opt_typing(a: Optional[List[int]], b: Union[int, str], c: Optional[Literal["x", "y"]], d: Dict[str, Any],
               e: Literal[1, "one"], f: "int | None", g: list, h: dict) -> None:  # type: ignore[type-arg]
    pass


def test_schema_from_function_typing_aliases_and_unions() -> None:
    props = schema_from_function(opt_typing)["properties"]
    assert props["a"] == {"type": ["array", "null"], "items": {"type": "integer"}}
    assert props["b"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert props["c"] == {"type": ["string", "null"], "enum": ["x", "y", None]}
    assert props["d"] == {"type": "object", "additionalProperties": {}}
    assert props["e"] == {"enum": [1, "one"]}
    assert props["f"] == {"type": ["integer", "null"]}
    assert props["g"] == {"type": "array"} and props["h"] == {"type": "object"}


def test_schema_from_function_optional_is_nullable_and_still_strict() -> None:
    def lookup(city: str, country: Optional[str], zip_code: int | None) -> str:
        return city

    schema = schema_from_function(lookup)
    assert schema["required"] == ["city", "country", "zip_code"]
    assert "description" not in schema
    assert openai_strict_compatible(schema)
    assert not openai_strict_compatible(schema_from_function(search))  # defaults make it non-strict


def test_schema_from_function_nullable_union_of_several_types() -> None:
    def f(x: int | str | None) -> None:
        pass

    assert schema_from_function(f)["properties"]["x"] == {
        "anyOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"type": "null"}]}
    assert validate({"x": None}, schema_from_function(f)) == []


def test_schema_from_function_runtime_pipe_union() -> None:
    namespace: dict[str, Any] = {}
    exec("def g(a: int | None, b: list[str] | None = None) -> None: pass", namespace)
    schema = schema_from_function(namespace["g"])
    assert schema["properties"] == {"a": {"type": ["integer", "null"]},
                                    "b": {"type": ["array", "null"], "items": {"type": "string"}, "default": None}}
    assert schema["required"] == ["a"]


def kwargs_fn(a: int, **extra: Any) -> None:
    pass


def unannotated(a: int, b) -> None:  # type: ignore[no-untyped-def]
    pass


def tuple_fn(a: tuple[int, int]) -> None:
    pass


def int_keys(a: dict[int, str]) -> None:
    pass


@pytest.mark.parametrize(
    ("fn", "fragment"),
    [
        (kwargs_fn, "schema_from_function(kwargs_fn): parameter 'extra': *args/**kwargs have no JSON Schema"),
        (unannotated, "schema_from_function(unannotated): parameter 'b' has no type annotation"),
        (tuple_fn, "schema_from_function(tuple_fn): parameter 'a': cannot map tuple[int, int]"),
        (int_keys, "schema_from_function(int_keys): parameter 'a': cannot map dict[int, str]"),
    ],
)
def test_schema_from_function_rejects_unmappable_parameters(fn: Any, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        schema_from_function(fn)
    assert str(caught.value).startswith(fragment), str(caught.value)


def test_schema_from_function_unresolvable_annotation() -> None:
    def f(a: "Undefined") -> None:  # type: ignore[name-defined]
        pass

    with pytest.raises(UsageError, match="cannot read the signature"):
        schema_from_function(f)


# --------------------------------------------------------------------------- properties (hypothesis)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)
TYPE_NAMES = ["string", "number", "integer", "boolean", "object", "array", "null"]
keyword_values = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(TYPE_NAMES) | st.lists(st.sampled_from(TYPE_NAMES + ["bogus"]), max_size=3) | json_values,
    "enum": st.lists(json_values, max_size=3) | json_values,
    "const": json_values,
    "minimum": st.integers() | st.floats() | json_values,
    "exclusiveMaximum": st.floats() | st.booleans(),
    "minLength": st.integers(-2, 5) | json_values,
    "maxItems": st.integers(-2, 5) | json_values,
    "pattern": st.sampled_from(["^a", "[", "b+$", ""]) | json_values,
    "format": st.sampled_from(["date", "date-time", "email", "uuid", "ipv4", "uri", "bogus"]),
    "multipleOf": st.integers() | st.floats() | json_values,
    "uniqueItems": st.booleans() | json_values,
    "minProperties": st.integers(-2, 5) | json_values,
    "dependentRequired": st.dictionaries(st.text(max_size=3), st.lists(st.text(max_size=3)) | json_values),
    "patternProperties": st.dictionaries(st.sampled_from(["^a", "[", "(a+)+$", ""]), st.booleans()) | json_values,
    "required": st.lists(st.text(max_size=3), max_size=3) | json_values,
    "nullable": st.booleans(),
    "$ref": st.sampled_from(["#", "#/$defs/a", "#/definitions/b", "#/nope", "#/$defs/a/x/0"]) | json_values,
    "description": json_values,
})


def _merge(parts: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return {**parts[0], **parts[1]}


any_schemas: st.SearchStrategy[Any] = st.recursive(
    keyword_values | st.booleans() | json_values,
    lambda kids: st.tuples(keyword_values, st.fixed_dictionaries({}, optional={
        "properties": st.dictionaries(st.text(max_size=3), kids, max_size=3) | kids,
        "items": kids,
        "additionalProperties": kids,
        "anyOf": st.lists(kids, max_size=3) | kids,
        "oneOf": st.lists(kids, max_size=3),
        "allOf": st.lists(kids, max_size=3),
        "$defs": st.fixed_dictionaries({"a": kids}),
        "not": kids, "if": kids, "then": kids, "else": kids, "contains": kids, "propertyNames": kids,
        "prefixItems": st.lists(kids, max_size=3) | kids, "dependentSchemas": st.dictionaries(st.text(max_size=3), kids),
        "definitions": st.fixed_dictionaries({"b": kids}),
    })).map(_merge),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(instance=json_values, schema=any_schemas)
def test_property_validate_never_raises(instance: Any, schema: Any) -> None:
    errors = validate(instance, schema)
    assert isinstance(errors, list)
    assert all(isinstance(e, str) and e.startswith("$") for e in errors)


@settings(max_examples=200, deadline=None)
@given(schema=any_schemas)
def test_property_check_schema_raises_only_usage_errors(schema: Any) -> None:
    try:
        check_schema(schema)
    except UsageError:
        pass
    else:  # a schema check_schema accepts never produces "invalid schema" reports for these keys
        assert not any("'type' must be" in e or "cannot resolve" in e for e in validate(None, schema))


# Schemas generated together with the values they accept. Every node states its JSON types, and
# anyOf/oneOf branches use disjoint type families, so a value of another type fails everywhere.
FAMILIES = ["string", "integer", "boolean", "null", "array", "object"]


@st.composite
def typed_schemas(draw: st.DrawFn, depth: int = 0, family: str | None = None) -> dict[str, Any]:
    if family is None:
        choices = FAMILIES + ["number", "union", "nullable"] if depth < 3 else ["string", "integer", "number"]
        choices += ["object", "object", "array"] if depth == 0 else []  # tool arguments are objects
        family = draw(st.sampled_from(choices))
    if family == "string":
        return draw(st.sampled_from([
            {"type": "string", "minLength": 1, "maxLength": 6},
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": "^[a-c]+$"},
            {"enum": ["red", "green"]},
            {"const": "fixed"},
        ]))
    if family == "integer":
        low = draw(st.integers(-50, 50))
        return {"type": "integer", "minimum": low, "exclusiveMaximum": low + draw(st.integers(1, 100))}
    if family == "number":
        return {"type": "number", "exclusiveMinimum": -1.5, "maximum": 1e6}
    if family in ("boolean", "null"):
        return {"type": family}
    if family == "array":
        return {"type": "array", "items": draw(typed_schemas(depth + 1)), "maxItems": 4}
    if family == "object":
        names = draw(st.lists(st.sampled_from(["a", "b", "c d", "é"]), unique=True, min_size=1, max_size=3))
        props = {name: draw(typed_schemas(depth + 1)) for name in names}
        required = [name for name in names if draw(st.booleans())]
        return {"type": "object", "properties": props, "required": required, "additionalProperties": False}
    if family == "union":
        pair = draw(st.lists(st.sampled_from(FAMILIES), min_size=2, max_size=2, unique=True))
        branches = [draw(typed_schemas(depth + 1, f)) for f in pair]
        return {draw(st.sampled_from(["anyOf", "oneOf"])): branches}
    inner = draw(typed_schemas(depth + 1, draw(st.sampled_from(["string", "integer", "array", "object"]))))
    return {**inner, "nullable": True} if "type" in inner else {"anyOf": [inner, {"type": "null"}]}


@st.composite
def values_for(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A value `schema` (from typed_schemas) accepts."""
    if schema.get("nullable") and draw(st.booleans()):
        return None
    if "anyOf" in schema or "oneOf" in schema:
        return draw(values_for(draw(st.sampled_from(schema.get("anyOf") or schema["oneOf"]))))
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if "const" in schema:
        return schema["const"]
    kind = schema["type"]
    if kind == "string":
        if schema.get("format") == "date":
            return draw(st.dates()).isoformat()
        if schema.get("format") == "date-time":
            return draw(st.datetimes(timezones=st.just(timezone.utc))).isoformat()
        if "pattern" in schema:
            return draw(st.from_regex(schema["pattern"], fullmatch=True))
        return draw(st.text(min_size=1, max_size=6))
    if kind == "integer":
        return draw(st.integers(schema["minimum"], schema["exclusiveMaximum"] - 1))
    if kind == "number":
        return draw(st.floats(-1.5, 1e6, exclude_min=True) | st.integers(-1, 1000))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "null":
        return None
    if kind == "array":
        return draw(st.lists(values_for(schema["items"]), max_size=4))
    optional = [name for name in schema["properties"] if name not in schema["required"]]
    present = schema["required"] + [name for name in optional if draw(st.booleans())]
    return {name: draw(values_for(schema["properties"][name])) for name in present}


def _locations(value: Any, path: str = "$") -> list[tuple[str, list[Any]]]:
    """(JSON path, key path) of every position inside a generated value."""
    found: list[tuple[str, list[Any]]] = [(path, [])]
    children: list[tuple[Any, str]] = []
    if isinstance(value, dict):
        children = [(k, f"{path}.{k}" if k.isidentifier() and k.isascii() else f'{path}["{k}"]') for k in value]
    elif isinstance(value, list):
        children = [(i, f"{path}[{i}]") for i in range(len(value))]
    for key, child_path in children:
        found += [(p, [key, *keys]) for p, keys in _locations(value[key], child_path)]
    return found


# A value of each kind, and the schema types it satisfies.
WRONG_VALUES: list[tuple[Any, set[str]]] = [
    ([["nested"]], {"array"}), ({"zz": {}}, {"object"}), (1.5, {"number"}), ("zz", {"string"}),
    (True, {"boolean"}), (None, {"null"}), (7, {"integer", "number"}),
]


def _schema_at(schema: dict[str, Any], value: Any, keys: list[Any]) -> dict[str, Any]:
    """The generated sub-schema that describes the value at `keys`."""
    for key in keys:
        for branch in schema.get("anyOf") or schema.get("oneOf") or []:  # the branch that took the value
            if not validate(value, branch):
                schema = branch
        schema = schema["items"] if isinstance(key, int) else schema["properties"][key]
        value = value[key]
    return schema


def _types_allowed(schema: dict[str, Any]) -> set[str]:
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return set().union(*(_types_allowed(b) for b in branches))
    if "enum" in schema or "const" in schema:
        return {"string"}
    allowed = {schema["type"]} | ({"null"} if schema.get("nullable") else set())
    return allowed | ({"integer"} if "number" in allowed else set())


@settings(max_examples=300, deadline=None)
@given(data=st.data(), schema=typed_schemas())
def test_property_generated_values_validate_and_mutations_are_located(data: st.DataObject,
                                                                      schema: dict[str, Any]) -> None:
    value = data.draw(values_for(schema), label="value")
    assert validate(value, schema) == []

    locations = _locations(value)
    inner = locations[1:] if len(locations) > 1 and data.draw(st.integers(0, 3)) else locations
    path, keys = data.draw(st.sampled_from(inner), label="location")
    allowed = _types_allowed(_schema_at(schema, value, keys))
    wrong = data.draw(st.sampled_from([v for v, types in WRONG_VALUES if not types & allowed]), label="wrong")
    if not keys:
        mutated = wrong
    else:
        mutated = copy.deepcopy(value)
        parent = mutated
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = wrong

    errors = validate(mutated, schema)
    # Either the error is reported at the mutated path, or (inside anyOf/oneOf) its summary names it.
    assert any(e.startswith(f"{path}: ") or f" {path}: " in e for e in errors), (path, errors)


# The quick path of `validate` (plain schemas) must say "valid" only when the full check does.
KEYS = ["a", "b", ""]
plain_schemas: st.SearchStrategy[Any] = st.recursive(
    st.fixed_dictionaries({}, optional={"type": st.sampled_from(TYPE_NAMES) | st.lists(
        st.sampled_from(TYPE_NAMES + ["bogus"]), max_size=3), "enum": st.lists(st.text("ab", max_size=1), max_size=3),
        "description": st.text(max_size=3)}) | st.booleans(),
    lambda kids: st.fixed_dictionaries({"type": st.sampled_from(["object", "object", "array"])}, optional={
        "properties": st.dictionaries(st.sampled_from(KEYS), kids, max_size=3),
        "required": st.lists(st.sampled_from(KEYS), max_size=2), "items": kids,
        "additionalProperties": st.booleans() | kids}),
    max_leaves=8)
plain_values: st.SearchStrategy[Any] = st.recursive(
    st.text("ab", max_size=1) | st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([1.0, 0.5]),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from(KEYS), kids, max_size=3),
    max_leaves=10)


@settings(max_examples=600, deadline=None)
@example(instance={"a": "a"}, schema={"properties": {"a": {"enum": ["b"]}}})
@example(instance=["a"], schema={"items": {"type": ["string", "bogus"]}})
@example(instance={"a": 1, "": 1.0}, schema={"properties": {"a": {"type": ["number"]}, "": {"type": "integer"}}})
@given(instance=st.dictionaries(st.sampled_from(KEYS), plain_values) | plain_values | json_values,
       schema=plain_schemas | any_schemas)
def test_property_quick_path_agrees_with_the_full_check(instance: Any, schema: Any) -> None:
    from agentkit_min.schema import _Validator

    full = _Validator(schema)
    full.check(instance, schema, "$", 0)
    assert validate(instance, schema) == full.errors
