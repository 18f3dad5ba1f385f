"""A hybrid router: code for the first step, then the default routing agent (semi-supervised).

Mirrors the seed's "Concepts > Routers", "Hybrid code and agent Routers": always start with
the classifier, then return `get_default_routing_agent()` and let the LLM decide. The default
routing agent runs on the network's `default_model` and answers by calling its `select_agent`
or `done` tool.

With OPENAI_API_KEY set everything runs on gpt-4o-mini; without it the cassette
fixtures/examples/routers_hybrid.json answers the same requests.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, RouterArgs, create_network, get_default_routing_agent

from _models import provider_model, replay
from _show import show
from routers_code import QUESTION, classifier_and_writer


def main() -> NetworkRun:
    model = provider_model("openai", "gpt-4o-mini")
    classifier, writer = classifier_and_writer(model)

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
        default_model=model,  # what the default routing agent runs on
        max_iter=5,
    )
    with replay("routers_hybrid"):  # offline: fixtures/examples/routers_hybrid.json
        return network.run_sync(QUESTION)


if __name__ == "__main__":
    show(main())
