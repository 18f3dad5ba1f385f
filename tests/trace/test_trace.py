"""Run traces (spec/trace.md): the structure of each conformance scenario kind, the JSON format,
errors, retries, MCP and history spans, bounds, secrets and the trace page's truncation."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agentkit_min import HistoryConfig, create_agent, create_network, create_tool, openai
from agentkit_min.errors import TraceFormatError, UsageError
from agentkit_min.testing import ScriptedModel, text, tool_call
from agentkit_min.trace import FORMAT, VERSION, CURRENT, Trace, traced
from agentkit_min.trace_page import render
from tests.adapters.loopback import Reply, fake_provider
from tests.trace.cases import children, shape, trace_of

ROOT = Path(__file__).resolve().parents[2]


def kinds(trace: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in trace["spans"] if s["kind"] == kind]


def well_formed(trace: dict[str, Any]) -> None:
    """Invariants of every trace: the header, ids in start order, parents begun before, closed."""
    assert (trace["format"], trace["version"], trace["dropped"]) == (FORMAT, VERSION, 0)
    spans = trace["spans"]
    assert [s["id"] for s in spans] == list(range(len(spans)))
    assert [s["parent"] for s in spans if s["parent"] is None] == [None]  # one root, the first
    for span in spans[1:]:
        assert span["parent"] < span["id"]
        parent = spans[span["parent"]]
        assert parent["start_ms"] <= span["start_ms"]
        assert span["start_ms"] + span["duration_ms"] <= parent["start_ms"] + parent["duration_ms"] + 0.01
    for span in spans:
        assert span["duration_ms"] is not None and span["duration_ms"] >= 0
        assert span["status"] in ("ok", "error") and ("error" in span) == (span["status"] == "error")
    Trace.from_dict(json.loads(json.dumps(trace)))  # what is written reads back (check_document)


# --- the conformance scenario kinds -----------------------------------------------------------

def test_code_router_trace_is_route_agent_pairs_then_a_stop() -> None:
    trace, error = trace_of("004")  # router returns [A, B] once, then None
    assert error is None
    well_formed(trace)
    assert shape(trace) == [["network:conformance", [
        "route:router", ["agent:A", ["inference:gpt-4o-mini"]], "route:router",
        ["agent:B", ["inference:gpt-4o-mini"]], "route:router"]]]
    routes = kinds(trace, "route")
    assert [(r["router"], r["call_count"], r["returned"]) for r in routes] == [
        ("code", 0, ["A", "B"]), ("code", 1, []), ("code", 2, [])]  # asked after every agent run
    assert "routing_agent" not in routes[0]
    agents = kinds(trace, "agent")
    assert [texts(a["output"]) for a in agents] == [["A's plan"], ["B's text"]]
    first = kinds(trace, "inference")[0]
    assert first["prompt"] == [{"type": "text", "role": "system", "content": "You are A."},
                               {"type": "text", "role": "user", "content": "plan and write"}]
    assert (first["model"], first["stop_reason"], first["messages"]) == ("gpt-4o-mini", "stop", 2)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages if m["type"] == "text"]


def test_custom_routing_agent_decisions_hold_its_inference_and_choice() -> None:
    trace, error = trace_of("037")
    assert error is None
    well_formed(trace)
    routes = kinds(trace, "route")
    assert [(r["router"], r["name"], r["routing_agent"], r["returned"]) for r in routes] == [
        ("routing_agent", "picker", "picker", ["A"]), ("routing_agent", "picker", "picker", ["B"]),
        ("routing_agent", "picker", "picker", [])]
    assert [texts(r["output"]) for r in routes] == [["A, Nope"], ["B"], ["finished"]]  # the model's choice
    for route in routes:
        (inference,) = children(trace, route)
        assert (inference["kind"], inference["model"]) == ("inference", "gpt-4o")
        assert inference["prompt"][0]["content"] == "Answer with agent names."


def test_default_routing_agent_decision_shows_select_agent_call() -> None:
    trace, error = trace_of("030")
    assert error is None
    well_formed(trace)
    assert shape(trace) == [["network:conformance", [
        ["route:Default routing agent", ["inference:gpt-4o-mini", "tool:select_agent"]],
        ["agent:poet", ["inference:gpt-4o-mini"]],
        ["route:Default routing agent", ["inference:gpt-4o-mini", "tool:done"]]]]]
    first, last = kinds(trace, "route")
    assert (first["router"], first["returned"], last["returned"]) == ("default_routing_agent", ["poet"], [])
    select = children(trace, first)[1]
    assert select["input"] == {"name": "poet", "reason": "poem requested"}
    assert select["output"] == {"data": "poet"} and select["status"] == "ok"
    assert first["output"][0]["tools"][0]["name"] == "select_agent"


def test_hybrid_router_records_the_code_router_handing_over() -> None:
    trace, _ = trace_of("038")  # sequence A, @default, @default
    well_formed(trace)
    routes = kinds(trace, "route")
    assert [(r["router"], r.get("routing_agent"), r["returned"]) for r in routes] == [
        ("code", None, ["A"]), ("code", "Default routing agent", ["B"]), ("code", "Default routing agent", [])]


def test_standalone_tool_loop_trace_is_rooted_at_the_agent() -> None:
    trace, error = trace_of("055")
    assert error is None
    well_formed(trace)
    assert shape(trace) == [["agent:W", ["inference:gpt-4o-mini", "tool:get_weather", "inference:gpt-4o-mini"]]]
    root = trace["spans"][0]
    assert root["input"] == "Weather in Paris?"
    assert texts(root["output"]) == ["It is sunny and 21C in Paris."]
    tool = kinds(trace, "tool")[0]
    assert (tool["call_id"], tool["input"], tool["status"]) == ("call_w1", {"city": "Paris"}, "ok")
    assert [i["stop_reason"] for i in kinds(trace, "inference")] == ["tool", "stop"]


@pytest.mark.parametrize("case_id, tool, error_type", [
    ("062", "explode", "Error"),                    # an async handler raised
    ("063", "explode", "ValueError"),               # a sync handler raised
    ("064", "does_not_exist", "ToolNotFoundError"),
    ("065", None, "ToolArgumentsError"),
])
def test_tool_error_is_an_error_span_in_a_run_that_succeeded(case_id: str, tool: str | None,
                                                            error_type: str) -> None:
    trace, error = trace_of(case_id)
    assert error is None
    well_formed(trace)
    (failed,) = [s for s in trace["spans"] if s["status"] == "error"]
    assert failed["kind"] == "tool" and (tool is None or failed["name"] == tool)
    assert failed["error"]["type"] == error_type
    assert failed["output"]["error"]["name"] == error_type
    assert failed["error"]["message"] == failed["output"]["error"]["message"]


def test_a_failed_run_hands_over_its_trace_with_the_failure_marked() -> None:
    trace, error = trace_of("044")  # the model raises
    assert type(error).__name__ == "ModelError"
    well_formed(trace)
    assert [(s["kind"], s["status"], s["error"]["type"]) for s in trace["spans"] if s["status"] == "error"] == [
        ("network", "error", "ModelError"), ("agent", "error", "ModelError"), ("inference", "error", "ModelError")]
    assert kinds(trace, "inference")[0]["error"]["message"] == "provider exploded"


def test_routing_error_from_a_tool_fails_the_route_and_its_tool() -> None:
    trace, error = trace_of("031")  # the default routing agent selects an unknown agent
    assert type(error).__name__ == "RoutingError"
    well_formed(trace)
    failed = {s["kind"]: s for s in trace["spans"] if s["status"] == "error"}
    assert set(failed) == {"network", "route", "tool"}
    assert failed["tool"]["name"] == "select_agent" and failed["tool"]["error"]["type"] == "RoutingError"


def test_history_hooks_are_spans_in_call_order() -> None:
    trace, _ = trace_of("081")
    well_formed(trace)
    history = [(s["name"], s["thread_id"]) for s in kinds(trace, "history")]
    assert history == [("create_thread", "T"), ("append_user_message", "T"), ("get", "T"),
                       ("append_results", "T")]  # the client's thread, upserted, then loaded
    assert all(s["parent"] == 0 for s in kinds(trace, "history"))


def test_retries_are_attempts_of_the_inference() -> None:
    ok = {"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
    with fake_provider(Reply(503, {"error": {"message": "busy"}}), Reply(429, {}, {"retry-after": "0"}),
                       Reply(200, ok)) as server:
        model = openai("gpt-4o-mini", api_key="sk-test", base_url=server.url + "/v1/", sleep=lambda s: None)
        agent = create_agent(name="A", system="Be brief.", model=model)
        result = agent.run_sync("hi")
    assert result.trace is not None
    trace = result.trace.to_dict()
    well_formed(trace)
    (inference,) = kinds(trace, "inference")
    assert (inference["provider"], inference["model"], inference["stop_reason"]) == ("openai", "gpt-4o-mini", "stop")
    assert inference["usage"]["input_tokens"] == 5 and inference["usage"]["output_tokens"] == 2
    attempts = inference["attempts"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 503), (2, 429), (3, 200)]
    assert attempts[1]["wait"] == 0 and attempts[-1]["wait"] is None
    assert all(a["elapsed"] >= 0 for a in attempts)


def test_mcp_requests_are_spans_inside_the_agent_and_the_tool() -> None:
    server = {"name": "calc", "transport": {"type": "stdio", "command": sys.executable,
                                            "args": [str(ROOT / "examples" / "mcp_server_stdio.py")]}}
    model = ScriptedModel([tool_call("calc-add", {"a": 2, "b": 3}, id="c1"), text("5")])
    agent = create_agent(name="A", system="Add.", model=model, mcp_servers=[server])
    result = asyncio.run(asyncio.wait_for(agent.run("2+3?", max_iter=2), timeout=30))
    assert result.trace is not None
    trace = result.trace.to_dict()
    well_formed(trace)
    mcp = kinds(trace, "mcp")
    assert [(s["name"], s["server"], s["parent"]) for s in mcp] == [
        ("initialize", "calc", 0), ("tools/list", "calc", 0), ("tools/call", "calc", kinds(trace, "tool")[0]["id"])]
    assert kinds(trace, "tool")[0]["output"] == {"data": [{"type": "text", "text": "5"}]}


# --- the recorder -----------------------------------------------------------------------------

def test_concurrent_leaves_keep_their_parent_and_the_stack() -> None:
    async def tool_body(args: Any, ctx: Any) -> str:
        async def slow(delay: float) -> float:
            await asyncio.sleep(delay)
            return delay
        await asyncio.gather(traced("mcp", "a", slow, 0.02), traced("mcp", "b", slow, 0.01))
        return "ok"

    model = ScriptedModel([tool_call("t", {}, id="c1"), text("done")])
    agent = create_agent(name="A", system="s", model=model, tools=[create_tool(name="t", handler=tool_body)])
    trace = agent.run_sync("go", max_iter=2).trace
    assert trace is not None
    data = trace.to_dict()
    well_formed(data)
    tool = kinds(data, "tool")[0]
    assert [(s["name"], s["parent"], s["status"]) for s in kinds(data, "mcp")] == [("a", tool["id"], "ok"),
                                                                                   ("b", tool["id"], "ok")]
    assert shape(data) == [["agent:A", ["inference:scripted", ["tool:t", ["mcp:a", "mcp:b"]], "inference:scripted"]]]


def test_concurrent_runs_each_record_only_their_own_spans() -> None:
    """60 network runs interleaved on one loop (tools that sleep and make leaf spans), and 4 threads
    running more: no span or leaf of one run reaches another's trace."""
    async def lookup(args: dict[str, Any], ctx: Any) -> str:
        async def slow(delay: float) -> float:
            await asyncio.sleep(delay)
            return delay
        await traced("mcp", f"fetch-{args['n']}", slow, (args["n"] % 5) / 1000)
        return f"found {args['n']}"

    tool = create_tool(name="lookup", handler=lookup)

    def network_for(n: int) -> Any:
        model = ScriptedModel([tool_call("lookup", {"n": n}, id=f"c{n}"), text(f"answer {n}")])
        agent = create_agent(name=f"A{n}", system="s", model=model, tools=[tool])
        return create_network(agents=[agent], name=f"net{n}",
                              router=lambda args: agent if args.call_count < 2 else None)

    def check(n: int, trace: Trace) -> None:
        data = trace.to_dict()
        well_formed(data)
        assert shape(data) == [[f"network:net{n}", [
            "route:<lambda>", [f"agent:A{n}", ["inference:scripted", ["tool:lookup", [f"mcp:fetch-{n}"]]]],
            "route:<lambda>", [f"agent:A{n}", ["inference:scripted"]], "route:<lambda>"]]]
        assert kinds(data, "tool")[0]["input"] == {"n": n} and kinds(data, "tool")[0]["output"] == {"data": f"found {n}"}
        assert kinds(data, "agent")[1]["output"][-1]["content"] == f"answer {n}"

    async def many(ns: range) -> list[Any]:
        return await asyncio.wait_for(asyncio.gather(*(network_for(n).run(f"q{n}") for n in ns)), timeout=60)

    runs = asyncio.run(many(range(60)))
    for n, run in enumerate(runs):
        check(n, run.trace)
        assert run.trace.to_dict()["spans"][0]["input"] == f"q{n}"
    done: dict[int, Trace] = {}

    def in_thread(first: int) -> None:
        for n in range(first, first + 5):
            done[n] = network_for(n).run_sync(f"q{n}").trace

    import threading

    threads = [threading.Thread(target=in_thread, args=(100 + 5 * k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(done) == list(range(100, 120))
    for n, trace in done.items():
        check(n, trace)
    assert CURRENT.get() is None


def test_the_context_is_given_back_after_runs_that_fail_early() -> None:
    a = create_agent(name="A", system="s", lifecycle={"enabled": lambda args: False})
    network = create_network(agents=[a], default_model=ScriptedModel([]))

    async def main() -> None:
        with pytest.raises(Exception, match="no agents enabled") as failed:
            await network.run("hi")  # raises before the loop's own try block
        assert CURRENT.get() is None
        trace = failed.value.trace  # type: ignore[attr-defined]
        assert [(s["kind"], s["status"]) for s in trace.to_dict()["spans"]] == [("network", "error")]
        broken = create_agent(name="B", system="s", model=ScriptedModel([]),
                              history=HistoryConfig(create_thread=lambda ctx: 42))  # not a thread id
        with pytest.raises(Exception, match="create_thread"):
            await broken.run("hi")
        assert CURRENT.get() is None

    asyncio.run(main())


def test_json_round_trips_and_is_versioned(tmp_path: Path) -> None:
    trace, _ = trace_of("030")
    again = Trace.from_dict(json.loads(json.dumps(trace))).to_dict()
    assert again == trace
    path = Trace.from_dict(trace).write(tmp_path / "t.json")
    assert json.loads(Path(path).read_text(encoding="utf-8")) == trace
    for bad in ({**trace, "version": 2}, {**trace, "format": "other"}):
        with pytest.raises(TraceFormatError, match="not a agentkit-min/trace version 1"):
            Trace.from_dict(bad)


def test_write_and_page_replace_a_file_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = Trace.from_dict(trace_of("030")[0])
    json_path, page_path = tmp_path / "t.json", tmp_path / "t.html"
    trace.write(json_path), trace.page(page_path)
    before = json_path.read_text(encoding="utf-8"), page_path.read_text(encoding="utf-8")

    monkeypatch.setattr("agentkit_min.trace.open", lambda f, mode, **k: _Failing(open(f, mode, **k)), raising=False)
    for write, path in ((trace.write, json_path), (trace.page, page_path)):
        with pytest.raises(OSError, match="No space left"):
            write(path)
    monkeypatch.undo()
    assert (json_path.read_text(encoding="utf-8"), page_path.read_text(encoding="utf-8")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.html", "t.json"]  # no temporary file left
    with pytest.raises(FileNotFoundError):
        trace.write(tmp_path / "no-such-dir" / "t.json")


def test_a_saved_trace_is_private_and_never_written_through_a_link(tmp_path: Path) -> None:
    """A shared /tmp: the file is created afresh (mkstemp, O_EXCL), mode 0600 (it holds the run's
    conversation), and a link someone left at the path is replaced, not followed."""
    import stat

    trace = Trace.from_dict(trace_of("030")[0])
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = tmp_path / "trace.json"
    link.symlink_to(victim)
    trace.write(link)
    assert victim.read_text(encoding="utf-8") == "keep me" and not link.is_symlink()
    assert json.loads(link.read_text(encoding="utf-8"))["format"] == FORMAT
    assert stat.S_IMODE(link.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.json", "victim.txt"]


class _Failing:
    """A file whose writes fail half-way, as on a full disk: half the text is written first."""

    def __init__(self, file: Any) -> None:
        self.file = file

    def __enter__(self) -> _Failing:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.file.close()

    def write(self, text: str) -> int:
        self.file.write(text[:len(text) // 2])
        raise OSError(28, "No space left on device")


def _with_span(trace: dict[str, Any], i: int, **fields: Any) -> dict[str, Any]:
    spans = [dict(s) for s in trace["spans"]]
    spans[i].update(fields)
    return {**trace, "spans": spans}


@pytest.mark.parametrize(("edit", "named"), [
    (lambda t: [t], "a list, not a JSON object"),
    (lambda t: {k: v for k, v in t.items() if k != "id"}, "id is None; expected a string"),
    (lambda t: {**t, "dropped": -1}, "dropped is -1; expected a count"),
    (lambda t: {**t, "spans": {"0": t["spans"][0]}}, "spans is {'0': {"),
    (lambda t: {**t, "spans": [*t["spans"], "x"]}, r"spans\[\d+\] is 'x'; expected an object"),
    (lambda t: _with_span(t, 1, id=0), r"spans\[1\].id is 0; expected an int >= 0, above the ids before it"),
    (lambda t: _with_span(t, 1, id=True), r"spans\[1\].id is True"),
    (lambda t: _with_span(t, 1, parent=5), r"spans\[1\].parent is 5; expected null or an earlier span's id"),
    (lambda t: _with_span(t, 2, kind=None), r"spans\[2\].kind is None; expected a string"),
    (lambda t: _with_span(t, 2, name=3), r"spans\[2\].name is 3"),
    (lambda t: _with_span(t, 0, start_ms="0"), r"spans\[0\].start_ms is '0'; expected a number"),
    (lambda t: _with_span(t, 0, duration_ms=float("nan")), r"spans\[0\].duration_ms is nan"),
    (lambda t: _with_span(t, 3, status="fine"), r"spans\[3\].status is 'fine'; expected \"ok\" or \"error\""),
    (lambda t: _with_span(t, 3, error="boom"), r"spans\[3\].error is 'boom'; expected an object"),
])
def test_a_malformed_document_is_a_typed_error_naming_the_field(edit: Any, named: str) -> None:
    trace, _ = trace_of("030")
    Trace.from_dict(trace)  # the document as written is accepted, unknown fields and all
    with pytest.raises(TraceFormatError, match=named) as info:
        Trace.from_dict(edit(trace))
    assert isinstance(info.value, ValueError) and isinstance(info.value, UsageError)


def test_page_command_reports_bad_input_without_a_traceback(tmp_path: Path) -> None:
    import subprocess

    trace, _ = trace_of("030")
    files = {"missing.json": None, "text.json": "not json", "list.json": "[]",
             "parent.json": json.dumps(_with_span(trace, 1, parent=9))}
    for name, content in files.items():
        if content is not None:
            (tmp_path / name).write_text(content, encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "agentkit_min.trace_page", str(tmp_path / name)],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 1 and "Traceback" not in done.stderr, (name, done.stderr)
        assert done.stderr.startswith(f"trace_page: {tmp_path / name}: "), done.stderr
        assert not (tmp_path / name).with_suffix(".html").exists()


def test_a_trace_does_not_keep_the_provider_bodies_of_its_inferences() -> None:
    """A provider's decoded body (`ModelResponse.raw`) is the result's business (as text); the
    trace keeps only the output and usage it shows, else a long run holds every body twice."""
    import gc
    import weakref

    from agentkit_min.model import ModelResponse

    class Body:  # stands in for a decoded provider body
        def __str__(self) -> str:
            return "{}"

    bodies: list[weakref.ref[Body]] = []

    class Model:
        async def infer(self, messages: Any, tools: Any, tool_choice: str) -> ModelResponse:
            body = Body()
            bodies.append(weakref.ref(body))
            return ModelResponse(output=[text("hi")], raw=body, usage={"input_tokens": 3})

    a = create_agent(name="A", system="s", model=Model())
    run = create_network(agents=[a], router=lambda args: a if args.call_count < 3 else None).run_sync("go")
    gc.collect()
    assert len(bodies) == 3 and all(ref() is None for ref in bodies)  # while the run and its trace live on
    inferences = kinds(run.trace.to_dict(), "inference")
    assert [(s["output"], s["usage"]) for s in inferences] == [([text("hi")], {"input_tokens": 3})] * 3


def test_spans_past_the_limit_are_counted_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentkit_min.trace.MAX_SPANS", 5)
    model = ScriptedModel([text("x")] * 10)
    a = create_agent(name="A", system="s", model=model)
    network = create_network(agents=[a], router=lambda args: a if args.call_count < 10 else None)
    data = network.run_sync("go").trace.to_dict()
    assert len(data["spans"]) == 5 and data["dropped"] == 1 + 11 + 10 * 2 - 5  # root, 11 routes, 10 x (agent, inference)
    assert Trace.from_dict(data).dropped == data["dropped"]
    assert [s["kind"] for s in data["spans"]] == ["network", "route", "agent", "inference", "route"]


def test_a_full_trace_keeps_no_more_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentkit_min.trace.MAX_SPANS", 5)
    held: list[int] = []  # the trace's unread events at each tool call

    def look(args: Any, ctx: Any) -> str:
        held.append(len(ctx.network.trace.events))
        return "ok"

    model = ScriptedModel([tool_call("look", {}, id=f"c{i}") for i in range(40)])
    a = create_agent(name="A", system="s", model=model, tools=[create_tool(name="look", handler=look)])
    run = create_network(agents=[a], router=lambda args: a if args.call_count < 40 else None).run_sync("go")
    assert max(held) <= 7 * 5 + 14 and held[-30:] == [0] * 30  # past the room nothing more is kept
    data = run.trace.to_dict()
    assert [s["kind"] for s in data["spans"]] == ["network", "route", "agent", "inference", "tool"]
    assert data["dropped"] == 1 + 41 + 40 * 3 - 5  # root, 41 routes, 40 x (agent, inference, tool)
    assert data["spans"][0]["status"] == "ok" and data["spans"][0]["duration_ms"] is not None
    assert all(s["duration_ms"] is not None for s in data["spans"])  # kept spans still close past the limit


def test_reading_the_trace_mid_run_changes_nothing() -> None:
    def runs(peek: bool) -> dict[str, Any]:
        def look(args: Any, ctx: Any) -> str:
            if peek:
                assert ctx.network.trace.spans[-1]["kind"] == "tool"  # read so far: this call is open
            return "ok"

        model = ScriptedModel([tool_call("look", {}, id=f"c{i}") for i in range(3)] + [text("done")])
        a = create_agent(name="A", system="s", model=model, tools=[create_tool(name="look", handler=look)])
        net = create_network(agents=[a], router=lambda args: a if args.call_count < 4 else None)
        data = net.run_sync("go").trace.to_dict()
        for span in data["spans"]:
            span.pop("start_ms"), span.pop("duration_ms")
        data.pop("id"), data.pop("started_at")
        return data

    assert runs(True) == runs(False)


def test_a_cancelled_run_fails_the_spans_it_left_open() -> None:
    traces: list[Trace] = []

    def grab(args: Any, ctx: Any) -> str:
        traces.append(ctx.network.trace)
        return "ok"

    class Stalls(ScriptedModel):
        async def infer(self, messages: Any, tools: Any, tool_choice: str) -> Any:
            if self.requests:  # the second inference never answers
                await asyncio.sleep(30)
            return await super().infer(messages, tools, tool_choice)

    a = create_agent(name="A", system="s", model=Stalls([tool_call("grab", {}, id="c1")]),
                     tools=[create_tool(name="grab", handler=grab)])
    net = create_network(agents=[a], router=lambda args: a if args.call_count < 2 else None)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(net.run("go"), timeout=0.5))
    spans = traces[0].to_dict()["spans"]
    assert [(s["kind"], s["status"], (s.get("error") or {}).get("type")) for s in spans] == [
        ("network", "error", "CancelledError"), ("route", "ok", None), ("agent", "ok", None),
        ("inference", "ok", None), ("tool", "ok", None), ("route", "ok", None),
        ("agent", "error", "CancelledError"), ("inference", "error", "CancelledError")]
    assert all(s["duration_ms"] is not None for s in spans)


def test_a_cancelled_standalone_run_fails_its_root_and_the_tool_it_was_in() -> None:
    traces: list[Trace] = []

    async def stalls(args: Any, ctx: Any) -> str:
        traces.append(ctx.network.trace)
        await asyncio.sleep(30)
        return "never"

    a = create_agent(name="A", system="s", model=ScriptedModel([tool_call("stalls", {}, id="c1"), text("x")]),
                     tools=[create_tool(name="stalls", handler=stalls)])
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(a.run("go", max_iter=2), timeout=0.3))
    spans = traces[0].to_dict()["spans"]
    assert [(s["kind"], s["status"], (s.get("error") or {}).get("type")) for s in spans] == [
        ("agent", "error", "CancelledError"), ("inference", "ok", None), ("tool", "error", "CancelledError")]


# --- secrets and size -------------------------------------------------------------------------

def test_no_api_key_reaches_a_trace_or_its_page(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-proj-TRACEtestKEY0123456789abcdefXYZ"
    echo = {"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"your key is {key}"},
                         "finish_reason": "stop"}]}
    tool = create_tool(name="whoami", handler=lambda args, ctx: {"token": key})  # a tool leaking it too
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with fake_provider(Reply(500, {"error": {"message": f"bad key {key}"}}),
                       Reply(200, {**echo, "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                           "role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function",
                           "function": {"name": "whoami", "arguments": "{}"}}]}}]}),
                       Reply(200, echo)) as server:
        model = openai("gpt-4o-mini", base_url=server.url + "/v1/", sleep=lambda s: None)
        result = create_agent(name="A", system="s", model=model, tools=[tool]).run_sync("hi", max_iter=2)
    assert any(key in h.get("authorization", "") for _, h, _ in server.requests)  # it was sent
    assert result.trace is not None
    text_json, page = result.trace.to_json(), render(result.trace.to_dict())
    assert key not in text_json and key not in page
    assert "<redacted>" in text_json
    assert [a["status"] for a in kinds(result.trace.to_dict(), "inference")[0]["attempts"]] == [500, 200]


def test_key_shapes_are_scrubbed_without_the_environment() -> None:
    trace = Trace("t")
    span = trace.begin("network", "n", {"input": "sk-abcdefghijklmnopqrstuvwxyz1234 and Bearer abc.def-ghi_jkl123"})
    trace.end(span)
    dumped = trace.to_json()
    assert "abcdefghijklmnop" not in dumped and "abc.def-ghi_jkl123" not in dumped
    assert dumped.count("<redacted>") == 2
    signing = "signkey-prod-" + "0123456789abcdef" * 4  # constructed: Inngest's signing key shape
    trace = Trace("t")
    trace.end(trace.begin("network", "n", {"input": f"key {signing}."}))
    assert signing[13:] not in trace.to_json() and "key <redacted>." in trace.to_json()


def test_secret_environment_values_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["INNGEST_SIGNING_KEY", "INNGEST_EVENT_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "DB_PASSWORD",
             "APP_SECRET"]
    for i, name in enumerate(names):
        monkeypatch.setenv(name, f"value-{i}-not-a-known-shape")
    trace = Trace("t")
    trace.end(trace.begin("network", "n", {"input": " ".join(f"value-{i}-not-a-known-shape" for i in range(6))}))
    assert "not-a-known-shape" not in trace.to_json() and trace.to_json().count("<redacted>") == 6


def test_page_cuts_large_values_and_notes_their_size() -> None:
    big = "x" * 50_000
    rows = [{"n": i} for i in range(1_000)]
    model = ScriptedModel([tool_call("dump", {}, id="c1"), text(big)])
    tool = create_tool(name="dump", handler=lambda args, ctx: rows)
    trace = create_agent(name="A", system="s", model=model, tools=[tool]).run_sync("go", max_iter=2).trace
    assert trace is not None
    data = trace.to_dict()
    assert texts(data["spans"][0]["output"]) == [big]  # the trace keeps everything
    page = render(data)
    assert "[truncated: 50,000 characters in full]" in page
    assert "[truncated: 900 more items" in page
    assert len(page) < 100_000


def page_data(page: str) -> dict[str, Any]:
    """The trace a page embeds, as its script reads it."""
    data: dict[str, Any] = json.loads(page.split("const TRACE = ", 1)[1].split(";\n", 1)[0])
    return data


def test_page_shows_every_span_of_a_long_run_and_cuts_only_values_inside_them() -> None:
    rows = [{"n": i} for i in range(150)]
    tool = create_tool(name="rows", handler=lambda args, ctx: rows)
    model = ScriptedModel([tool_call("rows", {}, id=f"c{i}") for i in range(40)])
    a = create_agent(name="A", system="s", model=model, tools=[tool])
    run = create_network(agents=[a], router=lambda args: a if args.call_count < 40 else None).run_sync("go")
    data = run.trace.to_dict()
    assert len(data["spans"]) == 1 + 41 + 40 * 3  # more than a list is cut at (ITEMS)
    shown = page_data(render(data))["spans"]
    assert [(s["id"], s["kind"], s["parent"]) for s in shown] == [(s["id"], s["kind"], s["parent"])
                                                                for s in data["spans"]]
    tools = [s for s in shown if s["kind"] == "tool"]
    assert len(tools) == 40 and all(len(t["output"]["data"]) == 101 for t in tools)  # 100 rows, then the note
    assert tools[0]["output"]["data"][-1].startswith("… [truncated: 50 more items")


def test_page_data_cannot_close_the_script_element() -> None:
    trace = Trace("t")
    span = trace.begin("network", "</script><script>alert(1)</script><!--", {"input": "x"})
    trace.end(span)
    page = render(trace.to_dict())
    script = page[page.index("const TRACE = "):]
    assert "</script><script>alert" not in script.split("</script>", 1)[0]
    assert page.count("<script>") == 1 and "\\u003c/script>" in page


def test_page_command_writes_the_page(tmp_path: Path) -> None:
    import subprocess

    trace, _ = trace_of("030")
    (tmp_path / "t.json").write_text(json.dumps(trace), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "agentkit_min.trace_page", str(tmp_path / "t.json"), "-o",
                           str(tmp_path / "p.html")], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "p.html")
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "Default routing agent" in page and "http://" not in page.split("<script>", 1)[1]
