"""The Code writer agent: one agent, one prompt, one answer.

Mirrors the seed's "Concepts > Agents": "Creating an Agent" (a name, a system prompt and a
model, `openai('gpt-4o-mini')`), "Agent descriptions" (the description networks show the
router) and `codeWriterAgent.run('Write a typescript function that removes unnecessary
whitespace')`.

With OPENAI_API_KEY set this calls gpt-4o-mini; without it, the same OpenAI request is
answered from the cassette fixtures/examples/agents_code_writer.json.
"""

from __future__ import annotations

import re

import _bootstrap  # noqa: F401  (runs from a checkout with no install)

from agentkit_min import AgentResult, create_agent
from agentkit_min.messages import message_text

from _models import provider_model, replay
from _show import show

SYSTEM = (
    "You are an expert TypeScript programmer.  Given a set of asks, you think step-by-step to plan clean, "
    "idiomatic TypeScript code, with comments and tests as necessary."
    "Do not respond with anything else other than the following XML tags:"
    "- If you would like to write code, add all code within the following tags "
    "(replace $filename and $contents appropriately):"
    "  <file name='$filename.ts'>$contents</file>"
)

ASK = "Write a typescript function that removes unnecessary whitespace"


def files_in(result: AgentResult) -> dict[str, str]:
    """The `<file name='...'>...</file>` blocks of the agent's answer, by file name."""
    answer = "".join(message_text(m) for m in result.output)
    blocks = re.findall(r"<file name='([^']+)'>(.*?)</file>", answer, re.S)
    return {name: body.strip() for name, body in blocks}


def main() -> AgentResult:
    code_writer = create_agent(
        name="Code writer",
        description="An expert TypeScript programmer which can write and debug code. "
                    "Call this when custom code is required to complete a task.",
        system=SYSTEM,
        model=provider_model("openai", "gpt-4o-mini"),
    )
    with replay("agents_code_writer"):
        # One inference: the system prompt first, then the ask as the user message.
        return code_writer.run_sync(ASK)


if __name__ == "__main__":
    result = main()
    show(result)
    print("files written:", ", ".join(files_in(result)) or "none")
