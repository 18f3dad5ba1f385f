"""The trace page in a real headless browser (Debian's `chromium`): the DOM after the page's script
ran shows every agent run, router decision and tool call of a known run; a screenshot is saved
to artifacts/trace-page.png. Chromium is installed by this test's setup where it is missing
(root with apt-get); elsewhere the test is skipped, saying how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import pytest

from agentkit_min import Agent, RouterArgs, create_agent, create_network, create_tool, get_default_routing_agent
from agentkit_min import openai
from agentkit_min.testing import ScriptedModel, text, tool_call
from tests.adapters.loopback import Reply, fake_provider

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "apt-get update -qq && apt-get install -y -qq chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage",
         "--host-resolver-rules=MAP * ~NOTFOUND"]  # and no name resolves: the page must need none


def _find() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """A Chromium binary; installed with apt-get when missing and allowed (root, no opt-out)."""
    found = _find()
    if found is None and shutil.which("apt-get") and os.geteuid() == 0 and not os.environ.get("AGENTKIT_NO_INSTALL"):
        subprocess.run(["sh", "-c", INSTALL], capture_output=True, timeout=900)
        found = _find()
    if found is None:
        pytest.skip(f"no Chromium to test the trace page in; install it with `{INSTALL}` (as root)")
    return found


def browse(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Chromium once on a fresh profile; a start that hangs (seen once under load) is retried once."""
    for attempt in range(2):
        with tempfile.TemporaryDirectory() as profile:
            try:
                return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                                      capture_output=True, text=True, timeout=60)
            except subprocess.TimeoutExpired:
                if attempt:
                    raise
    raise AssertionError("unreachable")


class Elements(HTMLParser):
    """Every element with `data-kind`, in document order, with the text inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, Any]] = []
        self.stack: list[dict[str, Any] | None] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        self.classes.extend((data.get("class") or "").split())
        if tag in ("meta", "br", "img", "input", "link"):
            return
        entry = None
        if "data-kind" in data:
            entry = {"kind": data["data-kind"], "name": data.get("data-name"), "status": data.get("data-status"),
                     "returned": data.get("data-returned"), "class": data.get("class"), "text": ""}
            self.found.append(entry)
        self.stack.append(entry)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and tag not in ("meta", "br", "img", "input", "link"):
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for entry in self.stack:
            if entry is not None:
                entry["text"] += data


OK = {"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "Here is the summary."},
                   "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 40, "completion_tokens": 6, "total_tokens": 46}}


def known_run() -> Any:
    """A code router, then the default routing agent; two tools, one failing; a retried inference."""
    def explode(args: Any, ctx: Any) -> Any:
        raise RuntimeError("the index is down")

    search = create_tool(name="search", description="Search", handler=lambda args, ctx: ["doc-1", "doc-2"])
    broken = create_tool(name="fetch_index", description="Fetch the index", handler=explode)
    researcher = create_agent(name="Researcher", description="Finds documents", system="You research.",
                              model=ScriptedModel([tool_call("search", {"q": "tides"}, id="s1",
                                                             more=[("fetch_index", {})])]),
                              tools=[search, broken])
    with fake_provider(Reply(503, {"error": {"message": "overloaded"}}), Reply(200, OK)) as server:
        writer = create_agent(name="Writer", description="Writes the answer", system="You write.",
                              model=openai("gpt-4o-mini", api_key="sk-test", base_url=server.url + "/v1/",
                                           sleep=lambda s: None))
        steps: list[Any] = [researcher, get_default_routing_agent(), None]

        def router(args: RouterArgs) -> Agent | None:
            return steps[args.call_count]  # type: ignore[no-any-return]

        routing_model = ScriptedModel([tool_call("select_agent", {"name": "Writer", "reason": "ready"}, id="r1")])
        network = create_network(name="Research network", agents=[researcher, writer],
                                 default_model=routing_model, router=router)
        return network.run_sync("Summarise what we know about tides.")


@pytest.fixture(scope="module")
def page(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    run = known_run()
    path = Path(run.trace.page(tmp_path_factory.mktemp("page") / "trace.html"))
    yield run.trace.to_dict(), path


def test_rendered_dom_shows_every_agent_run_decision_and_tool_call(chromium: str, page: Any) -> None:
    trace, path = page
    done = browse(chromium, "--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Elements()
    dom.feed(done.stdout)
    wanted = [s for s in trace["spans"] if s["kind"] in ("agent", "route", "tool", "inference", "network")]
    shown = [(e["kind"], e["name"], e["status"]) for e in dom.found]
    assert shown == [(s["kind"], s["name"], s["status"]) for s in wanted]  # rendered by the script, in order
    assert [e["name"] for e in dom.found if e["kind"] == "agent"] == ["Researcher", "Writer"]
    routes = [e for e in dom.found if e["kind"] == "route"]
    assert [(r["name"], r["returned"]) for r in routes] == [
        ("router", "Researcher"), ("router", "Writer"), ("router", "")]
    assert "run Researcher" in routes[0]["text"] and "stop" in routes[2]["text"]
    assert "default routing agent" not in routes[0]["text"] and "Default routing agent" in routes[1]["text"]
    assert 'select_agent {"name":"Writer","reason":"ready"}' in routes[1]["text"]  # the model's choice
    tools = {e["name"]: e for e in dom.found if e["kind"] == "tool"}
    assert set(tools) == {"search", "fetch_index", "select_agent"}
    assert '"doc-1"' in tools["search"]["text"] and '{"q":"tides"}' in tools["search"]["text"]
    assert tools["fetch_index"]["status"] == "error" and "status-error" in tools["fetch_index"]["class"]
    assert "RuntimeError: the index is down" in tools["fetch_index"]["text"]
    writer = next(e for e in dom.found if e["kind"] == "agent" and e["name"] == "Writer")
    assert "Here is the summary." in writer["text"] and "40 in / 6 out tokens" in writer["text"]
    assert "503" in writer["text"] and "attempt" in writer["text"]  # the retry, in its inference
    assert "Network run: Research network" in done.stdout


def test_screenshot_artifact(chromium: str, page: Any, tmp_path: Path) -> None:
    _, path = page
    shot = tmp_path / "trace-page.png"  # its own file: CI runs several Pythons' suites at once
    done = browse(chromium, f"--screenshot={shot}", "--window-size=1280,1800", "--hide-scrollbars", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # a real, non-blank page
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    staged = artifacts / f".trace-page.{os.getpid()}.png"  # same directory, so the rename is atomic
    staged.write_bytes(data)
    os.replace(staged, artifacts / "trace-page.png")  # a concurrent run sees one whole PNG


def test_a_long_run_shows_every_span(chromium: str, tmp_path: Path) -> None:
    """More spans than the page cuts a list at (trace_page.ITEMS): each is still rendered, once."""
    tool = create_tool(name="rows", handler=lambda args, ctx: [{"n": i} for i in range(150)])
    model = ScriptedModel([tool_call("rows", {}, id=f"c{i}") for i in range(40)])
    a = create_agent(name="A", system="s", model=model, tools=[tool])
    run = create_network(agents=[a], router=lambda args: a if args.call_count < 40 else None).run_sync("go")
    done = browse(chromium, "--dump-dom", Path(run.trace.page(tmp_path / "long.html")).as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Elements()
    dom.feed(done.stdout)
    spans = run.trace.to_dict()["spans"]
    assert len(spans) > 100
    assert [(e["kind"], e["status"]) for e in dom.found] == [(s["kind"], s["status"]) for s in spans]
    assert "truncated: 50 more items" in dom.found[-2]["text"]  # the last tool's result, cut inside
