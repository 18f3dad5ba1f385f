"""Tools from typed Python functions (`create_tool(fn)`, spec/semantics.md section 2 "Typed
tools") and `schema_from_function(fn)`, the schema alone. Validation is `agentkit_min.schema`'s.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Union

from .errors import UsageError
from ._schema_check import _PY_TYPES
from .schema import validate

if TYPE_CHECKING:
    from .tool import Tool

__all__ = ["schema_from_function", "function_tool"]

_ARGS = re.compile(r"^(\s*)(?:Args|Arguments|Parameters):[ \t]*$", re.MULTILINE)
_ARG = re.compile(r"\s*\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:(.*)")


def schema_from_function(fn: Callable[..., Any]) -> dict[str, Any]:
    """Derive an object schema from a typed function signature.

    Maps `str`, `int`, `float`, `bool`, `list[X]`, `tuple[X, ...]`, `dict[str, X]`, `Literal[...]`
    and Enums (enum), unions (`anyOf`), `X | None` (nullable, still required: OpenAI strict
    mode's "optional"), and TypedDicts and dataclasses (nested objects). Parameters with defaults
    are not required; a parameter annotated `ToolContext` (or named `ctx`) is skipped. The
    description is the docstring's summary; each property's, its line in the `Args:` section.

    Raises:
        UsageError: naming the parameter whose annotation is missing or cannot be mapped.
    """
    return _describe(fn, "schema_from_function")[0]


def function_tool(fn: Callable[..., Any], *, description: str | None = None, **options: Any) -> Tool:
    """A Tool calling `fn(**arguments)` after validation (`create_tool(fn)`); see the module doc."""
    from .tool import create_tool

    schema, hints, ctx_name = _describe(fn, "create_tool")
    summary = schema.pop("description", None)

    def call(args: dict[str, Any], ctx: Any) -> Any:
        kwargs = {key: _convert(hints[key], value) for key, value in args.items()}
        return fn(**kwargs, **({ctx_name: ctx} if ctx_name else {}))

    async def call_async(args: dict[str, Any], ctx: Any) -> Any:
        return await call(args, ctx)

    handler = call_async if inspect.iscoroutinefunction(fn) else call
    return create_tool(getattr(fn, "__name__", ""), description or summary, schema, handler, **options)


def _describe(fn: Callable[..., Any], label: str) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    from .tool import ToolContext

    label = f"{label}({getattr(fn, '__qualname__', fn)!s})"
    try:
        hints, params = typing.get_type_hints(fn), inspect.signature(fn).parameters.values()
    except (NameError, TypeError, ValueError) as exc:
        raise UsageError(f"{label}: cannot read the signature: {exc}") from exc
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": [],
                              "additionalProperties": False}
    doc = inspect.getdoc(fn) or ""
    summary, notes = _docstring(doc)
    ctx_name = None
    for param in params:
        where = f"{label}: parameter {param.name!r}"
        if hints.get(param.name) is ToolContext or param.name == "ctx":
            ctx_name = param.name
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise UsageError(f"{where}: *args/**kwargs have no JSON Schema (nor positional-only "
                             "parameters); list each argument explicitly")
        if param.name not in hints:
            raise UsageError(f"{where} has no type annotation; annotate it, e.g. {param.name}: str")
        prop = schema["properties"][param.name] = _from_annotation(hints[param.name], where)
        if param.name in notes:
            prop["description"] = notes[param.name]
        if param.default is param.empty:
            schema["required"].append(param.name)
        elif param.default is None or isinstance(param.default, (str, int, float, bool)):
            prop["default"] = param.default.value if isinstance(param.default, enum.Enum) else param.default
    if summary:
        schema["description"] = summary
    return schema, hints, ctx_name


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (first paragraph before any section) and the Google-style `Args:` entries."""
    header = _ARGS.search(doc)
    summary = " ".join(doc[:header.start() if header else None].split("\n\n", 1)[0].split())
    notes: dict[str, str] = {}
    indent, name = None, ""
    for line in doc[header.end():].splitlines()[1:] if header else ():
        width, entry = len(line) - len(line.lstrip()), _ARG.fullmatch(line)
        if line.strip() and width <= len(header.group(1)):  # type: ignore[union-attr]
            break  # the next section (Returns:, Raises:...)
        if entry and indent in (None, width):
            indent, name, notes[entry.group(1)] = width, entry.group(1), entry.group(2).strip()
        elif name and line.strip():
            notes[name] = f"{notes[name]} {line.strip()}".strip()
    return summary, notes


def _from_annotation(tp: Any, where: str, seen: tuple[Any, ...] = ()) -> dict[str, Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    scalars = {python: name for python, name in _PY_TYPES[:5]}
    if tp in seen:
        raise UsageError(f"{where}: {tp!r} refers to itself; recursive types have no schema here")
    if tp is Any:
        return {}
    if type(tp) is type and tp in scalars:
        return {"type": scalars[tp]}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum([member.value for member in tp], scalars, where)
    if origin is Literal:
        return _enum(list(args), scalars, where)
    if origin is Union or origin is types.UnionType:
        members = [_from_annotation(arg, where, seen) for arg in args if arg is not type(None)]
        inner = members[0] if len(members) == 1 else {"anyOf": members}
        if len(members) == len(args):
            return inner
        if isinstance(inner.get("type"), str):  # ["string", "null"]: the form strict mode accepts
            nullable = {**inner, "type": [inner["type"], "null"]}
            return {**nullable, "enum": [*inner["enum"], None]} if "enum" in inner else nullable
        return {"anyOf": [inner, {"type": "null"}]}
    if tp in (list, tuple) or origin is list or origin is tuple and len(args) == 2 and args[1] is ...:
        return {"type": "array", **({"items": _from_annotation(args[0], where, seen)} if args else {})}
    if (tp is dict or origin is dict) and (not args or args[0] is str):
        values = {"additionalProperties": _from_annotation(args[1], where, seen)} if args else {}
        return {"type": "object", **values}
    if typing.is_typeddict(tp) or dataclasses.is_dataclass(tp):
        fields = typing.get_type_hints(tp)
        required = [k for k in fields if k in tp.__required_keys__] if typing.is_typeddict(tp) else [
            f.name for f in dataclasses.fields(tp) if f.default is f.default_factory is dataclasses.MISSING]
        return {"type": "object", "additionalProperties": False, "required": required,
                "properties": {k: _from_annotation(v, f"{where} (field {k!r})", (*seen, tp)) for k, v in fields.items()}}
    raise UsageError(f"{where}: cannot map {tp!r} to JSON Schema; use str, int, float, bool, list[X], "
                     "dict[str, X], Literal[...], an Enum, a TypedDict, a dataclass or X | None")


def _enum(values: list[Any], scalars: dict[Any, str], where: str) -> dict[str, Any]:
    if not values or not all(type(v) in scalars for v in values):
        raise UsageError(f"{where}: enum values must be str, int, float, bool or None, got {values!r}")
    kinds = {scalars[type(v)] for v in values}
    return {"type": kinds.pop(), "enum": values} if len(kinds) == 1 else {"enum": values}


def _convert(tp: Any, value: Any) -> Any:
    """Validated JSON `value` as the annotation `tp` expects (Enums, dataclasses, ints...)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None:
        return None
    if origin is Union or origin is types.UnionType:  # the first member the value is valid for
        fits = [a for a in args if a is not type(None) and not validate(value, _from_annotation(a, ""))]
        return _convert(fits[0], value) if fits else value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is int and isinstance(value, float):
        return int(value)  # JSON Schema: 2.0 is an integer
    if isinstance(value, list) and args and (origin is list or origin is tuple):
        items = [_convert(args[0], v) for v in value]
        return tuple(items) if origin is tuple else items
    if isinstance(value, dict) and origin is dict and args:
        return {k: _convert(args[1], v) for k, v in value.items()}
    if isinstance(value, dict) and (typing.is_typeddict(tp) or dataclasses.is_dataclass(tp)):
        hints = typing.get_type_hints(tp)
        fields = {k: _convert(hints[k], v) for k, v in value.items() if k in hints}
        return fields if typing.is_typeddict(tp) else tp(**fields)
    return value
