"""Capacity per user: the seed's "Configuring Multi-tenancy" ("a concurrency per user").

The seed limits its network function to 10 concurrent runs per user:

    inngest.createFunction({ id: "deep-research-network",
                             concurrency: [{ key: "event.data.user_id", limit: 10 }] },
                           { event: "deep-research-network/run" },
                           async ({ event, step }) => network.run(event.data.input))

The Python twin is below (`deep_research_network_function`). Inngest enforces the limit per
distinct `event.data.user_id` before it calls the app, so one tenant's burst queues behind its
own runs, not other tenants'. "The same can be done to add throttling, rate limiting or
priority": pass `throttle=`, `rate_limit=`, `priority=` (or, with
`agentkit_min.inngest.network_function`, the same options as plain dicts).

    main()   offline: the function's registration (what Inngest reads the limit from) and
             one run per tenant with the SDK's mocked executor, each run's state carrying its
             user id. The limit itself is applied by Inngest's server, which cannot run here.
    python examples/deployment_multi_tenancy.py --serve [--port 3010]
             serve it at /api/inngest (see deployment_inngest.py)

Needs the Inngest SDK (`pip install -e '.[inngest]'` from a checkout). With OPENAI_API_KEY set
the agent uses gpt-4o; without it a test double answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import _bootstrap  # noqa: F401

from agentkit_min import Network, create_state
from agentkit_min.inngest import InngestStep

from deployment_inngest import research_network, serve_if_asked

if TYPE_CHECKING:
    import inngest


def deep_research_network_function(client: inngest.Inngest, network: Network[Any]) -> inngest.Function[Any]:
    """The seed's `deepResearchNetworkFunction`, at most 10 concurrent runs per user."""
    import inngest

    @client.create_function(
        fn_id="deep-research-network",
        trigger=inngest.TriggerEvent(event="deep-research-network/run"),
        concurrency=[inngest.Concurrency(key="event.data.user_id", limit=10)],
    )
    async def deep_research_network(ctx: inngest.Context) -> dict[str, Any]:
        state = create_state({"user_id": ctx.event.data["user_id"]})  # tools and routers see the tenant
        run = await network.run(str(ctx.event.data["input"]), state=state, step=InngestStep(ctx.step))
        return {"user_id": run.state.data["user_id"], "results": [r.export() for r in run.state.results]}

    return deep_research_network


def main() -> tuple[dict[str, Any], list[Any]]:
    """Returns (the function's registration config, one mocked run per tenant)."""
    import asyncio

    import inngest
    from inngest.experimental import mocked

    client = mocked.Inngest(app_id="my-agentkit-network", is_production=False)
    fn = deep_research_network_function(client, research_network())
    config = fn.get_config("http://127.0.0.1:3010/api/inngest").main.to_dict()
    assert isinstance(config, dict), config  # the SDK returns errors as values
    runs = []
    for user, question in (("user-a", "What does durable mean?"), ("user-b", "What does Inngest call?")):
        loop = asyncio.new_event_loop()  # the mocked executor runs on the current event loop
        asyncio.set_event_loop(loop)
        try:
            event = inngest.Event(name="deep-research-network/run", data={"input": question, "user_id": user})
            runs.append(mocked.trigger(fn, event, client))
        finally:
            asyncio.set_event_loop(None)
            loop.close()
    return config, runs


if __name__ == "__main__":
    if not serve_if_asked(deep_research_network_function):
        config, runs = main()
        print("registered concurrency:", config["concurrency"])
        for run in runs:
            print(run.output["user_id"], "->", run.output["results"][-1]["output"][0]["content"])
