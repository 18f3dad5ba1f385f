"""agentkit_min.server over real HTTP on 127.0.0.1 (port 0), with in-process models (no IO).

Covers: running networks and agents, streaming their events as SSE, every error status, 200
concurrent requests, graceful shutdown, thread routes, and a SIGKILL-and-restart of a server
process that must lose no persisted history.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from agentkit_min.agent import create_agent
from agentkit_min.errors import ModelHTTPError, ModelTimeoutError, UsageError
from agentkit_min.messages import message_text
from agentkit_min.network import create_network
from agentkit_min.server import AgentServer, create_server
from agentkit_min.sqlite_history import SQLiteHistory
from agentkit_min.testing import FunctionModel, ModelRequest, ScriptedModel, reply, text, tool_call
from agentkit_min.tool import create_tool

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def echo(request: ModelRequest) -> str:
    users = [m for m in request.messages if m["type"] == "text" and m["role"] == "user"]
    return f"echo: {message_text(users[-1])}"


def one_agent_network(model: Any, name: str = "Echo Net", **kwargs: Any) -> Any:
    agent = create_agent(name="Echo", system="You echo.", model=model)
    return create_network(name=name, agents=[agent], max_iter=1,
                          router=lambda args: agent, **kwargs)


@contextmanager
def serving(**kwargs: Any) -> Iterator[AgentServer]:
    kwargs.setdefault("networks", [one_agent_network(FunctionModel(echo))])
    server = create_server(token=TOKEN, **kwargs).listen(0)
    try:
        yield server
    finally:
        server.shutdown(timeout=5)


def call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
    """One request; returns status, headers (lowercase names) and the decoded JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=data, headers={**AUTH, **(headers or {})})
        resp = conn.getresponse()
        payload = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        if hdrs.get("content-type", "").startswith("text/event-stream"):
            return resp.status, hdrs, payload.decode()
        return resp.status, hdrs, json.loads(payload) if payload else None
    finally:
        conn.close()


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes; read everything until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse_sse(stream: str) -> list[tuple[str, Any]]:
    events = []
    for block in stream.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_run_a_network_and_an_agent() -> None:
    agent = create_agent(name="Solo Agent", system="s", model=FunctionModel(echo))
    with serving(agents=[agent]) as server:
        status, _, body = call(server.port, "POST", "/networks/echo-net/runs",
                               {"input": "hello", "state": {"userId": "u1"}, "thread_id": "t-9"})
        assert status == 200
        assert body["output"] == [text("echo: hello")]
        assert [r["agentName"] for r in body["results"]] == ["Echo"]
        assert body["state"] == {"userId": "u1"} and body["thread_id"] == "t-9" and body["id"]
        status, _, body = call(server.port, "POST", "/agents/solo-agent/runs",
                               {"input": {"content": "from a UserMessage", "id": "m1"}})
        assert status == 200 and body["output"][0]["content"] == "echo: from a UserMessage"
        status, _, body = call(server.port, "GET", "/health", headers={"Authorization": ""})
        assert (status, body) == (200, {"status": "ok"})


def test_events_are_streamed_as_server_sent_events() -> None:
    add = create_tool(name="add", parameters={"type": "object", "properties": {"a": {"type": "number"}}},
                      handler=lambda args, ctx: args["a"] + 1)
    model = ScriptedModel([reply("Let me add.", tool_call("add", {"a": 1}))])
    agent = create_agent(name="Calc", system="s", model=model, tools=[add])
    network = create_network(name="Calc", agents=[agent], max_iter=1, router=lambda args: agent)
    with serving(networks=[network]) as server:
        status, headers, stream = call(server.port, "POST", "/networks/calc/runs", {"input": "1+1"},
                                       {"Accept": "text/event-stream"})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = parse_sse(stream)
    names = [name for name, _ in events]
    assert names == [
        "run.started", "run.started",
        "part.created", "text.delta", "part.completed",
        "part.created", "tool_call.arguments.delta", "part.completed",
        "part.created", "tool_call.output.delta", "part.completed",
        "run.completed", "run.completed", "stream.ended", "result",
    ]
    chunks = [data for name, data in events if name != "result"]
    assert [c["event"] for c in chunks] == names[:-1]
    assert [c["sequenceNumber"] for c in chunks] == list(range(len(chunks)))  # strictly increasing
    assert chunks[3]["data"]["delta"] == "Let me add."
    assert json.loads(chunks[9]["data"]["delta"]) == {"data": 2}
    assert events[-1][1]["results"][0]["toolCalls"][0]["content"] == {"data": 2}


def test_a_failing_streamed_run_ends_with_an_error_event() -> None:
    model = ScriptedModel([ModelHTTPError("openai", 500, "upstream broke")])
    with serving(networks=[one_agent_network(model)]) as server:
        status, _, stream = call(server.port, "POST", "/networks/echo-net/runs", {"input": "x"},
                                 {"Accept": "text/event-stream"})
    events = parse_sse(stream)
    assert status == 200
    assert [n for n, _ in events][-4:] == ["run.failed", "run.completed", "stream.ended", "error"]
    assert events[-1][1] == {"error": {"type": "ModelHTTPError", "message": "openai returned HTTP 500: upstream broke"},
                             "status": 502}


def test_error_statuses_and_shapes() -> None:
    with serving(max_body_bytes=1000) as server:
        port = server.port
        run = "/networks/echo-net/runs"

        def error_of(status: int, *args: Any, **kwargs: Any) -> tuple[dict[str, str], dict[str, Any]]:
            got, headers, body = call(port, *args, **kwargs)
            assert got == status, body
            assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}
            return headers, body["error"]

        assert "not valid JSON" in error_of(400, "POST", run, raw=b"{not json")[1]["message"]
        assert error_of(400, "POST", run, ["a list"])[1]["type"] == "invalid_request"
        assert '"input"' in error_of(400, "POST", run, {"input": 42})[1]["message"]
        assert '"state"' in error_of(400, "POST", run, {"input": "x", "state": [1]})[1]["message"]
        assert '"thread_id"' in error_of(400, "POST", run, {"input": "x", "thread_id": 5})[1]["message"]
        assert "echo-net" in error_of(404, "POST", "/networks/nope/runs", {"input": "x"})[1]["message"]
        error_of(404, "POST", "/agents/echo/runs", {"input": "x"})
        error_of(404, "GET", "/no/such/route")
        headers, err = error_of(413, "POST", run, raw=b'{"input": "' + b"x" * 5000 + b'"}')
        assert "1000" in err["message"] and headers["connection"] == "close"
        headers, _ = error_of(401, "POST", run, {"input": "x"}, headers={"Authorization": ""})
        assert headers["www-authenticate"].startswith("Bearer")
        headers, _ = error_of(401, "POST", run, {"input": "x"}, headers={"Authorization": "Bearer wrong"})
        assert 'error="invalid_token"' in headers["www-authenticate"]
        headers, _ = error_of(405, "GET", run)
        assert headers["allow"] == "POST"
        assert error_of(405, "POST", "/health", {})[0]["allow"] == "GET"
        assert raw_exchange(port, f"POST {run} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
                            .encode()).startswith(b"HTTP/1.1 411")
        answer = raw_exchange(port, b"GARBAGE\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400") and answer.endswith(b'"}}')
        # An error answered before the body was read closes the connection: the body must not
        # be parsed as a next request on a kept-alive connection.
        body = json.dumps({"input": "x"}).encode()
        answer = raw_exchange(port, f"POST /networks/nope/runs HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}"
                              f"\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode() + body)
        assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 404")


def test_model_and_internal_errors_do_not_leak_secrets() -> None:
    secret = "sk-live-0123456789"
    failing = ScriptedModel([ModelHTTPError("openai", 401, "Incorrect API key provided", body={"key": secret}),
                             RuntimeError(f"crashed with {secret}")])
    with serving(networks=[one_agent_network(failing)]) as server:
        status, _, body = call(server.port, "POST", "/networks/echo-net/runs", {"input": "x"})
        assert status == 502
        assert body["error"] == {"type": "ModelHTTPError",
                                 "message": "openai returned HTTP 401: Incorrect API key provided"}
        status, _, body = call(server.port, "POST", "/networks/echo-net/runs", {"input": "x"})
        assert status == 500 and secret not in json.dumps(body)
        assert body["error"]["type"] == "internal_error"


def test_200_concurrent_requests_lose_nothing(tmp_path: Path) -> None:
    inside, peak, lock = 0, 0, threading.Lock()

    async def slow_echo(request: ModelRequest) -> str:
        nonlocal inside, peak
        with lock:
            inside += 1
            peak = max(peak, inside)
        await asyncio.sleep(0.05)  # keeps runs overlapping on the server's loop
        with lock:
            inside -= 1
        return echo(request)

    history = SQLiteHistory(str(tmp_path / "h.db"))
    n = 200
    barrier = threading.Barrier(n)

    def client(i: int) -> tuple[int, Any]:
        barrier.wait(30)
        status, _, body = call(server.port, "POST", "/networks/echo-net/runs",
                               {"input": f"message {i}", "thread_id": f"thread-{i}"})
        return status, body

    with serving(networks=[one_agent_network(FunctionModel(slow_echo))], history=history) as server:
        with ThreadPoolExecutor(n) as pool:
            answers = list(pool.map(client, range(n)))
    assert [status for status, _ in answers] == [200] * n
    assert [body["output"][0]["content"] for _, body in answers] == [f"echo: message {i}" for i in range(n)]
    assert peak > 1  # the runs really were concurrent
    threads = history.list_threads(limit=1000)
    assert len(threads) == n and all(t.entries == 2 for t in threads)


def test_shutdown_waits_for_in_flight_runs_then_cancels_after_timeout() -> None:
    started = threading.Event()

    async def slow(request: ModelRequest) -> str:
        started.set()
        await asyncio.sleep(0.3 if "short" in echo(request) else 30)
        return echo(request)

    for kind, timeout, expected in (("short", 10.0, 200), ("long", 0.2, 503)):
        started.clear()
        server = create_server(networks=[one_agent_network(FunctionModel(slow))], token=TOKEN).listen(0)
        port = server.port
        results: list[Any] = []
        worker = threading.Thread(target=lambda: results.append(
            call(port, "POST", "/networks/echo-net/runs", {"input": kind})))
        worker.start()
        assert started.wait(10)
        clean = server.shutdown(timeout=timeout)
        worker.join(10)
        assert clean is (expected == 200)
        assert results[0][0] == expected
        with pytest.raises(OSError):
            call(port, "GET", "/health")  # no longer accepting


def test_run_timeout_answers_504_and_cancels_the_run() -> None:
    cancelled = threading.Event()

    async def stuck(request: ModelRequest) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    with serving(networks=[one_agent_network(FunctionModel(stuck))], run_timeout=0.2) as server:
        status, _, body = call(server.port, "POST", "/networks/echo-net/runs", {"input": "x"})
        assert status == 504 and body["error"]["type"] == "timeout"
        assert cancelled.wait(10)
        cancelled.clear()
        status, _, stream = call(server.port, "POST", "/networks/echo-net/runs", {"input": "x"},
                                 {"Accept": "text/event-stream"})
        assert status == 200 and parse_sse(stream)[-1] == (
            "error", {"error": {"type": "timeout", "message": "the run took longer than 0.2 s"}, "status": 504})
        assert cancelled.wait(10)


def test_thread_routes(tmp_path: Path) -> None:
    history = SQLiteHistory(str(tmp_path / "h.db"))
    with serving(history=history) as server:
        for text_ in ("one", "two"):
            status, _, _ = call(server.port, "POST", "/networks/echo-net/runs", {"input": text_, "thread_id": "t1"})
            assert status == 200
        status, _, body = call(server.port, "GET", "/threads/t1")
        assert status == 200 and [r["agentName"] for r in body["results"]] == ["user", "Echo", "user", "Echo"]
        status, _, body = call(server.port, "GET", "/threads")
        assert [t["thread_id"] for t in body["threads"]] == ["t1"] and body["threads"][0]["entries"] == 4
        assert call(server.port, "DELETE", "/threads/t1")[0] == 200
        assert call(server.port, "DELETE", "/threads/t1")[0] == 404
    with serving() as server:  # no history given to the server: no thread routes
        assert call(server.port, "GET", "/threads")[0] == 404


def test_create_server_rejects_bad_configuration() -> None:
    with pytest.raises(UsageError, match="networks"):
        create_server()
    with pytest.raises(UsageError, match="slug"):
        create_server(networks=[one_agent_network(FunctionModel(echo), name="A b"),
                                one_agent_network(FunctionModel(echo), name="a-b")])
    with pytest.raises(UsageError, match="token"):
        create_server(networks=[one_agent_network(FunctionModel(echo))], token="")


def _start_app(db: Path) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/production/serve_app.py"), str(db), TOKEN],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the port, once listening
    assert line.strip().isdigit(), f"server did not start (exit code {proc.poll()})"
    return proc, int(line)


def test_kill_and_restart_loses_no_persisted_history(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    proc, port = _start_app(db)
    try:
        answers = [call(port, "POST", "/networks/echo-net/runs", {"input": f"turn {i}", "thread_id": "conv"})
                   for i in range(3)]
        assert [a[0] for a in answers] == [200, 200, 200]
        proc.send_signal(signal.SIGKILL)  # no shutdown, no close: only committed data survives
        proc.wait(10)
        proc, port = _start_app(db)
        status, _, body = call(port, "POST", "/networks/echo-net/runs", {"input": "turn 3", "thread_id": "conv"})
        assert status == 200
        # The restarted process loaded all three earlier turns (3 user + 3 assistant messages).
        assert body["output"][0]["content"] == "echo: turn 3 (after 6 earlier messages)"
        status, _, thread = call(port, "GET", "/threads/conv")
        contents = [r["output"][0]["content"] for r in thread["results"]]
        assert contents[::2] == ["turn 0", "turn 1", "turn 2", "turn 3"]
        assert contents[1::2][-1] == "echo: turn 3 (after 6 earlier messages)"
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def test_sigterm_shuts_down_gracefully_finishing_the_in_flight_run(tmp_path: Path) -> None:
    proc, port = _start_app(tmp_path / "history.db")
    marker = tmp_path / "started"
    results: list[Any] = []
    try:
        worker = threading.Thread(target=lambda: results.append(
            call(port, "POST", "/networks/echo-net/runs", {"input": f"slow:{marker}"})))
        worker.start()
        for _ in range(1000):  # until the run is inside the model
            if marker.exists():
                break
            threading.Event().wait(0.01)
        assert marker.exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        worker.join(10)
        assert results[0][0] == 200 and results[0][2]["output"][0]["content"].startswith("echo: slow:")
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


# -- hostile clients: strict framing, deadlines, limits, strict JSON, typed failures ---------

RUN = "/networks/echo-net/runs"


def raw_request(port: int, head: str, body: bytes = b"") -> bytes:
    """A POST to the run route with the given extra header lines; everything the server sent."""
    return raw_exchange(port, f"POST {RUN} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n{head}\r\n"
                        .encode() + body)


@pytest.mark.parametrize("head", [
    "Transfer-Encoding: chunked\r\nContent-Length: 16\r\n",
    "Content-Length: 16\r\nContent-Length: 17\r\n",
    "Content-Length: 16, 17\r\n",
    "Content-Length: +16\r\n",
    "Content-Length: 1_6\r\n",
    "Content-Length: -16\r\n",
    "Content-Length:\r\n 16\r\n",  # obs-fold: the value Python sees is " 16", which int() accepts
    "Content-Length : 16\r\n",  # whitespace before the colon (RFC 9112 5.1: MUST reject)
])
def test_ambiguous_framing_is_rejected_with_400_and_the_connection_closed(head: str) -> None:
    models: list[Any] = []

    def model(request: ModelRequest) -> str:
        models.append(request)
        return "ran"

    body = b'{"input": "x"}\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n'  # a smuggled second request
    with serving(networks=[one_agent_network(FunctionModel(model))]) as server:
        answer = raw_request(server.port, head, body)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1  # nothing after the first answer: the body was not parsed
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    assert error["type"] == "bad_framing" and ("RFC 9112" in error["message"] or "Content-Length" in error["message"])
    assert models == []


def test_chunked_bodies_get_411_and_identical_content_lengths_are_one_value() -> None:
    with serving() as server:
        answer = raw_request(server.port, "Transfer-Encoding: chunked\r\n", b"e\r\n" + b'{"input": "x"}' + b"\r\n0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 411 ") and answer.count(b"HTTP/1.1 ") == 1
        body = b'{"input": "x"}'
        answer = raw_request(server.port, f"Content-Length: {len(body)}\r\nContent-Length: {len(body)}\r\n"
                             "Connection: close\r\n", body)
        assert answer.startswith(b"HTTP/1.1 200 ") and b"echo: x" in answer


def _dripped(port: int, first: bytes, drip: bytes, limit: float = 10.0) -> tuple[bytes, float]:
    """Send `first`, then `drip` a byte every 50 ms until the server answers or closes."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.sendall(first)
        sock.settimeout(0.05)
        answer = b""
        for byte in drip[: int(limit / 0.05)]:  # bounded: at most `limit` seconds of dripping
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        sock.settimeout(limit)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer, time.monotonic() - started


def test_a_client_dripping_headers_or_body_gets_408_at_the_request_deadline() -> None:
    with serving(request_timeout=0.5) as server:
        head = f"POST {RUN} HTTP/1.1\r\nHost: x\r\n".encode()
        answer, took = _dripped(server.port, head, b"X-Slow: " + b"a" * 1000)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
        assert took < 5  # the 0.5 s deadline (+ the watchdog's tick), not the 60 s read timeout
        head += f"Authorization: Bearer {TOKEN}\r\nContent-Length: 500\r\n\r\n".encode()
        answer, took = _dripped(server.port, head, b'{"input": "' + b"a" * 499)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"request_timeout" in answer and took < 5
        answer, took = _dripped(server.port, b"", b"")  # idle: closed without an answer
        assert answer == b"" and took < 5
        assert call(server.port, "POST", RUN, {"input": "still fine"})[0] == 200


def test_connections_over_the_limit_get_503_and_a_freed_slot_is_reused() -> None:
    with serving(max_connections=3) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
        try:
            answer = raw_exchange(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in answer
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["type"] == "too_many_connections"
        finally:
            idle.pop().close()
        statuses = []
        for _ in range(100):  # until the server has seen the close (bounded: 100 x 50 ms)
            statuses.append(call(server.port, "GET", "/health")[0])
            if statuses[-1] == 200:
                break
            time.sleep(0.05)
        assert statuses[-1] == 200
        for sock in idle:
            sock.close()


def test_hostile_json_bodies_are_400_naming_the_problem() -> None:
    with serving(max_body_bytes=1_000_000) as server:
        def error_of(raw: bytes) -> dict[str, Any]:
            status, _, body = call(server.port, "POST", RUN, raw=raw)
            assert status == 400, body
            return dict(body["error"])

        deep = b'{"input": "x", "state": {"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}"
        assert error_of(deep)["message"] == "the body is nested too deeply"
        for constant in (b"NaN", b"Infinity", b"-Infinity"):
            error = error_of(b'{"input": "x", "state": {"score": ' + constant + b"}}")
            assert error["type"] == "invalid_json" and constant.lstrip(b"-").decode() in error["message"]
        for field, value in (("systemPrompt", 7), ("state", 7), ("id", []), ("clientTimestamp", 5)):
            error = error_of(json.dumps({"input": {"content": "x", field: value}}).encode())
            assert error["type"] == "invalid_request" and f'"input.{field}"' in error["message"]
        error = error_of(b'{"input": {"content": "x", "clientTimestamp": "yesterday"}}')
        assert '"input.clientTimestamp" must be an ISO 8601 string' in error["message"]
        assert "valid Unicode" in error_of(b'{"input": "x", "thread_id": "t-\\ud800"}')["message"]


def test_answers_are_strict_json_even_when_a_run_makes_nan(caplog: pytest.LogCaptureFixture) -> None:
    def nan_state(args: Any, ctx: Any) -> str:
        ctx.network.state.data["score"] = float("nan")
        return "stored"

    tool = create_tool(name="score", parameters={"type": "object"}, handler=nan_state)
    model = ScriptedModel([reply("", tool_call("score", {})), text("done")])
    agent = create_agent(name="Scorer", system="s", model=model, tools=[tool])
    network = create_network(name="Echo Net", agents=[agent], max_iter=1, router=lambda args: agent)
    with serving(networks=[network]) as server, caplog.at_level("ERROR", "agentkit_min.server"):
        status, _, body = call(server.port, "POST", RUN, {"input": "x"})
    assert status == 500 and body["error"]["type"] == "internal_error"  # the answer itself was strict JSON
    assert "Out of range float values are not JSON compliant" in caplog.text


def test_failed_runs_are_logged_at_error_with_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    failing = ScriptedModel([RuntimeError("the model wrapper has a bug"), ModelTimeoutError("openai: no answer")])
    with serving(networks=[one_agent_network(failing)]) as server, caplog.at_level("ERROR", "agentkit_min.server"):
        assert call(server.port, "POST", RUN, {"input": "x"})[0] == 500
        # A run that raised a TimeoutError of its own is a failed run (502), not our 504 timeout.
        assert call(server.port, "POST", RUN, {"input": "x"})[2]["error"]["type"] == "ModelTimeoutError"
    records = [r for r in caplog.records if r.name == "agentkit_min.server" and r.levelname == "ERROR"]
    assert len(records) == 2 and all(r.exc_info for r in records)
    assert "RuntimeError: the model wrapper has a bug" in records[0].getMessage()
    assert "the model wrapper has a bug" in caplog.text and "Traceback" in caplog.text


def test_history_failures_answer_typed_statuses_without_the_file_path(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "h.db"
    with serving(history=SQLiteHistory(str(path), timeout=0.2)) as server:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            status, headers, body = call(server.port, "POST", RUN, {"input": "x", "thread_id": "t"})
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (status, body["error"]["type"], headers.get("retry-after")) == (503, "HistoryBusyError", "1"), body
        assert "locked" in body["error"]["message"] and str(path) not in json.dumps(body)
        status, _, body = call(server.port, "POST", RUN, {"input": {"content": "x", "id": "m-\ud800"}})
        assert (status, body["error"]["type"]) == (400, "HistoryDataError")
        assert "lone surrogate" in body["error"]["message"] and str(path) not in json.dumps(body)
        assert call(server.port, "POST", RUN, {"input": "x", "thread_id": "t"})[0] == 200  # usable again


def test_create_server_validates_the_new_limits() -> None:
    network = one_agent_network(FunctionModel(echo))
    for bad in ({"request_timeout": 0}, {"request_timeout": "5"}, {"max_connections": 0},
                {"max_connections": True}):
        with pytest.raises(UsageError, match=next(iter(bad))):
            create_server(networks=[network], **bad)
