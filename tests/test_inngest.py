"""agentkit_min.inngest, offline, with the SDK's own mocked executor (inngest.experimental.mocked).

One test per pattern of the seed's Deployment pages: a network as a function, retries (a
replay after a failure does not call the model again for completed inferences), multi-tenancy
(concurrency / throttle configuration reaching the SDK), human in the loop (`ask_developer`
with wait_for_event: resumed by the event, or timed out) and multi-steps tools (a tool with its
own steps, and an Inngest function used as a tool through step.invoke).
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("inngest", reason="the Inngest SDK (dev extra) is not installed for this Python")

import inngest  # noqa: E402
from inngest.experimental import mocked  # noqa: E402

from agentkit_min.agent import create_agent  # noqa: E402
from agentkit_min.errors import ModelConnectionError, UsageError
from agentkit_min.inngest import (InngestStep, agent_function, create_functions, function_tool, match,
                                  network_function, slugify)
from agentkit_min.network import NetworkRun, create_network
from agentkit_min.sqlite_history import SQLiteHistory
from agentkit_min.step import Step
from agentkit_min.testing import ScriptedModel, text, tool_call
from agentkit_min.tool import ToolContext, create_tool

ADD_SCHEMA = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
              "required": ["a", "b"]}
APP = "test-app"


def client() -> mocked.Inngest:
    return mocked.Inngest(app_id=APP, is_production=False)


def trigger(fn: inngest.Function[Any], data: dict[str, Any], **kwargs: Any) -> Any:
    """mocked.trigger on a fresh event loop that is closed afterwards (it uses the current one)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return mocked.trigger(fn, inngest.Event(name="test", data=data), client(), **kwargs)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def config(fn: inngest.Function[Any]) -> Any:
    """The registration JSON the SDK would send Inngest for `fn`."""
    main: Any = fn.get_config("http://127.0.0.1/api/inngest").main
    return main.to_dict()


def until(n: int) -> Any:
    """A code router running the network's only agent `n` times."""
    def route(args: Any) -> Any:
        return args.network.agents["Calc"] if args.call_count < n else None
    return route


def test_slugify_matches_agentkit() -> None:
    assert slugify("Deep Research Network") == "deep-research-network"
    assert slugify("  Support/Agent: v2!! ") == "support-agent-v2"


def test_ids_events_retries_and_tenancy_options_reach_the_sdk() -> None:
    agent = create_agent(name="Deep Research Agent", system="s", model=ScriptedModel())
    network = create_network(name="Deep Research Network", agents=[agent])
    fn = network_function(client(), network, retries=1,
                          concurrency=[{"key": "event.data.user_id", "limit": 10}],
                          throttle={"key": "event.data.user_id", "limit": 5,
                                    "period": datetime.timedelta(minutes=1)})
    cfg = config(fn)
    assert cfg["id"] == f"{APP}-network-deep-research-network"
    assert cfg["triggers"][0]["event"] == f"{APP}/network-deep-research-network"
    assert cfg["steps"]["step"]["retries"] == {"attempts": 1}
    assert cfg["concurrency"][0]["key"] == "event.data.user_id"
    assert cfg["concurrency"][0]["limit"] == 10
    assert cfg["throttle"]["limit"] == 5 and cfg["throttle"]["period"] == "1m"
    fns = create_functions(client(), agents=[(agent, {"rate_limit": {"limit": 3, "period": 60_000}})],
                           networks=[network])
    ids = [config(f)["id"] for f in fns]
    assert ids == [f"{APP}-agent-deep-research-agent", f"{APP}-network-deep-research-network"]
    assert config(fns[0])["rateLimit"]["limit"] == 3


def test_network_function_runs_the_network_to_completion() -> None:
    add = create_tool(name="add", parameters=ADD_SCHEMA, handler=lambda a, ctx: a["a"] + a["b"])
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2}), text("The sum is 3")])
    calc = create_agent(name="Calc", system="You add.", model=model, tools=[add])
    fn = network_function(client(), create_network(name="Calc", agents=[calc], router=until(2)))
    res = trigger(fn, {"input": "1+2?", "state": {"userId": "u1"}, "thread_id": "t-1"})
    assert res.status is mocked.Status.COMPLETED, res.error
    assert res.output["output"][0]["content"] == "The sum is 3"
    assert [r["agentName"] for r in res.output["results"]] == ["Calc", "Calc"]
    assert res.output["results"][0]["toolCalls"][0]["content"] == {"data": 3}
    assert res.output["state"] == {"userId": "u1"} and res.output["thread_id"] == "t-1"
    model.assert_complete()


def test_replay_after_a_failure_does_not_repeat_completed_model_calls() -> None:
    tool_runs: list[dict[str, Any]] = []

    def counted_add(args: dict[str, Any], ctx: ToolContext) -> Any:
        tool_runs.append(args)
        return args["a"] + args["b"]

    add = create_tool(name="add", parameters=ADD_SCHEMA, handler=counted_add)
    # The second inference fails once: Inngest retries that step and replays the function from
    # the start; the first inference and the tool call must come from the step memo.
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2}), ModelConnectionError("connection reset"),
                           text("3")])
    calc = create_agent(name="Calc", system="s", model=model, tools=[add])
    fn = network_function(client(), create_network(name="Calc", agents=[calc], router=until(2)), retries=2)
    res = trigger(fn, {"input": "1+2?"})
    assert res.status is mocked.Status.COMPLETED, res.error
    assert len(model.requests) == 3  # two successful inferences + the failed attempt, no repeats
    assert tool_runs == [{"a": 1, "b": 2}]
    assert res.output["output"][0]["content"] == "3"


def test_retries_are_bounded_by_the_retries_option() -> None:
    failures = [ModelConnectionError("down")] * 3
    model = ScriptedModel([*failures, text("never")])
    calc = create_agent(name="Calc", system="s", model=model)
    fn = network_function(client(), create_network(name="Calc", agents=[calc], router=until(1)), retries=1)
    res = trigger(fn, {"input": "hi"})
    assert res.status is mocked.Status.FAILED
    assert "down" in str(res.error)
    assert len(model.requests) == 2  # the first attempt and one retry


def test_bad_event_input_fails_without_calling_the_model() -> None:
    model = ScriptedModel([text("unused")])
    calc = create_agent(name="Calc", system="s", model=model)
    fn = network_function(client(), create_network(name="Calc", agents=[calc], router=until(1)), retries=0)
    res = trigger(fn, {"prompt": "wrong key"})
    assert res.status is mocked.Status.FAILED
    assert "event.data.input" in str(res.error)
    assert model.requests == []


def _ask_developer() -> Any:
    """The seed's `ask_developer` human-in-the-loop tool, in Python."""
    async def handler(args: dict[str, Any], ctx: ToolContext) -> Any:
        if ctx.step is None:
            return {"error": "This tool requires step context"}
        response = await ctx.step.wait_for_event(
            "developer.response", event="app/support.ticket.developer-response",
            timeout=4 * 3600, if_exp=match("data.ticketId"))
        if response is None:
            return {"error": "No developer response provided"}
        return {"developerResponse": response["data"]["answer"],
                "responseTime": response["data"]["timestamp"]}

    return create_tool(name="ask_developer", description="Ask a developer for input",
                       parameters={"type": "object", "properties": {"question": {"type": "string"}},
                                   "required": ["question"]},
                       handler=handler, uses_step=True)


@pytest.mark.parametrize("answered", [True, False])
def test_human_in_the_loop_resumes_with_the_event_or_times_out(answered: bool) -> None:
    model = ScriptedModel([tool_call("ask_developer", {"question": "Is prod down?"}), text("Resolved")])
    tech = create_agent(name="Calc", system="s", model=model, tools=[_ask_developer()])
    fn = network_function(client(), create_network(name="Support", agents=[tech], router=until(2)))
    event = inngest.Event(name="app/support.ticket.developer-response",
                          data={"ticketId": "T-7", "answer": "restart the worker", "timestamp": 1700})
    res = trigger(fn, {"input": "Prod is down", "ticketId": "T-7"},
                  step_stubs={"developer.response": event if answered else mocked.Timeout})
    assert res.status is mocked.Status.COMPLETED, res.error
    content = res.output["results"][0]["toolCalls"][0]["content"]
    if answered:
        assert content == {"data": {"developerResponse": "restart the worker", "responseTime": 1700}}
    else:
        assert content == {"data": {"error": "No developer response provided"}}
    # The second inference read the tool's answer.
    last: Any = model.requests[1].messages[-1]
    assert last["content"] == content


def test_human_in_the_loop_tool_outside_inngest_says_so() -> None:
    model = ScriptedModel([tool_call("ask_developer", {"question": "?"}), text("ok")])
    tech = create_agent(name="Calc", system="s", model=model, tools=[_ask_developer()])
    run = create_network(name="Support", agents=[tech], router=until(2)).run_sync("hi")
    assert isinstance(run, NetworkRun)
    assert run.state.results[0].tool_calls[0]["content"] == {"data": {"error": "This tool requires step context"}}


def test_multi_steps_tool_retries_only_its_failed_step() -> None:
    crawled: list[str] = []
    attempts = {"summarize": 0}

    async def research(args: dict[str, Any], ctx: ToolContext) -> Any:
        assert ctx.step is not None
        pages = [await ctx.step.run(f"crawl-web:{q}", crawled.append, q) or q for q in args["queries"]]

        def summarize() -> str:
            attempts["summarize"] += 1
            if attempts["summarize"] == 1:
                raise ConnectionError("search backend flaked")
            return " + ".join(pages)

        return await ctx.step.run("summarize", summarize)

    tool = create_tool(name="research_web", handler=research, uses_step=True,
                       parameters={"type": "object", "properties": {"queries": {"type": "array"}}})
    model = ScriptedModel([tool_call("research_web", {"queries": ["a", "b"]}), text("done")])
    agent = create_agent(name="Calc", system="s", model=model, tools=[tool])
    fn = network_function(client(), create_network(name="Research", agents=[agent], router=until(2)))
    res = trigger(fn, {"input": "research"})
    assert res.status is mocked.Status.COMPLETED, res.error
    assert crawled == ["a", "b"]  # completed steps are not repeated by the retry
    assert attempts["summarize"] == 2
    assert res.output["results"][0]["toolCalls"][0]["content"] == {"data": "a + b"}
    assert len(model.requests) == 2


def test_an_inngest_function_as_a_tool_is_invoked_with_the_arguments() -> None:
    sdk_client = client()

    @sdk_client.create_function(fn_id="research-web-tool", trigger=inngest.TriggerEvent(event="research/run"))
    async def research_fn(ctx: inngest.Context) -> str:
        async def crawl() -> str:
            return f"pages about {ctx.event.data['topic']}"

        return await ctx.step.run("crawl", crawl)

    # The invoked function works on its own (its steps run under the mocked executor)...
    assert trigger(research_fn, {"topic": "sqlite"}).output == "pages about sqlite"
    # ...and as a tool, the call is a step.invoke named "<agent>/tools/<tool>".
    tool = function_tool(research_fn, description="Research the web",
                         parameters={"type": "object", "properties": {"topic": {"type": "string"}}})
    assert tool.name == "research-web-tool" and tool.uses_step
    model = ScriptedModel([tool_call("research-web-tool", {"topic": "sqlite"}), text("done")])
    agent = create_agent(name="Calc", system="s", model=model, tools=[tool])
    fn = network_function(sdk_client, create_network(name="Deep", agents=[agent], router=until(2)))
    res = trigger(fn, {"input": "go"}, step_stubs={"Calc/tools/research-web-tool": "pages about sqlite"})
    assert res.status is mocked.Status.COMPLETED, res.error
    assert res.output["results"][0]["toolCalls"][0]["content"] == {"data": "pages about sqlite"}
    # Outside Inngest the tool answers with an error result, as AgentKit.
    plain = ScriptedModel([tool_call("research-web-tool", {"topic": "x"}), text("ok")])
    outside = create_agent(name="Calc", system="s", model=plain, tools=[tool])
    run = create_network(name="Deep", agents=[outside], router=until(2)).run_sync("go")
    content: Any = run.state.results[0].tool_calls[0]["content"]
    error = content["error"]
    assert error["name"] == "UsageError" and "outside of Inngest context" in error["message"]


def test_agent_function_runs_a_standalone_agent() -> None:
    model = ScriptedModel([text("hello")])
    agent = create_agent(name="Greeter Bot", system="s", model=model)
    fn = agent_function(client(), agent)
    assert config(fn)["triggers"][0]["event"] == f"{APP}/agent-greeter-bot"
    res = trigger(fn, {"input": {"content": "hi", "id": "m-1"}})
    assert res.status is mocked.Status.COMPLETED, res.error
    assert res.output["output"][0]["content"] == "hello"
    sent: Any = model.requests[0].messages[-1]
    assert sent["content"] == "hi"


def test_history_is_written_once_despite_replays(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"))
    model = ScriptedModel([tool_call("add", {"a": 2, "b": 2}), text("4")])
    add = create_tool(name="add", parameters=ADD_SCHEMA, handler=lambda a, ctx: a["a"] + a["b"])
    calc = create_agent(name="Calc", system="s", model=model, tools=[add])
    network = create_network(name="Calc", agents=[calc], history=history,
                             router=lambda args: calc if args.call_count == 0 or
                             args.last_result.output[0]["type"] == "tool_call" else None)
    res = trigger(network_function(client(), network), {"input": "2+2?", "thread_id": "th-1"})
    assert res.status is mocked.Status.COMPLETED, res.error
    # The function body ran many times (each new step replays it); the store saw each write once.
    stored = history.load("th-1")
    assert [r.agent_name for r in stored] == ["user", "Calc", "Calc"]
    assert [t.entries for t in history.list_threads()] == [3]
    # A second durable run on the thread sees the first run once, then its own input once.
    model.add(text("8"))
    res = trigger(network_function(client(), network), {"input": "4+4?", "thread_id": "th-1"})
    assert res.status is mocked.Status.COMPLETED, res.error
    sent = [(m["role"], m.get("content")) for m in model.requests[2].messages if m["type"] == "text"]
    assert sent == [("system", "s"), ("user", "2+2?"), ("assistant", "4"), ("user", "4+4?")]
    assert [r.agent_name for r in history.load("th-1")] == ["user", "Calc", "Calc", "user", "Calc"]
    history.close()


class _FakeSDKStep:
    """Records how InngestStep calls the SDK's step tools."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def run(self, step_id: str, fn: Any, *args: Any) -> Any:
        self.calls.append(("run", step_id, {"args": args}))
        return await fn(*args)

    async def wait_for_event(self, step_id: str, **kw: Any) -> Any:
        self.calls.append(("wait_for_event", step_id, kw))
        return inngest.Event(name=kw["event"], data={"ok": True}, id="e1", ts=5)

    async def invoke(self, step_id: str, **kw: Any) -> Any:
        self.calls.append(("invoke", step_id, kw))
        return {"invoked": kw["data"]}


def test_step_adapter_maps_our_protocol_to_the_sdk() -> None:
    fake = _FakeSDKStep()
    step = InngestStep(fake)  # type: ignore[arg-type]
    assert isinstance(step, Step)

    async def go() -> list[Any]:
        return [await step.run("r", lambda x: x * 2, 21), await step.run("d", lambda: {"data": 1}),
                await step.wait_for_event("w", event="e/x", timeout=90, if_exp=match("data.id")),
                await step.invoke("i", function="fn", data={"q": 1})]

    ran, data_shaped, waited, invoked = asyncio.run(go())
    assert ran == 42 and data_shaped == {"data": 1} and invoked == {"invoked": {"q": 1}}
    assert waited == {"name": "e/x", "data": {"ok": True}, "id": "e1", "ts": 5}
    wait_kw = fake.calls[2][2]
    assert wait_kw["timeout"] == datetime.timedelta(seconds=90)
    assert wait_kw["if_exp"] == "event.data.id == async.data.id"
    assert fake.calls[3] == ("invoke", "i", {"function": "fn", "data": {"q": 1}})


def test_missing_sdk_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from agentkit_min import inngest as integration

    monkeypatch.setitem(sys.modules, "inngest", None)  # makes `import inngest` raise ImportError
    with pytest.raises(UsageError, match=r"pip install 'inngest>=0.5,<0.6'.*pip install -e '\.\[inngest\]'"):
        integration._sdk()
