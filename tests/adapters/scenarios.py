"""The cassette scenarios: what each cassette in `fixtures/<provider>/` exercises.

Shared by the replay tests and by `scripts/record.py`, which runs the same scenarios against
the live APIs (`make record`) or against hand-built responses (`--construct`). Each scenario
is a conversation driven by `drive()`: infer, run the requested tools with fixed results,
send the results back, until the model answers without tool calls or `turns` runs out.
`network` is different: two agents with tools in a network (`run_network`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from agentkit_min import create_agent, create_network, create_tool
from agentkit_min.messages import JSON, Message, text_message, tool_result_message
from agentkit_min.model import ModelResponse
from agentkit_min.models import ProviderModel, anthropic, gemini, grok, openai
from agentkit_min.network import NetworkRun
from agentkit_min.tool import Tool, ToolContext

PROVIDERS = ("openai", "anthropic", "gemini", "grok")
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "grok": "grok-3-mini"}
FACTORIES: dict[str, Callable[..., ProviderModel]] = {
    "openai": openai, "anthropic": anthropic, "gemini": gemini, "grok": grok}
ENV_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
            "gemini": "GEMINI_API_KEY", "grok": "XAI_API_KEY"}

TEMPERATURES = {"Paris": 21, "Tokyo": 18}


def weather(city: str) -> dict[str, JSON]:
    """The fixed result of every get_weather call."""
    return {"city": city, "temp_c": TEMPERATURES.get(city, 20), "sky": "sunny"}


def _weather_handler(args: Any, ctx: ToolContext) -> dict[str, JSON]:
    return weather(str(args["city"]))


def _save_handler(args: Any, ctx: ToolContext) -> dict[str, JSON]:
    ctx.network.state.data["note"] = args["text"]
    return {"saved": True, "chars": len(str(args["text"]))}


WEATHER = create_tool(
    name="get_weather", description="Get the current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"], "additionalProperties": False},
    handler=_weather_handler)
SAVE_NOTE = create_tool(
    name="save_note", description="Save the final note for the user.",
    parameters={"type": "object", "properties": {"text": {"type": "string"}},
                "required": ["text"], "additionalProperties": False},
    handler=_save_handler)


def call(id: str, name: str, **arguments: JSON) -> dict[str, Any]:
    """A scripted tool call for `fakes.response`."""
    return {"id": id, "name": name, "arguments": arguments}


@dataclass
class Scenario:
    """One cassette: the conversation, and the replies used to construct it."""

    name: str
    messages: list[Message]
    replies: list[dict[str, Any]] = field(default_factory=list)
    """Constructed replies, one per request; providers render them (tests/adapters/fakes.py)."""
    tools: Sequence[Tool] = ()
    tool_choice: str = "auto"
    params: dict[str, Any] = field(default_factory=dict)
    turns: int = 1
    error: tuple[int, str] | None = None
    """(status, kind) for error scenarios: the constructed response is that error."""
    api_key: str | None = None
    """A deliberately wrong key (401 scenarios) when recording for real."""


def _user(text: str) -> Message:
    return text_message("user", text)


def scenarios(provider: str) -> list[Scenario]:
    """The single-model scenarios recorded for `provider` (the network one is separate)."""
    ids = _ids(provider)
    parallel = {"parallel_tool_calls": True} if provider in ("openai", "grok") else {}
    weather_system = text_message("system", "You answer weather questions. Always use the "
                                            "get_weather tool, once per city, before answering.")
    out = [
        Scenario("text", [_user("Say hello in one short sentence.")],
                 [{"text": "Hello! How can I help you today?"}]),
        Scenario("system_prompt", [text_message("system", "You are a pirate. Answer in one short sentence."),
                                   _user("Say hello.")],
                 [{"text": "Ahoy, matey! Welcome aboard!"}]),
        Scenario("tool_call", [weather_system, _user("What is the weather in Paris?")],
                 [{"tool_calls": [call(ids[0], "get_weather", city="Paris")]},
                  {"text": "It is sunny and 21°C in Paris."}], tools=[WEATHER], turns=2),
        Scenario("parallel_tool_calls", [weather_system, _user("What is the weather in Paris and in Tokyo?")],
                 [{"text": "I'll check both cities.", "with_ids": True,
                   "tool_calls": [call(ids[1], "get_weather", city="Paris"),
                                  call(ids[2], "get_weather", city="Tokyo")]},
                  {"text": "Paris is sunny at 21°C and Tokyo is sunny at 18°C."}],
                 tools=[WEATHER], params=parallel, turns=2),
        Scenario("forced_tool_choice", [_user("Tell me something about Paris.")],
                 [{"tool_calls": [call(ids[3], "get_weather", city="Paris")], "finish_reason": "stop"}],
                 tools=[WEATHER], tool_choice="get_weather"),
        Scenario("error_401", [_user("Hi")], error=(401, ""), api_key="sk-invalid-key-for-recording"),
        Scenario("error_429", [_user("Hi")], error=(429, "")),
        Scenario("error_400", [_user("Hi")], error=(400, ""), params={"temperature": 5}),
        Scenario("error_500", [_user("Hi")], error=(500, "")),
    ]
    if provider == "anthropic":
        out.append(Scenario("error_529", [_user("Hi")], error=(529, "")))
    if provider in ("gemini", "grok"):  # what a wrong key really gets: a 400, not a 401
        out.append(Scenario("error_400_bad_key", [_user("Hi")], error=(400, "bad_key"),
                            api_key="invalid-key-for-recording"))
    return out


def _ids(provider: str) -> list[str]:
    if provider == "anthropic":
        return [f"toolu_constructed{i:02d}" for i in range(10)]
    if provider == "grok":
        return [f"call-0f7c3a52-{i}" for i in range(10)]
    if provider == "gemini":
        return [f"gemini-call-{i}" for i in range(10)]
    return [f"call_constructed{i:02d}" for i in range(10)]


async def drive(model: ProviderModel, scenario: Scenario) -> list[ModelResponse]:
    """Run the scenario's conversation: infer, answer tool calls, repeat up to `turns`."""
    messages = list(scenario.messages)
    responses: list[ModelResponse] = []
    for _ in range(scenario.turns):
        response = await model.infer(messages, scenario.tools, scenario.tool_choice)
        responses.append(response)
        calls = [t for m in response.output if m["type"] == "tool_call" for t in m["tools"]]
        if not calls:
            break
        messages += response.output
        messages += [tool_result_message(t, {"data": weather(str(t["input"]["city"]))}) for t in calls]
    return responses


# --- the network scenario: two agents with tools --------------------------------------------

NETWORK_INPUT = "Plan a picnic in Paris: check the weather, then save a short note."


def network_replies(provider: str) -> list[dict[str, Any]]:
    """Constructed replies of the network scenario, in request order."""
    ids = _ids(provider)
    replies: list[dict[str, Any]] = [
        {"tool_calls": [call(ids[5], "get_weather", city="Paris")]},
        {"text": "Paris: sunny, 21°C. Good picnic weather."},
        {"tool_calls": [call(ids[6], "save_note", text="Picnic in Paris: sunny, 21°C.")]},
        {"text": "Saved your picnic note."},
    ]
    if provider == "anthropic":  # extended thinking is on: every reply opens with a thinking block
        for n, reply in enumerate(replies):
            reply["thinking"] = f"Step {n + 1}: decide whether a tool is needed."
    return replies


def network_params(provider: str) -> dict[str, Any]:
    """Anthropic runs with extended thinking so thinking blocks must survive the round trip."""
    if provider == "anthropic":
        return {"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}
    return {}


def run_network(model: ProviderModel) -> NetworkRun:
    """Researcher (get_weather) then writer (save_note); each agent loops while it calls tools."""
    researcher = create_agent(name="researcher", description="Finds the weather.",
                              system="You check the weather with get_weather, then state it in one sentence.",
                              tools=[WEATHER])
    writer = create_agent(name="writer", description="Saves notes.",
                          system="You save a one-line note with save_note, then confirm briefly.",
                          tools=[SAVE_NOTE])

    def router(args: Any) -> Any:
        last = args.last_result
        if last is None:
            return researcher
        if last.tool_calls:  # the agent asked for tools: let it read their results
            return researcher if last.agent_name == "researcher" else writer
        return writer if last.agent_name == "researcher" else None

    network = create_network(name="picnic", agents=[researcher, writer], default_model=model,
                             router=router, max_iter=6)
    return network.run_sync(NETWORK_INPUT)
