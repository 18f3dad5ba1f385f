"""A hybrid router: code for the first step, then the default routing agent (semi-supervised).

Mirrors the seed's "Concepts > Routers", "Hybrid code and agent Routers": always start with
the classifier, then return `get_default_routing_agent()` and let the LLM decide. The default
routing agent runs on the network's `default_model` and answers by calling its `select_agent`
or `done` tool.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, RouterArgs, create_network, get_default_routing_agent
from agentkit_min.testing import ScriptedModel, tool_call

from _models import live_or
from _show import show
from routers_code import classifier_and_writer


def main(prompt: str = "What causes the tides?") -> NetworkRun:
    classifier, writer = classifier_and_writer()

    def router(args: RouterArgs) -> Any:
        # Always start with the classifier ...
        if args.call_count == 0:
            return classifier
        # ... then let the routing agent take over.
        return get_default_routing_agent()

    network = create_network(
        name="Hybrid routing",
        agents=[classifier, writer],
        router=router,
        # Offline: the default routing agent's two decisions.
        default_model=live_or(ScriptedModel([
            tool_call("select_agent", {"name": "Writer", "reason": "it is a question"}),
            tool_call("done", {"summary": "The question was answered"}),
        ])),
        max_iter=5,
    )
    return network.run_sync(prompt)


if __name__ == "__main__":
    show(main())
