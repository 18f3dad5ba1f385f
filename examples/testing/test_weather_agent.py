"""Testing your own agent offline: record its model traffic once, replay it on every run.

    pytest examples/testing                     # replays fixtures/cassettes/test_weather_agent/
    pytest examples/testing --record-mode=all   # re-records (here against conftest.py's fake)

The marker runs the test inside the cassette named after it; with `CI` set the default record
mode is `none`, so a CI run never reaches a provider. The committed cassette was recorded by
agentkit-min's recorder against the loopback fake provider of conftest.py, not from OpenAI.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from agentkit_min import Agent, RouterArgs, create_agent, create_network, create_tool
from agentkit_min.cassette_record import Recorder
from agentkit_min.models import openai


def get_weather(args: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"city": args["city"], "temp_c": 21, "sky": "sunny"}


WEATHER = create_tool(name="get_weather", description="Current weather for a city.", handler=get_weather,
                      parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                  "required": ["city"], "additionalProperties": False})


def ask(question: str) -> Any:
    # The key is never written to the cassette; replaying needs some string, not a real key.
    model = openai("gpt-4o-mini", api_key=os.environ.get("OPENAI_API_KEY") or "sk-example-not-a-real-key")
    agent = create_agent(name="weather", system="Use get_weather, then answer in one sentence.",
                         model=model, tools=[WEATHER])

    def router(args: RouterArgs) -> Agent | None:  # run the agent until it answers without tools
        return agent if args.last_result is None or args.last_result.tool_calls else None

    return create_network(name="weather", agents=[agent], router=router, max_iter=4).run_sync(question)


@pytest.mark.agentkit_cassette
def test_the_agent_checks_the_weather(agentkit_cassette: Recorder) -> None:
    run = ask("What's the weather in Paris?")
    first, last = run.state.results
    assert [c["tool"]["input"] for c in first.tool_calls] == [{"city": "Paris"}]
    assert first.tool_calls[0]["content"] == {"data": {"city": "Paris", "temp_c": 21, "sky": "sunny"}}
    assert "sunny" in str(last.output[-1].get("content"))
    assert len(agentkit_cassette.requests) == 2  # two inferences, both answered by the cassette
