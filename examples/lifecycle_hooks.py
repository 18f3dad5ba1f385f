"""Lifecycle hooks: change the prompt before inference, read the output after.

Mirrors the seed's "Concepts > Agents", "Lifecycle hooks": a Code writer whose `onStart`
"dynamically alter[s] prompts using Network state and history" and returns `{ prompt, history }`.
Here each hook gets ONE argument object (`args.prompt`, `args.history`, `args.network.state`):

    on_start(args)     before the inference: return {"prompt": ..., "history": ...} to change them
    on_response(args)  after the inference, before tools: parse or edit `args.result`
    on_finish(args)    after tools: inspect the final result (what a network stores)
"""

from __future__ import annotations

import re
from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult, ResultArgs, StartArgs, State, create_agent, create_state
from agentkit_min.messages import Message, message_text, text_message
from agentkit_min.testing import ScriptedModel

from _models import live_or
from _show import show


def on_start(args: StartArgs) -> dict[str, Any]:
    """Add the team's style guide from state to the system prompt; keep only recent history."""
    prompt, history = list(args.prompt), list(args.history)
    style = args.network.state.data.get("style_guide")
    if style:
        system = prompt[0]
        prompt[0] = text_message("system", f"{message_text(system)}\nFollow this style guide: {style}")
    return {"prompt": prompt, "history": history[-2:]}  # the last exchange is enough context


def on_response(args: ResultArgs) -> AgentResult:
    """Parse `<file>` blocks out of the answer into `state.data["files"]`."""
    answer = "".join(message_text(m) for m in args.result.output)
    files = args.network.state.data.setdefault("files", {})
    for name, body in re.findall(r"<file name='([^']+)'>(.*?)</file>", answer, re.S):
        files[name] = body.strip()
    return args.result


def on_finish(args: ResultArgs) -> None:
    """Count finished runs (returning None keeps the result as it is)."""
    data = args.network.state.data
    data["runs"] = data.get("runs", 0) + 1


EARLIER: list[Message] = [  # an earlier conversation, seeded into the state's history
    text_message("user", "What's our stack?"),
    text_message("assistant", "Node 20 and TypeScript 5."),
    text_message("user", "Which test runner?"),
    text_message("assistant", "vitest."),
]

OFFLINE_REPLY = "<file name='slugify.ts'>export const slugify = (s: string): string =>\n" \
                "  s.toLowerCase().trim().replace(/[^a-z0-9]+/g, '-')</file>"


def main() -> tuple[AgentResult, State[Any]]:
    agent = create_agent(
        name="Code writer",
        description="An expert TypeScript programmer which can write and debug code.",
        system="You are an expert TypeScript programmer. Answer with <file name='...'>...</file> tags.",
        model=live_or(ScriptedModel([OFFLINE_REPLY]), "openai", "gpt-4o-mini"),
        lifecycle={"on_start": on_start, "on_response": on_response, "on_finish": on_finish},
    )
    state = create_state({"style_guide": "arrow functions, no semicolons"}, messages=EARLIER)
    result = agent.run_sync("Write a slugify function.", state=state)
    return result, state


if __name__ == "__main__":
    result, state = main()
    print("system prompt sent:", message_text(result.prompt[0]))
    print("history sent:", [message_text(m) for m in result.history])
    show(result)
    print("state.data =", state.data)
