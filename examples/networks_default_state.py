"""`default_state`: the state every run of a network starts from.

Mirrors the seed's "Concepts > Networks", "Providing a default State":
`createNetwork({ agents, defaultState: new State({ foo: 'bar' }) })`. Each run works on a copy
of the default state, so runs never leak data into each other or into the default; pass
`state=` to `run` to start from something else (e.g. data loaded from a database).
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import (NetworkRun, RouterArgs, ToolContext, create_agent, create_network,
                          create_state, create_tool)
from agentkit_min.testing import ScriptedModel, tool_call

from _models import live_or
from _show import show


def remember(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Store a note in state and return what the state holds now."""
    data = ctx.network.state.data
    data["note"] = args["note"]
    return dict(data)


def main() -> tuple[NetworkRun, NetworkRun, dict[str, Any]]:
    notetaker = create_agent(
        name="Notetaker", description="Saves a note",
        system="Save the user's note with the remember tool.",
        model=live_or(ScriptedModel([tool_call("remember", {"note": "buy milk"}),
                                     tool_call("remember", {"note": "call mum"})])),
        tools=[create_tool(
            name="remember", description="Save a note",
            parameters={"type": "object", "properties": {"note": {"type": "string"}},
                        "required": ["note"], "additionalProperties": False},
            handler=remember)],
    )

    def router(args: RouterArgs) -> Any:
        return notetaker if args.call_count == 0 else None

    network = create_network(name="Notes", agents=[notetaker], router=router,
                             default_state=create_state({"foo": "bar"}))
    first = network.run_sync("Note: buy milk")
    second = network.run_sync("Note: call mum")
    return first, second, network.state.data


if __name__ == "__main__":
    first, second, default = main()
    show(first, state=True)
    show(second, state=True)
    print("default state after both runs:", default)
