"""The JSON Schema subset tool schemas may use, and `check_schema`, which refuses the rest.

What is enforced (`ENFORCED`, `FORMATS`; annotations `ANNOTATIONS`, `x-*`) is listed in
spec/semantics.md section 2, "Schemas": `check_schema` (run by `create_tool`) refuses any other
keyword or format, and patterns whose checking time is unbounded (agentkit_min/_pattern.py),
unless `ignore_unknown=True`. Also here, shared with validation (agentkit_min/schema.py, which
re-exports the public names): the JSON types of values and their equality, `$ref` resolution,
and `openai_strict_compatible` (decision G1).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import unquote

from . import _pattern
from .errors import UsageError

_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
_PY_TYPES: tuple[tuple[Any, str], ...] = (
    (type(None), "null"), (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
    ((list, tuple), "array"), (Mapping, "object"))
_EXACT = {**dict(_PY_TYPES[:5]), list: "array", dict: "object"}  # the hot path: parsed JSON has exactly these types
_SLIPS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
          "dict": "object", "list": "array", "None": "null"}  # Python names written by mistake
_MAX_DEPTH = 100  # nesting limit, far below Python's recursion limit
ENFORCED = frozenset(
    "type properties required additionalProperties patternProperties propertyNames minProperties "
    "maxProperties dependentRequired dependentSchemas items prefixItems contains minContains "
    "maxContains minItems maxItems uniqueItems enum const minimum maximum exclusiveMinimum "
    "exclusiveMaximum multipleOf minLength maxLength pattern format anyOf oneOf allOf not if then "
    "else $ref $defs definitions nullable".split())
ANNOTATIONS = frozenset("description title default examples example $schema $id $comment deprecated "
                        "readOnly writeOnly contentMediaType contentEncoding contentSchema discriminator "
                        "propertyOrdering".split())
_MISSING: Any = object()
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                        r"(?:\.[0-9]+)?(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))\Z")


def check_schema(schema: Any, where: str = "schema", ignore_unknown: bool = False) -> None:
    """Raise `UsageError` early for schemas a caller clearly got wrong or that cannot be enforced
    (malformed keywords, unresolvable `$ref`s, keywords or formats not enforced unless
    `ignore_unknown=True`, patterns not checkable in bounded time: agentkit_min/_pattern.py),
    naming `where`, the path inside the schema, and the fix."""
    if not isinstance(schema, dict):
        raise UsageError(f"{where}: a JSON Schema must be a dict such as "
                         f"{{'type': 'object', 'properties': {{...}}}}, got {type(schema).__name__}")
    _walk(schema, schema, "$", where, 0, ignore_unknown)


def _walk(node: Any, root: Any, path: str, where: str, depth: int, ignore_unknown: bool) -> None:
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
    unknown = [k for k in node if k not in ENFORCED | ANNOTATIONS and not str(k).startswith("x-")]
    if unknown and not ignore_unknown:
        fail(_child(path, unknown[0]), f"keyword {unknown[0]!r} is not supported, so it would not be "
             "enforced; remove it (spec/semantics.md lists what is enforced), or pass "
             "ignore_unknown_keywords=True to create_tool to ignore it")
    if "format" in node and node["format"] not in FORMATS and not ignore_unknown:
        fail(f"{path}.format", f"format {_show(node['format'])} is not enforced; use one of "
             f"{', '.join(FORMATS)}, a 'pattern', or ignore_unknown_keywords=True")
    for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(node.get(keyword), bool):
            fail(f"{path}.{keyword}", f"the draft-4 boolean form is not supported; give the bound "
                 f"itself, e.g. {{'{keyword}': 0}}")
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
    patterns = [(f"{path}.pattern", node["pattern"])] if "pattern" in node else []
    patterns += [(f"{path}.patternProperties", key) for key, _ in _items(node.get("patternProperties"))]
    for at, pattern in patterns:
        try:
            _pattern.degree(pattern)
        except (re.error, TypeError) as exc:
            fail(at, f"{_show(pattern)} is not a valid regular expression ({exc})")
        except _pattern.Refused as exc:
            fail(at, f"pattern {pattern!r} is refused because a model could make it stall the process: "
                 f"{exc}")
    for sub_path, sub in _subschemas(node, path):
        _walk(sub, root, sub_path, where, depth + 1, ignore_unknown)


def _subschemas(node: Mapping[str, Any], path: str) -> list[tuple[str, Any]]:
    """The schemas directly inside `node` (properties, items, combinators, $defs...), with paths."""
    subs = [(f"{path}.{k}", node[k]) for k in ("items", "additionalProperties", "not", "if", "then",
                                               "else", "contains", "propertyNames") if k in node]
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(node.get(keyword), list):
            subs += [(f"{path}.{keyword}[{i}]", sub) for i, sub in enumerate(node[keyword])]
    for keyword in ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions"):
        subs += [(_child(f"{path}.{keyword}", k), v) for k, v in _items(node.get(keyword))]
    return subs


def _items(value: Any) -> list[tuple[Any, Any]]:
    return list(value.items()) if isinstance(value, Mapping) else []


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


def too_deep(value: Any, limit: int = _MAX_DEPTH) -> bool:
    """Whether a JSON value nests lists and dicts more than `limit` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        kids = [k for k in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
                if isinstance(k, (dict, list))]
        if kids and level >= limit:
            return True
        stack += [(kid, level + 1) for kid in kids]
    return False


def _type_of(value: Any) -> str:
    """The JSON type name of a Python value; a non-JSON value matches no type."""
    return _EXACT.get(type(value)) or next((name for python, name in _PY_TYPES if isinstance(value, python)),
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


def _key(value: Any, depth: int = 0) -> Any:
    """A hashable key equal for JSON-equal values (uniqueItems): 1 and 1.0 agree, True and 1 do not."""
    kind = _type_of(value)
    if depth > _MAX_DEPTH or kind.startswith("non-JSON"):
        return (kind, id(value))
    if kind == "array":
        return (kind, tuple(_key(v, depth + 1) for v in value))
    if kind == "object":
        return (kind, frozenset((k, _key(v, depth + 1)) for k, v in value.items()))
    return ("number" if kind == "integer" else kind, value)


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


def _is_ip(text: str, version: str) -> bool:
    import ipaddress

    try:
        return getattr(ipaddress, version)(text) is not None
    except ValueError:
        return False


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\Z")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*\Z")
FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "date": (_is_date, "a date (YYYY-MM-DD)"),
    "date-time": (_is_date_time, "a date-time (RFC 3339, e.g. '2024-01-31T09:30:00Z')"),
    "time": (lambda t: _is_date_time("2000-01-01T" + t), "a time (RFC 3339, e.g. '09:30:00Z')"),
    "email": (lambda t: len(t) <= 254 and bool(_EMAIL.match(t)), "an email address"),
    "uuid": (lambda t: bool(_UUID.match(t)), "a UUID"),
    "uri": (lambda t: bool(_URI.match(t)), "an absolute URI (scheme:...)"),
    "ipv4": (lambda t: _is_ip(t, "IPv4Address"), "an IPv4 address"),
    "ipv6": (lambda t: _is_ip(t, "IPv6Address"), "an IPv6 address")}
"""The formats `format` enforces (others are refused by `check_schema`)."""


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
