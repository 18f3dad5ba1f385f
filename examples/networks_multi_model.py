"""A network whose agents use different models (and providers).

Mirrors the seed's "Concepts > Networks", "Combination of multiple models": the Search agent
has no model, so it uses the network's `defaultModel` (OpenAI gpt-4o, which also drives the
default routing agent); the Summary agent brings its own, Anthropic's claude-3-5-sonnet.

Offline two ScriptedModels stand in for the two providers; each key set makes its side live.
"""

from __future__ import annotations

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, create_agent, create_network
from agentkit_min.testing import Reply, ScriptedModel, tool_call

from _models import live_or
from _show import show
from networks_search_summary import QUESTION, search  # the same search_web tool

OPENAI_SCRIPT: list[Reply] = [  # the default model: routing agent and Search
    tool_call("select_agent", {"name": "Search"}),
    tool_call("search_web", {"query": "2024 Super Bowl"}),
    tool_call("select_agent", {"name": "Summary"}),
    tool_call("done", {"summary": "Answered"}),
]
ANTHROPIC_SCRIPT: list[Reply] = [  # Summary's own model
    "The Chiefs beat the 49ers 25-22 in overtime to win Super Bowl LVIII (Feb 11, 2024).",
]


def main() -> NetworkRun:
    search_agent = create_agent(
        name="Search", description="Search the web for information",
        system="You search the web with search_web and report what you find.", tools=[search])
    summary_agent = create_agent(
        name="Summary", description="Summarize the information",
        system="Summarize the search results in the conversation in one or two sentences.",
        model=live_or(ScriptedModel(ANTHROPIC_SCRIPT, name="claude-3-5-sonnet"),
                      "anthropic", "claude-3-5-sonnet-latest"),
    )
    network = create_network(
        name="Multi-model network",
        agents=[search_agent, summary_agent],
        default_model=live_or(ScriptedModel(OPENAI_SCRIPT, name="gpt-4o"), "openai", "gpt-4o"),
        max_iter=10,
    )
    return network.run_sync(QUESTION)


if __name__ == "__main__":
    run = main()
    show(run)
    summary_model = run.agents["Summary"].model
    print(f"Summary ran on {getattr(summary_model, 'model', summary_model)}, "
          f"the rest on {getattr(run.default_model, 'model', run.default_model)}")
