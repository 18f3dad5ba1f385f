"""Runs every conformance case of spec/cases/*.json (format: spec/README.md).

One parametrised test: each case is built from its declarative definition (agents, tools,
routers, hooks, history recorder, state), run against `ScriptedModel`, and everything the case
expects is compared (requests, router calls, tool invocations, results, state, history calls,
trace, events, error). A case marked `"known_failure"` is an expected, strict failure.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import datetime
import decimal
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from agentkit_min import errors
from agentkit_min.adapters._common import parse_arguments
from agentkit_min.agent import Agent, create_agent
from agentkit_min.history import HistoryConfig, HistoryContext
from agentkit_min.lifecycle import AgentArgs, LifecycleHooks, ResultArgs, RouterArgs, StartArgs
from agentkit_min.messages import Message, UserMessage
from agentkit_min.model import ModelResponse
from agentkit_min.network import Network, create_network
from agentkit_min.result import AgentResult
from agentkit_min.routing import RoutingAgent, create_routing_agent, get_default_routing_agent
from agentkit_min.state import State
from agentkit_min.testing import ScriptedModel
from agentkit_min.tool import Tool, ToolContext, create_tool

CASES = Path(__file__).resolve().parent.parent / "spec" / "cases"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
Json = Any


# ---------------------------------------------------------------- comparison (spec/README.md)

def matches(expected: Json, actual: Json) -> bool:
    """Exact JSON equality, except for the matchers `<any>`, `<uuid>`, `$contains`, `$startswith`."""
    if expected == "<any>":
        return True
    if expected == "<uuid>":
        return isinstance(actual, str) and bool(UUID.match(actual))
    if isinstance(expected, dict) and len(expected) == 1 and next(iter(expected)) in ("$contains", "$startswith"):
        key, text = next(iter(expected.items()))
        if not isinstance(actual, str):
            return False
        return text in actual if key == "$contains" else actual.startswith(text)
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(matches(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def check(where: str, expected: Json, actual: Json) -> None:
    assert matches(expected, actual), (
        f"{where}:\n  expected {json.dumps(expected, indent=1)}\n  actual   {json.dumps(actual, indent=1)}")


def check_records(where: str, expected: list[dict[str, Json]], actual: list[dict[str, Json]]) -> None:
    """Record lists: same length; each record compared on the keys its expected entry names."""
    assert len(expected) == len(actual), (
        f"{where}: expected {len(expected)} records, got {len(actual)}:\n{json.dumps(actual, indent=1)}")
    for i, (exp, act) in enumerate(zip(expected, actual)):
        for key, value in exp.items():
            assert key in act, f"{where}[{i}]: no field {key!r} in {sorted(act)}"
            check(f"{where}[{i}].{key}", value, act[key])


def plain(value: Any) -> Json:
    """JSON form with implementation-private `meta` keys removed from messages."""
    data = json.loads(json.dumps(value, default=str))

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "meta"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(data)


# ---------------------------------------------------------------- building a case

class Recorder:
    """Everything a case can observe, in JSON form."""

    def __init__(self) -> None:
        self.trace: list[str] = []
        self.requests: list[dict[str, Json]] = []
        self.router_calls: list[dict[str, Json]] = []
        self.tool_invocations: list[dict[str, Json]] = []
        self.history_calls: list[dict[str, Json]] = []
        self.events: list[dict[str, Json]] = []
        self.step_ids: list[str] = []


class NamedModel:
    """One named model of a case; every named model answers from the case's shared script."""

    def __init__(self, name: str, shared: ScriptedModel, rec: Recorder) -> None:
        self.name, self.shared, self.rec = name, shared, rec

    async def infer(self, messages: Any, tools: Any, tool_choice: str) -> ModelResponse:
        self.rec.requests.append({"model": self.name, "messages": plain(list(messages)),
                                  "tools": [t.name for t in tools], "tool_choice": tool_choice})
        self.rec.trace.append("infer")
        return await self.shared.infer(messages, tools, tool_choice)


class MemoStep:
    """A durable step double: records step ids and memoises results by id."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.memo: dict[str, Any] = {}

    async def run(self, step_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        self.rec.step_ids.append(step_id)
        if step_id not in self.memo:
            value = fn(*args)
            if asyncio.iscoroutine(value):
                value = await value
            self.memo[step_id] = json.loads(json.dumps(value, default=str))
        return copy.deepcopy(self.memo[step_id])

    async def wait_for_event(self, step_id: str, *, event: str, timeout: float,
                             if_exp: str | None = None) -> Any:
        raise AssertionError("not used by conformance cases")

    async def invoke(self, step_id: str, *, function: Any, data: dict[str, Any]) -> Any:
        raise AssertionError("not used by conformance cases")


def exception(spec: dict[str, Json]) -> Exception:
    """The exception a `throw` behaviour raises: a class named `spec["name"]` (default "Error")."""
    name = str(spec.get("name", "Error"))
    found = getattr(builtins, name, None)
    cls: type[Exception] = (found if isinstance(found, type) and issubclass(found, Exception)
                            else type(name, (Exception,), {}))
    return cls(str(spec["message"]))


def native(spec: Json) -> Any:
    """A `returns` value: JSON, with `{"native": kind, "value"}` objects made Python values."""
    if isinstance(spec, list):
        return [native(v) for v in spec]
    if not isinstance(spec, dict):
        return spec
    kind, value = spec.get("native"), spec.get("value")
    makers: dict[Any, Callable[[Any], Any]] = {
        "datetime": datetime.datetime.fromisoformat, "decimal": decimal.Decimal, "set": set,
        "bytes": lambda text: str(text).encode("utf-8"), "object": lambda _: type("Opaque", (), {})()}
    return makers[kind](value) if kind in makers else {k: native(v) for k, v in spec.items()}


def render(template: str, data: Any) -> str:
    """`{key}` -> state.data[key] (strings as is, other values as JSON, missing as "")."""
    def one(m: re.Match[str]) -> str:
        if not isinstance(data, dict) or m.group(1) not in data:
            return ""
        value = data[m.group(1)]
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return re.sub(r"\{([A-Za-z0-9_]+)\}", one, template)


def result_from(data: dict[str, Json]) -> AgentResult:
    base = {"createdAt": "1970-01-01T00:00:00+00:00", "output": [], "toolCalls": []}
    return AgentResult.from_dict({**base, **data})


def result_json(result: AgentResult) -> dict[str, Json]:
    return {"agent_name": result.agent_name, "output": plain(result.output),
            "tool_calls": plain(result.tool_calls), "prompt": plain(result.prompt),
            "history": plain(result.history)}


class Built:
    """A case turned into objects: models, agents, routing agents, network."""

    def __init__(self, case: dict[str, Json]) -> None:
        self.case = case
        self.rec = Recorder()
        self.shared = ScriptedModel([self.reply(r) for r in case.get("script", [])])
        self.models: dict[str, NamedModel] = {}
        self.agents: dict[str, Agent] = {}
        for spec in case.get("agents", []):
            self.agents[spec["name"]] = self.agent(spec)
        self.routing: dict[str, RoutingAgent] = {
            spec["name"]: self.routing_agent(spec) for spec in case.get("routing_agents", [])}

    def model(self, name: str | None) -> NamedModel | None:
        if name is None:
            return None
        return self.models.setdefault(name, NamedModel(name, self.shared, self.rec))

    @staticmethod
    def reply(spec: Json) -> Any:
        if isinstance(spec, dict) and "error" in spec:
            return errors.ModelError(str(spec["error"]))
        output = copy.deepcopy(spec)
        for call in (c for m in output if m.get("type") == "tool_call" for c in m["tools"]):
            if isinstance(call["input"], str):  # raw provider argument text, parsed as the adapters do
                call["input"] = parse_arguments(call["input"], call["name"])
        return ModelResponse(output=output)

    def tool(self, owner: str, spec: dict[str, Json]) -> Tool:
        rec, name = self.rec, spec["name"]

        def behave(args: Any, ctx: ToolContext) -> Any:
            rec.tool_invocations.append({"agent": owner, "tool": name, "input": plain(args)})
            rec.trace.append(f"tool:{owner}.{name}")
            for key, value in spec.get("set_state", {}).items():
                ctx.network.state.data[key] = copy.deepcopy(value)
            if "throw" in spec:
                raise exception(spec["throw"])
            return native(spec["returns"]) if "returns" in spec else copy.deepcopy(spec.get("result"))

        async def behave_async(args: Any, ctx: ToolContext) -> Any:
            return behave(args, ctx)

        return create_tool(name=name, description=spec.get("description"),
                           parameters=spec.get("parameters"),
                           handler=behave if spec.get("sync") else behave_async)

    def lifecycle(self, owner: str, spec: dict[str, Json]) -> LifecycleHooks:
        rec = self.rec
        hooks: LifecycleHooks = {}
        if "enabled" in spec:
            flag = bool(spec["enabled"])
            hooks["enabled"] = lambda args: flag
        if "on_start" in spec:
            cfg = spec["on_start"]

            def on_start(args: StartArgs) -> Any:
                rec.trace.append(f"{owner}.on_start")
                if cfg.get("stop"):
                    return {"prompt": args.prompt, "history": args.history, "stop": True}
                return {"prompt": args.prompt, "history": [] if cfg.get("drop_history") else args.history}
            hooks["on_start"] = on_start
        if "on_response" in spec:
            cfg_r = spec["on_response"]

            def on_response(args: ResultArgs) -> AgentResult:
                rec.trace.append(f"{owner}.on_response:{len(args.result.tool_calls)}")
                if cfg_r.get("drop_tool_calls"):
                    args.result.output = [m for m in args.result.output if m["type"] != "tool_call"]
                return args.result
            hooks["on_response"] = on_response
        if "on_finish" in spec:
            def on_finish(args: ResultArgs) -> AgentResult:
                rec.trace.append(f"{owner}.on_finish:{len(args.result.tool_calls)}")
                return args.result
            hooks["on_finish"] = on_finish
        return hooks

    def system(self, spec: Json) -> Any:
        if isinstance(spec, str):
            return spec
        template = str(spec["template"])
        return lambda args: render(template, args.network.state.data)

    def agent(self, spec: dict[str, Json]) -> Agent:
        agent = create_agent(
            name=spec["name"], description=spec.get("description", ""), system=self.system(spec["system"]),
            model=self.model(spec.get("model")), tools=[self.tool(spec["name"], t) for t in spec.get("tools", [])],
            tool_choice=spec.get("tool_choice"), assistant=spec.get("assistant", ""),
            lifecycle=self.lifecycle(spec["name"], spec.get("lifecycle", {})) or None,
            history=self.history(spec["history"], spec["name"]) if "history" in spec else None)
        if "with_model" in spec:
            with_model = self.model(spec["with_model"])
            assert with_model is not None
            agent = agent.with_model(with_model)
        return agent

    def routing_agent(self, spec: dict[str, Json]) -> RoutingAgent:
        rec, name, cfg = self.rec, spec["name"], spec["on_route"]

        def on_route(args: ResultArgs) -> list[str] | None:
            kind = cfg["type"]
            if kind == "fixed":
                names: list[str] | None = list(cfg["names"]) if cfg["names"] is not None else None
            elif kind == "names_from_text":
                names = [n.strip() for m in args.result.output if m["type"] == "text"
                         for n in str(m["content"]).split(",") if n.strip()]
            else:
                raise AssertionError(f"unknown on_route type {kind!r}")
            rec.trace.append(f"{name}.on_route:{','.join(names or [])}")
            return names
        return create_routing_agent(
            name=name, description=spec.get("description", ""), system=self.system(spec.get("system", "")),
            model=self.model(spec.get("model")), tools=[self.tool(name, t) for t in spec.get("tools", [])],
            tool_choice=spec.get("tool_choice"), lifecycle={"on_route": on_route})

    def history(self, spec: dict[str, Json], owner: str) -> HistoryConfig:
        rec, hooks = self.rec, HistoryConfig()

        def record(hook: str, ctx: HistoryContext, **extra: Json) -> None:
            rec.history_calls.append({"owner": owner, "hook": hook, "thread_id": ctx.thread_id,
                                      "input": ctx.input, **extra})
            rec.trace.append(f"history.{hook}")

        if "create_thread" in spec:
            def create_thread(ctx: HistoryContext) -> dict[str, Json]:
                record("create_thread", ctx)
                return {"thread_id": spec["create_thread"].get("thread_id", "thread-created")}
            hooks.create_thread = create_thread
        if "get" in spec:
            def get(ctx: HistoryContext) -> list[AgentResult]:
                record("get", ctx)
                return [result_from(r) for r in spec["get"].get("results", [])]
            hooks.get = get
        if "append_user_message" in spec:
            def append_user_message(ctx: HistoryContext) -> None:
                um = ctx.user_message or {}
                record("append_user_message", ctx,
                       user_message={"id": um.get("id"), "content": um.get("content"), "role": um.get("role")})
            hooks.append_user_message = append_user_message
        if "append_results" in spec:
            def append_results(ctx: HistoryContext) -> None:
                record("append_results", ctx, new_results=[r.agent_name for r in ctx.new_results])
            hooks.append_results = append_results
        return hooks

    def pick(self, step: Json) -> Any:
        """A router answer: a name, a list of names, null, "@default" or "@routing:<name>"."""
        if step is None:
            return None
        if isinstance(step, list):
            return [self.agents[n] for n in step]
        if step == "@default":
            return get_default_routing_agent()
        if isinstance(step, str) and step.startswith("@routing:"):
            return self.routing[step.split(":", 1)[1]]
        return self.agents[step]

    def router(self, spec: Json) -> Any:
        if spec is None:
            return None
        kind = spec["type"]
        if kind == "routing_agent":
            return self.routing[spec["name"]]
        rec = self.rec

        def decide(args: RouterArgs) -> Json:
            data = args.network.state.data
            if kind == "sequence":
                steps = spec["steps"]
                return steps[args.call_count] if args.call_count < len(steps) else None
            if kind == "always":
                return spec["agent"]
            if kind == "while_tool_calls":
                last = args.last_result
                return spec["agent"] if last is None or last.tool_calls else None
            if kind == "until_state":
                return None if data.get(spec["key"]) else spec["agent"]
            if kind == "while_results_lt":
                return spec["agent"] if len(args.network.state.results) < spec["n"] else None
            raise AssertionError(f"unknown router type {kind!r}")

        def router(args: RouterArgs) -> Any:
            step = decide(args)
            um = args.user_message
            rec.router_calls.append({
                "call_count": args.call_count, "input": args.input,
                "stack": [a.name for a in args.stack],
                "last_result": args.last_result.agent_name if args.last_result else None,
                "state_data": plain(args.network.state.data),
                "returned": [step] if isinstance(step, str) and not step.startswith("@") else step,
                "user_message": None if um is None else {"id": um.id, "content": um.content,
                                                         "system_prompt": um.system_prompt},
            })
            rec.trace.append(f"router:{args.call_count}")
            return self.pick(step)
        return router

    def state(self) -> State[Any]:
        spec = self.case.get("state", {})
        return State(copy.deepcopy(spec.get("data", {})), messages=copy.deepcopy(spec.get("messages", [])),
                     results=[result_from(r) for r in spec.get("results", [])],
                     thread_id=spec.get("thread_id"))

    def network(self, default_state: State[Any] | None) -> Network[Any]:
        spec = self.case.get("network", {})
        members = spec.get("members", list(self.agents))
        kwargs: dict[str, Any] = {}
        if "default_router" in spec:
            kwargs["default_router"] = self.router(spec["default_router"])
        return create_network(
            name=spec.get("name", "conformance"), agents=[self.agents[n] for n in members],
            default_model=self.model(spec.get("default_model")), router=self.router(spec.get("router")),
            max_iter=spec.get("max_iter", 0), default_state=default_state,
            history=self.history(spec["history"], "network") if "history" in spec else None, **kwargs)


def user_input(spec: Json) -> str | UserMessage:
    if isinstance(spec, str):
        return spec
    kwargs = {"id": spec["id"]} if "id" in spec else {}
    return UserMessage(content=spec["content"], system_prompt=spec.get("system_prompt"), **kwargs)


def event_label(chunk: dict[str, Json]) -> str:
    """`run.started:network`, `part.created:text`, `text.delta`, ... (spec/README.md)."""
    event, data = str(chunk["event"]), chunk["data"]
    if event.startswith(("run.", "stream.")) and "scope" in data:
        return f"{event}:{data['scope']}"
    if event.startswith("part.") and "type" in data:
        return f"{event}:{data['type']}"
    return event


# ---------------------------------------------------------------- running a case

async def run_case(case: dict[str, Json]) -> dict[str, Json]:
    """Run one case and return what it observed (keys named like `expected`).

    With `run.replay`, the case runs a second time with the same step memo and no script;
    what that replay observed is under `observed["replay"]`.
    """
    built = Built(case)
    step = MemoStep(built.rec) if case.get("run", {}).get("step") else None
    observed = await execute(case, built, step)
    if case.get("run", {}).get("replay"):
        assert step is not None, "replay needs run.step"
        again = Built({**case, "script": []})
        replay_step = MemoStep(again.rec)
        replay_step.memo = step.memo
        observed["replay"] = await execute(case, again, replay_step)
    return observed


async def execute(case: dict[str, Json], built: Built, step: MemoStep | None) -> dict[str, Json]:
    run_spec = case.get("run", {})
    observed: dict[str, Json] = {"error": None}
    publish = built.rec.events.append if run_spec.get("publish") else None
    state = built.state()
    mode = case.get("mode", "network")
    try:
        if mode == "agent":
            agent = built.agents[case["agents"][0]["name"]]
            returned = await agent.run(user_input(run_spec.get("input", "")), state=state,
                                       model=built.model(run_spec.get("model")),
                                       max_iter=run_spec.get("max_iter", 0), publish=publish, step=step)
            observed["returned_result"] = result_json(returned)
            final = state
        else:
            how = run_spec.get("state", "instance")
            network = built.network(state if how == "default" else None)
            kwargs: dict[str, Any] = {"publish": publish, "step": step}
            for key in ("router", "default_router"):
                if key in run_spec:
                    kwargs[key] = built.router(run_spec[key])
            if how == "instance":
                kwargs["state"] = state
            elif how == "json":
                kwargs["state"] = json.loads(json.dumps(state.to_dict()))
            try:
                run = await network.run(user_input(run_spec.get("input", "")), **kwargs)
            finally:
                observed["default_state_data"] = plain(network.state.data)
            final = run.state
            observed["network_counter"] = run.counter
            observed["caller_state_data"] = plain(state.data)
    except Exception as exc:  # the case says which error it expects
        observed["error"] = {"exc": exc, "message": str(exc)}
        final = state
    observed.update(
        requests=built.rec.requests, router_calls=built.rec.router_calls,
        tool_invocations=built.rec.tool_invocations, history_calls=built.rec.history_calls,
        trace=built.rec.trace, events=[event_label(c) for c in built.rec.events],
        raw_events=built.rec.events, step_ids=built.rec.step_ids,
        results=[result_json(r) for r in final.results], state_data=plain(final.data),
        thread_id=final.thread_id, script_unused=built.shared.remaining)
    return observed


def compare(case: dict[str, Json], observed: dict[str, Json]) -> None:
    compare_expected(case["expected"], observed)
    if "replay" in case["expected"]:
        compare_expected({"script_used": False, **case["expected"]["replay"]}, observed["replay"])


def compare_expected(expected: dict[str, Json], observed: dict[str, Json]) -> None:
    err = observed["error"]
    if "error" in expected and expected["error"] is not None:
        assert err is not None, f"expected error {expected['error']}, the run succeeded"
        family = getattr(errors, expected["error"]["family"])
        assert isinstance(err["exc"], family), f"error {err['exc']!r} is not a {family.__name__}"
        check("error.message", expected["error"]["message"], err["message"])
    elif err is not None:
        raise AssertionError(f"unexpected error: {err['exc']!r}") from err["exc"]
    for key in ("requests", "router_calls", "tool_invocations", "history_calls", "results"):
        if key in expected:
            check_records(key, expected[key], observed[key])
    if "request_count" in expected:
        check("request_count", expected["request_count"], len(observed["requests"]))
    if "returned_result" in expected:
        check_records("returned_result", [expected["returned_result"]], [observed["returned_result"]])
    for key in ("state_data", "thread_id", "trace", "events", "network_counter", "step_ids",
                "default_state_data", "caller_state_data"):
        if key in expected:
            check(key, expected[key], observed.get(key))
    if observed["raw_events"]:  # invariants of every event stream (section 7.3)
        for i, chunk in enumerate(observed["raw_events"]):
            assert chunk["sequenceNumber"] == i and chunk["id"] == f"publish-{i}:{chunk['event']}"
    if expected.get("script_used", True) and err is None:
        assert observed["script_unused"] == 0, f"{observed['script_unused']} scripted replies unused"


# ---------------------------------------------------------------- state cases (mode "state")

def run_state_case(case: dict[str, Json]) -> None:
    built = Built(case)
    states: dict[str, State[Any]] = {"s": built.state()}
    for i, op in enumerate(case["ops"]):
        name, where = op["op"], f"ops[{i}] {op['op']}"
        target = states[op.get("on", "s")]
        if name == "format_history":
            check(where, op["expect"], plain(target.format_history()))
        elif name == "data":
            check(where, op["expect"], plain(target.data))
        elif name == "data.set":
            target.data[op["key"]] = copy.deepcopy(op["value"])
        elif name == "thread_id":
            check(where, op["expect"], target.thread_id)
        elif name == "results":
            check(where, op["expect"], [r.agent_name for r in target.results])
        elif name == "append_result":
            target.append_result(result_from(op["result"]))
        elif name.startswith("kv."):
            method = getattr(target.kv, name[3:])
            args = [op[k] for k in ("key", "value") if k in op]
            value = method(*args)
            if "expect" in op:
                check(where, op["expect"], plain(value))
        elif name == "clone":
            states[op["as"]] = target.clone()
        elif name == "json_roundtrip":
            states[op["as"]] = State.from_dict(json.loads(json.dumps(target.to_dict())))
        elif name == "export":
            exported = plain(target.results[op["index"]].export())
            check(where, op["expect"], exported)
        elif name == "checksum_stable":
            result = target.results[op["index"]]
            first, again = result.checksum, result.checksum
            assert first == again and re.fullmatch(r"[0-9]+", first), where
            assert int(first) < 2**64, where
        else:
            raise AssertionError(f"{where}: unknown op")


# ---------------------------------------------------------------- the test

def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        marks = []
        if case.get("known_failure"):
            marks.append(pytest.mark.xfail(reason=case["known_failure"], strict=True))
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


def test_cases_exist_and_are_well_formed() -> None:
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CASES.glob("*.json"))]
    assert len(cases) >= 45
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    deviations = (CASES.parent / "deviations.md").read_text(encoding="utf-8")
    decisions = {f"Q{i}" for i in range(1, 18)} | {"G1", "G2", "G3"}
    for case in cases:
        assert case["description"], case["id"]
        assert "ops" in case if case.get("mode") == "state" else "expected" in case, case["id"]
        assert set(case.get("decisions", [])) <= decisions, case["id"]
        assert all(isinstance(n, int) and 1 <= n <= 50 for n in case.get("scenarios", [])), case["id"]
        for dev in case.get("deviations", []) + case.get("ts", {}).get("deviations", []):
            assert f"`{dev}`" in deviations, f"{case['id']}: deviation {dev} is not in spec/deviations.md"


@pytest.mark.parametrize("case", load_cases())
def test_conformance(case: dict[str, Json]) -> None:
    if case.get("mode") == "state":
        run_state_case(case)
        return
    observed = asyncio.run(asyncio.wait_for(run_case(case), timeout=10))
    compare(case, observed)
