"""Derive a tool's JSON Schema from a typed Python function (the optional shortcut).

    def list_charges(user_id: str, since: str | None) -> list[dict]: ...
    create_tool(name="list_charges", parameters=schema_from_function(list_charges), ...)

Whatever builds a schema, tools validate arguments through `agentkit_min.schema` alone.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

from .errors import UsageError
from .schema import _PY_TYPES

__all__ = ["schema_from_function"]


def schema_from_function(fn: Callable[..., Any]) -> dict[str, Any]:
    """Derive an object schema from a typed function signature.

    Maps `str`, `int`, `float`, `bool`, `list[X]`, `dict[str, X]`, `Literal[...]` (enum), unions
    (`anyOf`) and `X | None` (nullable, still required: OpenAI strict mode's "optional").
    Parameters with defaults are not required; a parameter named `ctx` is skipped. The
    description is the docstring's first paragraph.

    Raises:
        UsageError: naming the parameter whose annotation is missing or cannot be mapped.
    """
    label = f"schema_from_function({getattr(fn, '__qualname__', fn)!s})"
    try:
        hints, params = typing.get_type_hints(fn), inspect.signature(fn).parameters.values()
    except (NameError, TypeError, ValueError) as exc:
        raise UsageError(f"{label}: cannot read the signature: {exc}") from exc
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": [],
                              "additionalProperties": False}
    for param in (p for p in params if p.name != "ctx"):
        where = f"{label}: parameter {param.name!r}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise UsageError(f"{where}: *args/**kwargs have no JSON Schema; list each argument explicitly")
        if param.name not in hints:
            raise UsageError(f"{where} has no type annotation; annotate it, e.g. {param.name}: str")
        prop = schema["properties"][param.name] = _from_annotation(hints[param.name], where)
        if param.default is param.empty:
            schema["required"].append(param.name)
        elif param.default is None or isinstance(param.default, (str, int, float, bool)):
            prop["default"] = param.default
    if inspect.getdoc(fn):
        schema["description"] = " ".join(str(inspect.getdoc(fn)).split("\n\n", 1)[0].split())
    return schema


def _from_annotation(tp: Any, where: str) -> dict[str, Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    scalars = {python: name for python, name in _PY_TYPES[:5]}
    if tp is Any:
        return {}
    if type(tp) is type and tp in scalars:
        return {"type": scalars[tp]}
    if origin is Literal and all(type(arg) in scalars for arg in args):
        kinds = {scalars[type(arg)] for arg in args}
        return {"type": kinds.pop(), "enum": list(args)} if len(kinds) == 1 else {"enum": list(args)}
    if origin is Union or origin is types.UnionType:
        members = [_from_annotation(arg, where) for arg in args if arg is not type(None)]
        inner = members[0] if len(members) == 1 else {"anyOf": members}
        if len(members) == len(args):
            return inner
        if isinstance(inner.get("type"), str):  # ["string", "null"]: the form strict mode accepts
            nullable = {**inner, "type": [inner["type"], "null"]}
            return {**nullable, "enum": [*inner["enum"], None]} if "enum" in inner else nullable
        return {"anyOf": [inner, {"type": "null"}]}
    if tp is list or origin is list:
        return {"type": "array", **({"items": _from_annotation(args[0], where)} if args else {})}
    if (tp is dict or origin is dict) and (not args or args[0] is str):
        values = {"additionalProperties": _from_annotation(args[1], where)} if args else {}
        return {"type": "object", **values}
    raise UsageError(f"{where}: cannot map {tp!r} to JSON Schema; use str, int, float, bool, "
                     "list[X], dict[str, X], Literal[...] or X | None")
