"""A network of two agents routed by the default routing agent.

Mirrors the seed's "Concepts > Networks": `createNetwork({ agents: [searchAgent, summaryAgent],
defaultModel: openai({ model: 'gpt-4o' }), maxIter: 10 })` then
`network.run('What happened in the 2024 Super Bowl?')` ("Model configuration", "Maximum
iterations"). With no `router`, the network asks the default routing agent, which runs on the
default model: it calls `select_agent` to pick the next agent, or `done` to stop.

Offline one ScriptedModel is the default model, so it answers the routing agent and both
agents in turn (the comments say who is asking).
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, ToolContext, create_agent, create_network, create_tool
from agentkit_min.testing import Reply, ScriptedModel, tool_call

from _models import live_or
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

OFFLINE_SCRIPT: list[Reply] = [
    tool_call("select_agent", {"name": "Search", "reason": "facts are needed"}),  # routing agent
    tool_call("search_web", {"query": "2024 Super Bowl"}),                         # Search
    tool_call("select_agent", {"name": "Summary", "reason": "results found"}),     # routing agent
    "The Kansas City Chiefs beat the San Francisco 49ers 25-22 in overtime in Super Bowl "
    "LVIII in Las Vegas on February 11, 2024; Patrick Mahomes was MVP.",           # Summary
    tool_call("done", {"summary": "Answered the question"}),                       # routing agent
]


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
        default_model=live_or(ScriptedModel(OFFLINE_SCRIPT), "openai", "gpt-4o"),
        max_iter=10,  # an LLM router may never say "done": cap the agent runs
    )
    return network.run_sync(QUESTION)


if __name__ == "__main__":
    show(main())
