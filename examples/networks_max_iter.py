"""`max_iter`: the most agent runs a network makes, whatever its router says.

Mirrors the seed's "Concepts > Networks", "Maximum iterations" (`maxIter: 10`) and "Combining
maxIter and defaultRouter": the router below never stops on its own, yet the network ends after
`max_iter` agent runs. As the seed warns, `max_iter` can keep the router from being called:
once the limit is reached the router is not asked again, so with `max_iter=1` it is called once.
`max_iter=0` (the default) means no limit: fine with a code router that returns None,
risky with an LLM router that may never say "done".
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, RouterArgs, create_agent, create_network
from agentkit_min.testing import FunctionModel, ModelRequest

from _models import live_or
from _show import show


def draft_offline(request: ModelRequest) -> str:
    """Offline stand-in: numbers each new draft after the drafts already in the history."""
    earlier = sum(1 for m in request.messages if m["role"] == "assistant")
    return f"Draft {earlier + 1}: Our product makes mornings calmer."


def main(max_iter: int = 3) -> NetworkRun:
    editor = create_agent(
        name="Editor", description="Rewrites the slogan, a little better each time",
        system="Rewrite the latest slogan in the conversation to make it better. Reply with the slogan only.",
        model=live_or(FunctionModel(draft_offline)),
    )

    def router(args: RouterArgs) -> Any:
        data = args.network.state.data
        data["router_calls"] = data.get("router_calls", 0) + 1
        return editor  # never satisfied: only max_iter ends this network

    network = create_network(name="Endless editing", agents=[editor], router=router, max_iter=max_iter)
    return network.run_sync("Write a slogan for a coffee brand.")


if __name__ == "__main__":
    for limit in (3, 1):
        run = main(limit)
        print(f"max_iter={limit}: {len(run.state.results)} agent run(s), "
              f"router called {run.state.data['router_calls']} time(s)")
        show(run)
