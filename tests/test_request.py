"""Requests extended between an agent's inferences, not rebuilt (agentkit_min/_request.py, issue 14):
a model may read, edit or keep its request and still sees exactly what a new list would hold."""

from __future__ import annotations

import copy
import json
import pickle
import weakref
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agentkit_min.agent as agent_module
from agentkit_min import Agent, RouterArgs, create_agent, create_network, create_tool
from agentkit_min import _request
from agentkit_min.messages import Message
from agentkit_min.model import ModelResponse
from agentkit_min.result import AgentResult
from agentkit_min.state import State, create_state
from agentkit_min.testing import text, tool_call

EDITS: dict[str, Callable[[list[Any]], Any]] = {
    "clear": lambda m: m.clear(),
    "append": lambda m: m.append(text("injected")),
    "extend": lambda m: m.extend([text("injected")]),
    "insert": lambda m: m.insert(0, text("injected")),
    "pop": lambda m: m.pop(),
    "remove": lambda m: m.remove(m[-1]),
    "setitem": lambda m: m.__setitem__(1, text("injected")),  # a history message
    "setslice": lambda m: m.__setitem__(slice(0, 1), []),
    "delitem": lambda m: m.__delitem__(0),
    "iadd": lambda m: m.__iadd__([text("injected")]),
    "imul": lambda m: m.__imul__(2),
    "sort": lambda m: m.sort(key=lambda x: x["type"], reverse=True),
    "reverse": lambda m: m.reverse(),
}
KEEPS = ("list", "iterator", "closure")


@pytest.fixture(autouse=True)
def short_requests_are_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests of 6 messages or more are kept and extended here (shipped: `LONG` = 128), so short
    runs cover both plain lists and the switch to extended ones."""
    monkeypatch.setattr(_request, "LONG", 6)


class Behaving:
    """Answers each inference in turn with `script`, doing `behaviour[i]` to the request first:
    "read", one of EDITS, or one of KEEPS (holding the request itself, not a copy)."""

    def __init__(self, script: list[Any], behaviour: list[str]) -> None:
        self.script, self.behaviour = script, behaviour
        self.seen: list[list[Any]] = []  # a copy of each request as the model got it
        self.kept: list[tuple[Any, list[Any]]] = []  # (what it held, what the request held then)

    async def infer(self, messages: Any, tools: Any, choice: str) -> ModelResponse:
        i = len(self.seen)
        self.seen.append(json.loads(json.dumps(messages)))
        act = self.behaviour[i % len(self.behaviour)]
        if act in EDITS:
            EDITS[act](messages)
        elif act == "list":
            self.kept.append((messages, self.seen[-1]))
        elif act == "iterator":
            self.kept.append((iter(messages), self.seen[-1]))
        elif act == "closure":
            self.kept.append(((lambda: messages), self.seen[-1]))
        reply = self.script[i]
        output: Any = [reply] if isinstance(reply, dict) else list(reply)
        return ModelResponse(output=output)


def network(model: Any, per_run: int, prefill: str = "", dynamic: bool = False) -> Any:
    def system(name: str) -> Any:
        return (lambda args: f"{name} at {args.network.counter}") if dynamic else name

    agents = [create_agent(name=n, system=system(n.upper()), assistant=prefill,
                           tools=[create_tool(name="t", handler=lambda args, ctx: "ok")]) for n in ("a", "b", "c")]

    def router(args: RouterArgs) -> Agent | None:
        return None if args.call_count >= per_run else agents[(args.call_count * 7 // 3) % 3]

    return create_network(agents=agents, default_model=model, router=router)


def replies(n: int) -> list[Any]:
    return [tool_call("t", {}, id=f"c{i}") if i % 3 == 1 else text(f"r{i}") for i in range(n)]


def run_both(per_run: int, behaviour: list[str], monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[Any, Any]:
    """The same network twice: requests extended (as shipped), then every request a new list."""
    seeded: State[Any] = create_state({}, messages=[text("m0", role="user")], results=[AgentResult("old", [text("o1")], [])])
    extended = Behaving(replies(per_run), behaviour)
    network(extended, per_run, **kw).run_sync("go", state=seeded.clone())
    with monkeypatch.context() as patch:
        patch.setattr(agent_module, "untouched", lambda messages, held: None)
        rebuilt = Behaving(replies(per_run), behaviour)
        network(rebuilt, per_run, **kw).run_sync("go", state=seeded.clone())
    return extended, rebuilt


def test_a_reading_model_gets_one_list_per_agent_extended_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[bool] = []
    real = _request.next_request

    def spy(kept: Any, *args: Any) -> Any:
        out = real(kept, *args)
        made.append(out is not kept)
        return out

    monkeypatch.setattr(agent_module, "next_request", spy)
    extended, rebuilt = run_both(30, ["read"], monkeypatch)
    assert extended.seen == rebuilt.seen
    # one new list per agent (3), then extended; the first 2 requests are plain lists (< 6 messages)
    assert len(made) == 60 and sum(made[:30]) == 5
    assert sum(made[30:]) == 30  # the differential twin: every request new


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_model_editing_its_request_changes_nothing_later(edit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    extended, rebuilt = run_both(12, ["read", edit, "read"], monkeypatch, prefill="Sure:")
    assert extended.seen == rebuilt.seen
    assert len({json.dumps(s) for s in extended.seen}) == 12  # the requests differ from one another


@pytest.mark.parametrize("keep", KEEPS)
def test_a_model_keeping_its_request_keeps_what_it_was_sent(keep: str, monkeypatch: pytest.MonkeyPatch) -> None:
    extended, rebuilt = run_both(12, [keep, "read"], monkeypatch)
    assert extended.seen == rebuilt.seen
    assert len(extended.kept) == 6
    for held, then in extended.kept:
        request = held() if callable(held) else held
        assert json.loads(json.dumps(list(request))) == then  # not extended after infer returned


def test_a_standalone_tool_loop_extends_per_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(model: Any) -> None:
        agent = create_agent(name="solo", system="S", assistant="Sure:",
                             tools=[create_tool(name="t", handler=lambda args, ctx: "ok")])
        agent.run_sync("go", model=model, max_iter=6)

    script = [tool_call("t", {}, id=f"c{i}") for i in range(5)] + [text("done")]
    extended = Behaving(script, ["read", "read", "append", "list", "read"])
    run(extended)
    monkeypatch.setattr(agent_module, "untouched", lambda messages, held: None)
    rebuilt = Behaving(script, ["read", "read", "append", "list", "read"])
    run(rebuilt)
    assert extended.seen == rebuilt.seen
    assert [len(s) for s in extended.seen] == [3, 5, 7, 9, 11, 13]  # system, go, 2 per turn, prefill last
    assert extended.seen[-1][-1]["content"] == "Sure:"


def test_requests_are_plain_lists_until_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_request, "LONG", 128)
    types: list[type] = []

    class Model(Behaving):
        async def infer(self, messages: Any, tools: Any, choice: str) -> ModelResponse:
            types.append(type(messages))
            return await super().infer(messages, tools, choice)

    history: list[Message] = [text(f"h{i}", role="user") for i in range(124)]
    extended = Model(replies(8), ["read"])
    network(extended, 8).run_sync("go", state=create_state({}, messages=history))
    sizes = [len(s) for s in extended.seen]
    assert sizes[0] == 126 and sizes[-1] > 130  # system, 124 history, go; then growing past LONG
    assert types == [_request.Request if n >= 128 else list for n in sizes]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 14), st.lists(st.sampled_from(["read", *EDITS, *KEEPS]), min_size=1, max_size=6),
       st.sampled_from(["", "Sure:"]), st.booleans())
def test_any_mix_of_models_sees_what_new_lists_hold(per_run: int, behaviour: list[str], prefill: str,
                                                     dynamic: bool) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        extended, rebuilt = run_both(per_run, behaviour, monkeypatch, prefill=prefill, dynamic=dynamic)
    assert extended.seen == rebuilt.seen
    assert len(extended.seen) == per_run


def test_a_request_is_a_plain_list_to_its_model() -> None:
    made = _request.next_request(None, [text("s", role="system"), text("go", role="user")],
                                 *_joined([text("h")], 1))
    assert isinstance(made, list) and made == [text("s", role="system"), text("h"), text("go", role="user")]
    assert json.loads(json.dumps(made)) == made
    for twin in (copy.copy(made), copy.deepcopy(made), pickle.loads(pickle.dumps(made)), made[:], made + []):
        assert type(twin) is list and twin == made
    with pytest.raises(TypeError):
        weakref.ref(made)  # as a list: no weak reference can escape the reference count


def test_without_reference_counts_every_request_is_new() -> None:
    assert _request._never_same(object()) != _request._never_same(object())


def _joined(log: list[Any], cut: int) -> tuple[Any, Any]:
    from agentkit_min.result import _Joined
    return _Joined((log, 0, cut)), _Joined((log, cut, len(log)))
