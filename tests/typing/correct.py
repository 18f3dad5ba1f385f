"""Correct uses of the typed options that `mypy --strict` must accept (tests/test_typing.py)."""

from __future__ import annotations

from typing import Any

from agentkit_min import (Agent, AgentArgs, AgentResult, HistoryConfig, HistoryContext, ResultArgs,
                          RouterArgs, StartArgs, create_agent, create_network, create_routing_agent)
from agentkit_min.lifecycle import Lifecycle, LifecycleHooks
from agentkit_min.routing import Router
from agentkit_min.sqlite_history import SQLiteHistory

writer = create_agent(name="Writer", system="You write.")
editor = create_agent(name="Editor", system="You edit.")


def route(args: RouterArgs) -> Agent | None:
    return writer if args.call_count == 0 else None


async def route_async(args: RouterArgs) -> list[Agent]:
    return [writer, editor] if args.last_result is None else []


def on_start(args: StartArgs) -> dict[str, Any]:
    return {"history": args.history[-2:]}


async def on_finish(args: ResultArgs) -> AgentResult | None:
    return None


def on_route(args: ResultArgs) -> list[str] | None:
    return ["Writer"] if not args.network.state.results else None


class Store:
    """A history object with all four hooks (sync and async mixed)."""

    def create_thread(self, ctx: HistoryContext) -> dict[str, str]:
        return {"thread_id": "t-1"}

    async def get(self, ctx: HistoryContext) -> list[AgentResult]:
        return []

    def append_user_message(self, ctx: HistoryContext) -> None:
        return None

    async def append_results(self, ctx: HistoryContext) -> None:
        return None


hooks: LifecycleHooks = {"on_start": on_start, "on_finish": on_finish}
hooks["enabled"] = lambda args: bool(args.network.state.data)
create_agent(name="a", system="s", lifecycle=hooks)
create_agent(name="b", system="s", lifecycle={"enabled": lambda args: True, "on_response": lambda args: None})
create_agent(name="c", system="s", lifecycle=Lifecycle(on_finish=on_finish), history=Store())
supervisor = create_routing_agent(name="Supervisor", lifecycle={"on_route": on_route})
for router in (route, route_async, supervisor, lambda args: writer, lambda args: None):
    create_network(agents=[writer, editor], router=router)
chosen: Router = route
create_network(agents=[writer], default_router=chosen, history=SQLiteHistory(":memory:"))
create_network(agents=[writer], history=HistoryConfig(get=lambda ctx: [], append_results=lambda ctx: None))


async def dynamic_system(args: AgentArgs) -> str:
    return f"{len(args.network.state.results)} results so far"


async def run() -> None:
    network = create_network(agents=[writer], router=lambda args: None)
    await network.run("hi", router=route_async)
    await create_agent(name="d", system=dynamic_system).run("hi", model=None)
