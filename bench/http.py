"""Per-inference overhead of the model path, against a bare urllib POST, in the same run.

    python bench/http.py [--rounds 5] [--requests 150]

A fake provider on 127.0.0.1, in its own process (as a real provider is; in-process its
threads would compete for the GIL with the client), answers every POST with a fixed,
realistic response (a tool call plus usage) in the provider's own shape. For each provider
the benchmark times, interleaved request by request:

    bare urlopen   urllib.request.urlopen(POST of the same JSON body) + read, nothing else
    infer_sync     the adapter path: build_request, JSON encoding, agentkit_min.http.post_json
                   (redaction, retry bookkeeping, decoding), parse_response
    await infer    the same inside `asyncio.to_thread`, as agents call it
    thread hop     `await asyncio.to_thread(noop)` alone: the price of staying off the loop

and prints the median per-request time of each and the ratios to the bare POST (target
<= 1.15x). Every path opens a new connection per request, as urllib does. Figures vary with
the machine and its load; only ratios within one run mean anything.
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
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any, Awaitable, Callable  # noqa: E402

from agentkit_min.messages import Message, text_message, tool_call_message, tool_result_message  # noqa: E402
from agentkit_min.models import ProviderModel, anthropic, gemini, grok, openai  # noqa: E402
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
RESPONSES["grok"] = RESPONSES["openai"]
PATHS = {"openai": "/v1/", "grok": "/v1/", "anthropic": "/v1/", "gemini": "/v1beta/"}


def serve_forever() -> None:
    """The fake provider (run in its own process, as a real provider would be)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            provider = ("gemini" if "generateContent" in self.path else
                        "anthropic" if self.path.endswith("/messages") else "openai")
            data = BODIES[provider]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    BODIES = {k: json.dumps(v).encode() for k, v in RESPONSES.items()}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def start_server() -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    port = int(child.stdout.readline())
    return child, f"http://127.0.0.1:{port}"


def make(provider: str, base: str) -> ProviderModel:
    factory = {"openai": openai, "anthropic": anthropic, "gemini": gemini, "grok": grok}[provider]
    model: ProviderModel = factory({"gemini": "gemini-2.5-flash", "anthropic": "claude-haiku-4-5"}.get(provider, "gpt-4o-mini"),
                                   api_key="bench-key", base_url=base + PATHS[provider], max_retries=0)
    return model


def bare_post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


async def measure(model: ProviderModel, url: str, body: bytes, headers: dict[str, str],
                  n: int) -> dict[str, list[float]]:
    """n samples of each path, interleaved request by request (rotating which goes first),
    so load from elsewhere on the machine hits every path alike."""
    paths: dict[str, Callable[[], Awaitable[Any]]] = {
        "bare": lambda: _now(bare_post, url, body, headers),
        "sync": lambda: _now(model.infer_sync, MESSAGES, TOOLS, "auto"),
        "async": lambda: model.infer(MESSAGES, TOOLS, "auto"),
        "hop": lambda: asyncio.to_thread(_noop),
    }
    samples: dict[str, list[float]] = {k: [] for k in paths}
    names = list(paths)
    for i in range(n):
        for name in names[i % len(names):] + names[:i % len(names)]:
            start = time.perf_counter()
            await paths[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


async def _now(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)  # runs in the loop thread, blocking it: the baseline and the sync path


def _noop() -> None:
    pass


def bench(provider: str, base: str, rounds: int, n: int) -> dict[str, float]:
    """Median per-request seconds of each path over rounds x n interleaved samples."""
    model = make(provider, base)
    request = model.adapter.build_request(model.model, MESSAGES, TOOLS, "auto", {})
    url = model.base_url + request.path
    body = json.dumps(request.body, ensure_ascii=False).encode()
    headers = {"content-type": "application/json", **request.headers, **model._auth("bench-key")}
    asyncio.run(measure(model, url, body, headers, 20))  # warm up every path
    merged: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, values in asyncio.run(measure(model, url, body, headers, n)).items():
            merged.setdefault(name, []).extend(values)
    return {name: statistics.median(values) for name, values in merged.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=150, help="requests per path per round")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever()
        return
    server, base = start_server()
    print(f"bench/http.py: {args.rounds} rounds x {args.requests} requests per path, interleaved; "
          f"fake provider in another process on 127.0.0.1; median per request")
    print(f"{'provider':<10} {'bare urlopen':>13} {'infer_sync':>11} {'ratio':>6} "
          f"{'await infer':>12} {'ratio':>6} {'thread hop':>11}")
    worst_sync = worst_async = 0.0
    try:
        for provider in ("openai", "anthropic", "gemini", "grok"):
            m = bench(provider, base, args.rounds, args.requests)
            sync_ratio, async_ratio = m["sync"] / m["bare"], m["async"] / m["bare"]
            worst_sync, worst_async = max(worst_sync, sync_ratio), max(worst_async, async_ratio)
            print(f"{provider:<10} {m['bare'] * 1e6:>10.0f} us {m['sync'] * 1e6:>8.0f} us {sync_ratio:>5.2f}x "
                  f"{m['async'] * 1e6:>9.0f} us {async_ratio:>5.2f}x {m['hop'] * 1e6:>8.0f} us")
    finally:
        server.terminate()
        server.wait(timeout=10)
    for label, worst in (("infer_sync (adapter path)", worst_sync), ("await infer (+ thread hop)", worst_async)):
        print(f"worst ratio {label}: {worst:.2f}x (target <= 1.15x: {'met' if worst <= 1.15 else 'not met'})")


if __name__ == "__main__":
    main()
