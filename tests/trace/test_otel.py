"""OpenTelemetry spans from run traces, through the real SDK's in-memory exporter (spec/trace.md)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is a dev dependency (pyproject.toml)")

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from agentkit_min import create_agent, create_network, create_tool, otel  # noqa: E402
from agentkit_min.testing import ScriptedModel, reply, text, tool_call  # noqa: E402
from tests.trace.cases import trace_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments",
           "gen_ai.tool.call.result")


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    otel.configure(tracer_provider=provider)
    try:
        yield memory
    finally:
        otel.configure()
        provider.shutdown()


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    spans = list(exporter.get_finished_spans())
    return sorted(spans, key=lambda s: (s.start_time or 0, s.context.span_id if s.context else 0))


def matches_trace(trace: dict[str, Any], spans: list[ReadableSpan]) -> None:
    """One OpenTelemetry span per trace span, in start order, with the trace's parent links."""
    ours = trace["spans"]
    assert len(spans) == len(ours)
    ids = [s.context.span_id for s in spans if s.context is not None]
    for span, mine in zip(spans, ours):
        assert span.attributes is not None and span.attributes["agentkit.span.kind"] == mine["kind"]
        if mine["parent"] is None:
            assert span.parent is None
        else:
            assert span.parent is not None and span.parent.span_id == ids[mine["parent"]]
        assert (span.status.status_code is StatusCode.ERROR) == (mine["status"] == "error")
    assert len({s.context.trace_id for s in spans if s.context is not None}) == 1


def test_default_router_network_spans_match_the_trace(exporter: InMemorySpanExporter) -> None:
    trace, _ = trace_of("030")
    spans = finished(exporter)
    matches_trace(trace, spans)
    assert [s.name for s in spans] == [
        "invoke_workflow conformance", "route Default routing agent", "chat gpt-4o-mini",
        "execute_tool select_agent", "invoke_agent poet", "chat gpt-4o-mini",
        "route Default routing agent", "chat gpt-4o-mini", "execute_tool done"]
    workflow, route, chat, tool, agent = (dict(s.attributes or {}) for s in spans[:5])
    assert workflow == {"agentkit.span.kind": "network", "gen_ai.operation.name": "invoke_workflow",
                        "gen_ai.workflow.name": "conformance"}
    assert route["agentkit.route.router"] == "default_routing_agent"
    assert route["agentkit.route.returned"] == ("poet",) and "gen_ai.operation.name" not in route
    assert {k: chat[k] for k in ("gen_ai.operation.name", "gen_ai.request.model", "gen_ai.provider.name",
                                 "gen_ai.response.finish_reasons")} == {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.provider.name": "_OTHER", "gen_ai.response.finish_reasons": ("tool",)}
    assert {k: tool[k] for k in ("gen_ai.operation.name", "gen_ai.tool.name", "gen_ai.tool.call.id",
                                 "gen_ai.tool.type")} == {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "select_agent",
        "gen_ai.tool.call.id": "call_r1", "gen_ai.tool.type": "function"}
    assert agent["gen_ai.operation.name"] == "invoke_agent" and agent["gen_ai.agent.name"] == "poet"
    kinds = {s.name.split()[0]: s.kind for s in spans}
    assert kinds == {"invoke_workflow": SpanKind.INTERNAL, "route": SpanKind.INTERNAL, "chat": SpanKind.CLIENT,
                     "execute_tool": SpanKind.INTERNAL, "invoke_agent": SpanKind.INTERNAL}


def test_content_is_not_captured_by_default(exporter: InMemorySpanExporter) -> None:
    trace, _ = trace_of("055")  # a tool loop: messages, tool arguments and results all exist
    spans = finished(exporter)
    matches_trace(trace, spans)
    for span in spans:
        attributes = dict(span.attributes or {})
        assert not set(CONTENT) & set(attributes)
        assert not any("Paris" in str(v) for v in attributes.values()), span.name  # no text at all


def test_content_is_captured_when_opted_in(exporter: InMemorySpanExporter) -> None:
    otel.configure(tracer_provider=otel._settings["provider"], capture_content=True)
    trace_of("055")
    by_name = {s.name: dict(s.attributes or {}) for s in finished(exporter)}
    chat = [a for name, a in by_name.items() if name.startswith("chat")][0]
    sent = json.loads(str(chat["gen_ai.input.messages"]))
    system = "You answer weather questions using tools."
    assert sent[:2] == [{"role": "system", "parts": [{"type": "text", "content": system}]},
                        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
    tool = by_name["execute_tool get_weather"]
    assert json.loads(str(tool["gen_ai.tool.call.arguments"])) == {"city": "Paris"}
    assert json.loads(str(tool["gen_ai.tool.call.result"])) == {"data": {"temp_c": 21, "sky": "sunny"}}


def test_the_environment_variable_opts_in(exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    agent = create_agent(name="A", system="s", model=ScriptedModel([reply("hi there", usage={"input_tokens": 3,
                                                                                           "output_tokens": 2})]))
    agent.run_sync("hello")
    chat = [dict(s.attributes or {}) for s in finished(exporter) if s.name.startswith("chat")][0]
    assert json.loads(str(chat["gen_ai.output.messages"])) == [{"role": "assistant",
                                                           "parts": [{"type": "text", "content": "hi there"}]}]
    assert (chat["gen_ai.usage.input_tokens"], chat["gen_ai.usage.output_tokens"]) == (3, 2)
    assert chat["gen_ai.provider.name"] == "scripted" and chat["gen_ai.request.model"] == "scripted"


def test_retries_are_events_of_the_chat_span(exporter: InMemorySpanExporter) -> None:
    from agentkit_min import openai
    from tests.adapters.loopback import Reply, fake_provider

    ok = {"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
    with fake_provider(Reply(503, {"error": {"message": "busy"}}), Reply(200, ok)) as server:
        model = openai("gpt-4o-mini", api_key="sk-test", base_url=server.url + "/v1/", sleep=lambda s: None)
        result = create_agent(name="A", system="Be brief.", model=model).run_sync("hi")
    assert result.trace is not None
    (inference,) = [s for s in result.trace.to_dict()["spans"] if s["kind"] == "inference"]
    (chat,) = [s for s in finished(exporter) if s.name.startswith("chat")]
    assert [e.name for e in chat.events] == ["agentkit.http.attempt"] * 2  # from the HTTP worker thread
    assert [(e.attributes or {})["status"] for e in chat.events] == [a["status"] for a in inference["attempts"]] == [503, 200]


def test_a_failure_sets_error_status_and_type(exporter: InMemorySpanExporter) -> None:
    trace, error = trace_of("044")
    assert error is not None
    spans = finished(exporter)
    matches_trace(trace, spans)
    for span in spans[:1] + spans[2:]:  # the workflow, agent and inference spans; not the route
        assert span.status.status_code is StatusCode.ERROR and span.status.description == "provider exploded"
        assert (span.attributes or {})["error.type"] == "ModelError"


def test_spans_a_tool_makes_nest_inside_its_execute_tool_span(exporter: InMemorySpanExporter) -> None:
    from opentelemetry import trace as api

    tracer = otel._settings["provider"].get_tracer("user-code")

    def lookup(args: Any, ctx: Any) -> str:
        with tracer.start_as_current_span("db.query"):
            return "row"

    tool = create_tool(name="lookup", handler=lookup)  # a sync handler: it may run on a worker thread
    model = ScriptedModel([tool_call("lookup", {}, id="c1"), text("found")])
    asyncio.run(create_agent(name="A", system="s", model=model, tools=[tool]).run("go", max_iter=2))
    spans = {s.name: s for s in finished(exporter)}
    query, call = spans["db.query"], spans["execute_tool lookup"]
    assert query.parent is not None and call.context is not None and query.parent.span_id == call.context.span_id
    assert api.get_current_span() is api.INVALID_SPAN  # nothing left attached after the run


def test_nothing_is_imported_or_emitted_without_opentelemetry() -> None:
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"  # as if it were not installed
        "from agentkit_min import create_agent\n"
        "from agentkit_min.testing import ScriptedModel\n"
        "r = create_agent(name='A', system='s', model=ScriptedModel(['hi'])).run_sync('x')\n"
        "assert [s['kind'] for s in r.trace.to_dict()['spans']] == ['agent', 'inference']\n"
        "assert 'agentkit_min.otel' not in sys.modules\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_no_spans_without_a_configured_provider() -> None:
    from agentkit_min.trace import Trace

    assert otel._settings["provider"] is None
    assert Trace("t")._reader is None  # installed, but no tracer provider set: no bridge reading each event


class _Broken(SpanProcessor):
    """A span processor with a bug: it raises when a span starts, or when one ends."""

    def __init__(self, when: str) -> None:
        self.when = when

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if self.when == "start":
            raise RuntimeError("processor bug sk-secret-0123456789abcdef")

    def on_end(self, span: ReadableSpan) -> None:
        if self.when == "end":
            raise RuntimeError("processor bug sk-secret-0123456789abcdef")


@pytest.mark.parametrize("when", ["start", "end"])
def test_a_span_processor_that_raises_does_not_fail_the_run(when: str, caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry import trace as otel_trace

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))  # first: it sees each end before the bug
    provider.add_span_processor(_Broken(when))
    otel.configure(tracer_provider=provider)
    try:
        trace, error = trace_of("030")
    finally:
        otel.configure()
        provider.shutdown()
    assert error is None and trace["spans"][0]["status"] == "ok"  # the run and its trace, whole
    assert [s["kind"] for s in trace["spans"]] == [s["kind"] for s in trace_of("030")[0]["spans"]]
    warnings = [r for r in caplog.records if r.name == "agentkit_min.otel" and r.levelname == "WARNING"]
    assert len(warnings) == 1 and "RuntimeError" in warnings[0].getMessage()  # once, the type only
    assert "sk-secret" not in caplog.text
    if when == "end":  # spans were started and ended (the processor raised after): all exported
        assert len(memory.get_finished_spans()) == len(trace["spans"])
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN  # every context was detached


def test_a_span_whose_attributes_cannot_be_set_is_still_ended(exporter: InMemorySpanExporter,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """A custom model's odd usage (not a number) fails the attribute, not the span or the run."""
    odd: Any = {"input_tokens": "many"}
    model = ScriptedModel([reply(text("hi"), usage=odd)])
    result = create_agent(name="A", system="s", model=model).run_sync("go")
    assert result.output == [text("hi")] and result.trace is not None
    names = sorted(s.name for s in exporter.get_finished_spans())
    assert names == ["chat scripted", "invoke_agent A"]  # both ended and exported
    assert [r.levelname for r in caplog.records if r.name == "agentkit_min.otel"] == ["WARNING"]


def test_a_cancelled_run_ends_its_spans_with_the_trace_s_statuses(exporter: InMemorySpanExporter) -> None:
    traces: list[Any] = []

    async def stalls(args: Any, ctx: Any) -> str:
        traces.append(ctx.network.trace)
        await asyncio.sleep(30)
        return "never"

    a = create_agent(name="A", system="s", model=ScriptedModel([tool_call("stalls", {}, id="c1")]),
                     tools=[create_tool(name="stalls", handler=stalls)])
    net = create_network(agents=[a], router=lambda args: a if args.call_count < 1 else None)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(net.run("go"), timeout=0.3))
    trace = traces[0].to_dict()
    assert trace["spans"][0]["error"]["type"] == "CancelledError"
    spans = finished(exporter)
    matches_trace(trace, spans)  # the root too: ERROR, not ended "ok" before the cancel was known
    assert [(s.attributes or {}).get("error.type") for s in spans] == [
        (t.get("error") or {}).get("type") for t in trace["spans"]]
