"""Deliberate mistakes that `mypy --strict` must reject (tests/test_typing.py).

Every line marked `# E: <codes>` must get mypy errors with exactly those codes, and no other
line any. (A wrong dict of hooks is an `arg-type` error against `LifecycleHooks | Lifecycle`.)
Excluded from the project's normal mypy run (pyproject.toml) and never collected by pytest.
"""

from __future__ import annotations

from agentkit_min import (Agent, AgentResult, HistoryConfig, ResultArgs, RouterArgs, StartArgs,
                          create_agent, create_network, create_routing_agent)

writer = create_agent(name="Writer", system="You write.")


def route_by_int(args: int) -> Agent | None:
    return None


def route_to_name(args: RouterArgs) -> str:
    return "Writer"


def route_two_args(args: RouterArgs, extra: int) -> Agent | None:
    return None


def start_with_result_args(args: ResultArgs) -> None:
    return None


def respond_with_text(args: ResultArgs) -> str:
    return "not an AgentResult"


def route_names_as_str(args: ResultArgs) -> str:
    return "Writer"


def finish(args: ResultArgs) -> AgentResult:
    return args.result


create_network(agents=[writer], router="oops")  # E: arg-type
create_network(agents=[writer], default_router=42)  # E: arg-type
create_network(agents=[writer], router=writer)  # E: arg-type
create_network(agents=[writer], router=route_by_int)  # E: arg-type
create_network(agents=[writer], router=route_to_name)  # E: arg-type
create_network(agents=[writer], router=route_two_args)  # E: arg-type
create_network(agents=[writer], history="oops")  # E: arg-type
create_agent(name="a", system="s", lifecycle={"onStart": start_with_result_args})  # E: arg-type
create_agent(name="a", system="s", lifecycle={"on_start": start_with_result_args})  # E: arg-type
create_agent(name="a", system="s", lifecycle={"on_response": respond_with_text})  # E: arg-type
create_agent(name="a", system="s", lifecycle={"enabled": lambda: True})  # E: arg-type
create_agent(name="a", system="s", lifecycle=[finish])  # E: arg-type
create_agent(name="a", system="s", history=object())  # E: arg-type
create_routing_agent(name="r", lifecycle={"on_route": route_names_as_str})  # E: arg-type
HistoryConfig(get=lambda: [])  # E: misc, arg-type


async def run_with_a_bad_router(args: StartArgs) -> None:
    network = create_network(agents=[writer])
    await network.run("hi", router="Writer")  # E: arg-type
