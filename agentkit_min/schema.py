"""Validate tool arguments against the JSON Schema subset tools use, plus schema helpers.

A subset of JSON Schema 2020-12 validation, for decisions Q3/Q5 (bad arguments become a tool
result the model can read) and G1 (OpenAI strict mode only when the schema allows it).

Supported: `type` (a name or a list; bool is not a number, 1.0 is an integer), `properties`,
`required`, `additionalProperties` (bool or schema), `items` (one schema), `enum`, `const`,
`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers), `minLength`, `maxLength`
(code points), `minItems`, `maxItems`, `pattern` (Python `re.search`), `anyOf`, `oneOf`, `allOf`,
`$ref` (local JSON pointers: `#`, `#/$defs/...`, `#/definitions/...`), `format` `date` and
`date-time` (RFC 3339 section 5.6), `nullable: true` (OpenAPI 3.0), boolean schemas.

Ignored, never an error: every other keyword, e.g. `description`, `title`, `default`, `examples`,
`$schema`, `$id`, `$comment`, other formats (email, uri, uuid...), `not`, `if`/`then`/`else`,
`patternProperties`, `propertyNames`, `prefixItems`, `contains`, `uniqueItems`, `multipleOf`,
`minProperties`, `maxProperties`, `dependent*`, `unevaluated*`, draft-4 boolean exclusive bounds.
Remote `$ref`s are never fetched (`check_schema` rejects them).
"""

from __future__ import annotations

import datetime
import json
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import unquote

from .errors import UsageError

__all__ = ["validate", "check_schema", "openai_strict_compatible"]

_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
_PY_TYPES: tuple[tuple[Any, str], ...] = (
    (type(None), "null"), (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
    ((list, tuple), "array"), (Mapping, "object"))
_SLIPS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
          "dict": "object", "list": "array", "None": "null"}  # Python names written by mistake
# keyword -> (comparison that fails, message); counts apply to len() of strings and arrays.
_LIMITS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "minimum": (operator.lt, "must be >= {}"), "maximum": (operator.gt, "must be <= {}"),
    "exclusiveMinimum": (operator.le, "must be > {}"), "exclusiveMaximum": (operator.ge, "must be < {}"),
    "minLength": (operator.lt, "must have at least {} character(s)"),
    "maxLength": (operator.gt, "must have at most {} character(s)"),
    "minItems": (operator.lt, "must have at least {} item(s)"),
    "maxItems": (operator.gt, "must have at most {} item(s)")}
_MAX_DEPTH = 100  # nesting limit, far below Python's recursion limit
_MISSING: Any = object()
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                        r"(?:\.[0-9]+)?(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))\Z")


def validate(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    """Check `instance` (usually parsed JSON) against `schema`; never raises.

    Returns:
        Every violation, each message starting with the JSON path of the offending value, e.g.
        `"$.items[2]: expected integer, got string"`; empty when valid. A malformed schema is
        reported as `"<path>: invalid schema: ..."`.
    """
    checker = _Validator(schema)
    checker.check(instance, schema, "$", 0)
    return checker.errors


class _Validator:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.errors: list[str] = []
        self.active: set[tuple[str, str]] = set()  # ($ref, instance path) pairs being expanded

    def bad(self, path: str, problem: str) -> None:
        self.errors.append(f"{path}: invalid schema: {problem}")

    def collect(self, value: Any, schema: Any, path: str, depth: int) -> list[str]:
        saved, self.errors = self.errors, []
        self.check(value, schema, path, depth)
        found, self.errors = self.errors, saved
        return found

    def check(self, value: Any, schema: Any, path: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return self.errors.append(f"{path}: nested too deeply (more than {_MAX_DEPTH} levels)")
        if isinstance(schema, bool):
            return None if schema else self.errors.append(f"{path}: no value is allowed here")
        if not isinstance(schema, Mapping):
            return self.bad(path, f"a schema must be an object or a boolean, got {_show(schema)}")
        if value is None and schema.get("nullable") is True:
            return None
        if "$ref" in schema:
            self.ref(value, schema["$ref"], path, depth)
        if "type" in schema and not self.type_ok(value, schema, path):
            return None  # the other keywords would only add noise to a type mismatch
        if "enum" in schema:
            if not isinstance(schema["enum"], list):
                self.bad(path, "'enum' must be a list")
            elif not any(_equal(value, option) for option in schema["enum"]):
                self.errors.append(f"{path}: expected one of {_list(schema['enum'])}, got {_show(value)}")
        if "const" in schema and not _equal(value, schema["const"]):
            self.errors.append(f"{path}: expected {_show(schema['const'])}, got {_show(value)}")
        for keyword in ("anyOf", "oneOf", "allOf"):
            if keyword in schema:
                self.combine(keyword, value, schema[keyword], path, depth)
        kind = _type_of(value)
        if kind == "object":
            self.object(value, schema, path, depth)
        elif kind == "array":
            self.limits(len(value), schema, path, ("minItems", "maxItems"))
            for index, item in enumerate(value if "items" in schema else ()):
                self.check(item, schema["items"], f"{path}[{index}]", depth + 1)
        elif kind == "string":
            self.string(value, schema, path)
        elif kind in ("integer", "number"):
            self.limits(value, schema, path, ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
        return None

    def type_ok(self, value: Any, schema: Mapping[str, Any], path: str) -> bool:
        names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not isinstance(names, list) or not names or not all(name in _TYPES for name in names):
            self.bad(path, f"'type' must be one of {', '.join(_TYPES)} or a list of them, "
                     f"got {_show(schema['type'])}")
            return False
        if any(_is_type(value, name) for name in names):
            return True
        if schema.get("nullable") is True and "null" not in names:
            names = [*names, "null"]
        self.errors.append(f"{path}: expected {' or '.join(names)}, got {_type_of(value)}")
        return False

    def ref(self, value: Any, ref: Any, path: str, depth: int) -> None:
        target = _resolve(self.root, ref)
        if target is _MISSING:
            return self.bad(path, f"cannot resolve $ref {_show(ref)}")
        if (ref, path) in self.active:  # came back to itself without descending into the value
            return self.bad(path, f"$ref {ref!r} refers to itself in a loop")
        self.active.add((ref, path))
        self.check(value, target, path, depth + 1)
        self.active.discard((ref, path))

    def combine(self, keyword: str, value: Any, branches: Any, path: str, depth: int) -> None:
        if not isinstance(branches, list) or not branches:
            return self.bad(path, f"'{keyword}' must be a non-empty list of schemas")
        if keyword == "allOf":
            return self.errors.extend(e for b in branches for e in self.collect(value, b, path, depth + 1))
        results: list[list[str]] = []
        for branch in branches:
            results.append(self.collect(value, branch, path, depth + 1))
            if keyword == "anyOf" and not results[-1]:
                return None
        passed = [str(i) for i, errors in enumerate(results, 1) if not errors]
        if len(passed) > 1:
            self.errors.append(f"{path}: matches alternatives {', '.join(passed)} of oneOf, "
                               "but exactly one must match")
        elif not passed:
            self.errors.append(f"{path}: {_summary(keyword, results, path)}")
        return None

    def object(self, value: Mapping[Any, Any], schema: Mapping[str, Any], path: str, depth: int) -> None:
        props, required = schema.get("properties", {}), schema.get("required", [])
        if not isinstance(props, Mapping):
            self.bad(path, "'properties' must be an object mapping names to schemas")
            props = {}
        if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
            self.bad(path, "'required' must be a list of property names")
            required = []
        self.errors.extend(f"{path}: missing required property {n!r}" for n in required if n not in value)
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                self.check(item, props[key], _child(path, key), depth + 1)
            elif extra is False:
                allowed = f"allowed: {_list(list(props))}" if props else "no properties are allowed"
                self.errors.append(f"{path}: unexpected property {_show(key)} ({allowed})")
            elif extra is not True:
                self.check(item, extra, _child(path, key), depth + 1)

    def limits(self, measure: float, schema: Mapping[str, Any], path: str, keywords: tuple[str, ...]) -> None:
        for keyword in (k for k in keywords if k in schema):
            limit, (fails, text) = schema[keyword], _LIMITS[keyword]
            counted = keyword.endswith(("Length", "Items"))
            if isinstance(limit, bool) and not counted:
                continue  # draft-4 boolean exclusiveMinimum/Maximum: ignored
            if not _is_type(limit, "integer" if counted else "number") or (counted and limit < 0):
                wanted = "a count (integer >= 0)" if counted else "a number"
                self.bad(path, f"'{keyword}' must be {wanted}, got {_show(limit)}")
            elif fails(measure, limit):
                self.errors.append(f"{path}: {text.format(limit)}, got {_show(measure)}")

    def string(self, value: str, schema: Mapping[str, Any], path: str) -> None:
        self.limits(len(value), schema, path, ("minLength", "maxLength"))
        pattern = schema.get("pattern")
        try:
            if pattern is not None and not re.search(pattern, value):
                self.errors.append(f"{path}: must match pattern {pattern!r}, got {_show(value)}")
        except (re.error, TypeError):
            self.bad(path, f"'pattern' must be a valid regular expression, got {_show(pattern)}")
        if schema.get("format") == "date" and not _is_date(value):
            self.errors.append(f"{path}: expected a date (YYYY-MM-DD), got {_show(value)}")
        elif schema.get("format") == "date-time" and not _is_date_time(value):
            self.errors.append(f"{path}: expected a date-time (RFC 3339, e.g. '2024-01-31T09:30:00Z'), "
                               f"got {_show(value)}")


def _summary(keyword: str, results: list[list[str]], path: str) -> str:
    """Say in one line why no alternative matched."""
    prefix = f"{path}: "

    def type_only(errors: list[str]) -> bool:  # failed only on the value's own type
        return len(errors) == 1 and errors[0].startswith(prefix + "expected ") and ", got " in errors[0]

    heads = [errors[0][len(prefix) + 9:].rpartition(", got ") for errors in results]
    if all(map(type_only, results)) and len({got for _, _, got in heads}) == 1:
        return f"expected {' or '.join(want for want, _, _ in heads)}, got {heads[0][2]}"
    # Branches that failed on type alone are noise once another branch got past its type check.
    shown = [(i, e) for i, e in enumerate(results, 1) if not type_only(e)] or list(enumerate(results, 1))
    parts = [f"[{i}] {e[0].removeprefix(prefix)}" + (f" (+{len(e) - 1} more)" if len(e) > 1 else "")
             for i, e in shown[:4]]
    return f"matches none of the {keyword} alternatives: " + "; ".join(parts)


def check_schema(schema: Any, where: str = "schema") -> None:
    """Raise `UsageError` early for schemas a caller clearly got wrong.

    Checks recursively that the schema is a dict, `type` names are JSON Schema types, `required`
    is a list of strings, `properties` maps names to schemas, `anyOf`/`oneOf`/`allOf` are lists,
    every `$ref` resolves locally and every `pattern` compiles. The message names `where` (e.g.
    "create_tool('search') parameters"), the path inside the schema, and the fix.
    """
    if not isinstance(schema, dict):
        raise UsageError(f"{where}: a JSON Schema must be a dict such as "
                         f"{{'type': 'object', 'properties': {{...}}}}, got {type(schema).__name__}")
    _walk(schema, schema, "$", where, 0)


def _walk(node: Any, root: Any, path: str, where: str, depth: int) -> None:
    def fail(at: str, problem: str) -> NoReturn:
        raise UsageError(f"{where}: invalid JSON Schema at {at}: {problem}")

    if isinstance(node, bool):
        return
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        fail(path, f"expected a schema such as {{'type': 'string'}} (at most {_MAX_DEPTH} levels deep), "
             f"got {_show(node)}")
    for name in node["type"] if isinstance(node.get("type"), list) and node["type"] else [node.get("type")]:
        if "type" in node and name not in _TYPES:
            slip = _SLIPS.get(name) if isinstance(name, str) else None
            fix = f"did you mean {slip!r}" if slip else f"use one of {', '.join(_TYPES)}"
            fail(f"{path}.type", f"{_show(name)} is not a JSON Schema type; {fix}")
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        hint = "; list required names in the parent object's 'required'" if isinstance(required, bool) else ""
        fail(f"{path}.required", f"'required' must be a list of property names such as ['city']{hint}")
    if not isinstance(node.get("properties", {}), Mapping):
        fail(f"{path}.properties", "'properties' must be a dict mapping each property name to its schema")
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword in node and (not isinstance(node[keyword], list) or not node[keyword]):
            fail(f"{path}.{keyword}", f"'{keyword}' must be a non-empty list of schemas")
    if "$ref" in node and _resolve(root, node["$ref"]) is _MISSING:
        fail(f"{path}.$ref", f"cannot resolve {_show(node['$ref'])}; only local references such as "
             "'#/$defs/Name' are supported, and the target must exist in this schema")
    try:
        re.compile(node.get("pattern", ""))
    except (re.error, TypeError) as exc:
        fail(f"{path}.pattern", f"{_show(node['pattern'])} is not a valid regular expression ({exc})")
    for sub_path, sub in _subschemas(node, path):
        _walk(sub, root, sub_path, where, depth + 1)


def _subschemas(node: Mapping[str, Any], path: str) -> list[tuple[str, Any]]:
    """The schemas directly inside `node` (properties, items, combinators, $defs), with paths."""
    props = node.get("properties")
    subs = [(_child(f"{path}.properties", k), v) for k, v in props.items()] if isinstance(props, Mapping) \
        else []
    subs += [(f"{path}.{k}", node[k]) for k in ("items", "additionalProperties") if k in node]
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(keyword), list):
            subs += [(f"{path}.{keyword}[{i}]", sub) for i, sub in enumerate(node[keyword])]
    for keyword in ("$defs", "definitions"):
        if isinstance(node.get(keyword), Mapping):
            subs += [(_child(f"{path}.{keyword}", k), v) for k, v in node[keyword].items()]
    return subs


def openai_strict_compatible(schema: Any) -> bool:
    """Whether OpenAI strict mode accepts `schema` as tool parameters (decision G1).

    The root must be an object schema, and every object schema in it (properties, items,
    combinators, $defs) must set `additionalProperties: false` and list every property in
    `required`. Optional parameters fit when they are nullable and still required.
    """
    return isinstance(schema, Mapping) and _has_type(schema, "object") and _strict(schema, 0)


def _has_type(node: Mapping[str, Any], name: str) -> bool:
    return node.get("type") == name or (isinstance(node.get("type"), list) and name in node["type"])


def _strict(node: Any, depth: int) -> bool:
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return False  # strict mode has no boolean schemas (beyond additionalProperties: false)
    props, required = node.get("properties", {}), node.get("required", [])
    if (_has_type(node, "object") or "properties" in node) and (
            node.get("additionalProperties") is not False or not isinstance(props, Mapping)
            or not isinstance(required, list) or not all(name in required for name in props)):
        return False
    return all(_strict(sub, depth + 1) for _, sub in _subschemas(node, "$") if sub is not False)


def _type_of(value: Any) -> str:
    """The JSON type name of a Python value; a non-JSON value matches no type."""
    return next((name for python, name in _PY_TYPES if isinstance(value, python)),
                f"non-JSON {type(value).__name__}")


def _is_type(value: Any, name: str) -> bool:
    actual = _type_of(value)
    if actual == "number" and name == "integer":
        return bool(value.is_integer())  # JSON Schema: 1.0 is an integer
    return actual == name or (actual == "integer" and name == "number")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, 1 equals 1.0, containers compare deeply."""
    kind_a, kind_b = _type_of(a), _type_of(b)
    if {kind_a, kind_b} <= {"integer", "number"} or kind_a != kind_b:
        return {kind_a, kind_b} <= {"integer", "number"} and bool(a == b)
    if kind_a == "array":
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if kind_a == "object":
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # an exotic non-JSON value: simply not equal
        return False


def _resolve(root: Any, ref: Any) -> Any:
    """Follow a local JSON pointer (`#/$defs/Name`); `_MISSING` when it leads nowhere."""
    if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
        return _MISSING
    node = root
    for part in ref[2:].split("/") if ref != "#" else []:
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _is_date(text: str) -> bool:
    match = _DATE.match(text)
    try:
        return match is not None and bool(datetime.date(int(match[1]), int(match[2]), int(match[3])))
    except ValueError:
        return False


def _is_date_time(text: str) -> bool:
    m = _DATE_TIME.match(text)
    return (m is not None and _is_date(m[1]) and int(m[2]) < 24 and int(m[3]) < 60
            and int(m[4]) <= 60 and (m[5] is None or (int(m[5]) < 24 and int(m[6]) < 60)))


def _child(path: str, key: Any) -> str:
    if isinstance(key, str) and _IDENT.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False) if isinstance(key, str) else _show(key)}]"


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__, or a structure too deep to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _list(values: list[Any]) -> str:
    return ", ".join(_show(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
