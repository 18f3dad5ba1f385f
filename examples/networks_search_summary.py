"""A network of two agents routed by the default routing agent.

Mirrors the seed's "Concepts > Networks": `createNetwork({ agents: [searchAgent, summaryAgent],
defaultModel: openai({ model: 'gpt-4o' }), maxIter: 10 })` then
`network.run('What happened in the 2024 Super Bowl?')` ("Model configuration", "Maximum
iterations"). With no `router`, the network asks the default routing agent, which runs on the
default model: it calls `select_agent` to pick the next agent, or `done` to stop.

With OPENAI_API_KEY set everything runs on gpt-4o; without it the cassette
fixtures/examples/networks_search_summary.json answers the same requests.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, ToolContext, create_agent, create_network, create_tool

from _models import provider_model, replay
from _show import show

PAGES = [  # a stand-in for a web search API
    "Super Bowl LVIII, Feb 11 2024, Las Vegas: Kansas City Chiefs 25, San Francisco 49ers 22 "
    "(overtime). MVP: Patrick Mahomes.",
    "Super Bowl LVII, Feb 12 2023, Glendale: Kansas City Chiefs 38, Philadelphia Eagles 35.",
]


def search_web(args: dict[str, Any], ctx: ToolContext) -> list[str]:
    """The pages that mention every word of the query."""
    words = args["query"].lower().split()
    return [page for page in PAGES if all(word in page.lower() for word in words)]


search = create_tool(
    name="search_web", description="Search the web; returns matching page extracts",
    parameters={"type": "object", "properties": {"query": {"type": "string"}},
                "required": ["query"], "additionalProperties": False},
    handler=search_web,
)

QUESTION = "What happened in the 2024 Super Bowl?"


def main() -> NetworkRun:
    search_agent = create_agent(
        name="Search", description="Search the web for information",
        system="You search the web with search_web and report what you find.", tools=[search])
    summary_agent = create_agent(
        name="Summary", description="Summarize the information",
        system="Summarize the search results in the conversation in one or two sentences.")
    network = create_network(
        name="Search network",
        agents=[search_agent, summary_agent],
        default_model=provider_model("openai", "gpt-4o"),
        max_iter=10,  # an LLM router may never say "done": cap the agent runs
    )
    with replay("networks_search_summary"):  # offline: fixtures/examples/networks_search_summary.json
        return network.run_sync(QUESTION)


if __name__ == "__main__":
    show(main())
