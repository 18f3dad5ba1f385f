"""A custom retry policy for a network's agents and tools: the seed's "Configuring Retries".

The seed turns its network into an Inngest function with `retries: 1`:

    inngest.createFunction({ id: "deep-research-network", retries: 1 },
                           { event: "deep-research-network/run" },
                           async ({ event, step }) => network.run(event.data.input))

The Python twin is below (`deep_research_network_function`). Passing
`step=InngestStep(ctx.step)` makes every inference and tool call its own memoised step: a
failure retries only the failed step, and completed ones are replayed from Inngest's memo, so
"your AgentKit network will now retry once on any failure happening during a single execution
cycle". `agentkit_min.inngest.network_function(client, network, fn_id=..., event=..., retries=1)`
builds the same function in one call.

    main()                      offline: the SDK's mocked executor runs the function while the
                                second inference fails once; it is retried and nothing that
                                already completed runs again
    python examples/deployment_retries.py --serve [--port 3010]
                                serve it at /api/inngest (see deployment_inngest.py; needs
                                INNGEST_SIGNING_KEY or INNGEST_DEV=1)

Needs the Inngest SDK (`pip install -e '.[inngest]'` from a checkout). With OPENAI_API_KEY set
the agent uses gpt-4o (and nothing is made to fail); without it a test double answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import _bootstrap  # noqa: F401

from agentkit_min import Network
from agentkit_min.errors import ModelConnectionError
from agentkit_min.inngest import InngestStep
from agentkit_min.testing import FunctionModel, ModelRequest

from _models import is_live
from deployment_inngest import offline_reply, research_network, serve_if_asked

if TYPE_CHECKING:
    import inngest


def deep_research_network_function(client: inngest.Inngest, network: Network[Any]) -> inngest.Function[Any]:
    """The seed's `deepResearchNetworkFunction` with `retries: 1`."""
    import inngest

    @client.create_function(fn_id="deep-research-network", retries=1,
                            trigger=inngest.TriggerEvent(event="deep-research-network/run"))
    async def deep_research_network(ctx: inngest.Context) -> dict[str, Any]:
        run = await network.run(str(ctx.event.data["input"]), step=InngestStep(ctx.step))
        return {"results": [r.export() for r in run.state.results]}

    return deep_research_network


class FlakyModel(FunctionModel):
    """The offline model, but its `fail_at`-th request (1-based) fails like a dropped connection."""

    def __init__(self, fail_at: int = 2) -> None:
        super().__init__(self.answer)
        self.fail_at = fail_at

    def answer(self, request: ModelRequest) -> Any:
        if len(self.requests) == self.fail_at:
            raise ModelConnectionError("connection reset by the provider (made up by the example)")
        return offline_reply(request)


def main() -> tuple[Any, Any]:
    """Run the function once with the mocked executor; returns (its result, the model)."""
    import asyncio

    import inngest
    from inngest.experimental import mocked

    model = None if is_live() else FlakyModel(fail_at=2)
    client = mocked.Inngest(app_id="my-agentkit-network", is_production=False)
    fn = deep_research_network_function(client, research_network(model))
    loop = asyncio.new_event_loop()  # the mocked executor runs on the current event loop
    asyncio.set_event_loop(loop)
    try:
        event = inngest.Event(name="deep-research-network/run",
                              data={"input": "How do durable retries work?"})
        return mocked.trigger(fn, event, client), model
    finally:
        asyncio.set_event_loop(None)
        loop.close()


if __name__ == "__main__":
    if not serve_if_asked(deep_research_network_function):
        result, model = main()
        print(f"status: {result.status.name}")
        if model is not None:
            first = sum(r.messages[-1]["type"] != "tool_result" for r in model.requests)
            print(f"model requests: first inference {first}x, second {len(model.requests) - first}x "
                  "(it failed once and was retried; the first was not repeated)")
        for entry in result.output["results"]:
            print(entry["agentName"], [m.get("content") or m.get("tools") for m in entry["output"]])
