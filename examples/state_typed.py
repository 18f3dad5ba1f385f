"""Typed state: structured data shared by a network's agents, tools and router.

Mirrors the seed's "Concepts > State", "Typed state": a `NetworkState` type whose `username`
is unset until a tool extracts it, `createState<NetworkState>({ username: "default-username" })`,
then `state.data.username = "Alice"`.

In Python the type is a TypedDict and `state.data` is the dict itself. A network run works on
its own state (a clone of `default_state`, or the one passed to `run`), so data lives for one
run; keep memory by reading `run.state` after the run finishes.
"""

from __future__ import annotations

from typing import Any, TypedDict

import _bootstrap  # noqa: F401

from agentkit_min import (NetworkRun, RouterArgs, State, ToolContext, create_agent, create_network,
                          create_state, create_tool)
from agentkit_min.testing import ScriptedModel, tool_call

from _models import live_or
from _show import show


class NetworkState(TypedDict, total=False):
    username: str
    """Unset until extracted and set by a tool."""


def save_username(args: dict[str, Any], ctx: ToolContext) -> str:
    """Tools write typed data into the shared state."""
    data: NetworkState = ctx.network.state.data
    data["username"] = args["username"]
    return f"saved {args['username']}"


def main() -> tuple[State[NetworkState], NetworkRun]:
    # Typed state with defaults, e.g. loaded from memory.
    state = create_state(NetworkState(username="default-username"))
    assert state.data["username"] == "default-username"
    state.data["username"] = "Alice"

    greeter = create_agent(
        name="Greeter",
        description="Greets the user and remembers their name.",
        system="Greet the user. When they tell you their name, call save_username.",
        model=live_or(ScriptedModel([tool_call("save_username", {"username": "Ada Lovelace"})])),
        tools=[create_tool(
            name="save_username", description="Remember the user's name",
            parameters={"type": "object", "properties": {"username": {"type": "string"}},
                        "required": ["username"], "additionalProperties": False},
            handler=save_username)],
    )

    def router(args: RouterArgs) -> Any:  # run the greeter until it has saved a name
        data: NetworkState = args.network.state.data
        return greeter if "username" not in data and args.call_count < 3 else None

    network = create_network(name="Greeting network", agents=[greeter], router=router)
    run = network.run_sync("Hi! I'm Ada Lovelace.", state=create_state(NetworkState()))
    return state, run


if __name__ == "__main__":
    state, run = main()
    print("standalone state:", state.data)
    show(run, state=True)
