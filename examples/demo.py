"""The flagship demo: a customer-support network with triage, specialists, tools and state.

    python3 examples/demo.py     # offline: replays fixtures/examples/demo.json (stdlib only)
    OPENAI_API_KEY=sk-... python3 examples/demo.py     # live, on gpt-4o-mini

Built from the seed's pieces ("Concepts": Agents, Tools, Networks, State, Routers, and
"Deterministic state routing"): a Triage agent is forced (`tool_choice`) to call
`classify_ticket`, which writes the ticket's category into typed state; a code router reads
that state and hands the ticket to the Billing or Technical Support agent, which works with its
own tools, one inference per network iteration, until it answers the customer in text.
Each step is printed as it happens, from the run's events (`publish=`); at the end the run's
trace is written as a page (`run.trace.page(path)`, spec/trace.md) and its path printed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Callable, TypedDict

import _bootstrap  # noqa: F401

from agentkit_min import (AgentKitError, Agent, NetworkRun, RouterArgs, ToolContext, create_agent, create_network,
                          create_state, create_tool)

from _models import is_live, provider_model, replay
from _show import printer


class Ticket(TypedDict):
    category: str
    priority: str
    summary: str


class SupportState(TypedDict, total=False):
    ticket: Ticket  # set by classify_ticket
    refunds: list[dict[str, Any]]  # appended by refund_charge


CHARGES = [  # stand-ins for the billing system and the knowledge base
    {"id": "ch_1", "userId": "user_123", "amount": 1200, "currency": "usd", "created": "2025-01-03",
     "description": "Pro plan, January"},
    {"id": "ch_2", "userId": "user_123", "amount": 1200, "currency": "usd", "created": "2025-01-03",
     "description": "Pro plan, January"},
    {"id": "ch_3", "userId": "user_123", "amount": 1200, "currency": "usd", "created": "2025-02-03",
     "description": "Pro plan, February"},
]
ARTICLES = {"export": "To export data, open Settings > Data > Export; exports are emailed as CSV.",
            "password": "Reset your password from the sign-in page with 'Forgot password'."}

TICKET = ("Hi, I'm user_123. I was charged twice for my Pro plan in January 2025. "
          "Could you refund the duplicate?")


def classify_ticket(args: Ticket, ctx: ToolContext) -> str:
    state: SupportState = ctx.network.state.data
    state["ticket"] = args
    return f"Ticket classified as {args['category']} ({args['priority']} priority)"


def list_charges(args: dict[str, Any], ctx: ToolContext) -> list[dict[str, Any]]:
    created = args["created"]  # null, or {"gte", "lte"} dates
    return [c for c in CHARGES if c["userId"] == args["userId"]
            and (created is None or created["gte"] <= c["created"] <= created["lte"])]


def refund_charge(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    charge = next((c for c in CHARGES if c["id"] == args["chargeId"]), None)
    if charge is None:
        raise ValueError(f"no charge {args['chargeId']!r}")  # the model reads this as an error result
    refund = {"refundId": f"re_{charge['id']}", "chargeId": charge["id"], "amount": charge["amount"],
              "reason": args["reason"], "status": "succeeded"}
    state: SupportState = ctx.network.state.data
    state.setdefault("refunds", []).append(refund)
    return refund


def search_knowledge_base(args: dict[str, Any], ctx: ToolContext) -> list[str]:
    return [text for topic, text in ARTICLES.items() if topic in args["query"].lower()]


def schema(required: dict[str, Any]) -> dict[str, Any]:
    """An object schema whose properties are all required (what OpenAI strict mode wants)."""
    return {"type": "object", "properties": required, "required": list(required),
            "additionalProperties": False}


STRING = {"type": "string"}
DATE = {"type": "string", "format": "date"}
NULLABLE_RANGE = {**schema({"gte": DATE, "lte": DATE}), "type": ["object", "null"]}  # optional = nullable
TOOLS = {tool.name: tool for tool in [
    create_tool(name="classify_ticket", description="Record the ticket's category and priority",
                parameters=schema({"category": {"type": "string", "enum": ["billing", "technical", "other"]},
                                   "priority": {"type": "string", "enum": ["low", "normal", "high"]},
                                   "summary": STRING}),
                handler=classify_ticket),
    create_tool(name="list_charges", description="List a user's charges, optionally within a date range",
                parameters=schema({"userId": STRING, "created": NULLABLE_RANGE}),
                handler=list_charges),
    create_tool(name="refund_charge", description="Refund one charge in full",
                parameters=schema({"chargeId": STRING, "reason": STRING}), handler=refund_charge),
    create_tool(name="search_knowledge_base", description="Search help-center articles",
                parameters=schema({"query": STRING}), handler=search_knowledge_base),
]}


def build_network() -> tuple[Agent, Agent, Agent, Callable[[RouterArgs], Agent | None]]:
    model = provider_model("openai", "gpt-4o-mini")
    triage = create_agent(
        name="Triage", description="Classifies incoming support tickets",
        system="You triage customer support tickets. Classify the ticket with classify_ticket.",
        model=model, tools=[TOOLS["classify_ticket"]], tool_choice="classify_ticket")
    billing = create_agent(
        name="Billing", description="Resolves billing questions: charges and refunds",
        system="You are a billing specialist. Look up the customer's charges with list_charges, "
               "refund a charge only when it is clearly a duplicate, then reply to the customer "
               "in two or three friendly sentences.",
        model=model, tools=[TOOLS["list_charges"], TOOLS["refund_charge"]])
    technical = create_agent(
        name="Technical Support", description="Answers how-to and technical questions",
        system="You are a technical support specialist. Search the knowledge base, then reply "
               "to the customer in two or three friendly sentences.",
        model=model, tools=[TOOLS["search_knowledge_base"]])

    def router(args: RouterArgs) -> Agent | None:
        state: SupportState = args.network.state.data
        if "ticket" not in state:
            return triage  # nothing is known yet: classify first
        last = args.last_result
        if last is not None and last.agent_name != "Triage" \
                and not any(m["type"] == "tool_call" for m in last.output):
            return None  # the specialist answered the customer: done
        return billing if state["ticket"]["category"] == "billing" else technical

    return triage, billing, technical, router


def main(publish: Callable[[dict[str, Any]], Any] | None = None) -> NetworkRun:
    triage, billing, technical, router = build_network()
    network = create_network(name="Support network", agents=[triage, billing, technical],
                             router=router, max_iter=8)  # a safety net for live runs
    with replay("demo"):  # offline: answers from fixtures/examples/demo.json
        return network.run_sync(TICKET, state=create_state(SupportState()), publish=publish)


PAGE = os.path.join(tempfile.gettempdir(), "agentkit-min-demo-trace.html")


def cli() -> int:
    """The command: the run's steps, where its trace page is, the outcome; a failed run (live,
    with no network or a wrong key) is one line saying why and where its trace page is."""
    print(f"> {TICKET}\n")
    try:
        run = main(publish=printer())
    except AgentKitError as exc:  # its message never holds the key (spec/semantics.md, errors)
        trace = getattr(exc, "trace", None)
        hint = " (unset OPENAI_API_KEY to replay the recorded run offline)" if is_live() else ""
        seen = f"\nwhat happened until then: {trace.page(PAGE)}" if trace is not None else ""
        print(f"\ndemo failed: {type(exc).__name__}: {exc}{hint}{seen}", file=sys.stderr)
        return 1
    state: SupportState = run.state.data
    refunds = ", ".join(f"{r['chargeId']} ({r['amount'] / 100:.2f} USD)" for r in state.get("refunds", []))
    print(f"\nwhat happened, step by step: {run.trace.page(PAGE)} (open it in a browser)")
    print(f"\nticket: {state['ticket']['category']}, {state['ticket']['priority']} priority; "
          f"refunds: {refunds or 'none'}; {len(run.state.results)} agent runs")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
