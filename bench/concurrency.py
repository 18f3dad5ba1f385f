"""Concurrent network runs against a loopback provider that answers after 200 ms.

    .venv/bin/python bench/concurrency.py [--rounds 3] [--sizes 1,10,100,200,1000]

A fake OpenAI-compatible provider runs in its own process (asyncio, so it is never the
bottleneck; backlog 4096) and answers every POST after 200 ms. Each network run is one agent
whose model (`openai(...)` pointed at the fake) answers in one inference, so a run is one real
HTTP request through `ProviderModel.infer`. For each N, N runs start at once
(`asyncio.gather`); the wall time is compared with one run measured in the same round, the
sizes interleaved round by round (targets: N=200 <= 1.5x, N=1000 <= 3x).

The floor: in the same rounds, N bare requests (the same body) from an asyncio client on N
kept-alive connections (no framework, no threads), reading and decoding each reply. It shows
what the provider and this machine allow at each N; floor(N) / wall(1) is the best ratio any
client could get here.

Warm-up, before the rounds: runs at the largest N until the pool holds about that many
kept-alive connections (a served deployment's steady state; the floor's connections are
opened before its clock too). The first of them, which connects on worker threads, is
printed as the cold start.

Second part: 10 concurrent runs whose synchronous tool handler blocks for 0.2 s (`time.sleep`),
the provider answering at once (a tool call, then text): target <= 0.4 s in all, which holds
only if sync handlers run off the event loop.

Figures vary with the machine and its load; only ratios within one run mean anything.
"""

from __future__ import annotations

import os
import sys

# Replace bench/ (sys.path[0]) with the repo root: bench/http.py must not shadow stdlib `http`.
sys.path[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from agentkit_min import create_agent, create_network, create_tool, http  # noqa: E402
from agentkit_min.adapters.openai import build_request  # noqa: E402
from agentkit_min.messages import text_message  # noqa: E402
from agentkit_min.models import openai  # noqa: E402

TEXT = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "done", "refusal": None}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}
CALL = {"id": "c2", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "refusal": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "block", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}


async def serve() -> None:
    """The fake provider: /slow/ answers text after 200 ms; /fast/ a tool call, then text."""
    bodies = {k: json.dumps(v).encode() for k, v in (("text", TEXT), ("call", CALL))}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next((int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:")), 0)
                request = await reader.readexactly(length)
                if lines[0].split()[1].startswith("/slow/"):
                    await asyncio.sleep(0.2)
                    data = bodies["text"]
                else:
                    data = bodies["text"] if b'"role": "tool"' in request else bodies["call"]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(data), data))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def network(base: str, tools: list[Any], turns: int = 1) -> Any:
    agent = create_agent(name="a", system="Answer.", model=openai("m", api_key="bench-key", base_url=base,
                                                                  max_retries=0), tools=tools)
    return create_network(agents=[agent], router=lambda args: agent if args.call_count < turns else None)


async def wall(net: Any, n: int) -> float:
    start = time.perf_counter()
    runs = await asyncio.gather(*(net.run("go") for _ in range(n)))
    elapsed = time.perf_counter() - start
    assert all(r.state.results[-1].output[-1]["content"] == "done" for r in runs)
    return elapsed


class Floor:
    """The provider alone with a bare client: one POST on each of N kept-alive connections."""

    def __init__(self, port: int) -> None:
        body = json.dumps(build_request("m", [text_message("system", "Answer."), text_message("user", "go")],
                                        [], "auto").body).encode()
        self.request = (b"POST /slow/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                        b"application/json\r\nAuthorization: Bearer bench-key\r\nContent-Length: %d\r\n\r\n%s"
                        % (port, len(body), body))
        self.port = port
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def wall(self, n: int) -> float:
        while len(self.conns) < n:  # connected before the clock starts, as our pool is after round one
            self.conns += await asyncio.gather(*(asyncio.open_connection("127.0.0.1", self.port)
                                                 for _ in range(min(n - len(self.conns), 200))))
        start = time.perf_counter()
        replies = await asyncio.gather(*(self._post(*conn) for conn in self.conns[:n]))
        elapsed = time.perf_counter() - start
        assert all(r["choices"][0]["message"]["content"] == "done" for r in replies)
        return elapsed

    async def _post(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        return json.loads(await reader.readexactly(length))


def block(args: Any, ctx: Any) -> str:
    time.sleep(0.2)  # a blocking, synchronous handler
    return "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="1,10,100,200,1000")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    port = int(child.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    try:
        slow = network(base + "/slow/v1/", [])
        fast = network(base + "/fast/v1/", [create_tool(name="block", description="Blocks 0.2 s.",
                                                        parameters={"type": "object", "properties": {}},
                                                        handler=block)], turns=2)

        floor, cold = Floor(port), []

        async def measure() -> tuple[dict[int, list[float]], dict[int, list[float]], list[float]]:
            cold.append(await wall(slow, max(sizes)))  # warm up: threads, connections (see above)
            for _ in range(5):
                if http.POOL.idle_count() >= 0.9 * max(sizes):
                    break
                await wall(slow, max(sizes))
            await floor.wall(max(sizes))
            times: dict[int, list[float]] = {n: [] for n in sizes}
            floors: dict[int, list[float]] = {n: [] for n in sizes}
            tools: list[float] = []
            for i in range(args.rounds):
                for n in sizes:  # which goes first alternates round by round
                    for ours in (True, False)[:: 1 if i % 2 == 0 else -1]:
                        (times if ours else floors)[n].append(await (wall(slow, n) if ours else floor.wall(n)))
                tools.append(await wall(fast, 10))
            for _, writer in floor.conns:
                writer.close()
            return times, floors, tools

        times, floors, tools = asyncio.run(measure())
    finally:
        child.terminate()
        child.wait(timeout=10)
    base_time = statistics.median(times[sizes[0]])
    print(f"bench/concurrency.py: {args.rounds} rounds, sizes interleaved; provider answers after 200 ms "
          f"(own process); median wall time per size; cpus={os.cpu_count()}, load={os.getloadavg()[0]:.1f}")
    print(f"{'N runs':>7} {'wall':>9} {'wall(N)/wall(1)':>16} {'floor':>9} {'floor/wall(1)':>14}   target")
    targets = {200: 1.5, 1000: 3.0}
    for n in sizes:
        median, bare = statistics.median(times[n]), statistics.median(floors[n])
        ratio = median / base_time
        target = targets.get(n)
        verdict = f"<= {target}x: {'met' if ratio <= target else 'NOT met'}" if target else ""
        print(f"{n:>7} {median * 1000:>7.0f}ms {ratio:>15.2f}x {bare * 1000:>7.0f}ms {bare / base_time:>13.2f}x   "
              f"{verdict}")
    print(f"cold start (first {max(sizes)} runs, connecting): {cold[0] * 1000:.0f}ms, "
          f"{cold[0] / base_time:.2f}x")
    best = min(tools)
    print(f"10 runs, sync tool blocking 0.2 s: median {statistics.median(tools):.3f}s, best {best:.3f}s "
          f"(target <= 0.4 s: {'met' if statistics.median(tools) <= 0.4 else 'NOT met'})")


if __name__ == "__main__":
    main()
