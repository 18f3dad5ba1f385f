"""Per-inference cost of the whole model path against a bare kept-alive `http.client` POST.

    python bench/http.py [--rounds 3] [--requests 200]

A fake provider on 127.0.0.1, in its own process (asyncio, HTTP/1.1 keep-alive; in-process
its work would compete for the GIL with the client), answers every POST with a fixed,
realistic response (a tool call plus usage) in the provider's own shape, over plain HTTP and
over TLS (a self-signed certificate this script makes with the `openssl` CLI in a temporary
directory). For each provider and scheme it times, interleaved request by request (the
order rotating), so load from elsewhere on the machine hits every path alike:

    bare       one `http.client` connection kept alive: request() of the same body bytes,
               getresponse(), read() and `json.loads` of the reply (every real call decodes
               it), TCP_NODELAY set (else Nagle and delayed ACKs stall it)
    sync       `model.infer_sync(...)`: build_request, JSON encoding, header checks,
               `http.post_json` (pool, deadlines, retry bookkeeping, decoding), parse_response
    await      `await model.infer(...)`: the same, the attempt on an `_aio.in_thread` worker
    hop        `await _aio.in_thread(noop)` alone: the price of keeping the attempt off the loop

and prints the median per-request time of each and the ratios to bare (targets: sync <=
1.1x, await <= 1.2x). Figures vary with the machine and its load; only ratios within one run
mean anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: drop its folder from the import path so `http` is the stdlib's.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any, Awaitable, Callable  # noqa: E402

from agentkit_min import http as model_http  # noqa: E402
from agentkit_min._aio import in_thread  # noqa: E402
from agentkit_min.messages import Message, text_message, tool_call_message, tool_result_message  # noqa: E402
from agentkit_min.models import ProviderModel, anthropic, gemini, openai  # noqa: E402
from agentkit_min.tool import Tool  # noqa: E402

CALL = {"type": "tool", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
MESSAGES: list[Message] = [
    text_message("system", "You answer weather questions with the tools you have. " * 4),
    text_message("user", "What is the weather in Paris, and should I take an umbrella?"),
    tool_call_message([CALL]),  # type: ignore[list-item]
    tool_result_message(CALL, {"data": {"city": "Paris", "temp_c": 21, "sky": "sunny", "rain_mm": 0}}),  # type: ignore[arg-type]
]
TOOLS = [
    Tool(name="get_weather", description="Current weather for a city.", handler=lambda a, c: None,
         parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                     "additionalProperties": False}),
    Tool(name="get_forecast", description="Forecast for the next days.", handler=lambda a, c: None,
         parameters={"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                     "required": ["city", "days"], "additionalProperties": False}),
]
ARGS = {"city": "Paris", "days": 3}
RESPONSES: dict[str, Any] = {
    "openai": {"id": "chatcmpl-b", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
               "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                   "role": "assistant", "content": None, "refusal": None, "tool_calls": [
                       {"id": "call_2", "type": "function",
                        "function": {"name": "get_forecast", "arguments": json.dumps(ARGS)}}]}}],
               "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140}},
    "anthropic": {"id": "msg_b", "type": "message", "role": "assistant", "model": "claude", "stop_reason": "tool_use",
                  "content": [{"type": "text", "text": "Checking the forecast."},
                              {"type": "tool_use", "id": "toolu_2", "name": "get_forecast", "input": ARGS}],
                  "usage": {"input_tokens": 120, "output_tokens": 20}},
    "gemini": {"candidates": [{"index": 0, "finishReason": "STOP", "content": {"role": "model", "parts": [
                   {"functionCall": {"name": "get_forecast", "args": ARGS}, "thoughtSignature": "c2ln"}]}}],
               "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 20, "totalTokenCount": 140},
               "responseId": "bench"},
}
PATHS = {"openai": "/v1/", "anthropic": "/v1/", "gemini": "/v1beta/"}
FACTORIES: dict[str, Callable[..., ProviderModel]] = {"openai": openai, "anthropic": anthropic, "gemini": gemini}
MODEL_IDS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}


async def serve(cert: str, key: str) -> None:
    """The fake provider: one plain and one TLS port, HTTP/1.1 keep-alive, fixed bodies."""
    bodies = {k: json.dumps(v).encode() for k, v in RESPONSES.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next(int(h.split(":", 1)[1]) for h in head.split("\r\n")
                              if h.lower().startswith("content-length:"))
                await reader.readexactly(length)
                path = head.split(" ", 2)[1]
                data = bodies["gemini" if "generateContent" in path else
                              "anthropic" if path.endswith("/messages") else "openai"]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(data), data))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain = await asyncio.start_server(handle, "127.0.0.1", 0)
    tls = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    print(plain.sockets[0].getsockname()[1], tls.sockets[0].getsockname()[1], flush=True)
    await asyncio.gather(plain.serve_forever(), tls.serve_forever())


def make_certificate(folder: str) -> tuple[str, str]:
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class Bare:
    """The baseline: one kept-alive http.client connection, nothing else."""

    def __init__(self, scheme: str, port: int, context: ssl.SSLContext) -> None:
        self.conn: http.client.HTTPConnection = (
            http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10) if scheme == "https"
            else http.client.HTTPConnection("127.0.0.1", port, timeout=10))
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Any:
        self.conn.request("POST", path, body, headers)
        return json.loads(self.conn.getresponse().read())  # decoding the reply is part of any call


async def measure(model: ProviderModel, bare: Bare, path: str, body: bytes, headers: dict[str, str],
                  n: int) -> dict[str, list[float]]:
    """n samples of each path, interleaved request by request (rotating which goes first)."""
    paths: dict[str, Callable[[], Awaitable[Any]]] = {
        "bare": lambda: _now(bare.post, path, body, headers),
        "sync": lambda: _now(model.infer_sync, MESSAGES, TOOLS, "auto"),
        "await": lambda: model.infer(MESSAGES, TOOLS, "auto"),
        "hop": lambda: in_thread(_noop),
    }
    samples: dict[str, list[float]] = {k: [] for k in paths}
    names = list(paths)
    for i in range(n):
        for name in names[i % len(names):] + names[:i % len(names)]:
            start = time.perf_counter()
            await paths[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def _noop() -> None:
    pass


async def _now(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)  # runs in the loop thread, blocking it: the baseline and the sync path


def bench(provider: str, scheme: str, port: int, context: ssl.SSLContext, rounds: int, n: int) -> dict[str, float]:
    """Median per-request seconds of each path over rounds x n interleaved samples."""
    base = f"{scheme}://127.0.0.1:{port}"
    model = FACTORIES[provider](MODEL_IDS[provider], api_key="bench-key", base_url=base + PATHS[provider],
                                max_retries=0)
    request = model.adapter.build_request(model.model, MESSAGES, TOOLS, "auto", {})
    path = PATHS[provider] + request.path
    body = json.dumps(request.body, ensure_ascii=False).encode()
    headers = {"content-type": "application/json", **request.headers, **model._auth("bench-key")}
    bare = Bare(scheme, port, context)
    asyncio.run(measure(model, bare, path, body, headers, 30))  # warm up every path
    merged: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, values in asyncio.run(measure(model, bare, path, body, headers, n)).items():
            merged.setdefault(name, []).extend(values)
    bare.conn.close()
    model.close()
    return {name: statistics.median(values) for name, values in merged.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="requests per path per round")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    with tempfile.TemporaryDirectory() as folder:
        cert, key = make_certificate(folder)
        context = ssl.create_default_context(cafile=cert)
        model_http.POOL.ssl_context = context
        child = subprocess.Popen([sys.executable, __file__, "--serve", cert, key], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        ports = dict(zip(("http", "https"), map(int, child.stdout.readline().split())))
        print(f"bench/http.py: {args.rounds} rounds x {args.requests} requests per path, interleaved; fake "
              f"provider in another process on 127.0.0.1; bare = http.client request + read + json.loads; "
              f"median per request; load={os.getloadavg()[0]:.1f}")
        print(f"{'provider':<10} {'scheme':<6} {'bare':>8} {'sync':>8} {'ratio':>6} {'await':>8} {'ratio':>6} "
              f"{'hop':>7}")
        worst = {"sync": 0.0, "await": 0.0}
        try:
            for scheme in ("http", "https"):
                for provider in FACTORIES:
                    m = bench(provider, scheme, ports[scheme], context, args.rounds, args.requests)
                    ratios = {k: m[k] / m["bare"] for k in worst}
                    worst = {k: max(worst[k], ratios[k]) for k in worst}
                    print(f"{provider:<10} {scheme:<6} {m['bare'] * 1e6:>5.0f} us {m['sync'] * 1e6:>5.0f} us "
                          f"{ratios['sync']:>5.2f}x {m['await'] * 1e6:>5.0f} us {ratios['await']:>5.2f}x "
                          f"{m['hop'] * 1e6:>4.0f} us")
        finally:
            child.terminate()
            child.wait(timeout=10)
    for name, target in (("sync", 1.1), ("await", 1.2)):
        print(f"worst ratio {name}: {worst[name]:.2f}x (target <= {target}x: "
              f"{'met' if worst[name] <= target else 'not met'})")


if __name__ == "__main__":
    main()
