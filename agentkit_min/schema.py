"""Validate tool arguments against the JSON Schema subset tools use: JSON Schema 2020-12 for
decisions Q3/Q5 (bad arguments become a tool result the model can read). `validate` never raises
and skips what it does not know; its work is bounded (memoised combinators, at most `MAX_CHECKS`
values and `_pattern.BUDGET` regex steps). The subset itself (`ENFORCED`, `ANNOTATIONS`, `FORMATS`),
`check_schema`, `openai_strict_compatible` and `too_deep` are agentkit_min/_schema_check.py's,
importable from here.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from . import _pattern
from ._schema_check import (_EXACT, _MAX_DEPTH, _MISSING, _TYPES, ANNOTATIONS, ENFORCED, FORMATS, _child,
                            _equal, _is_type, _items, _key, _resolve, _show, _type_of, check_schema,
                            openai_strict_compatible, too_deep)

__all__ = ["validate", "check_schema", "openai_strict_compatible", "too_deep", "ENFORCED", "ANNOTATIONS",
           "FORMATS", "MAX_CHECKS"]

# keyword -> (comparison that fails, message); counts apply to len() of strings and arrays.
_LIMITS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "minimum": (operator.lt, "must be >= {}"), "maximum": (operator.gt, "must be <= {}"),
    "exclusiveMinimum": (operator.le, "must be > {}"), "exclusiveMaximum": (operator.ge, "must be < {}"),
    "minLength": (operator.lt, "must have at least {} character(s)"),
    "maxLength": (operator.gt, "must have at most {} character(s)"),
    "minItems": (operator.lt, "must have at least {} item(s)"),
    "maxItems": (operator.gt, "must have at most {} item(s)"),
    "minProperties": (operator.lt, "must have at least {} propert(ies)"),
    "maxProperties": (operator.gt, "must have at most {} propert(ies)"),
    "minContains": (operator.lt, "must contain at least {} matching item(s)"),
    "maxContains": (operator.gt, "must contain at most {} matching item(s)")}
MAX_CHECKS = 50_000
"""Values checked per validation at most (about 5 us each); beyond, one error says so."""
_NOT_QUICK = ENFORCED - {"type", "properties", "required", "additionalProperties", "items", "enum", "$defs", "definitions"}


def validate(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    """Check `instance` (usually parsed JSON) against `schema`; never raises. Returns every violation,
    each starting with the JSON path of the offending value (`"$.items[2]: expected integer, got
    string"`), empty when valid; a malformed schema is reported as `"<path>: invalid schema: ..."`."""
    try:
        if _quick(instance, schema, 1_000) >= 0:
            return []
    except Exception:  # e.g. a malformed schema: the full check below reports it
        pass
    checker = _Validator(schema)
    checker.check(instance, schema, "$", 0)
    return checker.errors


def _quick(value: Any, schema: Any, budget: int) -> int:
    """The common case, cheaply: the budget left after showing `value` valid against a schema of only
    type, properties, required, boolean additionalProperties, items and string enums (annotations
    aside); -1 when not shown (invalid, another keyword, `budget` values checked): the full check decides."""
    if schema is True:
        return budget - 1
    kind = _EXACT.get(type(value))
    if type(schema) is not dict or kind is None or budget <= 0 or not schema.keys().isdisjoint(_NOT_QUICK):
        return -1
    wanted, enum = schema.get("type", kind), schema.get("enum", _MISSING)
    if wanted != kind and (type(wanted) is not list or not all(name in _TYPES for name in wanted) or kind not in
                           wanted and not (kind == "integer" and "number" in wanted)):  # 1.0 as an integer: full
        return -1
    if enum is not _MISSING and (kind != "string" or type(enum) is not list or value not in enum):
        return -1
    if kind == "object":
        props, required, extra = schema.get("properties", {}), schema.get("required", []), schema.get(
            "additionalProperties", True)
        if type(props) is not dict or type(required) is not list or not all(
                type(n) is str and n in value for n in required) or extra is not True and (
                extra is not False or len(value) > len(props) or not all(k in props for k in value)):
            return -1
        for name, sub in props.items():
            if name in value and (budget := _quick(value[name], sub, budget)) < 0:
                return -1
    elif kind == "array" and schema.get("items", True) is not True:
        for item in value:
            if (budget := _quick(item, schema["items"], budget)) < 0:
                return -1
    return budget - 1


class _Validator:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.errors: list[str] = []
        self.active: set[tuple[str, str]] = set()  # ($ref, instance path) pairs being expanded
        self.memo: dict[tuple[str, int, int], list[str]] = {}  # combinator branches already judged
        self.checks = self.steps = 0  # values checked, regex steps spent (bounded per validation)
        self.refs: dict[str, Any] = {}  # $ref -> target, resolved once

    def bad(self, path: str, problem: str) -> None:
        self.errors.append(f"{path}: invalid schema: {problem}")

    def collect(self, value: Any, schema: Any, path: str, depth: int) -> list[str]:
        # Memoised: recursive oneOf/anyOf branches would otherwise re-judge every subtree per branch.
        key = (path, id(schema), depth)
        if key not in self.memo:
            saved, self.errors = self.errors, []
            self.check(value, schema, path, depth)
            self.memo[key], self.errors = self.errors, saved
        return self.memo[key]

    def check(self, value: Any, schema: Any, path: str, depth: int) -> None:
        self.checks += 1
        if self.checks > MAX_CHECKS:
            if self.checks == MAX_CHECKS + 1:
                self.errors.append(f"{path}: the arguments are too large to validate "
                                   f"(more than {MAX_CHECKS} checks); send less data")
            return None
        if depth > _MAX_DEPTH:
            return self.errors.append(f"{path}: nested too deeply (more than {_MAX_DEPTH} levels)")
        if isinstance(schema, bool):
            return None if schema else self.errors.append(f"{path}: no value is allowed here")
        if type(schema) is not dict and not isinstance(schema, Mapping):
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
        if "not" in schema and not self.collect(value, schema["not"], path, depth + 1):
            self.errors.append(f"{path}: must not match the schema under 'not', got {_show(value)}")
        if "if" in schema:
            branch = "else" if self.collect(value, schema["if"], path, depth + 1) else "then"
            if branch in schema:
                self.errors.extend(self.collect(value, schema[branch], path, depth + 1))
        kind = _type_of(value)
        if kind == "object":
            self.object(value, schema, path, depth)
        elif kind == "array":
            self.array(value, schema, path, depth)
        elif kind == "string":
            self.string(value, schema, path)
        elif kind in ("integer", "number"):
            self.limits(value, schema, path, ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
            step: Any = schema.get("multipleOf")
            if _is_type(step, "number") and step > 0 and _remainder(value, step):
                self.errors.append(f"{path}: must be a multiple of {step}, got {_show(value)}")
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
        if isinstance(ref, str) and ref not in self.refs:
            self.refs[ref] = _resolve(self.root, ref)
        target = self.refs.get(ref, _MISSING) if isinstance(ref, str) else _MISSING
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
        self.limits(len(value), schema, path, ("minProperties", "maxProperties"))
        for key, needs in _items(schema.get("dependentRequired")):
            self.errors.extend(f"{path}: property {key!r} requires property {n!r}"
                               for n in (needs if key in value and isinstance(needs, list) else ())
                               if isinstance(n, str) and n not in value)
        for key, sub in _items(schema.get("dependentSchemas")):
            if key in value:
                self.check(value, sub, path, depth + 1)
        extra, patterns = schema.get("additionalProperties", True), _items(schema.get("patternProperties"))
        for key, item in value.items():
            if "propertyNames" in schema:
                self.check(key, schema["propertyNames"], _child(path, key), depth + 1)
            matched = [sub for pattern, sub in patterns if self.search(pattern, key, _child(path, key))]
            for sub in matched:
                self.check(item, sub, _child(path, key), depth + 1)
            if key in props:
                self.check(item, props[key], _child(path, key), depth + 1)
            elif matched:
                continue
            elif extra is False:
                allowed = f"allowed: {_list(list(props))}" if props else "no properties are allowed"
                self.errors.append(f"{path}: unexpected property {_show(key)} ({allowed})")
            elif extra is not True:
                self.check(item, extra, _child(path, key), depth + 1)

    def array(self, value: list[Any], schema: Mapping[str, Any], path: str, depth: int) -> None:
        self.limits(len(value), schema, path, ("minItems", "maxItems"))
        prefix, rest = schema.get("prefixItems", []), schema.get("items", True)
        prefix = prefix if isinstance(prefix, list) else []
        for index, item in enumerate(value):
            sub = prefix[index] if index < len(prefix) else rest
            if sub is not True:
                self.check(item, sub, f"{path}[{index}]", depth + 1)
        if "contains" in schema:
            found = sum(not self.collect(x, schema["contains"], f"{path}[{i}]", depth + 1) for i, x in enumerate(value))
            if not found and "minContains" not in schema:
                self.errors.append(f"{path}: must contain an item that matches 'contains'")
            self.limits(found, schema, path, ("minContains", "maxContains"))
        if schema.get("uniqueItems") is True:
            seen: dict[Any, int] = {}
            for index, item in enumerate(value):
                first = seen.setdefault(_key(item), index)
                if first != index:
                    self.errors.append(f"{path}[{index}]: duplicate of item {first} (items must be unique)")

    def limits(self, measure: float, schema: Mapping[str, Any], path: str, keywords: tuple[str, ...]) -> None:
        for keyword in (k for k in keywords if k in schema):
            limit, (fails, text) = schema[keyword], _LIMITS[keyword]
            counted = not keyword.endswith("imum")
            if isinstance(limit, bool) and not counted:
                continue  # draft-4 boolean exclusiveMinimum/Maximum: check_schema refuses them
            if not _is_type(limit, "integer" if counted else "number") or (counted and limit < 0):
                wanted = "a count (integer >= 0)" if counted else "a number"
                self.bad(path, f"'{keyword}' must be {wanted}, got {_show(limit)}")
            elif fails(measure, limit):
                self.errors.append(f"{path}: {text.format(limit)}, got {_show(measure)}")

    def search(self, pattern: Any, text: str, path: str) -> bool:
        """`re.search` within the validation's step budget (agentkit_min/_pattern.py)."""
        try:
            steps = len(text) ** _pattern.degree(pattern)
        except (re.error, TypeError, _pattern.Refused) as exc:
            self.bad(path, f"pattern {_show(pattern)} cannot be checked: {exc}")
            return False
        self.steps += steps
        if self.steps > _pattern.BUDGET:
            self.errors.append(f"{path}: too long to check against pattern {_show(pattern)} in bounded "
                               f"time ({len(text)} characters); send a shorter value")
            return False
        return re.search(pattern, text) is not None

    def string(self, value: str, schema: Mapping[str, Any], path: str) -> None:
        self.limits(len(value), schema, path, ("minLength", "maxLength"))
        pattern, errors = schema.get("pattern"), len(self.errors)
        if pattern is not None and not self.search(pattern, value, path) and len(self.errors) == errors:
            self.errors.append(f"{path}: must match pattern {pattern!r}, got {_show(value)}")
        fmt = FORMATS.get(schema.get("format"))  # type: ignore[arg-type]
        if fmt is not None and not fmt[0](value):
            self.errors.append(f"{path}: expected {fmt[1]}, got {_show(value)}")


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


def _remainder(value: float, step: float) -> bool:
    if type(value) is int and type(step) is int:
        return bool(value % step)
    from fractions import Fraction  # exact decimals: 0.3 is a multiple of 0.1

    return bool(Fraction(repr(value)) % Fraction(repr(step)))


def _list(values: list[Any]) -> str:
    return ", ".join(_show(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
