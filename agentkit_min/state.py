"""`State`: typed data plus conversation history shared by a network's agents and router.

AgentKit's State (spec/semantics.md "State"): `data` is typed key/value data tools and routers
read and write; `messages` are seeded history; `results` are the agent results in order;
`thread_id` names a persisted conversation. `format_history()` turns it into messages for the
next request: seeded messages, then for each result its output, then its tool results.

Decisions: Q13 a state rebuilt from JSON keeps its `thread_id`; Q15 `kv` is a view of `data`.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Generic, Iterator, MutableMapping, Sequence, TypeVar

from .errors import UsageError
from .messages import Message
from .result import AgentResult

__all__ = ["State", "create_state"]

T = TypeVar("T")

Formatter = Callable[[AgentResult], list[Message]]


def _default_formatter(result: AgentResult) -> list[Message]:
    return [*result.output, *result.tool_calls]


class State(Generic[T]):
    """Shared memory of a network run. Build it with `create_state(data)`."""

    _ends: dict[int, int]  # result index -> len(_log) after it (ints only: no object for the GC)

    def __init__(self, data: T | None = None, *, messages: Sequence[Message] | None = None,
                 results: list[AgentResult] | None = None, thread_id: str | None = None) -> None:
        # A shallow copy, as AgentKit: the caller's object is not mutated by runs.
        self.data: T = copy.copy(data) if data is not None else {}  # type: ignore[assignment]
        self.thread_id = thread_id
        self._messages: Sequence[Message] = list(messages) if messages else ()  # () is no object for the GC
        self._results: list[AgentResult] = list(results or [])
        self._log: list[Message] | None = None  # see _history

    @property
    def messages(self) -> list[Message]:
        """Seeded history messages (a copy)."""
        return list(self._messages)

    @property
    def results(self) -> list[AgentResult]:
        """Agent results in the order they happened (a copy)."""
        return list(self._results)

    def append_result(self, result: AgentResult) -> None:
        """Add a result at the end of the history."""
        self._results.append(result)

    def set_results(self, results: list[AgentResult]) -> None:
        """Replace all results (used when a thread is loaded from history)."""
        self._results = list(results)
        self._log = None  # a new log: views of the old one stay valid

    def _history(self, upto: int) -> tuple[list[Message], int]:
        """`format_history()` kept as a log that only grows, O(1) amortised per result (issue 14),
        and where result `upto` starts in it. A result is logged when the next agent run starts:
        edit results before they are stored (hooks), or replace them with `set_results`."""
        if self._log is None:
            self._log, self._ends = list(self._messages), {}
        log, ends = self._log, self._ends
        for result in self._results[len(ends):]:
            log += result.output
            log += result.tool_calls
            ends[len(ends)] = len(log)
        upto = min(upto, len(ends))  # results may have been replaced by fewer
        return log, ends[upto - 1] if upto else len(self._messages)

    def get_results_from(self, index: int) -> list[AgentResult]:
        """Results from position `index` on (e.g. the ones a run produced)."""
        return self._results[index:]

    def format_history(self, formatter: Formatter | None = None) -> list[Message]:
        """Seeded messages, then each result's output followed by its tool results."""
        fmt = formatter or _default_formatter
        history = list(self._messages)
        for result in self._results:
            history.extend(fmt(result))
        return history

    def clone(self) -> State[T]:
        """A new state with a shallow copy of data and copies of messages and results."""
        return State(self.data, messages=self._messages, results=self._results, thread_id=self.thread_id)

    @property
    def kv(self) -> _KV:
        """Deprecated key/value API, kept as a live view of `data` (decision Q15)."""
        if not isinstance(self.data, MutableMapping):
            raise UsageError("state.kv needs dict data; use state.data directly")
        return _KV(self.data)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: {"data", "messages", "results", "threadId"}."""
        return {"data": self.data, "messages": list(self._messages),
                "results": [r.to_dict() for r in self._results], "threadId": self.thread_id}

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> State[Any]:
        """Rebuild from `to_dict()` or from TS's JSON of a State (`_messages`, `_results`)."""
        results = obj.get("results", obj.get("_results")) or []
        data: Any = obj.get("data") or obj.get("_data") or {}
        return cls(data, messages=obj.get("messages", obj.get("_messages")) or [],
                   results=[r if isinstance(r, AgentResult) else AgentResult.from_dict(r) for r in results],
                   thread_id=obj.get("threadId") or obj.get("thread_id"))

    def __repr__(self) -> str:
        return f"State(data={self.data!r}, results={len(self._results)}, thread_id={self.thread_id!r})"


class _KV:
    """`state.kv`: set/get/delete/has/all over `state.data` itself."""

    def __init__(self, data: MutableMapping[str, Any]) -> None:
        self._data = data

    def set(self, key: str, value: Any) -> None:
        self._data[key] = value

    def get(self, key: str) -> Any:
        return self._data.get(key)

    def delete(self, key: str) -> bool:
        return self._data.pop(key, _MISSING) is not _MISSING

    def has(self, key: str) -> bool:
        return key in self._data

    def all(self) -> dict[str, Any]:
        return dict(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)


_MISSING = object()


def create_state(data: T | None = None, *, messages: list[Message] | None = None,
                 results: list[AgentResult] | None = None, thread_id: str | None = None) -> State[T]:
    """Create a State (AgentKit's `createState`). `data` may be a TypedDict for typed state."""
    return State(data, messages=messages, results=results, thread_id=thread_id)
