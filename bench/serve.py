"""Benchmark of agentkit_min.server: throughput, tail latency and memory (127.0.0.1 only).

    .venv/bin/python bench/serve.py [--seconds 3]

1. Requests per second and p50/p99 latency of `POST /networks/bench/runs` (a one-agent network
   on the in-process ScriptedModel) at 1, 16 and 64 concurrent keep-alive clients. The server
   runs in a subprocess so client threads don't share its GIL. The baseline, measured in the
   same run with the same clients, is a bare `http.server.ThreadingHTTPServer` answering a
   fixed JSON body: the ratio is what the agent machinery costs over plain stdlib HTTP.
2. Peak traced memory (tracemalloc) with 1,000 network runs in flight at once in one process:
   the model holds every run until all 1,000 have reached it. The baseline is 1,000 bare
   coroutines waiting on the same gate.

Every phase is bounded by --seconds; the whole run takes about 8 x --seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the stdlib `http`: import from the repo root, not from bench/.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any, Sequence  # noqa: E402

from agentkit_min.agent import create_agent  # noqa: E402
from agentkit_min.model import ModelResponse  # noqa: E402
from agentkit_min.network import create_network  # noqa: E402
from agentkit_min.server import create_server  # noqa: E402
from agentkit_min.testing import ScriptedModel  # noqa: E402

BODY = json.dumps({"input": "ping"}).encode()
SCRIPT_LENGTH = 2_000_000  # replies available to the served ScriptedModel (one str, shared)


def bench_network(model: Any) -> Any:
    agent = create_agent(name="Bench", system="You answer.", model=model)
    return create_network(name="bench", agents=[agent], max_iter=1, router=lambda args: agent)


class _Bare(BaseHTTPRequestHandler):
    """The baseline: stdlib HTTP, read the body, answer a fixed JSON object."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        data = b'{"output":[{"type":"text","role":"assistant","content":"ok"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(kind: str) -> None:
    """Subprocess entry: serve `kind` on 127.0.0.1:0, print the port, stop when stdin closes."""
    if kind == "agentkit":
        server = create_server(networks=[bench_network(ScriptedModel(["ok"] * SCRIPT_LENGTH))]).listen(0)
        print(server.port, flush=True)
        sys.stdin.read()
        server.shutdown(5)
        return
    ThreadingHTTPServer.request_queue_size = 1024  # the same listen backlog as ours
    bare = ThreadingHTTPServer(("127.0.0.1", 0), _Bare)
    threading.Thread(target=bare.serve_forever, daemon=True).start()
    print(bare.server_address[1], flush=True)
    sys.stdin.read()
    bare.shutdown()


def load(port: int, path: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """`clients` keep-alive clients posting for `seconds`: (rps, p50 ms, p99 ms, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        start_gate.wait()
        while time.perf_counter() < deadline[0]:
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=BODY, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except OSError:  # counted, then a fresh connection
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()

    def ms(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return len(latencies) / elapsed, ms(0.50), ms(0.99), errors[0]


def start(kind: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


class _GatedModel:
    """ScriptedModel replies, released only once every run is waiting (all in flight)."""

    def __init__(self, runs: int) -> None:
        self.inner = ScriptedModel(["ok"] * runs)
        self.arrived = 0
        self.gate = asyncio.Event()
        self.runs = runs

    async def infer(self, messages: Sequence[Any], tools: Sequence[Any], tool_choice: str) -> ModelResponse:
        self.arrived += 1
        if self.arrived == self.runs:
            self.gate.set()
        await self.gate.wait()
        return await self.inner.infer(messages, tools, tool_choice)


async def _memory(runs: int, bare: bool) -> int:
    """Peak traced bytes while `runs` network runs (or bare coroutines) are in flight."""
    model = _GatedModel(runs)
    network = bench_network(model)

    async def bare_wait() -> None:
        model.arrived += 1
        if model.arrived == runs:
            model.gate.set()
        await model.gate.wait()

    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(bare_wait() if bare else network.run(f"run {i}")) for i in range(runs)]
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks), 60)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if not bare:
        assert all(len(r.state.results) == 1 for r in outcomes) and model.arrived == runs
    return peak - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each load phase")
    parser.add_argument("--serve", choices=["agentkit", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    rows = []
    servers = {kind: start(kind) for kind in ("bare", "agentkit")}
    try:
        for clients in (1, 16, 64):
            base = load(servers["bare"][1], "/", clients, args.seconds)
            ours = load(servers["agentkit"][1], "/networks/bench/runs", clients, args.seconds)
            rows.append((clients, ours, base))
    finally:
        for proc, _ in servers.values():
            stop(proc)
    print(f"HTTP: POST a one-agent network run (ScriptedModel), {args.seconds:.0f} s per phase, "
          f"server in its own process, keep-alive clients")
    print(f"{'clients':>7} | {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} | "
          f"{'bare req/s':>10} {'bare p99':>8} | {'req/s ratio':>11}")
    for clients, (rps, p50, p99, errs), (brps, _, bp99, berrs) in rows:
        print(f"{clients:>7} | {rps:>8.0f} {p50:>7.2f} {p99:>7.2f} {errs:>6} | "
              f"{brps:>10.0f} {bp99:>8.2f} | {rps / brps:>11.2f}")
    runs = 1000
    ours_mem = asyncio.run(_memory(runs, bare=False))
    bare_mem = asyncio.run(_memory(runs, bare=True))
    print(f"\nMemory: {runs} concurrent network runs in one process (tracemalloc peak)")
    print(f"  network runs   {ours_mem / 1e6:8.2f} MB  ({ours_mem / runs / 1024:.1f} KiB per run)")
    print(f"  bare baseline  {bare_mem / 1e6:8.2f} MB  ({bare_mem / runs / 1024:.1f} KiB per coroutine)")
    print(f"  ratio          {ours_mem / max(bare_mem, 1):8.1f}x")


if __name__ == "__main__":
    main()
