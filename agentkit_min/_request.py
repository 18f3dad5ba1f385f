"""The messages of each inference, in decision Q6's order, extended between an agent's inferences
instead of rebuilt (issue 14, `D-LOG`).

A request is a list of the model's own: `Model.infer` may read it, edit it or keep it. Copying the
whole history into a new list for every inference made each iteration O(history). So once requests
are long (`LONG`), each agent keeps the list it last sent and appends what is new since, and hands
over a new list only when the model could have seen the old one change: it edited it (a `Request`
notes every edit made through a list method) or still holds it after `infer` returned (CPython's
reference count says so).
"""

from __future__ import annotations

import itertools
import sys
from typing import Any, Callable

from .messages import Message
from .result import _Joined

__all__ = ["Request", "handed", "next_request", "untouched"]


def _never_same(obj: object) -> int:
    return next(_counter)


_counter = itertools.count()
LONG = 128
"""Requests shorter than this are new plain lists: below it a copy costs less than keeping one."""
# no reference counts outside CPython: a count that is never the same twice, so every request is new
getrefcount = sys.getrefcount if sys.implementation.name == "cpython" else _never_same


class Request(list):  # type: ignore[type-arg]
    """A plain list to the model (`isinstance(x, list)`, JSON, slicing, copying); it only notes edits.

    `_shape` says what it holds, so the next request can extend it: `(log, cut, upto, n_system,
    n_middle, n_prefill)` = system, `log[:cut]`, middle (the user input), `log[cut:upto]`, prefill.
    None: it holds messages from outside the log (a standalone tool loop, an `on_start` history)."""

    __slots__ = ("_edited", "_shape")  # set by `next_request`, which makes every Request
    _edited: bool
    _shape: tuple[list[Message], int, int, int, int, int] | None

    def __reduce_ex__(self, protocol: Any) -> Any:  # copies and pickles are plain lists
        return list, (list(self),)


def _noting(name: str) -> Callable[..., Any]:
    edit = getattr(list, name)

    def noted(self: Request, *args: Any, **kwargs: Any) -> Any:
        self._edited = True
        return edit(self, *args, **kwargs)
    noted.__name__ = noted.__qualname__ = name
    return noted


for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop",
              "remove", "clear", "sort", "reverse"):
    setattr(Request, _name, _noting(_name))


def next_request(kept: Request | None, prompt: list[Message], prior: _Joined, current: _Joined,
                 added: list[Message] | None = None) -> list[Message]:
    """Decision Q6: system, prior history, user input, this run's messages, prefill. `kept` (this
    agent's last request, untouched) is extended when it holds the start of the same messages:
    by `added` (the last turn's messages, in a standalone tool loop) or by the log's new tail."""
    system: list[Message] = []
    middle: list[Message] = []
    prefill: list[Message] = []
    for m in prompt:  # one pass (this runs once per inference)
        role = m["role"]
        (system if role == "system" else prefill if role == "assistant" else middle).append(m)
    tail: list[Message] | None = None
    if kept is not None and added is not None:  # the same prompt list as the last turn (on_start drops `kept`)
        tail, kept._shape = added, None  # it holds messages from outside the log now
    elif kept is not None and kept._shape is not None:
        log, cut, upto, n_system, n_middle, n_prefill = kept._shape
        if (len(system) == n_system and len(middle) == n_middle and len(prefill) == n_prefill
                and len(current) == 3 and current[0] is log and current[1] == cut
                and len(prior) == 3 and prior[0] is log and prior[2] == cut):
            tail = log[upto:]
            list.__setitem__(kept, slice(0, n_system), system)  # this run's prompt objects, as a new list has
            list.__setitem__(kept, slice(n_system + cut, n_system + cut + n_middle), middle)
            kept._shape = (log, cut, upto + len(tail), n_system, n_middle, n_prefill)
    if kept is not None and tail is not None:
        if prefill:
            list.__delitem__(kept, slice(-len(prefill), None))
            tail = tail + prefill
        list.extend(kept, tail)
        return kept
    shape = (current[0], current[1], current[2], len(system), len(middle), len(prefill))
    messages = prior.into(system)  # `system` is the start of the new list
    messages += middle
    current.into(messages).extend(prefill)
    if len(messages) < LONG:
        return messages
    request = Request(messages)
    request._edited = False
    one_log = len(current) == 3 and len(prior) == 3 and prior[0] is current[0] and prior[2] == current[1]
    request._shape = shape if one_log else None
    return request


def handed(messages: list[Message]) -> tuple[int, int] | None:
    """A `Request` as handed to the model: its reference count and length. Counted the same way
    as in `untouched` (inside a call taking the request), so the two counts compare exactly."""
    return (getrefcount(messages), len(messages)) if type(messages) is Request else None


def untouched(messages: list[Message], held: tuple[int, int] | None) -> Request | None:
    """The `Request`, if the model neither edited it nor kept it (so it may be extended), else None."""
    if held is None or messages._edited or (getrefcount(messages), len(messages)) != held:  # type: ignore[attr-defined]
        return None
    return messages  # type: ignore[return-value]
