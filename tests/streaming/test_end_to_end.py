"""Token streaming end to end: real ProviderModels against loopback servers that send each
provider's stream in small pieces with pauses (tests/streaming/loopback.py)."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from typing import Any

import pytest

from agentkit_min import models
from agentkit_min.adapters import ADAPTERS
from agentkit_min.agent import create_agent
from agentkit_min.errors import AuthenticationError, ModelResponseError, ModelTimeoutError, ServerError
from agentkit_min.messages import Message
from agentkit_min.network import create_network
from agentkit_min.routing import create_routing_agent
from agentkit_min.server import create_server
from agentkit_min.tool import create_tool

from . import bodies
from .bodies import TEXT, TOOL, Reply
from .loopback import StreamServer

PROVIDERS = ["openai", "anthropic", "gemini"]
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}
KEY = "sk-loopback-0123456789"


def _handler(name: str) -> Any:
    return lambda args, ctx: {"tool": name, **args}


TOOLS = [create_tool(name=n, description=n, parameters={"type": "object", "properties": {}}, handler=_handler(n))
         for n in ("get_weather", "get_time")]


def model(provider: str, server: StreamServer, **options: Any) -> models.ProviderModel:
    factory = getattr(models, provider)
    options = {"timeout": 10, **options}
    built: models.ProviderModel = factory(MODELS[provider], api_key=KEY, base_url=server.url, max_retries=0,
                                          **options)
    return built


def first_text_frame(frames: list[bytes], reply: Reply) -> int:
    piece = json.dumps(reply["text"][0], ensure_ascii=False).encode()
    return next(i for i, frame in enumerate(frames) if piece in frame)


def events_of(chunks: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [c["data"] for c in chunks if c["event"] == name]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_deltas_are_published_as_they_arrive_and_add_up_to_the_result(provider: str) -> None:
    frames = bodies.frames(provider, TOOL)
    with StreamServer(frames, piece=7, pause=0.001, hold_after=first_text_frame(frames, TOOL) + 1) as server:
        agent = create_agent(name="Weather", system="s", model=model(provider, server), tools=TOOLS)
        chunks: list[dict[str, Any]] = []

        def publish(chunk: dict[str, Any]) -> None:
            chunks.append(chunk)
            if chunk["event"] == "text.delta":
                server.gate.set()  # the server holds the rest of the body until this happens

        result = agent.run_sync("Weather in Paris?", publish=publish)
    assert server.gate_opened_in_time is True  # the first delta came before the rest was sent
    path, sent = server.requests[0]
    assert sent.get("stream") is True or path.endswith(":streamGenerateContent?alt=sse")
    expected, usage = ADAPTERS[provider].parse_response(200, bodies.body(provider, TOOL))
    assert result.output == expected and result.usage == usage  # as the non-streamed parse
    assert "".join(d["delta"] for d in events_of(chunks, "text.delta")) == bodies.final_text(TOOL)
    calls = [t for m in result.output if m["type"] == "tool_call" for t in m["tools"]]
    created = [p for p in events_of(chunks, "part.created") if p["type"] == "tool-call"]
    assert [(p["toolName"], p["toolCallId"]) for p in created] == [(c["name"], c["id"]) for c in calls]
    for part, call in zip(created, calls):
        args = "".join(d["delta"] for d in events_of(chunks, "tool_call.arguments.delta")
                       if d["partId"] == part["partId"])
        assert json.loads(args) == call["input"]
        completed = [p for p in events_of(chunks, "part.completed") if p["partId"] == part["partId"]]
        assert [p["finalContent"] for p in completed] == [args]
    names = [c["event"] for c in chunks]
    assert names[:2] == ["run.started", "part.created"] and names[-3:] == ["usage.updated", "run.completed",
                                                                             "stream.ended"]
    assert names.count("part.created") == names.count("part.completed") == 1 + 2 + 2  # text, 2 calls, 2 outputs
    assert [c["event"] for c in chunks if c["event"] == "tool_call.output.delta"] == ["tool_call.output.delta"] * 2
    assert events_of(chunks, "usage.updated")[0]["usage"] == dict(usage)
    assert [c["sequenceNumber"] for c in chunks] == list(range(len(chunks)))
    assert result.trace is not None
    spans = result.trace.to_dict()["spans"]  # the streamed inference is traced as a whole one
    assert [s["kind"] for s in spans] == ["agent", "inference", "tool", "tool"]
    inference = spans[1]
    assert (inference["model"], inference["provider"], inference["status"]) == (MODELS[provider], provider, "ok")
    assert inference["output"] == json.loads(json.dumps(expected)) and inference["usage"] == dict(usage)
    assert [(a["attempt"], a["status"], a["error"]) for a in inference["attempts"]] == [(1, 200, None)]
    assert [(s["name"], s["call_id"], s["parent"]) for s in spans[2:]] == [(c["name"], c["id"], 0) for c in calls]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_without_a_subscriber_the_request_is_unchanged_and_stream_switches_force_either_way(provider: str) -> None:
    with StreamServer(bodies.frames(provider, TEXT)) as server:
        plain = model(provider, server)
        prompt: list[Message] = [{"type": "text", "role": "system", "content": "s"},
                                 {"type": "text", "role": "user", "content": "hi"}]
        request = plain.adapter.build_request(MODELS[provider], prompt, [], "auto", plain.default_parameters)
        forced = create_agent(name="a", system="s", model=model(provider, server, stream=True))
        assert forced.run_sync("hi").output[0].get("content") == bodies.final_text(TEXT)  # no subscriber
    assert "stream" in json.dumps(server.requests[0])
    with StreamServer([json.dumps(_whole(provider)).encode()], content_type="application/json") as server:
        for options in ({}, {"stream": False}):
            agent = create_agent(name="a", system="s", model=model(provider, server, **options))
            chunks: list[dict[str, Any]] = []
            publish = chunks.append if options else None
            assert agent.run_sync("hi", publish=publish).output[0].get("content") == "whole"
    for path, sent in server.requests:
        assert "stream" not in sent and "stream" not in path
        assert sent == request.body  # what a run without a subscriber sent before streaming existed
    assert [c["event"] for c in chunks].count("text.delta") == 1  # published after the reply, as AgentKit


def _whole(provider: str) -> Any:
    return {"openai": {"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"},
                                    "finish_reason": "stop"}]},
            "anthropic": {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "whole"}],
                          "stop_reason": "end_turn"},
            "gemini": {"candidates": [{"content": {"role": "model", "parts": [{"text": "whole"}]},
                                       "finishReason": "STOP"}]}}[provider]


MID_STREAM_ERRORS = {
    "anthropic": b'event: error\r\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\r\n\r\n',
    "openai": b'data: {"error": {"message": "The server had an error", "type": "server_error", "code": null}}\n\n',
    "gemini": b'data: {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}\r\n\r\n',
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_mid_stream_errors_and_truncated_streams_are_typed_errors(provider: str) -> None:
    frames = bodies.frames(provider, TEXT)
    for sent, error in ((frames[:3] + [MID_STREAM_ERRORS[provider]], ServerError),
                        (frames[:-1], ModelResponseError)):
        with StreamServer(sent, piece=5) as server:
            agent = create_agent(name="a", system="s", model=model(provider, server))
            chunks: list[dict[str, Any]] = []
            with pytest.raises(error):
                agent.run_sync("hi", publish=chunks.append)
        assert [c["event"] for c in chunks][-3:] == ["run.failed", "run.completed", "stream.ended"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_error_status_on_a_streamed_request_is_the_usual_typed_error(provider: str) -> None:
    body = {"anthropic": {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
            "openai": {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                 "code": "invalid_api_key"}},
            "gemini": {"error": {"code": 401, "message": "API key not valid", "status": "UNAUTHENTICATED"}}}
    with StreamServer([json.dumps(body[provider]).encode()], status=401, content_type="application/json") as server:
        agent = create_agent(name="a", system="s", model=model(provider, server))
        with pytest.raises(AuthenticationError):
            agent.run_sync("hi", publish=lambda chunk: None)
    assert len(server.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_stream_that_goes_idle_times_out_after_the_model_timeout(provider: str) -> None:
    with StreamServer(bodies.frames(provider, TEXT), hold_after=3, gate_timeout=20) as server:
        agent = create_agent(name="a", system="s", model=model(provider, server, timeout=0.5))
        started = time.monotonic()
        with pytest.raises(ModelTimeoutError):
            agent.run_sync("hi", publish=lambda chunk: None)
    assert time.monotonic() - started < 10  # bounded by the 0.5 s idle timeout, not the server's 20 s


@pytest.mark.parametrize("provider", PROVIDERS)
def test_breaking_out_of_network_stream_cancels_the_run_and_closes_the_connection(provider: str) -> None:
    reply: Reply = {"text": [f"tok{i} " for i in range(400)]}
    with StreamServer(bodies.frames(provider, reply), pause=0.01) as server:
        agent = create_agent(name="a", system="s", model=model(provider, server))
        network = create_network(agents=[agent], router=lambda args: agent if args.call_count == 0 else None)

        async def main() -> bool:
            stream = network.stream("hi")
            async for event in stream:
                if event["event"] == "text.delta":
                    break
            assert stream.result is None
            return await asyncio.to_thread(server.client_closed.wait, 10)

        assert asyncio.run(main()) is True
        assert not server.sent_all.is_set()


def test_network_stream_yields_every_event_then_holds_the_finished_run() -> None:
    with StreamServer(bodies.frames("openai", TOOL), piece=9) as server:
        agent = create_agent(name="a", system="s", model=model("openai", server), tools=TOOLS)
        network = create_network(agents=[agent], max_iter=1, router=lambda args: agent)

        async def main() -> tuple[list[str], Any]:
            async with network.stream("hi") as stream:
                names = [event["event"] async for event in stream]
            return names, stream.result

        names, run = asyncio.run(main())
    assert names[0] == "run.started" and names[-2:] == ["run.completed", "stream.ended"]
    assert names.count("text.delta") == len(TOOL["text"])
    assert run is not None and run.state.results[0].tool_calls[0]["content"] == {"data": {"tool": "get_weather",
                                                                                         "city": "Paris", "unit": "°C"}}


def test_routing_inferences_do_not_stream() -> None:
    route = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None,
              "tool_calls": [{"id": "c1", "type": "function",
                              "function": {"name": "select_agent", "arguments": '{"name": "a"}'}}]}}]}
    with StreamServer([json.dumps(route).encode()], content_type="application/json") as router_server, \
            StreamServer(bodies.frames("openai", TEXT)) as agent_server:
        agent = create_agent(name="a", description="answers", system="s", model=model("openai", agent_server))
        router = create_routing_agent(name="r", model=model("openai", router_server), system="pick",
                                      tools=[create_tool(name="select_agent", parameters={
                                          "type": "object", "properties": {"name": {"type": "string"}}},
                                          handler=lambda args, ctx: args["name"])],
                                      lifecycle={"on_route": lambda args: ["a"]})
        network = create_network(agents=[agent], router=router, max_iter=1)
        chunks: list[dict[str, Any]] = []
        network.run_sync("hi", publish=chunks.append)
    assert "stream" not in router_server.requests[0][1] and agent_server.requests[0][1]["stream"] is True
    assert [c["data"].get("toolName") for c in chunks if c["event"] == "part.created"] == [None]  # agent text only


def test_the_server_sse_endpoint_relays_deltas_before_the_provider_has_finished() -> None:
    frames = bodies.frames("anthropic", TEXT)
    with StreamServer(frames, pause=0.001, hold_after=first_text_frame(frames, TEXT) + 1) as provider:
        agent = create_agent(name="Talker", system="s", model=model("anthropic", provider))
        app = create_server(agents=[agent]).listen(0)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=20)
            conn.request("POST", "/agents/talker/runs", json.dumps({"input": "hi"}),
                         {"Accept": "text/event-stream", "Content-Type": "application/json"})
            response = conn.getresponse()
            assert response.status == 200
            deltas: list[str] = []
            for _ in range(200):  # bounded: every line of the stream
                line = response.readline()
                if not line:
                    break
                if line.startswith(b"data: ") and b'"text.delta"' in line:
                    deltas.append(json.loads(line[6:])["data"]["delta"])
                    provider.gate.set()  # only now may the provider send the rest
            conn.close()
        finally:
            app.shutdown(timeout=5)
    assert provider.gate_opened_in_time is True
    assert "".join(deltas) == bodies.final_text(TEXT)


@pytest.mark.parametrize("factory", ["grok", "deepseek"])
def test_openai_compatible_providers_stream_through_the_openai_decoder(factory: str) -> None:
    with StreamServer(bodies.frames("openai", TEXT), piece=4) as server:
        built = getattr(models, factory)("m-1", api_key=KEY, base_url=server.url, max_retries=0, timeout=10)
        chunks: list[dict[str, Any]] = []
        result = create_agent(name="a", system="s", model=built).run_sync("hi", publish=chunks.append)
    assert [d["delta"] for d in events_of(chunks, "text.delta")] == TEXT["text"]
    assert result.output[0].get("content") == bodies.final_text(TEXT)
    assert server.requests[0][1]["stream_options"] == {"include_usage": True}


def test_a_failed_run_raises_from_the_iterator_after_its_last_event() -> None:
    frames = bodies.frames("anthropic", TEXT)
    with StreamServer(frames[:4] + [MID_STREAM_ERRORS["anthropic"]]) as server:
        agent = create_agent(name="a", system="s", model=model("anthropic", server))

        async def main() -> list[str]:
            names: list[str] = []
            with pytest.raises(ServerError):
                async for event in agent.stream("hi"):
                    names.append(event["event"])
            return names

        names = asyncio.run(main())
    assert names[-3:] == ["run.failed", "run.completed", "stream.ended"] and "text.delta" in names
