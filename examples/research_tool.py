"""A multi-step tool: research the web with model calls and parallel crawls, step by step.

Mirrors the seed's "Advanced Patterns > Multi-steps tools": the `research_web` tool
generates search queries with a model, crawls each query in parallel, then summarizes the
results with a model, and the "Deep Research Agent" uses it.

In TS the tool is an Inngest function whose steps are `step.ai.infer` and `step.run`. Here it
is a tool created with `uses_step=True` whose handler makes its own steps through `ctx.step`:
under a durable engine (`agentkit_min.inngest`) each step is retried on failure and
memoised, so a retry never repeats finished model calls or crawls; without one (`ctx.step` is
None) the same steps simply run in process. (`agentkit_min.inngest.function_tool` also turns
a real Inngest function into a tool, the seed's exact shape.)

With OPENAI_API_KEY set everything uses gpt-4o-mini; without it the cassette
fixtures/examples/research_tool.json answers all four model requests.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult, Model, Step, ToolContext, create_agent, create_tool
from agentkit_min.messages import message_text, text_message

from _models import provider_model, replay
from _show import show

PAGES = {  # a stand-in for the web
    "sqlite wal mode": "In WAL mode SQLite appends changes to a write-ahead log; readers keep "
                       "reading the database while one writer appends.",
    "sqlite concurrency readers writers": "SQLite allows many concurrent readers but one writer "
                                          "at a time; WAL lets readers and the writer proceed together.",
    "sqlite checkpoint": "A checkpoint copies WAL pages back into the database file.",
}


async def durable(ctx: ToolContext, step_id: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(*args)` as a durable step when an engine is present, else just call it."""
    if ctx.step is not None:
        return await ctx.step.run(step_id, fn, *args)
    value = fn(*args)
    return await value if inspect.isawaitable(value) else value


def crawl(query: str) -> list[str]:
    """The pages whose title shares at least two words with the query."""
    words = set(query.lower().split())
    return [text for title, text in PAGES.items() if len(words & set(title.split())) >= 2]


def make_research_tool(model: Model) -> Any:
    async def ask(prompt: str) -> str:
        response = await model.infer([text_message("user", prompt)], [], "auto")
        return "".join(message_text(m) for m in response.output)

    async def research_web(args: dict[str, Any], ctx: ToolContext) -> str:
        queries_text = await durable(ctx, "generate-search-queries", ask,
                                     "From the given input, generate a list of search queries to "
                                     f"perform, one per line, nothing else.\n{args['input']}")
        queries = [q.strip("-* ").strip() for q in queries_text.splitlines() if q.strip()]
        results = await asyncio.gather(*(durable(ctx, f"crawl-web-{i}", crawl, q)
                                         for i, q in enumerate(queries)))
        pages = sorted({page for found in results for page in found})
        summary: str = await durable(ctx, "summarize-search-results", ask,
                                     "Summarize the following search results:\n" + "\n".join(pages))
        return summary

    return create_tool(
        name="research_web", description="Research a topic on the web and return a summary",
        parameters={"type": "object", "properties": {"input": {"type": "string"}},
                    "required": ["input"], "additionalProperties": False},
        handler=research_web,
        uses_step=True,  # its own steps make it durable; its call is not wrapped in another step
    )


def main(step: Step | None = None) -> AgentResult:
    """Ask the Deep Research Agent; `step` is a durable engine's step tools, or None."""
    model = provider_model("openai", "gpt-4o-mini")
    agent = create_agent(
        name="Deep Research Agent",
        system="You answer research questions. Call research_web once, then answer in two sentences.",
        model=model, tools=[make_research_tool(model)],
    )
    with replay("research_tool"):  # offline: fixtures/examples/research_tool.json
        return agent.run_sync("How does SQLite's WAL mode help concurrency?", max_iter=3, step=step)


if __name__ == "__main__":
    show(main())
