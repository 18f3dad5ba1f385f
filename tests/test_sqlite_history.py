"""SQLiteHistory: threads continue across runs and instances, appends survive concurrency."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from agentkit_min.agent import create_agent
from agentkit_min.errors import HistoryBusyError, HistoryDataError, HistoryError, UsageError
from agentkit_min.history import HistoryContext
from agentkit_min.messages import message_text
from agentkit_min.network import NetworkRun, create_network
from agentkit_min.result import AgentResult
from agentkit_min.sqlite_history import SQLiteHistory
from agentkit_min.state import create_state
from agentkit_min.testing import ScriptedModel, text

ROOT = Path(__file__).resolve().parents[1]


def _network(history: SQLiteHistory, model: ScriptedModel) -> Any:
    agent = create_agent(name="Helper", system="You help.", model=model)
    return create_network(name="Chat", agents=[agent], history=history,
                          router=lambda args: agent if args.call_count == 0 else None)


def _texts(messages: list[Any]) -> list[tuple[str, str]]:
    return [(m["role"], message_text(m)) for m in messages]


def test_a_second_run_on_the_thread_sees_the_first_run_in_order(tmp_path: Path) -> None:
    model = ScriptedModel([text("Paris"), text("About 2.1 million")])
    network = _network(SQLiteHistory(str(tmp_path / "h.db")), model)
    first = network.run_sync("Capital of France?")
    thread_id = first.state.thread_id
    assert isinstance(thread_id, str) and thread_id
    # A new network object and a new history instance: only the file carries the thread.
    network2 = _network(SQLiteHistory(str(tmp_path / "h.db")), model)
    second = network2.run_sync("Its population?", state=create_state({}, thread_id=thread_id))
    assert isinstance(second, NetworkRun)
    assert _texts(model.requests[1].messages) == [
        ("system", "You help."),
        ("user", "Capital of France?"), ("assistant", "Paris"),  # loaded history, chronological
        ("user", "Its population?"),                            # then this run's input (Q6)
    ]
    assert [r.agent_name for r in second.state.results] == ["user", "Helper", "Helper"]
    stored = SQLiteHistory(str(tmp_path / "h.db")).load(thread_id)
    assert [(r.agent_name, message_text(r.output[0])) for r in stored] == [
        ("user", "Capital of France?"), ("Helper", "Paris"),
        ("user", "Its population?"), ("Helper", "About 2.1 million"),
    ]
    assert stored[1].to_dict()["agentName"] == "Helper" and stored[1].id is not None


def test_results_only_mode_and_round_trip_of_result_json(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"), include_user_messages=False)
    model = ScriptedModel([text("one")])
    run = _network(history, model).run_sync("hi")
    assert run.state.thread_id is not None
    loaded = history.load(run.state.thread_id)
    assert [r.agent_name for r in loaded] == ["Helper"]
    assert loaded[0].to_dict() == run.state.results[0].to_dict()


def test_standalone_agent_runs_store_their_result(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"))
    agent = create_agent(name="Solo", system="s", model=ScriptedModel([text("a1"), text("a2")]), history=history)
    first = agent.run_sync("q1", state=create_state({}, thread_id="solo-1"))
    second = agent.run_sync("q2", state=create_state({}, thread_id="solo-1"))
    assert [message_text(r.output[0]) for r in history.load("solo-1")] == ["a1", "a2"]
    assert second.history[0] == first.output[0]  # the second run was sent the first answer


def _ctx(history_thread: str, results: list[AgentResult] | None = None) -> HistoryContext:
    state = create_state({"userId": "u-1"}, thread_id=history_thread)
    return HistoryContext(state=state, network=None, input="x",  # type: ignore[arg-type]
                          thread_id=history_thread, new_results=results or [])


def _result(n: int, writer: str) -> AgentResult:
    return AgentResult(writer, [{"type": "text", "role": "assistant", "content": str(n)}], [],
                       id=f"{writer}-{n}")


def test_concurrent_appends_from_threads_and_connections_keep_every_result(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    shared = SQLiteHistory(path)
    other = SQLiteHistory(path)  # a second connection, as another process would have
    writers, per_writer, errors = 8, 40, []

    def write(i: int) -> None:
        store = shared if i % 2 else other
        name = f"w{i}"

        async def go() -> None:
            for n in range(per_writer):
                # Two threads per conversation thread, to contend on the same rows' index.
                await store.append_results(_ctx(f"thread-{i % 4}", [_result(n, name)]))
        try:
            asyncio.run(go())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors
    total = 0
    for t in range(4):
        loaded = shared.load(f"thread-{t}")
        total += len(loaded)
        for name in {r.agent_name for r in loaded}:  # each writer's results stay in its order
            assert [int(message_text(r.output[0])) for r in loaded if r.agent_name == name] == list(range(per_writer))
    assert total == writers * per_writer
    assert sum(t.entries for t in other.list_threads()) == writers * per_writer


def test_concurrent_appends_from_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    SQLiteHistory(path).close()  # create the schema once
    script = (
        "import asyncio, sys\n"
        "from agentkit_min.sqlite_history import SQLiteHistory\n"
        "from agentkit_min.history import HistoryContext\n"
        "from agentkit_min.state import create_state\n"
        "from agentkit_min.result import AgentResult\n"
        "h = SQLiteHistory(sys.argv[1]); name = sys.argv[2]\n"
        "async def go():\n"
        "    for n in range(60):\n"
        "        r = AgentResult(name, [{'type': 'text', 'role': 'assistant', 'content': str(n)}], [], id=f'{name}-{n}')\n"
        "        ctx = HistoryContext(create_state({}, thread_id='p'), None, 'x', 'p', new_results=[r])\n"
        "        await h.append_results(ctx)\n"
        "asyncio.run(go())\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, path, f"proc{i}"], cwd=ROOT) for i in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    loaded = SQLiteHistory(path).load("p")
    assert len(loaded) == 180
    assert {r.agent_name for r in loaded} == {"proc0", "proc1", "proc2"}


def test_same_result_appended_twice_is_stored_once_and_thread_upsert(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"))
    ctx = _ctx("t-1", [_result(1, "A")])

    async def go() -> Any:
        created = await history.create_thread(ctx)
        again = await history.create_thread(ctx)  # upsert: the client's id is kept
        await history.append_results(ctx)
        await history.append_results(ctx)  # e.g. a retried request
        return created, again, await history.get(ctx)

    created, again, got = asyncio.run(go())
    assert created == again == {"thread_id": "t-1"}
    assert [r.id for r in got] == ["A-1"]


def test_list_and_delete_threads(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"))

    async def make(thread: str, user: str | None) -> None:
        ctx = _ctx(thread, [_result(0, "A")])
        ctx.state.data["userId"] = user
        ctx.state.thread_id = thread
        await history.create_thread(ctx)
        await history.append_results(ctx)

    for thread, user in (("a", "alice"), ("b", "bob"), ("c", "alice"), ("d", None)):
        asyncio.run(make(thread, user))
    assert sorted(t.thread_id for t in history.list_threads(user_id="alice")) == ["a", "c"]
    assert len(history.list_threads()) == 4 and len(history.list_threads(limit=2)) == 2
    assert history.list_threads()[0].entries == 1
    assert history.delete_thread("a") is True
    assert history.delete_thread("a") is False
    assert history.load("a") == []
    assert sorted(t.thread_id for t in history.list_threads()) == ["b", "c", "d"]


def test_new_thread_gets_a_uuid_and_get_without_thread_is_empty(tmp_path: Path) -> None:
    with SQLiteHistory(":memory:") as history:
        ctx = _ctx("", [])
        ctx.state.thread_id = None
        ctx.thread_id = None
        created = asyncio.run(history.create_thread(ctx))
        assert len(created["thread_id"]) == 36
        assert asyncio.run(history.get(ctx)) == []


def test_misuse_raises_usage_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    history = SQLiteHistory(path)
    history.close()
    history.close()  # idempotent
    with pytest.raises(UsageError, match="closed"):
        history.load("x")
    with pytest.raises(UsageError, match="path"):
        SQLiteHistory("")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(UsageError, match="schema version 99"):
        SQLiteHistory(path)


# -- failures: every sqlite3 error is a typed HistoryError naming the path and what to do ----


def _append(history: SQLiteHistory, thread: str = "t", n: int = 0) -> None:
    asyncio.run(asyncio.wait_for(history.append_results(_ctx(thread, [_result(n, "A")])), 30))


def test_a_lock_held_past_the_timeout_is_a_busy_error_and_the_object_stays_usable(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    history = SQLiteHistory(path, timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    started = time.monotonic()
    with pytest.raises(HistoryBusyError, match="locked by another writer for over 0.2 s") as info:
        _append(history, n=1)
    assert time.monotonic() - started < 10  # the timeout, not a hang
    assert info.value.path == path and path in str(info.value) and "retry" in str(info.value)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value.__cause__, sqlite3.OperationalError)
    other.execute("ROLLBACK")
    other.close()
    _append(history, n=2)  # the same object works again once the lock is gone
    assert [r.id for r in history.load("t")] == ["A-2"]


def test_a_file_that_is_not_sqlite_or_is_corrupt_is_a_history_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(HistoryError, match="not a SQLite database, or it is corrupt") as info:
        SQLiteHistory(str(junk))
    assert str(junk) in str(info.value) and "backup" in str(info.value)
    broken = tmp_path / "broken.db"
    SQLiteHistory(str(broken)).close()
    data = bytearray(broken.read_bytes())
    data[16:100] = b"\xff" * 84  # the header after the magic string: page size, format, counts
    broken.write_bytes(bytes(data))
    with pytest.raises(HistoryError, match="not a SQLite database, or it is corrupt"):
        SQLiteHistory(str(broken)).load("t")


def test_a_directory_or_an_unwritable_place_is_a_history_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot open the database file.*not a directory") as info:
        SQLiteHistory(str(tmp_path))
    assert info.value.path == str(tmp_path)
    with pytest.raises(HistoryError, match="cannot open the database file"):
        SQLiteHistory(str(tmp_path / "missing-dir" / "h.db"))


def _make_read_only(path: Path) -> Callable[[], None]:
    """Make `path` unwritable (chattr +i when root, since root ignores permission bits)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)

        def restore() -> None:
            path.parent.chmod(0o755)
            path.chmod(0o644)
        return restore
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    return lambda: None if subprocess.run(["chattr", "-i", str(path)], check=True) else None


def test_a_read_only_database_is_a_history_error(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    SQLiteHistory(str(path)).close()
    restore = _make_read_only(path)
    try:
        with pytest.raises(HistoryError, match="read-only.*fix permissions"):
            history = SQLiteHistory(str(path))
            _append(history)
    finally:
        restore()


def test_a_lone_surrogate_in_an_id_is_a_data_error_and_nothing_is_half_written(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"))
    _append(history, "fine", 1)
    with pytest.raises(HistoryDataError, match="lone surrogate") as info:
        _append(history, "bad-\ud800", 2)
    assert isinstance(info.value, ValueError)
    with pytest.raises(HistoryDataError):
        history.load("bad-\ud800")
    assert [t.thread_id for t in history.list_threads()] == ["fine"]  # rolled back whole
    _append(history, "fine", 3)
    assert [r.id for r in history.load("fine")] == ["A-1", "A-3"]
