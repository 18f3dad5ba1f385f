"""Conversation history in SQLite: a second run, in a fresh network, remembers the first.

Builds on the seed's "Concepts > State" ("State's data is only retained for a single Network's
run ... You can implement memory by inspecting a network's state after it has finished") with
AgentKit's history hooks: `SQLiteHistory(path)` (standard library `sqlite3`) as the network's
`history=` stores each run's user message and results under a thread id, and loads the thread
before the next run of that thread, so its agents see the earlier turns.

To show that nothing survives in memory, each run builds its network and opens the database
from scratch, as a restarted program would; only the thread id is carried over.

With OPENAI_API_KEY set the agent uses gpt-4o-mini; without it the cassette
fixtures/examples/history_sqlite.json answers the requests. The cassette holds the second
request, so offline it also checks that the first turn really reached the model.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import Network, NetworkRun, RouterArgs, create_agent, create_network, create_state
from agentkit_min.sqlite_history import SQLiteHistory

from _models import provider_model, replay
from _show import show


def build_network(history: SQLiteHistory) -> Network[Any]:
    assistant = create_agent(
        name="Assistant", description="A helpful assistant",
        system="You are a helpful assistant for an online shop. Answer in one short sentence, "
               "using what the customer told you earlier in the conversation.",
        model=provider_model("openai", "gpt-4o-mini"),
    )

    def router(args: RouterArgs) -> Any:
        return assistant if args.call_count == 0 else None  # one answer per run

    return create_network(name="Shop assistant", agents=[assistant], router=router, history=history)


def main(db_path: str | None = None) -> tuple[NetworkRun, NetworkRun]:
    """Two runs of one thread; the database is a temporary file unless `db_path` is given."""
    with tempfile.TemporaryDirectory() as tmp, replay("history_sqlite"):
        path = db_path or os.path.join(tmp, "history.sqlite3")
        with SQLiteHistory(path) as history:  # first program run: a new thread
            first = build_network(history).run_sync("Hi, I'm Ada. My order number is 4242.")
        thread_id = first.state.thread_id
        with SQLiteHistory(path) as history:  # "later": a new network, the same thread
            second = build_network(history).run_sync(
                "What was my order number again?", state=create_state({}, thread_id=thread_id))
    return first, second


if __name__ == "__main__":
    first, second = main()
    print(f"thread {first.state.thread_id}")
    print("> Hi, I'm Ada. My order number is 4242.")
    show(first)
    print("> What was my order number again?")
    show(second.state.results[second.initial_result_count:])
    print(f"(the second run loaded {second.initial_result_count} earlier entries from SQLite)")
