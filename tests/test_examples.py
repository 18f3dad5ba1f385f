"""Runs every example in examples/ offline and checks what it did.

Each example's `main()` returns its run (or result); the tests assert which agents ran, what
the tools computed, what reached the models and what ended up in state. API keys are removed
from the environment so every example uses its offline stand-in, and real model requests are
forbidden. Two examples also run as scripts through `subprocess` to prove the no-install path.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest

import agentkit_min.http
from agentkit_min import AgentResult, NetworkRun
from agentkit_min.messages import message_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(agentkit_min.http, "ALLOW_MODEL_REQUESTS", False)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield


def example(name: str) -> ModuleType:
    return importlib.import_module(name)


def agents(run: NetworkRun) -> list[str]:
    return [r.agent_name for r in run.state.results]


def tool_data(result: AgentResult, index: int = 0) -> Any:
    content = result.tool_calls[index]["content"]
    assert "data" in content, content
    return content["data"]


def texts(result: AgentResult) -> list[str]:
    return [message_text(m) for m in result.output if m["type"] == "text"]


# --- Agents -----------------------------------------------------------------------------------


def replayed(result: AgentResult, provider: str = "openai") -> bool:
    """True when the result came through a provider adapter from a constructed cassette."""
    marker = {"openai": "chatcmpl-constructed", "anthropic": "msg_constructed"}[provider]
    return marker in result.raw and result.usage.get("total_tokens", 0) > 0


def test_agents_code_writer() -> None:
    mod = example("agents_code_writer")
    result = mod.main()
    assert result.agent_name == "Code writer"
    assert replayed(result)
    assert [m["role"] for m in result.prompt] == ["system", "user"]
    assert message_text(result.prompt[0]) == mod.SYSTEM
    assert message_text(result.prompt[1]) == mod.ASK
    files = mod.files_in(result)
    assert list(files) == ["removeWhitespace.ts"]
    assert "export function removeUnnecessaryWhitespace" in files["removeWhitespace.ts"]


def test_tools_list_charges_filters_by_user_and_dates() -> None:
    mod = example("tools_list_charges")
    result = mod.main()
    assert [m["type"] for m in result.output] == ["tool_call", "text"]  # tool, then the answer
    assert replayed(result)
    assert "ch_2" in texts(result)[0]
    charges = tool_data(result)
    assert [c["id"] for c in charges] == ["ch_1", "ch_2"]  # user_123 in January only
    assert result.tool_calls[0]["tool"]["input"]["created"] == {"gte": "2024-01-01", "lte": "2024-01-31"}


def test_tools_list_charges_nullable_range_is_required_but_may_be_null() -> None:
    from agentkit_min import create_agent
    from agentkit_min.testing import ScriptedModel, tool_call

    mod = example("tools_list_charges")
    model = ScriptedModel([tool_call("list_charges", {"userId": "user_123", "created": None}),
                           tool_call("list_charges", {"userId": "user_123"})])
    agent = create_agent(name="support", system="s", model=model, tools=[mod.list_charges])
    with_null = agent.run_sync("all charges")
    assert [c["id"] for c in tool_data(with_null)] == ["ch_1", "ch_2", "ch_3"]
    missing = agent.run_sync("all charges")
    error = missing.tool_calls[0]["content"]["error"]
    assert error["name"] == "ToolArgumentsError" and "created" in error["message"]


def test_lifecycle_hooks_edit_prompt_and_history_and_read_output() -> None:
    mod = example("lifecycle_hooks")
    result, state = mod.main()
    system = message_text(result.prompt[0])
    assert system.endswith("Follow this style guide: arrow functions, no semicolons")
    assert result.history == mod.EARLIER[-2:]  # on_start trimmed the seeded history
    assert list(state.data["files"]) == ["slugify.ts"]  # parsed by on_response
    assert "export const slugify" in state.data["files"]["slugify.ts"]
    assert state.data["runs"] == 1  # counted by on_finish


def test_dynamic_system_prompt_follows_state() -> None:
    mod = example("dynamic_system_prompt")
    empty, with_files, copy_editor = mod.main()
    assert message_text(empty.prompt[0]) == mod.BASE_PROMPT
    assert texts(empty) == ["There is no code yet."]
    prompt = message_text(with_files.prompt[0])
    assert prompt.startswith(mod.BASE_PROMPT + " The following code already exists:")
    assert "<file name='sum.ts'>export const sum" in prompt
    assert texts(with_files) == ["I can see: sum.ts."]  # the model was sent the dynamic prompt
    assert message_text(copy_editor.prompt[0]).startswith("You are an expert copy editor.")


# --- State ------------------------------------------------------------------------------------

def test_state_typed() -> None:
    state, run = example("state_typed").main()
    assert state.data == {"username": "Alice"}
    assert agents(run) == ["Greeter"]  # the router stopped once the tool saved a name
    assert run.state.data == {"username": "Ada Lovelace"}


def test_state_write_files_tool_stores_files_in_state() -> None:
    mod = example("state_write_files")
    run = mod.main()
    assert agents(run) == ["Coder"]
    written = mod.OFFLINE_SCRIPT[0]["tools"][0]["input"]["files"]
    assert run.state.data["files"] == {f["filename"]: f["content"] for f in written}
    assert tool_data(run.state.results[0]) == "write_files successfully executed"


def test_state_routing_coding_network() -> None:
    mod = example("state_routing_coding_network")
    run = mod.main()
    assert agents(run) == ["Planner", "Planner", "Planner", "Editor", "Editor"]
    data = run.state.data
    assert data["files"] == ["README.md", "calc.py"]
    assert tool_data(run.state.results[1]) == mod.SOURCES["calc.py"]
    plan_call = run.state.results[2].tool_calls[0]["tool"]
    assert plan_call["name"] == "create_plan" and data["plan"] == plan_call["input"]
    assert data["done"] is True
    namespace: dict[str, Any] = {}
    exec(data["sources"]["calc.py"], namespace)  # the edited file really is fixed
    assert namespace["add"](2, 3) == 5
    assert mod.SOURCES["calc.py"] == "def add(a, b):\n    return a - b\n"  # the original is untouched


class RecordingStep:
    """A minimal durable step: runs each step once and records its id."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def run(self, step_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        self.ids.append(step_id)
        value = fn(*args)
        return await value if hasattr(value, "__await__") else value

    async def wait_for_event(self, step_id: str, *, event: str, timeout: float,
                             if_exp: str | None = None) -> Any:
        raise AssertionError("not used")

    async def invoke(self, step_id: str, *, function: Any, data: dict[str, Any]) -> Any:
        raise AssertionError("not used")


def test_state_routing_create_plan_records_a_step_when_durable() -> None:
    step = RecordingStep()
    run = example("state_routing_coding_network").main(step=step)
    assert run.state.data["done"] is True
    assert "plan created" in step.ids
    # create_plan uses its own step, so its call is not wrapped; other tool calls are.
    assert not any(":tool:" in i and "create_plan" in i for i in step.ids)
    assert sum(":tool:" in i for i in step.ids) == 4  # list_files, read_file, write_file, finish


# --- Networks ---------------------------------------------------------------------------------

def test_networks_search_summary_default_routing_agent() -> None:
    mod = example("networks_search_summary")
    run = mod.main()  # the cassette checks every request body, routing prompts included
    assert agents(run) == ["Search", "Summary"]
    assert tool_data(run.state.results[0]) == [mod.PAGES[0]]  # only the 2024 page matches
    assert all(replayed(r) for r in run.state.results)
    assert "Super Bowl LVIII" in texts(run.state.results[1])[0]


def test_networks_multi_model_routes_each_agent_to_its_model() -> None:
    run = example("networks_multi_model").main()
    assert agents(run) == ["Search", "Summary"]
    search, summary = run.state.results
    assert replayed(search, "openai") and replayed(summary, "anthropic")
    assert (run.default_model.provider, run.agents["Summary"].model.provider) == ("openai", "anthropic")


def test_networks_max_iter_caps_a_router_that_never_stops() -> None:
    mod = example("networks_max_iter")
    run = mod.main(3)
    assert agents(run) == ["Editor"] * 3
    assert run.state.data["router_calls"] == 3  # not asked again after the last run (Q1)
    drafts = [texts(r)[0].split(":")[0] for r in run.state.results]
    assert drafts == ["Draft 1", "Draft 2", "Draft 3"]  # each run saw the earlier drafts
    once = mod.main(1)
    assert agents(once) == ["Editor"] and once.state.data["router_calls"] == 1


def test_networks_default_state_is_copied_per_run() -> None:
    first, second, default = example("networks_default_state").main()
    assert first.state.data == {"foo": "bar", "note": "buy milk"}
    assert second.state.data == {"foo": "bar", "note": "call mum"}  # nothing leaked from run 1
    assert default == {"foo": "bar"}
    assert tool_data(second.state.results[0]) == {"foo": "bar", "note": "call mum"}


# --- Routers ----------------------------------------------------------------------------------

def test_routers_code_question_goes_to_writer_statement_stops() -> None:
    question, statement = example("routers_code").main()
    assert agents(question) == ["Classifier", "Writer"]
    assert texts(question.state.results[0]) == ["question"]
    assert agents(statement) == ["Classifier"]
    assert texts(statement.state.results[0]) == ["statement"]


def test_routers_routing_agent() -> None:
    # Five requests (three routing inferences) all played from the cassette; "done" names no
    # agent, so on_route returned [] and the network stopped.
    run = example("routers_routing_agent").main()
    assert agents(run) == ["Classifier", "Writer"]  # the routing agent is not an agent run
    prompt = example("routers_routing_agent").routing_prompt
    from agentkit_min import AgentArgs

    assert "already ran, in order: Classifier, Writer" in prompt(AgentArgs(run.agents["Writer"], run))


def test_routers_routing_agent_on_route_ignores_unknown_names() -> None:
    from agentkit_min import ResultArgs
    from agentkit_min.testing import text

    mod = example("routers_routing_agent")
    run = example("routers_code").main()[0]
    result = AgentResult("router", [text("Writer"), text("Nobody"), text(" Classifier ")], [])
    assert mod.on_route(ResultArgs(run.agents["Writer"], run, result)) == ["Writer", "Classifier"]


def test_routers_hybrid() -> None:
    run = example("routers_hybrid").main()
    assert agents(run) == ["Classifier", "Writer"]  # then the default routing agent said done
    assert all(replayed(r) for r in run.state.results)


def test_routers_state() -> None:
    run = example("routers_state").main()
    assert agents(run) == ["Math", "Context", "Math"]
    assert tool_data(run.state.results[1]) == "The sales tax rate is 7%."
    assert run.state.data["solution"] == round(100 * 1.07, 2)


# --- Streaming --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_streaming_writes_each_token_as_it_arrives(provider: str) -> None:
    written: list[str] = []
    result = example("streaming").main(provider, written.append)
    assert written[:2] == ["I'll look ", "that up."]  # one write per streamed piece, in order
    assert "18 °C " in written and '{"ci' in "".join(written)
    assert "".join(written).endswith("It is 18 °C and sunny in Paris right now.")
    assert texts(result) == ["I'll look that up.", "It is 18 °C and sunny in Paris right now."]
    assert tool_data(result) == {"city": "Paris", "temp_c": 18, "sky": "sunny"}


# --- Live mode, without the internet --------------------------------------------------------

def test_with_a_key_examples_go_live_and_skip_the_cassette(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from agentkit_min.http import use_transport
    from agentkit_min.testing import ScriptedModel

    sent: list[tuple[str, dict[str, str]]] = []

    def provider(method: str, url: str, headers: Any, body: bytes, timeout: float) -> Any:
        sent.append((url, {k.lower(): v for k, v in headers.items()}))
        reply = {"id": "chatcmpl-fake", "object": "chat.completion", "model": "gpt-4o-mini",
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": "<file name='x.ts'>x</file>"}}]}
        return 200, {"content-type": "application/json"}, json.dumps(reply).encode()

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    mod = example("agents_code_writer")
    with use_transport(provider):  # stands in for api.openai.com
        result = mod.main()
    assert mod.files_in(result) == {"x.ts": "x"}  # not the cassette's answer
    assert sent[0][0] == "https://api.openai.com/v1/chat/completions"
    assert sent[0][1]["authorization"] == "Bearer sk-test-not-a-real-key"
    offline = ScriptedModel()
    assert example("_models").live_or(offline) is not offline


def test_example_cassettes_are_vcrpy_cassettes_without_secrets() -> None:
    vcr_serialize = pytest.importorskip("vcr.serialize")
    from vcr.serializers import jsonserializer

    cassettes = sorted((ROOT / "fixtures" / "examples").glob("*.json"))
    assert {p.stem for p in cassettes} >= {"demo", "agents_code_writer", "mcp_agent"}
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        requests, responses = vcr_serialize.deserialize(text, jsonserializer)
        assert requests and len(requests) == len(responses), path.name
        lowered = text.lower()
        assert "authorization" not in lowered and "x-api-key" not in lowered, path.name
        assert example("_models").OFFLINE_KEY not in text, path.name


# --- Every example, and the no-install path ---------------------------------------------------

PUBLIC = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_example_is_documented_and_tested(name: str) -> None:
    mod = example(name)
    assert mod.__doc__ and "seed" in mod.__doc__.lower(), f"{name}: docstring must name its seed"
    assert callable(getattr(mod, "main", None)), f"{name}: needs a main()"
    tests = Path(__file__).read_text(encoding="utf-8")
    assert f'example("{name}")' in tests, f"{name}: add a test that checks its outcome"


def _run_script(name: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS and k != "PYTHONPATH"}
    return subprocess.run([sys.executable, *flags, f"examples/{name}.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_script_runs_without_install() -> None:
    # -S: no site-packages, so agentkit_min is importable only through examples/_bootstrap.py.
    done = _run_script("state_routing_coding_network", "-S")
    assert done.returncode == 0, done.stderr
    assert "[Planner]\n  calls list_files({})" in done.stdout
    assert "calls finish_editing({})" in done.stdout
    assert "return a + b" in done.stdout


def test_script_prints_steps() -> None:
    done = _run_script("tools_list_charges")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[Customer support specialist]"
    assert lines[1].startswith('  calls list_charges({"userId": "user_123"')
    assert lines[2].startswith('    -> {"data": [{"id": "ch_1"')
    assert lines[3].startswith("  says: ") and "ch_2" in lines[3]


# --- Phase 2: the flagship demo, MCP, history, multi-step and human-in-the-loop tools ---------

def test_demo_support_network() -> None:
    mod = example("demo")
    events: list[dict[str, Any]] = []
    run = mod.main(publish=events.append)
    assert agents(run) == ["Triage", "Billing", "Billing", "Billing"]
    assert all(replayed(r) for r in run.state.results)
    data = run.state.data
    assert data["ticket"]["category"] == "billing"  # written by classify_ticket, read by the router
    assert [c["id"] for c in tool_data(run.state.results[1])] == ["ch_1", "ch_2"]
    assert data["refunds"] == [{"refundId": "re_ch_2", "chargeId": "ch_2", "amount": 1200,
                                "reason": "Duplicate charge for the January Pro plan", "status": "succeeded"}]
    final = run.state.results[-1]
    assert final.tool_calls == [] and "refunded" in texts(final)[0]  # answered: the router stopped
    started = [e["data"]["name"] for e in events
               if e["event"] == "run.started" and e["data"]["scope"] == "agent"]
    assert started == agents(run)
    called = [e["data"]["toolName"] for e in events
              if e["event"] == "part.completed" and e["data"]["type"] == "tool-call"]
    assert called == ["classify_ticket", "list_charges", "refund_charge"]


def test_demo_printer_prints_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    example("demo").main(publish=example("_show").printer())
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[Triage]"
    assert out[1].startswith('  calls classify_ticket({"category": "billing"')
    assert out[2] == '    -> {"data": "Ticket classified as billing (high priority)"}'
    assert out.count("[Billing]") == 3
    assert out[-1].startswith("  says: Sorry about that!")


def test_demo_replay_checks_what_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkit_min import UsageError

    mod = example("demo")
    monkeypatch.setattr(mod, "TICKET", "Something else entirely")
    with pytest.raises(UsageError, match="no unplayed interaction matches"):
        mod.main()


def test_demo_script_runs_without_install() -> None:
    done = _run_script("demo", "-S")
    assert done.returncode == 0, done.stderr
    assert "[Triage]" in done.stdout and "calls refund_charge" in done.stdout
    assert done.stdout.rstrip().endswith("refunds: ch_2 (12.00 USD); 4 agent runs")


def test_demo_command_reports_a_failed_run_in_a_line_with_its_trace_page(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Live with no network or a wrong key, the demo says what failed and how to go offline, and
    where the page of what happened is; no traceback. The failure is constructed: a model that
    raises the error a refused connection gives."""
    from agentkit_min import create_agent, create_network
    from agentkit_min.errors import ModelConnectionError
    from agentkit_min.testing import ScriptedModel

    mod = example("demo")
    refused = ModelConnectionError("openai: connection to https://api.openai.com/v1/chat/completions failed")

    def failing(publish: Any = None) -> NetworkRun:
        agent = create_agent(name="Triage", system="s", model=ScriptedModel([refused]))
        return create_network(agents=[agent], router=lambda args: agent if args.call_count < 1 else None).run_sync("x")

    monkeypatch.setattr(mod, "main", failing)
    monkeypatch.setattr(mod, "PAGE", str(tmp_path / "page.html"))
    for live in (False, True):
        monkeypatch.setattr(mod, "is_live", lambda live=live: live)
        assert mod.cli() == 1
        err = capsys.readouterr().err
        assert err.startswith("\ndemo failed: ModelConnectionError: openai: connection to") and "Traceback" not in err
        assert ("unset OPENAI_API_KEY to replay the recorded run offline" in err) is live
        assert err.rstrip().endswith(f"what happened until then: {tmp_path / 'page.html'}")
        assert "ModelConnectionError" in (tmp_path / "page.html").read_text(encoding="utf-8")  # the failed run's page


def _mcp_exchange(*messages: dict[str, Any]) -> list[dict[str, Any]]:
    import json

    lines = "".join(json.dumps(m) + "\n" for m in messages) + "not json\n"
    done = subprocess.run([sys.executable, str(EXAMPLES / "mcp_server_stdio.py")], input=lines,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _call(id: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def test_mcp_server_stdio_speaks_json_rpc() -> None:
    assert callable(example("mcp_server_stdio").main)
    replies = _mcp_exchange(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        _call(3, "multiply", {"a": 6, "b": 7}),
        _call(4, "divide", {"a": 1, "b": 2}),
        _call(5, "add", {"a": "x", "b": 2}),
        {"jsonrpc": "2.0", "id": 6, "method": "resources/list"},
    )
    assert [r["id"] for r in replies] == [1, 2, 3, 4, 5, 6, None]  # no reply to the notification
    assert replies[0]["result"]["protocolVersion"] == "2025-03-26"
    assert [t["name"] for t in replies[1]["result"]["tools"]] == ["add", "multiply"]
    assert replies[2]["result"] == {"content": [{"type": "text", "text": "42"}], "isError": False}
    assert replies[3]["result"]["isError"] is True and replies[4]["result"]["isError"] is True
    assert replies[5]["error"]["code"] == -32601
    assert replies[6]["error"]["code"] == -32700


def test_mcp_agent_uses_the_servers_tools() -> None:
    result = example("mcp_agent").main()
    calls = [(r["tool"]["name"], r["tool"]["input"], r["content"]) for r in result.tool_calls]
    assert calls == [  # computed by the MCP server process
        ("calc-add", {"a": 3, "b": 4}, {"data": [{"type": "text", "text": "7"}]}),
        ("calc-multiply", {"a": 7, "b": 6}, {"data": [{"type": "text", "text": "42"}]}),
    ]
    assert "42" in texts(result)[-1]


def test_mcp_over_sse_and_websocket_use_the_local_servers_tools() -> None:
    assert callable(example("mcp_server_http").main)
    for result in (example("mcp_sse").main(), example("mcp_ws").main()):  # each starts its server
        assert [(r["tool"]["name"], r["content"]) for r in result.tool_calls] == [
            ("calc-add", {"data": [{"type": "text", "text": "7"}]}),
            ("calc-multiply", {"data": [{"type": "text", "text": "42"}]}),
        ]
    done = _run_script("mcp_ws", "-S")  # as a script, nothing installed
    assert done.returncode == 0, done.stderr
    assert "calls calc-multiply" in done.stdout


def test_history_sqlite_second_run_sees_the_first(tmp_path: Path) -> None:
    from agentkit_min.sqlite_history import SQLiteHistory

    db = str(tmp_path / "h.sqlite3")
    first, second = example("history_sqlite").main(db)
    assert first.state.thread_id and second.state.thread_id == first.state.thread_id
    loaded = second.state.results[:second.initial_result_count]
    assert [r.agent_name for r in loaded] == ["user", "Assistant"]  # read back from SQLite
    assert "order number is 4242" in message_text(loaded[0].output[0])
    new = second.state.results[second.initial_result_count:]
    assert [r.agent_name for r in new] == ["Assistant"] and "4242" in texts(new[0])[0]
    with SQLiteHistory(db) as history:
        stored = history.load(first.state.thread_id)
    assert [r.agent_name for r in stored] == ["user", "Assistant", "user", "Assistant"]


def test_research_tool_runs_its_steps() -> None:
    mod = example("research_tool")
    plain = mod.main()
    assert [r["tool"]["name"] for r in plain.tool_calls] == ["research_web"]
    assert "write-ahead log" in tool_data(plain)
    step = RecordingStep()
    durable = mod.main(step=step)
    assert tool_data(durable) == tool_data(plain)
    own = [i for i in step.ids if ":" not in i]  # the tool's own steps (the core's ids have ':')
    assert own == ["generate-search-queries", "crawl-web-0", "crawl-web-1", "summarize-search-results"]
    assert mod.crawl("sqlite wal mode") == [mod.PAGES["sqlite wal mode"]]
    assert mod.crawl("sqlite checkpoint") == [mod.PAGES["sqlite checkpoint"]]


def test_support_human_in_the_loop_without_inngest() -> None:
    run = example("support_human_in_the_loop").main()
    assert agents(run) == ["Technical Support"] * 3
    asked = run.state.results[1].tool_calls[0]
    assert asked["tool"]["name"] == "ask_developer"
    assert asked["content"] == {"data": {"error": "This tool requires step context"}}
    assert "escalated" in texts(run.state.results[2])[0]


def test_support_human_in_the_loop_as_inngest_function() -> None:
    pytest.importorskip("inngest")
    from inngest.experimental import mocked

    res = example("support_human_in_the_loop").main_inngest()
    assert res.status is mocked.Status.COMPLETED, res.error
    assert res.output["ticket"]["id"] == "T-1001"
    names = [r["agentName"] for r in res.output["response"]]
    assert names == ["Technical Support"] * 3
    answer = res.output["response"][1]["toolCalls"][0]["content"]["data"]
    assert answer["developerResponse"].startswith("The v2.14 export job has a bug")
    assert answer["responseTime"] == "2025-01-15T10:42:00Z"


# --- Deployment with Inngest (needs the inngest extra) ----------------------------------------

def test_deployment_inngest_serves_api_inngest_as_a_script() -> None:
    import re
    import select

    for peer in ("inngest", "fastapi", "uvicorn"):
        pytest.importorskip(peer, reason=f"{peer} (the inngest extra) is not installed for this Python")
    from .inngest_executor import Executor

    assert example("deployment_inngest").APP_ID == "my-agentkit-network"
    key = "signkey-test-" + "ab" * 16  # constructed; the script reads it as Inngest's signing key
    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.startswith("INNGEST_")}
    refused = subprocess.run([sys.executable, "examples/deployment_inngest.py"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "Set INNGEST_SIGNING_KEY" in refused.stderr
    proc = subprocess.Popen([sys.executable, "examples/deployment_inngest.py", "--port", "0"], cwd=ROOT,
                            env={**env, "INNGEST_SIGNING_KEY": key}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the server did not start within 60 s"
        url = re.search(r"http://127\.0\.0\.1:\d+/api/inngest", proc.stdout.readline())
        assert url, "the script did not print its URL"
        executor = Executor(url[0], signing_key=key)
        [config] = executor.sync()
        run = executor.run(config["id"], config["triggers"][0]["event"], {"input": "What does Inngest do?"})
    finally:
        proc.terminate()
        proc.wait(30)
    assert run.status == "completed", run.function_errors
    assert len(run.steps) == 3 and len(set(run.step_ids)) == 3  # 2 inferences, 1 tool call, once each
    assert run.output["results"][-1]["output"][0]["content"].startswith("Research summary: Inngest calls")


def test_deployment_retries_retry_only_the_failed_inference() -> None:
    pytest.importorskip("inngest", reason="the Inngest SDK (the inngest extra) is not installed")
    from inngest.experimental import mocked

    result, model = example("deployment_retries").main()
    assert result.status is mocked.Status.COMPLETED, result.error
    assert [r["agentName"] for r in result.output["results"]] == ["Deep Research Agent"] * 2
    kinds = [r.messages[-1]["type"] for r in model.requests]
    assert kinds == ["text", "tool_result", "tool_result"]  # the 2nd inference failed once, retried
    assert "Durable execution memoises" in result.output["results"][1]["output"][0]["content"]


def test_deployment_multi_tenancy_registers_a_concurrency_key_per_user() -> None:
    pytest.importorskip("inngest", reason="the Inngest SDK (the inngest extra) is not installed")
    from inngest.experimental import mocked

    config, runs = example("deployment_multi_tenancy").main()
    assert config["id"] == "my-agentkit-network-deep-research-network"
    assert [(c["key"], c["limit"]) for c in config["concurrency"]] == [("event.data.user_id", 10)]
    assert [r.status for r in runs] == [mocked.Status.COMPLETED] * 2
    assert [r.output["user_id"] for r in runs] == ["user-a", "user-b"]
    answers = [r.output["results"][-1]["output"][0]["content"] for r in runs]
    assert "Durable execution" in answers[0] and "Inngest calls" in answers[1]
