"""examples/deployment_inngest.py's /api/inngest, served by uvicorn on 127.0.0.1 and driven over
real HTTP by an executor double that speaks Inngest's protocol (tests/inngest_executor.py).

Checks the seed's deployment story end to end: inspection and in-band sync, signed requests
(cloud mode) and unsigned ones (dev mode), POST rounds with memoised step results until the
function returns, and that a completed step (an inference, a tool call) never runs twice,
through retries included.
"""

from __future__ import annotations

import contextlib
import importlib
import socket
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest

pytest.importorskip("inngest", reason="the Inngest SDK (dev extra) is not installed for this Python")
pytest.importorskip("fastapi", reason="fastapi (dev extra) is not installed for this Python")
uvicorn = pytest.importorskip("uvicorn", reason="uvicorn (dev extra) is not installed for this Python")

import inngest  # noqa: E402

from agentkit_min.errors import ModelConnectionError  # noqa: E402
from agentkit_min.inngest import create_functions, network_function  # noqa: E402
from agentkit_min.testing import FunctionModel, ModelRequest  # noqa: E402

from .inngest_executor import Executor  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
KEY = "signkey-test-0123456789abcdef0123456789abcdef"  # constructed, not a real key
FN_ID = "my-agentkit-network-network-my-network"
EVENT = "my-agentkit-network/network-my-network"
QUESTION = "How does durable execution work?"
STEPS = ["Deep Research Agent:infer:0", "Deep Research Agent:infer:0:tool:{call}", "Deep Research Agent:infer:1"]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield importlib.import_module("deployment_inngest")
    sys.modules.pop("deployment_inngest", None)


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` on uvicorn in a thread, on a free loopback port; stopped (bounded) on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/inngest"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


class Counted:
    """The example's offline model and search tool, counting their calls."""

    def __init__(self, example: ModuleType, monkeypatch: pytest.MonkeyPatch,
                 fail_at: frozenset[int] = frozenset()) -> None:
        self.searches: list[Any] = []
        self.fail_at = fail_at
        self.model = FunctionModel(self.reply)
        original = example.search

        def search(args: dict[str, Any], ctx: Any) -> Any:
            self.searches.append(args)
            return original(args, ctx)

        monkeypatch.setattr(example, "search", search)  # research_network() picks this one
        self.example = example

    def reply(self, request: ModelRequest) -> Any:
        if len(self.model.requests) in self.fail_at:  # the n-th request (1-based) fails
            raise ModelConnectionError("connection reset by the provider")
        return self.example.offline_reply(request)


def expected_steps(run: Any) -> list[str]:
    call = run.output["results"][0]["output"][0]["tools"][0]["id"]
    return [s.format(call=call) for s in STEPS]


def test_cloud_mode_inspect_sync_and_run_with_signed_requests(example: ModuleType,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(example, monkeypatch)
    client = inngest.Inngest(app_id=example.APP_ID, is_production=True, signing_key=KEY)
    app = example.create_app(client, create_functions(client, networks=[example.research_network(counted.model)]))
    with served(app) as url:
        executor = Executor(url, signing_key=KEY)
        assert executor.request("GET", sign=False)[0] == 401  # cloud mode: unsigned GETs too
        private = executor.inspect()
        assert private["authentication_succeeded"] is True and private["app_id"] == example.APP_ID
        assert private["framework"] == "fast_api" and KEY not in str(private)
        [config] = executor.sync()
        assert config["id"] == FN_ID and config["triggers"] == [{"event": EVENT}]
        assert config["steps"]["step"]["runtime"]["url"].startswith(url + "?fnId=" + FN_ID)
        run = executor.run(FN_ID, EVENT, {"input": QUESTION, "state": {"user_id": "u1"}})
    assert run.status == "completed", run.function_errors
    assert run.steps == expected_steps(run) and run.errors == []
    assert run.rounds == 4  # one round per new step, then the one that returns
    assert len(counted.model.requests) == 2 and counted.searches == [{"query": QUESTION}]
    answer = run.output["results"][-1]["output"][0]["content"]
    assert answer == f"Research summary: {example.NOTES['durable']}"
    assert run.output["state"] == {"user_id": "u1"}


def test_cloud_mode_refuses_unsigned_and_forged_requests(example: ModuleType,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(example, monkeypatch)
    client = inngest.Inngest(app_id=example.APP_ID, is_production=True, signing_key=KEY)
    app = example.create_app(client, create_functions(client, networks=[example.research_network(counted.model)]))
    body = {"ctx": {"attempt": 0, "disable_immediate_execution": False, "run_id": "r",
                    "stack": {"stack": []}}, "event": {"name": EVENT, "data": {"input": "hi"}},
            "steps": {}, "use_api": False}
    with served(app) as url:
        unsigned = Executor(url, signing_key=KEY).request("POST", {"fnId": FN_ID}, body, sign=False)
        forged = Executor(url, signing_key="signkey-test-" + "f" * 32).request("POST", {"fnId": FN_ID}, body)
        sync = Executor(url, signing_key=KEY).request("PUT", body={"url": url}, sign=False,
                                                     headers={"x-inngest-sync-kind": "in_band"})
    assert unsigned[0] == 401 and forged[0] == 401 and sync[0] == 401
    assert counted.model.requests == [] and counted.searches == []


def test_a_failed_inference_is_retried_without_repeating_completed_steps(
        example: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(example, monkeypatch, fail_at=frozenset({2}))  # the second inference fails once
    client = inngest.Inngest(app_id=example.APP_ID, is_production=True, signing_key=KEY)
    fn = network_function(client, example.research_network(counted.model), retries=1)
    with served(example.create_app(client, [fn])) as url:
        executor = Executor(url, signing_key=KEY)
        [config] = executor.sync()
        retries = config["steps"]["step"]["retries"]["attempts"]
        assert retries == 1
        run = executor.run(FN_ID, EVENT, {"input": QUESTION}, retries=retries)
    assert run.status == "completed", run.function_errors
    assert run.errors == [("Deep Research Agent:infer:1", 0)]  # retried once, then it worked
    assert run.steps == expected_steps(run)
    assert len(counted.model.requests) == 3  # 2 inferences + the failed attempt: none repeated
    assert counted.searches == [{"query": QUESTION}]


def test_retries_are_bounded_by_the_function_config(example: ModuleType,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(example, monkeypatch, fail_at=frozenset({2, 3, 4, 5}))
    client = inngest.Inngest(app_id=example.APP_ID, is_production=True, signing_key=KEY)
    fn = network_function(client, example.research_network(counted.model), retries=1)
    with served(example.create_app(client, [fn])) as url:
        run = Executor(url, signing_key=KEY).run(FN_ID, EVENT, {"input": QUESTION}, retries=1)
    assert run.status == "failed"
    assert run.errors == [("Deep Research Agent:infer:1", 0), ("Deep Research Agent:infer:1", 1)]
    assert "connection reset" in str(run.function_errors[-1])
    assert len(counted.model.requests) == 3 and len(counted.searches) == 1


def test_dev_mode_runs_unsigned(example: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(example, monkeypatch)
    client = inngest.Inngest(app_id=example.APP_ID, is_production=False)
    app = example.create_app(client, create_functions(client, networks=[example.research_network(counted.model)]))
    with served(app) as url:
        executor = Executor(url)  # no signing key: the Dev Server signs nothing
        assert executor.inspect() == {"schema_version": "2024-05-24", "function_count": 1,
                                      "has_event_key": False, "has_signing_key": False,
                                      "has_signing_key_fallback": False, "mode": "dev"}
        run = executor.run(FN_ID, EVENT, {"input": QUESTION})
    assert run.status == "completed", run.function_errors
    assert run.steps == expected_steps(run)
    assert len(counted.model.requests) == 2 and len(counted.searches) == 1


@pytest.mark.parametrize("answered", [True, False])
def test_human_in_the_loop_waits_over_http(example: ModuleType, answered: bool) -> None:
    from agentkit_min import create_agent, create_network, create_tool
    from agentkit_min.inngest import match
    from agentkit_min.testing import ScriptedModel, text, tool_call

    async def ask_developer(args: dict[str, Any], ctx: Any) -> Any:
        got = await ctx.step.wait_for_event("developer.response", timeout=4 * 3600,
                                            event="app/support.ticket.developer-response",
                                            if_exp=match("data.ticketId"))
        return {"answer": got["data"]["answer"]} if got else {"error": "No developer response provided"}

    model = ScriptedModel([tool_call("ask_developer", {}), text("Resolved")])
    tool = create_tool(name="ask_developer", handler=ask_developer, uses_step=True)
    agent = create_agent(name="Tech", system="s", model=model, tools=[tool])
    network = create_network(name="Support", agents=[agent],
                             router=lambda args: agent if args.call_count < 2 else None)
    client = inngest.Inngest(app_id="support", is_production=True, signing_key=KEY)
    reply = {"name": "app/support.ticket.developer-response", "data": {"ticketId": "T-7", "answer": "restart it"},
             "id": "evt-1", "ts": 1700000000000}
    with served(example.create_app(client, [network_function(client, network)])) as url:
        run = Executor(url, signing_key=KEY).run(
            "support-network-support", "support/network-support", {"input": "Prod is down", "ticketId": "T-7"},
            answers={"developer.response": reply if answered else None})
    assert run.status == "completed", run.function_errors
    assert run.waits == [{"step": "developer.response", "event": "app/support.ticket.developer-response",
                          "if": "event.data.ticketId == async.data.ticketId", "timeout": "4h"}]
    content = run.output["results"][0]["toolCalls"][0]["content"]
    assert content == ({"data": {"answer": "restart it"}} if answered else
                       {"data": {"error": "No developer response provided"}})
    assert len(model.requests) == 2  # the wait did not repeat the first inference
