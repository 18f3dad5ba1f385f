"""A code router: plain Python decides which agent runs next (supervised routing).

Mirrors the seed's "Concepts > Routers", "Creating a custom Router" / "Code-based Routers"
(also "Concepts > Networks", "Routing", and the "Network Router" reference): a classifier runs
first; if it says the input is a question, the writer answers; otherwise the network stops.

The router gets ONE argument: `args.input`, `args.network` (with `.state`), `args.stack`
(agents already queued), `args.call_count` (agent runs so far) and `args.last_result`. It
returns an Agent, a list of Agents, a routing agent, or None to stop. No LLM call is spent on
routing, so this is the fastest and most predictable router.
"""

from __future__ import annotations

import _bootstrap  # noqa: F401

from agentkit_min import Agent, NetworkRun, RouterArgs, create_agent, create_network
from agentkit_min.messages import message_text
from agentkit_min.testing import FunctionModel, ModelRequest

from _models import live_or
from _show import show


def classify_offline(request: ModelRequest) -> str:
    """Offline stand-in for the classifier's model: a question ends with '?'."""
    user = message_text(request.messages[-1])
    return "question" if user.rstrip().endswith("?") else "statement"


def classifier_and_writer() -> tuple[Agent, Agent]:
    """The two agents (the seed's "classifier and writer Agents definition...")."""
    classifier = create_agent(
        name="Classifier",
        description="Classifies the input as a question or a statement",
        system="Classify the user's input. Answer with exactly one word: question or statement.",
        model=live_or(FunctionModel(classify_offline)),
    )
    writer = create_agent(
        name="Writer",
        description="Answers questions in a short paragraph",
        system="Answer the user's question in two sentences.",
        model=live_or(FunctionModel(lambda request: "Tides are caused mainly by the Moon's gravity "
                                                    "pulling on the oceans; the Sun adds a smaller pull.")),
    )
    return classifier, writer


def main(prompt: str = "What causes the tides?") -> NetworkRun:
    classifier, writer = classifier_and_writer()

    def router(args: RouterArgs) -> Agent | None:
        # First call: use the classifier.
        if args.call_count == 0:
            return classifier
        # Retrieve the last message from the last agent's output.
        last = args.last_result.output[-1] if args.last_result and args.last_result.output else None
        content = message_text(last) if last else ""
        # Second call: if it's a question, use the writer.
        if args.call_count == 1 and "question" in content:
            return writer
        # Otherwise, we're done!
        return None

    network = create_network(name="Classify and write", agents=[classifier, writer], router=router)
    return network.run_sync(prompt)


if __name__ == "__main__":
    for prompt in ("What causes the tides?", "The tides are fascinating."):
        print(f"> {prompt}")
        show(main(prompt))
