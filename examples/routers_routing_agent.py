"""A custom routing agent: an LLM picks the next agent (autonomous routing).

Mirrors the seed's "Concepts > Routers", "Routing Agent (autonomous routing)" and the
"Network Router" reference's `createRoutingAgent` example: the routing agent's inference
answers with agent names as text, and its `onRoute` hook keeps the names that are members of
the network. An empty list (or None) stops the network.

A routing agent has no model of its own here, so it uses the network's `default_model`.
Its inferences are not agent runs: they are not stored in `state.results`.

With OPENAI_API_KEY set everything runs on gpt-4o-mini; without it the cassette
fixtures/examples/routers_routing_agent.json answers the same requests.
"""

from __future__ import annotations

import _bootstrap  # noqa: F401

from agentkit_min import AgentArgs, NetworkRun, ResultArgs, create_network, create_routing_agent
from agentkit_min.messages import message_text

from _models import provider_model, replay
from _show import show
from routers_code import QUESTION, classifier_and_writer


def on_route(args: ResultArgs) -> list[str]:
    # Get the agent names from the routing agent's text output ...
    names = [message_text(m).strip() for m in args.result.output if m["type"] == "text"]
    # ... and keep those that exist in the network.
    return [name for name in names if name in args.network.agents]


def routing_prompt(args: AgentArgs) -> str:
    ran = [r.agent_name for r in args.network.state.results]
    return (f"You route work between these agents: {', '.join(args.network.agents)}. "
            f"Agents that already ran, in order: {', '.join(ran) or 'none'}. "
            "Reply with only the name of the agent that should run next: first the Classifier; "
            "then the Writer if the input is a question; or reply 'done' when the work is finished.")


def main() -> NetworkRun:
    model = provider_model("openai", "gpt-4o-mini")
    classifier, writer = classifier_and_writer(model)
    routing_agent = create_routing_agent(
        name="Custom routing agent",
        description="Selects agents based on the current state and request",
        system=routing_prompt,
        lifecycle={"on_route": on_route},
    )
    network = create_network(
        name="Routed by an agent",
        agents=[classifier, writer],
        router=routing_agent,
        default_model=model,  # the routing agent has no model of its own
        max_iter=5,
    )
    with replay("routers_routing_agent"):  # offline: fixtures/examples/routers_routing_agent.json
        return network.run_sync(QUESTION)


if __name__ == "__main__":
    show(main())
