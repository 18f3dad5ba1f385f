"""Routing on state: the router reads `network.state.data` and the last result.

Mirrors the seed's "Concepts > Routers", "Using state in Routing": stop once
`state.data.solution` is set; send the work to the context agent when the last answer says
it needs more context; otherwise to the math agent. Tools are what write the state: the math
agent's `calculate` stores the solution, the context agent's `lookup` finds missing facts.
"""

from __future__ import annotations

import operator
from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import Agent, NetworkRun, RouterArgs, ToolContext, create_agent, create_network, create_tool
from agentkit_min.messages import message_text
from agentkit_min.testing import ScriptedModel, tool_call

from _models import live_or
from _show import show

FACTS = {"sales tax rate": "The sales tax rate is 7%."}
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def calculate(args: dict[str, Any], ctx: ToolContext) -> float:
    """Compute `a op b` and store it as the solution."""
    solution: float = round(OPS[args["op"]](args["a"], args["b"]), 2)
    ctx.network.state.data["solution"] = solution
    return solution


def lookup(args: dict[str, Any], ctx: ToolContext) -> str:
    return FACTS.get(args["topic"].lower(), "Nothing found.")


NUMBERS = {"type": "number"}


def main(prompt: str = "How much does a $100 item cost once sales tax is added?") -> NetworkRun:
    math_agent = create_agent(
        name="Math", description="Solves arithmetic problems",
        system="Solve the problem with the calculate tool. If a fact is missing, "
               "say 'I need more context:' followed by what is missing.",
        model=live_or(ScriptedModel([
            "I need more context: what is the sales tax rate?",
            tool_call("calculate", {"a": 100, "op": "*", "b": 1.07}),
        ])),
        tools=[create_tool(
            name="calculate", description="Compute a op b",
            parameters={"type": "object", "required": ["a", "op", "b"], "additionalProperties": False,
                        "properties": {"a": NUMBERS, "b": NUMBERS,
                                       "op": {"type": "string", "enum": list(OPS)}}},
            handler=calculate)],
    )
    context_agent = create_agent(
        name="Context", description="Looks up facts the math agent needs",
        system="Look up the fact the math agent asked for with the lookup tool.",
        model=live_or(ScriptedModel([tool_call("lookup", {"topic": "sales tax rate"})])),
        tools=[create_tool(
            name="lookup", description="Look up a fact by topic",
            parameters={"type": "object", "properties": {"topic": {"type": "string"}},
                        "required": ["topic"], "additionalProperties": False},
            handler=lookup)],
    )

    def router(args: RouterArgs) -> Agent | None:
        # Check if we've solved the problem: we're done, return None to stop the network.
        if args.network.state.data.get("solution") is not None:
            return None
        # Retrieve the last message from the output.
        last = args.last_result.output[-1] if args.last_result and args.last_result.output else None
        content = message_text(last) if last else ""
        # Check the last result to decide what to do next.
        if "need more context" in content.lower():
            return context_agent
        return math_agent

    network = create_network(name="Math network", agents=[math_agent, context_agent],
                             router=router, max_iter=6)
    return network.run_sync(prompt)


if __name__ == "__main__":
    show(main(), state=True)
