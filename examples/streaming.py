"""Token streaming: print an agent's reply as the provider sends it (`agent.stream(...)`).

Goes beyond the seed: its "Agents" and "Tools" concepts (an agent with a `get_weather`
tool) are used unchanged, but AgentKit only publishes a reply after it has arrived.

    python3 examples/streaming.py             # offline: replays fixtures/openai/stream.json
    python3 examples/streaming.py anthropic   # or gemini (fixtures/<provider>/stream.json)
    OPENAI_API_KEY=sk-... python3 examples/streaming.py     # live

`async for event in agent.stream(question, max_iter=2)` yields the run's events as they happen:
`text.delta` for each piece of text as it arrives, `tool_call.arguments.delta` for each piece
of a tool call's arguments, `tool_call.output.delta` with what the tool returned. Breaking out
of the loop cancels the run. The same works for networks (`network.stream(...)`) and behind
`create_server` (its SSE endpoint relays these events). Offline, a constructed cassette holds
each provider's streamed bodies; the adapters decode them exactly as they decode a live stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import _bootstrap  # noqa: F401

from agentkit_min import Agent, AgentResult, ToolContext, create_agent, create_tool

from _models import is_live, provider_model

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}
QUESTION = "What's the weather in Paris right now?"
CASSETTES = Path(__file__).resolve().parent.parent / "fixtures"


def get_weather(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return {"city": args["city"], "temp_c": 18, "sky": "sunny"}  # a stand-in for a weather API


def weather_agent(provider: str) -> Agent:
    tool = create_tool(name="get_weather", description="The current weather in a city.",
                       parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                   "required": ["city"], "additionalProperties": False},
                       handler=get_weather)
    return create_agent(name="Weather", system="You answer weather questions; use get_weather.",
                        model=provider_model(provider, MODELS[provider], stream=None),  # None: the default,
                        tools=[tool])  # stream while someone listens (_models turns it off for the others)


async def stream(provider: str, write: Callable[[str], Any]) -> AgentResult:
    """Run the agent and `write` each token and tool step as it arrives."""
    events = weather_agent(provider).stream(QUESTION, max_iter=2)
    async for event in events:
        name, data = event["event"], event["data"]
        if name == "text.delta" or name == "tool_call.arguments.delta":
            write(data["delta"])
        elif name == "part.created" and data["type"] == "tool-call":
            write(f"\n[calls {data['toolName']}(")
        elif name == "part.completed" and data["type"] == "tool-call":
            write(")]")
        elif name == "tool_call.output.delta":
            write(f"\n[-> {data['delta']}]\n")
    assert events.result is not None
    return events.result


@contextlib.contextmanager
def offline(provider: str) -> Iterator[None]:
    """Replay fixtures/<provider>/stream.json unless the provider's API key is set."""
    if is_live(provider):
        yield
        return
    from agentkit_min.testing import play_cassette

    with play_cassette(CASSETTES / provider / "stream.json"):
        yield


def main(provider: str = "openai", write: Callable[[str], Any] | None = None) -> AgentResult:
    """Stream one question to `provider`'s model (offline by default); returns the result."""
    with offline(provider):
        return asyncio.run(stream(provider, write or (lambda text: None)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "openai", lambda text: print(text, end="", flush=True))
    print()
