"""A dynamic system prompt: built at run time from the network's state.

Mirrors the seed's "Concepts > Agents", "Dynamic system prompts": the Code writer's `system` is
a function of `{ network }` that adds the files already in `network.state.data.files` as
context, and "Static system prompts" (the Copy editor's plain string).

`system` may be a str or a function of ONE argument (`args.network`, `args.agent`), sync or
async, called before every inference.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import AgentArgs, AgentResult, create_agent, create_state
from agentkit_min.messages import message_text
from agentkit_min.testing import FunctionModel, ModelRequest

from _models import live_or
from _show import show

BASE_PROMPT = ("You are an expert TypeScript programmer. "
               "Given a set of asks, think step-by-step to plan clean, "
               "idiomatic TypeScript code, with comments and tests as necessary.")


async def code_writer_prompt(args: AgentArgs) -> str:
    """The base prompt, plus every file already saved in `network.state.data["files"]`."""
    files: dict[str, str] | None = args.network.state.data.get("files")
    if not files:
        return BASE_PROMPT
    context = "The following code already exists:"
    for name, content in files.items():
        context += f"<file name='{name}'>{content}</file>"
    return f"{BASE_PROMPT} {context}"


def offline_reply(request: ModelRequest) -> str:
    """Offline stand-in: says which files the system prompt showed it."""
    system = message_text(request.messages[0])
    seen = [part.split("'")[0] for part in system.split("<file name='")[1:]]
    return f"I can see: {', '.join(seen)}." if seen else "There is no code yet."


def main() -> list[AgentResult]:
    code_writer = create_agent(
        name="Code writer",
        description="An expert TypeScript programmer which can write and debug code.",
        system=code_writer_prompt,  # a function: evaluated for each run
        model=live_or(FunctionModel(offline_reply), "openai", "gpt-4o-mini"),
    )
    copy_editor = create_agent(  # a static system prompt, for simpler cases
        name="Copy editor",
        system="You are an expert copy editor. Given a draft article, you provide "
               "actionable improvements for spelling, grammar, punctuation, and formatting.",
        model=live_or(FunctionModel(lambda request: "Use 'its', not 'it's', here."), "openai", "gpt-4o-mini"),
    )
    ask = "What code exists so far? Answer in one sentence."
    empty: dict[str, Any] = {}
    with_files = {"files": {"sum.ts": "export const sum = (a: number, b: number) => a + b"}}
    return [
        code_writer.run_sync(ask, state=create_state(empty)),
        code_writer.run_sync(ask, state=create_state(with_files)),
        copy_editor.run_sync("The team shipped it's first release."),
    ]


if __name__ == "__main__":
    for result in main():
        print(f"system prompt: {message_text(result.prompt[0])}")
        show(result)
        print()
