"""`SQLiteHistory`: conversation history in a SQLite file (AgentKit's `HistoryConfig`, section 7.2).

The four history hooks of `agentkit_min.history` on the standard library's `sqlite3`, so a
conversation continues across runs, restarts and processes; what `get` returns, and the typed
errors, are spec/semantics.md section 7 ("The built-in `SQLiteHistory`").

Concurrency: one connection behind a lock serialises this process, WAL lets readers run while a
writer commits, and `busy_timeout` makes other processes' writers wait instead of failing. Each
append is one transaction committed before the hook returns, so a process killed after a run
answered loses nothing (WAL with `synchronous=NORMAL` only risks the last transactions on power
loss). Async hooks do their IO in a worker thread. Inside a durable engine each hook is one named
step, and entries are keyed by id (`INSERT OR IGNORE`), so a replay stores nothing twice.
Not here: search, pagination cursors, migrations beyond the schema version check, editing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from ._aio import in_thread
from .errors import HistoryBusyError, HistoryDataError, HistoryError, UsageError
from .result import AgentResult

if TYPE_CHECKING:
    from .history import HistoryContext

__all__ = ["SQLiteHistory", "ThreadInfo"]

T = TypeVar("T")

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agentkit_threads (
    id          TEXT PRIMARY KEY,
    user_id     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agentkit_entries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order = chronological order
    thread_id   TEXT NOT NULL REFERENCES agentkit_threads(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'result')),
    entry_id    TEXT NOT NULL,
    body        TEXT NOT NULL,                       -- AgentResult.to_dict() or the user message, as JSON
    created_at  TEXT NOT NULL,
    UNIQUE (thread_id, entry_id)
);
CREATE INDEX IF NOT EXISTS agentkit_entries_thread ON agentkit_entries (thread_id, seq);
CREATE INDEX IF NOT EXISTS agentkit_threads_user ON agentkit_threads (user_id, updated_at);
"""


@dataclass(frozen=True)
class ThreadInfo:
    """One row of `SQLiteHistory.list_threads()`."""

    thread_id: str
    user_id: str | None
    """`state.data["userId"]` when the thread was created, if it was a string."""
    created_at: str
    """ISO 8601, UTC."""
    updated_at: str
    """ISO 8601, UTC: the last append."""
    entries: int
    """How many user messages and results the thread holds."""


_FAILURES = {  # words of a sqlite3 message -> what it means; what to do
    ("locked", "busy"): ("the database stayed locked by another writer for over {} s", "retry, or raise timeout="),
    ("readonly",): ("the database is read-only", "SQLite writes the file and its -wal/-shm files: fix permissions"),
    ("unable to open",): ("cannot open the database file",
                          "the path must name a file (not a directory) in an existing, writable directory"),
    ("not a database", "malformed"): ("the file is not a SQLite database, or it is corrupt",
                                      "restore it from a backup or point SQLiteHistory at a new file"),
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class SQLiteHistory:
    """Conversation history in a SQLite database file; pass it as `history=` to a network.

    Args:
        path: the database file (created if missing), or ":memory:" for a private in-memory one.
        include_user_messages: return stored user messages from `get` (as `agent_name="user"`).
        timeout: seconds a write waits for another process's lock before failing.
    """

    def __init__(self, path: str, *, include_user_messages: bool = True, timeout: float = 30.0) -> None:
        if not isinstance(path, str) or not path:
            raise UsageError("SQLiteHistory(path): path must be a file path or ':memory:'")
        self.path, self.timeout = path, timeout
        self.include_user_messages = include_user_messages
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            with self._errors():
                # check_same_thread=False: the lock, not the creating thread, guards the connection.
                # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per append.
                conn = self._conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False,
                                                    isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise UsageError(f"SQLiteHistory({path!r}): schema version {version} is newer than "
                                     f"this agentkit-min supports ({SCHEMA_VERSION}); upgrade agentkit-min")
                if version < SCHEMA_VERSION:
                    # Idempotent DDL (IF NOT EXISTS), so two processes creating the file at once agree.
                    conn.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
        except BaseException:
            self.close()
            raise

    # -- the four history hooks ------------------------------------------------------------

    async def create_thread(self, ctx: HistoryContext) -> dict[str, str]:
        """Upsert the state's thread, or create one with a new UUID."""
        data = ctx.state.data
        user = data.get("userId") if isinstance(data, dict) else None
        requested = ctx.state.thread_id

        def work() -> dict[str, str]:
            thread_id = requested or str(uuid.uuid4())
            self._transaction(lambda c: self._upsert_thread(c, thread_id, user))
            return {"thread_id": thread_id}

        return await self._durably(ctx, "history.create_thread", work)  # type: ignore[no-any-return]

    async def get(self, ctx: HistoryContext) -> list[AgentResult]:
        """The thread's user messages and results, oldest first, without this run's input.

        A network stores its user message before loading the thread (AgentKit's order), and
        the input reaches the model anyway, after the history (decision Q6), so the entry
        just stored for this run is left out: by id, or, when ids differ (a replayed durable
        run makes a new one), as the last entry if it is a user message with this input.
        """
        thread_id = ctx.thread_id or ctx.state.thread_id
        if not thread_id:
            return []
        tid: str = thread_id
        own = ctx.user_message or {}

        def work() -> list[dict[str, Any]]:
            rows = self._load_dicts(tid)
            mine = [i for i, r in enumerate(rows) if r["agentName"] == "user" and r["id"] == own.get("id")]
            if not mine and rows and rows[-1]["agentName"] == "user" and own:
                if rows[-1]["output"][0]["content"] == own.get("content", ctx.input):
                    mine = [len(rows) - 1]
            return [r for i, r in enumerate(rows) if i not in mine]

        rows = await self._durably(ctx, "history.get", work)
        return [AgentResult.from_dict(row) for row in rows]

    async def append_user_message(self, ctx: HistoryContext) -> None:
        """Store the run's user message (network runs only, as AgentKit)."""
        thread_id, message = ctx.thread_id or ctx.state.thread_id, ctx.user_message
        if not thread_id or not message:
            return
        tid: str = thread_id
        body = {
            "id": str(message.get("id") or uuid.uuid4()),
            "content": message.get("content", ""),
            "role": "user",
            "timestamp": _iso(message.get("timestamp")),
        }
        rows = [("user", body["id"], json.dumps(body), body["timestamp"])]
        await self._durably(ctx, "history.append_user_message", lambda: self._append(tid, rows))

    async def append_results(self, ctx: HistoryContext) -> None:
        """Store this run's new results in one transaction."""
        thread_id = ctx.thread_id or ctx.state.thread_id
        if not thread_id or not ctx.new_results:
            return
        tid: str = thread_id
        rows = [
            ("result", r.id or str(uuid.uuid4()), json.dumps(r.to_dict(), default=str),
             r.created_at.isoformat())
            for r in ctx.new_results
        ]
        await self._durably(ctx, "history.append_results", lambda: self._append(tid, rows))

    # -- helpers for applications ----------------------------------------------------------

    def load(self, thread_id: str) -> list[AgentResult]:
        """A thread's entries as results, oldest first (the same list `get` returns)."""
        return [AgentResult.from_dict(row) for row in self._load_dicts(thread_id)]

    def list_threads(self, user_id: str | None = None, limit: int = 100, offset: int = 0) -> list[ThreadInfo]:
        """Threads, most recently updated first; only `user_id`'s when given."""
        query = (
            "SELECT t.id, t.user_id, t.created_at, t.updated_at, COUNT(e.seq) "
            "FROM agentkit_threads t LEFT JOIN agentkit_entries e ON e.thread_id = t.id "
            + ("WHERE t.user_id = ? " if user_id is not None else "")
            + "GROUP BY t.id ORDER BY t.updated_at DESC, t.id LIMIT ? OFFSET ?"
        )
        params: tuple[Any, ...] = (user_id, limit, offset) if user_id is not None else (limit, offset)
        with self._lock, self._errors():
            rows = self._connection().execute(query, params).fetchall()
        return [ThreadInfo(*row) for row in rows]

    def delete_thread(self, thread_id: str) -> bool:
        """Delete a thread and everything stored in it; False when it did not exist."""
        def work(c: sqlite3.Connection) -> int:
            c.execute("DELETE FROM agentkit_entries WHERE thread_id = ?", (thread_id,))
            return c.execute("DELETE FROM agentkit_threads WHERE id = ?", (thread_id,)).rowcount

        return self._transaction(work) > 0

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteHistory:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise UsageError(f"SQLiteHistory({self.path!r}) is closed")
        return self._conn

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Raise sqlite3's failures as HistoryErrors that name the path and what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            words = next((w for w in _FAILURES if any(word in str(exc).lower() for word in w)), None)
            reason, advice = _FAILURES[words] if words else ("sqlite3 failed: {}", "see the chained exception")
            cls = HistoryBusyError if words == ("locked", "busy") else HistoryError
            raise cls(self.path, reason.format(self.timeout if words else exc), advice) from exc
        except UnicodeEncodeError as exc:  # binding a str with a lone surrogate
            raise HistoryDataError(self.path, "a thread, user or message id is not valid Unicode (a lone "
                                   "surrogate)", "pass ids that encode as UTF-8") from exc

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction, under this object's lock."""
        with self._lock, self._errors():
            conn = self._connection()
            # BEGIN IMMEDIATE takes the write lock up front, so two processes never deadlock
            # upgrading read locks; busy_timeout (connect's `timeout`) makes the second one wait.
            conn.execute("BEGIN IMMEDIATE")
            try:
                out = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # a failed COMMIT leaves it open; close it to stay usable
                    conn.execute("ROLLBACK")
                raise
            return out

    @staticmethod
    def _upsert_thread(conn: sqlite3.Connection, thread_id: str, user_id: Any) -> None:
        now = _now()
        conn.execute(
            "INSERT INTO agentkit_threads (id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
            (thread_id, user_id if isinstance(user_id, str) else None, now, now),
        )

    def _append(self, thread_id: str, rows: list[tuple[str, str, str, str]]) -> dict[str, int]:
        def work(c: sqlite3.Connection) -> int:
            # A thread created by another history (or before create_thread ran) still gets a row.
            self._upsert_thread(c, thread_id, None)
            cur = c.executemany(
                "INSERT OR IGNORE INTO agentkit_entries (thread_id, kind, entry_id, body, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(thread_id, *row) for row in rows],
            )
            return cur.rowcount

        # A small JSON value, so the step memo of a durable run stays tiny.
        return {"stored": self._transaction(work)}

    def _load_dicts(self, thread_id: str) -> list[dict[str, Any]]:
        kinds = ("user", "result") if self.include_user_messages else ("result", "result")
        with self._lock, self._errors():
            rows = self._connection().execute(
                "SELECT kind, body FROM agentkit_entries WHERE thread_id = ? AND kind IN (?, ?) "
                "ORDER BY seq", (thread_id, *kinds),
            ).fetchall()
        return [json.loads(body) if kind == "result" else _user_result(json.loads(body))
                for kind, body in rows]

    async def _durably(self, ctx: HistoryContext, step_id: str, work: Callable[[], Any]) -> Any:
        """Run blocking `work` in a thread; as one named step when a durable engine is present."""
        async def off_loop() -> Any:
            return await in_thread(work)

        if ctx.step is not None:
            return await ctx.step.run(step_id, off_loop)
        return await off_loop()


def _user_result(message: dict[str, Any]) -> dict[str, Any]:
    """A stored user message in AgentResult JSON, so `get` returns one list type."""
    return {
        "agentName": "user", "id": message["id"], "createdAt": message["timestamp"], "toolCalls": [],
        "output": [{"type": "text", "role": "user", "content": message["content"]}],
    }


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, str) and value:
        return value
    return _now()
