"""What checking a string against a schema `pattern` can cost, decided from the pattern alone,
so a model-chosen argument never stalls the process (spec/semantics.md section 2, "Patterns").

`re` backtracks: `^(a+)+$` takes seconds on 30 characters and `^\\d*\\d*\\d*$` grows like n**3.
From the parsed pattern:

- refused: backreferences, and a quantifier over a group that itself contains a choice (a
  quantifier or `|`), which is exponential, unless each repetition holds a literal character
  nothing else in the group matches and at most one quantifier, e.g. `(\\.[a-z]+)*`;
- otherwise a degree d = 1, +1 per quantifier whose characters the next item can also match
  (`[^@]+\\.`), +1 when the pattern is not anchored with `^`: the work is at most about n**d
  steps, so a string is checked when n**d <= BUDGET. A pattern that cannot check
  MIN_LENGTH characters is refused.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any, Callable

try:
    _sre: Any = importlib.import_module("re._parser")  # the parser `re` itself uses
except ImportError:  # Python 3.10
    _sre = importlib.import_module("sre_parse")

__all__ = ["degree", "BUDGET", "MIN_LENGTH"]

BUDGET = 1_000_000
"""Backtracking steps allowed per validation (about 3 ms of `re`; bench/validation.py)."""
MIN_LENGTH = 256
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_ATOMS = {"LITERAL", "NOT_LITERAL", "ANY", "IN"}
_SAMPLE = [chr(i) for i in range(128)] + list("\u00a0\u00e9\u00df\u2028\u4e2d\U0001d7d8")
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "DIGIT": str.isdecimal, "SPACE": str.isspace, "WORD": lambda c: c.isalnum() or c == "_"}


class Refused(ValueError):
    """Why a pattern cannot be checked in bounded time."""


@lru_cache(maxsize=512)
def degree(pattern: str) -> int:
    """d such that checking an n-character string costs at most about n**d steps; raises
    `Refused` (or `re.error` for a pattern that does not compile)."""
    parsed = _sre.parse(pattern)
    items, multiline = _flat(list(parsed)), bool(parsed.state.flags & re.MULTILINE)
    anchored = not multiline and bool(items) and str(items[0][0]) == "AT" and \
        str(items[0][1]) in ("AT_BEGINNING", "AT_BEGINNING_STRING")
    scans = not anchored and _long_repeat(items)  # every start position can scan the rest
    d = 1 + _choices(items, [], bool(parsed.state.flags & re.IGNORECASE)) + scans
    if BUDGET ** (1 / d) < MIN_LENGTH:
        raise Refused(f"checking it can take time growing like n**{d} for an n-character string "
                      "(quantifiers that can match the same characters one after the other"
                      + ("" if anchored else ", and no ^ anchor") + ")")
    return d


def _flat(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for op, av in items:
        if str(op) == "SUBPATTERN":
            out += _flat(list(av[-1]))
        elif str(op) == "ATOMIC_GROUP":
            out += _flat(list(av))
        elif str(op) in ("GROUPREF", "GROUPREF_EXISTS"):
            raise Refused("backreferences can take exponential time")
        else:
            out.append((op, av))
    return out


def _choices(items: list[Any], after: list[Any] | None, icase: bool) -> int:
    """Quantifiers in `items` whose characters the next item can also match (`after`: what
    can follow the sequence, None = unknown)."""
    count = 0
    for i, (op, av) in enumerate(items):
        name = str(op)
        if name == "BRANCH":
            rest = _first(items, i + 1, after)
            count += max(_choices(_flat(list(b)), rest, icase) for b in av[1])
        elif name in ("ASSERT", "ASSERT_NOT"):
            count = max(count, _choices(_flat(list(av[1])), None, icase))
        elif name in _REPEATS:
            body, follow = _flat(list(av[2])), _first(items, i + 1, after)
            single = len(body) == 1 and str(body[0][0]) in _ATOMS
            if not single and av[1] > 1 and _has_choice(body) and not _delimited(body, icase):
                raise Refused("a quantifier over a group that contains a quantifier or '|' "
                              "can take exponential time; e.g. write (a|b)+ as [ab]+, (a+)+ as a+")
            if av[0] != av[1]:  # a variable count: does it compete with what follows?
                heads = _first(body, 0, [])
                count += heads is None or follow is None or _overlap(heads, follow, icase)
            if not single:  # inside, the next repetition or what follows the group comes next
                heads = _first(body, 0, [])
                count += _choices(body, None if heads is None or follow is None else heads + follow, icase)
    return count


def _first(items: list[Any], start: int, after: list[Any] | None) -> list[Any] | None:
    """Atoms that can match the next character from `items[start]` on; None = unknown."""
    out: list[Any] = []
    for op, av in items[start:]:
        name = str(op)
        if name == "AT":
            continue
        if name in _ATOMS:
            return out + [(op, av)]
        if name not in _REPEATS:
            return None  # a branch or an assertion: not worth analysing
        heads = _first(_flat(list(av[2])), 0, [])
        if heads is None:
            return None
        out += heads
        if av[0] > 0:
            return out
    return None if after is None else out + after


def _long_repeat(items: list[Any]) -> bool:
    return any(str(op) in _REPEATS and (av[1] > 64 or _long_repeat(_flat(list(av[2]))))
               or str(op) == "BRANCH" and any(_long_repeat(_flat(list(b))) for b in av[1])
               or str(op) in ("ASSERT", "ASSERT_NOT") and _long_repeat(_flat(list(av[1]))) for op, av in items)


def _has_choice(body: list[Any]) -> bool:
    return any(str(op) not in _ATOMS and str(op) != "AT" and not (
        str(op) in _REPEATS and av[0] == av[1] and not _has_choice(_flat(list(av[2])))) for op, av in body)


def _delimited(body: list[Any], icase: bool) -> bool:
    """Each repetition holds one literal nothing else in it matches, and one quantifier at most."""
    if any(str(op) not in _ATOMS | _REPEATS | {"AT"} for op, _ in body):
        return False
    if sum(str(op) in _REPEATS and av[0] != av[1] for op, av in body) > 1:
        return False
    return any(str(op) == "LITERAL" and not any(
        _matches(other, chr(av), icase) for other in body if other is not item)
        for item in body for op, av in [item])


def _overlap(xs: list[Any], ys: list[Any], icase: bool) -> bool:
    return any(any(_matches(x, c, icase) for x in xs) and any(_matches(y, c, icase) for y in ys)
               for c in _SAMPLE)


def _matches(atom: Any, char: str, icase: bool) -> bool:
    op, av = str(atom[0]), atom[1]
    chars = {c for c in (char, char.lower(), char.upper()) if len(c) == 1} if icase else {char}
    if op == "LITERAL":
        return chr(av) in chars
    if op == "NOT_LITERAL":
        return chr(av) not in chars
    if op in _REPEATS:
        return any(_matches(a, char, icase) for a in _flat(list(av[2])))
    if op != "IN":
        return op != "AT"  # ANY, and anything unusual, conservatively
    negate, hit = False, False
    for kind, value in av:
        kind = str(kind)
        if kind == "NEGATE":
            negate = True
        elif kind == "LITERAL":
            hit |= chr(value) in chars
        elif kind == "RANGE":
            hit |= any(value[0] <= ord(c) <= value[1] for c in chars)
        elif kind == "CATEGORY":
            name = str(value).removeprefix("CATEGORY_")
            test = _CATEGORIES.get(name.removeprefix("NOT_"))
            hit |= test is None or any(test(c) != name.startswith("NOT_") for c in chars)
        else:
            hit = True
    return hit != negate
