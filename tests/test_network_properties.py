"""Property tests of the network loop (issue 2, item 9; spec/semantics.md "Networks").

For any scripted sequence of router decisions and any max_iter:
  * agent runs never exceed max_iter (when it is set),
  * the router is never called after the limit is reached (decision Q1),
  * agents run in the FIFO order of what the router returned,
  * the results in state are exactly the agents that ran, in order.
"""

from __future__ import annotations

import collections
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min import Agent, RouterArgs, create_agent, create_network
from agentkit_min.testing import FunctionModel, ModelRequest

NAMES = ["a", "b", "c"]

decisions = st.lists(st.lists(st.sampled_from(NAMES), max_size=3), max_size=8)


def _echo(request: ModelRequest) -> str:
    return "ok"


@settings(max_examples=200, deadline=None)
@given(script=decisions, max_iter=st.integers(min_value=0, max_value=6))
def test_loop_respects_max_iter_and_fifo(script: list[list[str]], max_iter: int) -> None:
    model = FunctionModel(_echo)
    agents = {n: create_agent(name=n, system=f"I am {n}.") for n in NAMES}
    router_calls: list[int] = []

    def router(args: RouterArgs) -> list[Agent] | None:
        router_calls.append(args.call_count)
        i = len(router_calls) - 1
        return [agents[n] for n in script[i]] if i < len(script) else None

    network = create_network(agents=list(agents.values()), default_model=model,
                             router=router, max_iter=max_iter)
    run = network.run_sync("go")

    # Simulate the documented semantics independently: FIFO queue, router after each run.
    queue: collections.deque[str] = collections.deque()
    expected_runs: list[str] = []
    expected_calls = 0
    answers = iter(script)

    def ask() -> None:
        nonlocal expected_calls
        expected_calls += 1
        queue.extend(next(answers, []))

    ask()
    while queue:
        expected_runs.append(queue.popleft())
        if max_iter and len(expected_runs) >= max_iter:
            break
        ask()

    ran = [r.agent_name for r in run.state.results]
    assert ran == expected_runs
    assert [m.contents[0] for m in model.requests] == [f"I am {n}." for n in ran]
    if max_iter:
        assert len(ran) <= max_iter
    assert len(router_calls) == expected_calls
    # call_count passed to the router is the number of agent runs completed so far
    assert router_calls == list(range(len(router_calls)))
    if max_iter and len(ran) == max_iter:
        assert len(router_calls) == max_iter  # never called after the limit (Q1)


@settings(max_examples=50, deadline=None)
@given(max_iter=st.integers(min_value=1, max_value=20))
def test_always_routing_router_runs_exactly_max_iter(max_iter: int) -> None:
    model = FunctionModel(_echo)
    a = create_agent(name="a", system="s")
    calls: list[Any] = []

    def router(args: RouterArgs) -> Agent:
        calls.append(args.call_count)
        return a

    run = create_network(agents=[a], default_model=model, router=router,
                         max_iter=max_iter).run_sync("x")
    assert len(run.state.results) == max_iter
    assert len(model.requests) == max_iter
    assert calls == list(range(max_iter))
