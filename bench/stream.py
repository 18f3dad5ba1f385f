"""Token streaming latency and throughput, against a bare http.client read of the same stream.

    python bench/stream.py [--rounds 5] [--tokens 1000] [--pace 0.001]

A fake provider on 127.0.0.1, in its own process, streams a reply of `--tokens` text deltas in
each provider's SSE shape (tests/streaming/bodies.py), one frame every `--pace` seconds (a
real provider sends 30-200 tokens/s, so 1 ms is faster than any), in chunked encoding. Right
before the first frame that carries text it writes an SSE comment holding its clock
(`time.perf_counter`, the system's monotonic clock, shared by processes), so a client can tell
when the first text byte left the provider (frames before it, such as Anthropic's
`message_start`, carry no text). For each provider the benchmark times, interleaved:

    bare read   http.client POST of the same JSON, read1() until the end, nothing else
    agent run   agent.run(publish=...) on a ProviderModel: streamed request, incremental
                decoding, one text.delta event per token published to a callback

and prints the medians of: first text byte sent -> first text.delta published (bare: that
chunk read), target <= 5 ms; and the whole stream (request to end), as a ratio to the bare read,
target <= 1.1x. `--pace 0` sends the stream as one burst: that measures decoding and event
cost per token (no target). Figures vary with the machine and its load; only ratios and
differences within one run mean anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the stdlib's http: drop this folder from the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402

from agentkit_min import models  # noqa: E402
from agentkit_min.adapters import ADAPTERS, _stream  # noqa: E402
from agentkit_min.agent import create_agent  # noqa: E402
from tests.streaming import bodies  # noqa: E402

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}
PATHS = {"openai": "/v1/", "anthropic": "/v1/", "gemini": "/v1beta/"}


def serve(tokens: int, pace: float) -> None:
    """The provider process: stream `tokens` deltas for every POST, in the path's provider shape."""
    frames = {p: bodies.frames(p, {"text": [f" tok{i}" for i in range(tokens)]}) for p in MODELS}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            provider = "gemini" if "Generate" in self.path else "anthropic" if "messages" in self.path else "openai"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            start, stamped = time.perf_counter(), False
            for n, frame in enumerate(frames[provider]):
                wait = start + n * pace - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                if not stamped and b"tok0" in frame:
                    stamped, frame = True, b": sent %.9f\n\n%s" % (time.perf_counter(), frame)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def sent_at(data: bytes) -> float | None:
    """The provider's clock from the `: sent <t>` comment in `data`, if it is there."""
    at = data.find(b": sent ")
    return None if at < 0 else float(data[at + 7:data.index(b"\n", at)])


def bare(port: int, provider: str, path: str, body: bytes) -> tuple[float, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    latency = None
    while chunk := response.read1(65536):
        sent = sent_at(chunk) if latency is None else None
        if sent is not None:
            latency = time.perf_counter() - sent
    conn.close()
    assert latency is not None
    return latency, time.perf_counter() - started


async def ours(port: int, provider: str) -> tuple[float, float]:
    model = getattr(models, provider)(MODELS[provider], api_key="bench-key-0123456789",
                                      base_url=f"http://127.0.0.1:{port}{PATHS[provider]}", max_retries=0)
    agent = create_agent(name="bench", system="You answer.", model=model)
    first: list[float] = []

    def publish(chunk: dict[str, Any]) -> None:
        if chunk["event"] == "text.delta" and not first:
            first.append(time.perf_counter())

    clock: list[float] = []
    real = _stream.StreamDecoder.feed

    def feed(self: Any, data: bytes) -> Any:  # read the provider's clock off the first chunk
        sent = None if clock else sent_at(data)
        if sent is not None:
            clock.append(sent)
        return real(self, data)

    _stream.StreamDecoder.feed = feed  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        result = await agent.run("Count.", publish=publish)
        total = time.perf_counter() - started
    finally:
        _stream.StreamDecoder.feed = real  # type: ignore[method-assign]
    assert result.output and first and clock
    return first[0] - clock[0], total


def request_of(provider: str) -> tuple[str, bytes]:
    """The path and body our model sends, so the bare read posts the very same request."""
    messages: Any = [{"type": "text", "role": "system", "content": "You answer."},
                     {"type": "text", "role": "user", "content": "Count."}]
    request = _stream.stream_request(provider, ADAPTERS[provider].build_request(MODELS[provider], messages, [], "auto"))
    return PATHS[provider] + request.path, json.dumps(request.body).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=0.001)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.tokens, args.pace)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--tokens", str(args.tokens),
                             "--pace", str(args.pace)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        print(f"{args.tokens} tokens, one every {args.pace * 1000:g} ms, {args.rounds} rounds (medians)")
        print(f"{'provider':10} {'first delta: bare':>18} {'ours':>8} {'total: bare':>12} {'ours':>8} {'ratio':>6}")
        for provider in MODELS:
            path, body = request_of(provider)
            firsts: dict[str, list[float]] = {"bare": [], "ours": []}
            totals: dict[str, list[float]] = {"bare": [], "ours": []}
            asyncio.run(ours(port, provider))  # warm-up: imports, first connection
            for _ in range(args.rounds):  # interleaved, so load changes hit both alike
                for name in ("bare", "ours"):
                    first, total = bare(port, provider, path, body) if name == "bare" else asyncio.run(ours(port, provider))
                    firsts[name].append(first)
                    totals[name].append(total)
            fb, fo = (statistics.median(firsts[k]) * 1000 for k in ("bare", "ours"))
            tb, to = (statistics.median(totals[k]) * 1000 for k in ("bare", "ours"))
            print(f"{provider:10} {fb:15.2f} ms {fo:5.2f} ms {tb:9.1f} ms {to:5.1f} ms {to / tb:5.2f}x")
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    main()
