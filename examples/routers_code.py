"""A code router: plain Python decides which agent runs next (supervised routing).

Mirrors the seed's "Concepts > Routers", "Creating a custom Router" / "Code-based Routers"
(also "Concepts > Networks", "Routing", and the "Network Router" reference): a classifier runs
first; if it says the input is a question, the writer answers; otherwise the network stops.

The router gets ONE argument: `args.input`, `args.network` (with `.state`), `args.stack`
(agents already queued), `args.call_count` (agent runs so far) and `args.last_result`. It
returns an Agent, a list of Agents, a routing agent, or None to stop. No LLM call is spent on
routing, so this is the fastest and most predictable router.

With OPENAI_API_KEY set the agents use gpt-4o-mini; without it the cassette
fixtures/examples/routers_code.json answers the same requests.
"""

from __future__ import annotations

import _bootstrap  # noqa: F401

from agentkit_min import Agent, Model, NetworkRun, RouterArgs, create_agent, create_network
from agentkit_min.messages import message_text

from _models import provider_model, replay
from _show import show

QUESTION = "What causes the tides?"
STATEMENT = "The tides are fascinating."


def classifier_and_writer(model: Model) -> tuple[Agent, Agent]:
    """The two agents (the seed's "classifier and writer Agents definition...")."""
    classifier = create_agent(
        name="Classifier",
        description="Classifies the input as a question or a statement",
        system="Classify the user's input. Answer with exactly one lowercase word: question or statement.",
        model=model,
    )
    writer = create_agent(
        name="Writer",
        description="Answers questions in a short paragraph",
        system="Answer the user's question in at most two sentences.",
        model=model,
    )
    return classifier, writer


def run(prompt: str) -> NetworkRun:
    classifier, writer = classifier_and_writer(provider_model("openai", "gpt-4o-mini"))

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


def main() -> list[NetworkRun]:
    """Run the network on a question, then on a statement."""
    with replay("routers_code"):
        return [run(QUESTION), run(STATEMENT)]


if __name__ == "__main__":
    for prompt, result in zip((QUESTION, STATEMENT), main()):
        print(f"> {prompt}")
        show(result)
