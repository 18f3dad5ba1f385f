"""The customer support agent and its `list_charges` tool.

Mirrors the seed's "Concepts > Tools": "Creating a Tool" (`list_charges` with a `userId` and a
`created` date range) and "Optional parameters" (optional = nullable AND required, so OpenAI
strict mode still accepts the schema), plus "Concepts > Agents", "Adding tools" (the
"Customer support specialist" agent with `tools: [listChargesTool]`).

The seed's zod schema becomes a JSON Schema dict; the handler gets the parsed arguments and a
context (`ctx.network`, `ctx.agent`, `ctx.step`). Standalone, `run(..., max_iter=3)` loops:
the model calls the tool, reads its result, then answers.

With OPENAI_API_KEY set this calls gpt-4o-mini; without it, the cassette
fixtures/examples/tools_list_charges.json answers the same requests.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult, ToolContext, create_agent, create_tool

from _models import provider_model, replay
from _show import show

CHARGES = [  # a stand-in for the billing database
    {"id": "ch_1", "userId": "user_123", "amount": 2000, "created": "2024-01-03"},
    {"id": "ch_2", "userId": "user_123", "amount": 2000, "created": "2024-01-04"},
    {"id": "ch_3", "userId": "user_123", "amount": 1500, "created": "2024-02-10"},
    {"id": "ch_4", "userId": "user_999", "amount": 9900, "created": "2024-01-05"},
]

DATE = {"type": "string", "format": "date"}


def list_charges_handler(args: dict[str, Any], ctx: ToolContext) -> list[dict[str, Any]]:
    """The user's charges, within `created.gte`..`created.lte` when a range is given."""
    created = args["created"]  # None when the model passed no range (the nullable parameter)
    return [c for c in CHARGES
            if c["userId"] == args["userId"]
            and (created is None or created["gte"] <= c["created"] <= created["lte"])]


list_charges = create_tool(
    name="list_charges",
    description="Returns all of a user's charges. Call this whenever you need to find one or "
                "more charges between a date range.",
    parameters={
        "type": "object",
        "properties": {
            "userId": {"type": "string"},
            "created": {  # `.nullable()`: may be null, but must be present
                "type": ["object", "null"],
                "properties": {"gte": DATE, "lte": DATE},
                "required": ["gte", "lte"],
                "additionalProperties": False,
            },
        },
        "required": ["userId", "created"],
        "additionalProperties": False,
    },
    handler=list_charges_handler,
)

ASK = "I'm user_123. Why was I charged twice in early January 2024?"


def main() -> AgentResult:
    support_agent = create_agent(
        name="Customer support specialist",
        system="You are an customer support specialist. Use list_charges to look up a user's "
               "charges before you answer questions about billing.",
        model=provider_model("openai", "gpt-4o-mini"),
        tools=[list_charges],
    )
    with replay("tools_list_charges"):  # offline: fixtures/examples/tools_list_charges.json
        return support_agent.run_sync(ASK, max_iter=3)


if __name__ == "__main__":
    show(main())
