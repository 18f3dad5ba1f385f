"""Prints what agents did, one line per step, for the examples run as scripts.

    [Search]
      calls search({"query": "2024 Super Bowl"})
        -> {"data": [...]}
      says: The Chiefs won ...

Only used when an example runs as a script; `main()` itself never prints.
"""

from __future__ import annotations

import json
from typing import Any, Sequence, Union

import _bootstrap  # noqa: F401

from agentkit_min import AgentResult, NetworkRun
from agentkit_min.messages import message_text

Shown = Union[NetworkRun, AgentResult, Sequence[AgentResult]]


def lines(result: AgentResult, width: int = 300) -> list[str]:
    """The readable lines for one agent result: its text, tool calls and their results."""
    out = [f"[{result.agent_name}]"]
    answers = {r["tool"]["id"]: r["content"] for r in result.tool_calls}
    for message in result.output:
        if message["type"] == "text":
            text = message_text(message).strip().replace("\n", "\n        ")
            out.append(f"  says: {text}")
        elif message["type"] == "tool_call":
            for call in message["tools"]:
                out.append(f"  calls {call['name']}({_json(call['input'], width)})")
                if call["id"] in answers:
                    out.append(f"    -> {_json(answers[call['id']], width)}")
    return out


def show(what: Shown, *, state: bool = False) -> None:
    """Print a network run's results (and its state data with `state=True`) or agent results."""
    if isinstance(what, NetworkRun):
        results = what.state.results
    elif isinstance(what, AgentResult):
        results = [what]
    else:
        results = list(what)
    for result in results:
        print("\n".join(lines(result)))
    if state and isinstance(what, NetworkRun):
        print(f"state.data = {_json(what.state.data, 1000)}")


def _json(value: Any, width: int) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."
