"""A support network whose technical agent can ask a human developer and wait for the answer.

Mirrors the seed's "Advanced Patterns > Human in the Loop": the `ask_developer` tool waits
(`step.wait_for_event`, up to 4 hours) for an "app/support.ticket.developer-response" event
matching the ticket's id; a Customer Support and a Technical Support agent, routed by a
supervisor routing agent; and the network run inside an Inngest function triggered by
"app/support.ticket.created", which first fetches the ticket in a step.

Waiting for a human needs a durable engine: under Inngest the run pauses (for hours, with no
process held) and resumes when the event arrives. Without one, `ctx.step` is None and the tool
answers as the seed does, with an error the model reads and works around:

    main()          runs the network in process (no Inngest): ask_developer says it can't wait
    main_inngest()  runs the seed's Inngest function with the SDK's mocked executor, the
                    developer's answer stubbed in (needs the Inngest SDK: from a checkout,
                    `pip install -e '.[inngest]'`)

In production, serve `support_workflow(client)` with the Inngest SDK's framework adapter
(`deployment_inngest.create_app(client, [fn])` does it with FastAPI at /api/inngest) and send
the developer's reply as an event.
Without the ticket lookup, `agentkit_min.inngest.network_function(client, support_network())`
makes the network itself the function (event data `{"input": ...}`).

With OPENAI_API_KEY set the agents use gpt-4o-mini; without it the cassettes
fixtures/examples/support_human_in_the_loop*.json answer the model requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import _bootstrap  # noqa: F401

from agentkit_min import (AgentArgs, Network, NetworkRun, ResultArgs, ToolContext, create_agent,
                          create_network, create_routing_agent, create_tool)
from agentkit_min.inngest import InngestStep, match
from agentkit_min.messages import message_text

from _models import provider_model, replay
from _show import show

if TYPE_CHECKING:
    import inngest

TICKETS = {"T-1001": {"id": "T-1001", "title": "CSV export fails with error 500 since yesterday's release"}}
KNOWLEDGE_BASE = {"export": "Exports: Settings > Data > Export. Large exports are emailed as CSV."}
RELEASE_NOTES = {"export": "v2.14 (yesterday): moved CSV export to the new background job queue."}


def get_ticket_details(ticket_id: str) -> dict[str, Any]:
    return TICKETS.get(ticket_id) or {"error": f"no ticket {ticket_id}"}


def lookup(table: dict[str, str]) -> Any:
    def search(args: dict[str, Any], ctx: ToolContext) -> list[str]:
        return [text for topic, text in table.items() if topic in args["query"].lower()]
    return search


async def ask_developer(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    if ctx.step is None:
        return {"error": "This tool requires step context"}
    # Example: send a Slack message to the developer here, then wait for their response event.
    developer_response = await ctx.step.wait_for_event(
        "developer.response",
        event="app/support.ticket.developer-response",
        timeout=4 * 3600,  # seconds: the seed's "4h"
        if_exp=match("data.ticketId"),  # the reply's ticketId must equal the triggering event's
    )
    if developer_response is None:
        return {"error": "No developer response provided"}
    return {"developerResponse": developer_response["data"]["answer"],
            "responseTime": developer_response["data"]["timestamp"]}


ask_developer_tool = create_tool(
    name="ask_developer",
    description="Ask a developer for input on a technical issue",
    parameters={
        "type": "object",
        "properties": {
            "question": {"type": "string", "description": "The technical question for the developer"},
            "context": {"type": "string", "description": "Additional context about the issue"},
        },
        "required": ["question", "context"],
        "additionalProperties": False,
    },
    handler=ask_developer,
    uses_step=True,  # it waits through ctx.step itself, so its call is not wrapped in a step
)


def query_tool(name: str, description: str, table: dict[str, str]) -> Any:
    return create_tool(name=name, description=description, handler=lookup(table),
                       parameters={"type": "object", "properties": {"query": {"type": "string"}},
                                   "required": ["query"], "additionalProperties": False})


def supervisor_prompt(args: AgentArgs) -> str:
    ran = [r.agent_name for r in args.network.state.results]
    last = args.network.state.results[-1] if ran else None
    answered = last is not None and not any(m["type"] == "tool_call" for m in last.output)
    return ("You supervise a support team: 'Customer Support' for general questions, "
            "'Technical Support' for critical or technical tickets. "
            f"Agents that ran so far: {', '.join(ran) or 'none'}. "
            f"{'The last agent has replied to the customer. ' if answered else ''}"
            "Reply with only the name of the agent that should act next, "
            "or 'done' when the customer has received a reply.")


def on_route(args: ResultArgs) -> list[str]:
    names = [message_text(m).strip() for m in args.result.output if m["type"] == "text"]
    return [name for name in names if name in args.network.agents]


def support_network() -> Network[Any]:
    model = provider_model("openai", "gpt-4o-mini")
    customer_support = create_agent(
        name="Customer Support",
        description="I am a customer support agent that helps customers with their inquiries.",
        system="You are a helpful customer support agent.\nYour goal is to assist customers with "
               "their questions and concerns.\nBe professional, courteous, and thorough in your responses.",
        model=model,
        tools=[query_tool("search_knowledge_base", "Search the help-center articles", KNOWLEDGE_BASE)],
    )
    technical_support = create_agent(
        name="Technical Support",
        description="I am a technical support agent that helps critical tickets.",
        system="You are a technical support specialist.\nYour goal is to help resolve critical tickets.\n"
               "Use your expertise to diagnose problems and suggest solutions.\n"
               "If you need developer input, use the ask_developer tool.",
        model=model,
        tools=[query_tool("search_latest_release_notes", "Search the latest release notes", RELEASE_NOTES),
               ask_developer_tool],
    )
    supervisor = create_routing_agent(
        name="Supervisor", description="Routes tickets to the right support agent",
        system=supervisor_prompt, lifecycle={"on_route": on_route})
    return create_network(name="Support Network", agents=[customer_support, technical_support],
                          default_model=model, router=supervisor, max_iter=8)


def main() -> NetworkRun:
    """Without Inngest: `ctx.step` is None, so ask_developer cannot wait for a human."""
    ticket = get_ticket_details("T-1001")
    with replay("support_human_in_the_loop"):
        return support_network().run_sync(ticket["title"])


def support_workflow(client: inngest.Inngest) -> inngest.Function[Any]:
    """The seed's `supportAgentWorkflow` as an Inngest function of `client`."""
    import inngest

    @client.create_function(fn_id="support-agent-workflow",
                            trigger=inngest.TriggerEvent(event="app/support.ticket.created"))
    async def workflow(ctx: inngest.Context) -> dict[str, Any]:
        async def fetch_ticket() -> dict[str, Any]:
            return get_ticket_details(str(ctx.event.data["ticketId"]))

        ticket: dict[str, Any] = await ctx.step.run("get_ticket_details", fetch_ticket)
        if "error" in ticket:
            raise inngest.NonRetriableError(f"Ticket not found: {ticket['error']}")
        run = await support_network().run(ticket["title"], step=InngestStep(ctx.step))
        return {"response": [r.export() for r in run.state.results], "ticket": ticket}

    return workflow


def main_inngest() -> Any:
    """Trigger the workflow with Inngest's mocked executor; a developer's answer is stubbed in."""
    import asyncio

    import inngest
    from inngest.experimental import mocked

    client = mocked.Inngest(app_id="support-agent", is_production=False)
    answer = inngest.Event(name="app/support.ticket.developer-response",
                           data={"ticketId": "T-1001", "timestamp": "2025-01-15T10:42:00Z",
                                 "answer": "The v2.14 export job has a bug; it is fixed in v2.14.1, "
                                           "deploying within the hour. Retrying the export after "
                                           "that will work."})
    loop = asyncio.new_event_loop()  # the mocked executor runs on the current event loop
    asyncio.set_event_loop(loop)
    try:
        with replay("support_human_in_the_loop_inngest"):
            ticket_created = inngest.Event(name="app/support.ticket.created", data={"ticketId": "T-1001"})
            return mocked.trigger(support_workflow(client), ticket_created, client,
                                  step_stubs={"developer.response": answer})
    finally:
        asyncio.set_event_loop(None)
        loop.close()


if __name__ == "__main__":
    print("--- without Inngest (ctx.step is None)")
    show(main())
    try:
        import inngest  # noqa: F401
    except ImportError:
        print("--- install the Inngest SDK (from a checkout: pip install -e '.[inngest]') "
              "to also run it as an Inngest function")
    else:
        print("--- as an Inngest function (mocked executor, developer answer stubbed)")
        result = main_inngest()
        for entry in result.output["response"]:
            from agentkit_min import AgentResult

            show(AgentResult.from_dict(entry))
