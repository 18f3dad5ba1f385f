"""Prints what agents did, one line per step, for the examples run as scripts.

    [Search]
      calls search({"query": "2024 Super Bowl"})
        -> {"data": [...]}
      says: The Chiefs won ...

Only used when an example runs as a script; `main()` itself never prints.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence, Union

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


def printer(width: int = 300) -> Callable[[dict[str, Any]], None]:
    """A `publish` callback printing each step as it happens: `network.run(..., publish=printer())`.

    It reads the run events (agentkit_min.streaming): an agent starting, and each completed
    part: text, a tool call with its arguments, a tool's output.
    """
    def publish(chunk: dict[str, Any]) -> None:
        event, data = chunk["event"], chunk["data"]
        if event == "run.started" and data.get("scope") == "agent":
            print(f"[{data['name']}]", flush=True)
        elif event == "part.completed" and data.get("type") == "text":
            print(f"  says: {str(data['finalContent']).strip()}".replace("\n", "\n        "), flush=True)
        elif event == "part.completed" and data.get("type") == "tool-call":
            print(f"  calls {data['toolName']}({_clip(data['finalContent'], width)})", flush=True)
        elif event == "part.completed" and data.get("type") == "tool-output":
            print(f"    -> {_clip(data['finalContent'], width)}", flush=True)

    return publish


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
