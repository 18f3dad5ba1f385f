"""A network whose agents use different models (and providers).

Mirrors the seed's "Concepts > Networks", "Combination of multiple models": the Search agent
has no model, so it uses the network's `defaultModel` (OpenAI gpt-4o, which also drives the
default routing agent); the Summary agent brings its own Anthropic model (claude-haiku-4-5
here; the seed's claude-3-5-sonnet has been retired).

With OPENAI_API_KEY and ANTHROPIC_API_KEY set both providers are called for real; otherwise
the cassette fixtures/examples/networks_multi_model.json answers the requests to both.
"""

from __future__ import annotations

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, create_agent, create_network

from _models import provider_model, replay
from _show import show
from networks_search_summary import QUESTION, search  # the same search_web tool


def main() -> NetworkRun:
    search_agent = create_agent(
        name="Search", description="Search the web for information",
        system="You search the web with search_web and report what you find.", tools=[search])
    summary_agent = create_agent(
        name="Summary", description="Summarize the information",
        system="Summarize the search results in the conversation in one or two sentences.",
        model=provider_model("anthropic", "claude-haiku-4-5"),
    )
    network = create_network(
        name="Multi-model network",
        agents=[search_agent, summary_agent],
        default_model=provider_model("openai", "gpt-4o"),
        max_iter=10,
    )
    with replay("networks_multi_model", "openai", "anthropic"):
        return network.run_sync(QUESTION)


if __name__ == "__main__":
    run = main()
    show(run)
    for agent in run.agents.values():
        model = agent.model or run.default_model
        print(f"{agent.name} ran on {getattr(model, 'provider', '?')} {getattr(model, 'model', model)}")
