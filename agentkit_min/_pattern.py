"""What checking a string against a schema `pattern` can cost, decided from the pattern alone,
so a model-chosen argument never stalls the process (spec/semantics.md section 2, "Patterns").

`re` backtracks: `^(a+)+$` takes seconds on 30 characters, `^\\d*\\d*\\d*$` grows like n**3.
Refused: backreferences, and a quantifier over a group holding a choice (a quantifier or `|`)
unless each repetition holds a literal nothing else in it matches and one quantifier at most,
as `(\\.[a-z]+)*`. Otherwise checking n characters costs about n**d steps, d = 1, +1 per
quantifier whose characters the next item can also match (`[^@]+\\.`), +1 when a long
quantifier can run from every start (no `^`); a pattern is refused when MIN_LENGTH**d > BUDGET.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

try:  # the parser and compiler `re` itself uses
    _sre: Any = importlib.import_module("re._parser")
    _compile: Any = importlib.import_module("re._compiler").compile
except ImportError:  # Python 3.10
    _sre, _compile = importlib.import_module("sre_parse"), importlib.import_module("sre_compile").compile

__all__ = ["degree", "Refused", "BUDGET", "MIN_LENGTH"]

BUDGET = 200_000
"""Backtracking steps allowed per validation (a few ms of `re`; bench/validation.py)."""
MIN_LENGTH = 256
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_ATOMS = {"LITERAL", "NOT_LITERAL", "ANY", "IN"}
_SAMPLE = "".join(map(chr, range(128))) + "\u00a0\u00e9\u00df\u2028\u4e2d\U0001d7d8"


class Refused(ValueError):
    """Why a pattern cannot be checked in bounded time."""


@lru_cache(maxsize=512)
def degree(pattern: str) -> int:
    """d: checking n characters costs at most about n**d steps. Raises `Refused`, `re.error`."""
    parsed = _sre.parse(pattern)
    items, flags = _flat(parsed.state, list(parsed)), parsed.state.flags
    anchored = not flags & re.MULTILINE and bool(items) and items[0][0] == "AT" and \
        str(items[0][1]) in ("AT_BEGINNING", "AT_BEGINNING_STRING")
    d = 1 + _choices(items, frozenset()) + (not anchored and _long(items))
    if MIN_LENGTH ** d > BUDGET:
        raise Refused(f"checking it can take time growing like n**{d} for an n-character string "
                      "(quantifiers next to each other that match the same characters"
                      + ("" if anchored else ", and no ^ anchor") + ")")
    return d


def _flat(state: Any, items: list[Any]) -> list[Any]:
    """Groups inlined; each item is (op name, argument, the sample characters an atom matches)."""
    out: list[Any] = []
    for op, av in items:
        name = str(op)
        if name in ("SUBPATTERN", "ATOMIC_GROUP"):
            out += _flat(state, list(av[-1] if name == "SUBPATTERN" else av))
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            raise Refused("backreferences can take exponential time")
        elif name in _REPEATS:
            out.append((name, (av[0], av[1], _flat(state, list(av[2]))), None))
        elif name in ("BRANCH", "ASSERT", "ASSERT_NOT"):
            subs = av[1] if name == "BRANCH" else [av[1]]
            out.append((name, [_flat(state, list(s)) for s in subs], None))
        else:
            match = _compile(_sre.SubPattern(state, [(op, av)]), state.flags).fullmatch
            out.append((name, av, frozenset(c for c in _SAMPLE if match(c)) if name in _ATOMS else None))
    return out


def _choices(items: list[Any], after: frozenset[str] | None) -> int:
    """Variable quantifiers whose characters what follows can also match (`after`: the characters
    that can follow `items`, None = unknown)."""
    count = 0
    for i, (name, av, _) in enumerate(items):
        if name == "BRANCH":
            count += max(_choices(branch, _first(items, i + 1, after)) for branch in av)
        elif name.startswith("ASSERT"):  # run once per position: counted beside the rest, not times
            count = max([count] + [_choices(sub, None) for sub in av])
        elif name in _REPEATS:
            low, high, body = av
            heads, follow = _first(body, 0, frozenset()), _first(items, i + 1, after)
            single = len(body) == 1 and body[0][0] in _ATOMS
            if not single and high > 1 and _has_choice(body) and not _delimited(body):
                raise Refused("a quantifier over a group that contains a quantifier or '|' can take "
                              "exponential time; e.g. write (a|b)+ as [ab]+, (a+)+ as a+")
            if low != high:
                count += heads is None or follow is None or bool(heads & follow)
            if not single:  # inside: the next repetition, or what follows the group
                count += _choices(body, None if heads is None or follow is None else heads | follow)
    return count


def _first(items: list[Any], start: int, after: frozenset[str] | None) -> frozenset[str] | None:
    """The characters that can come next from `items[start]` on (None = unknown)."""
    out: frozenset[str] = frozenset()
    for name, av, chars in items[start:]:
        if name == "AT":
            continue
        if chars is not None:
            return out | frozenset(chars)
        heads = _first(av[2], 0, frozenset()) if name in _REPEATS else None
        if heads is None:
            return None  # a branch or an assertion: not worth analysing
        out |= heads
        if av[0] > 0:
            return out
    return None if after is None else out | after


def _long(items: list[Any]) -> bool:
    return any(name in _REPEATS and (av[1] > 64 or _long(av[2]))
               or name in ("BRANCH", "ASSERT", "ASSERT_NOT") and any(map(_long, av)) for name, av, _ in items)


def _has_choice(body: list[Any]) -> bool:
    return any(name not in _ATOMS | {"AT"} and not (name in _REPEATS and av[0] == av[1] and not _has_choice(av[2]))
               for name, av, _ in body)


def _delimited(body: list[Any]) -> bool:
    """Each repetition holds one literal nothing else in it matches, and one quantifier at most."""
    if any(name not in _ATOMS | _REPEATS | {"AT"} or name in _REPEATS and (len(av[2]) != 1 or av[2][0][2] is None)
           for name, av, _ in body) or sum(name in _REPEATS and av[0] != av[1] for name, av, _ in body) > 1:
        return False
    sets = [chars if chars is not None else av[2][0][2] if name in _REPEATS else frozenset()
            for name, av, chars in body]
    return any(name == "LITERAL" and not any(chr(av) in other for j, other in enumerate(sets) if j != i)
               for i, (name, av, _) in enumerate(body))
