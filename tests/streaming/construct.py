"""Build the constructed streaming cassettes fixtures/<provider>/stream.json.

    .venv/bin/python -m tests.streaming.construct

Runs examples/streaming.py's agent against a transport that answers each request with the
streamed body (tests/streaming/bodies.py) of the next constructed reply, and writes down what
the adapters sent, in vcrpy's JSON format. Nothing is recorded from a live API.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Mapping

from agentkit_min.http import use_transport

from . import bodies

ROOT = Path(__file__).resolve().parents[2]
REPLIES: list[bodies.Reply] = [
    {"text": ["I'll look ", "that up."], "calls": [
        {"id": "call_w1", "name": "get_weather", "arguments": ['{"ci', 'ty": "Par', 'is"}']}]},
    {"text": ["It is ", "18 °C ", "and sunny ", "in Paris", " right now."]},
]


def construct(provider: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "examples"))
    streaming = importlib.import_module("streaming")  # examples/streaming.py

    interactions: list[dict[str, Any]] = []

    def transport(method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float,
                  stream: bool = False) -> tuple[int, dict[str, str], bytes]:
        answer = bodies.body(provider, REPLIES[len(interactions)])
        interactions.append({
            "request": {"method": method, "uri": url, "body": body.decode(),
                        "headers": {"content-type": ["application/json"]}},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Content-Type": ["text/event-stream; charset=utf-8"]},
                         "body": {"string": answer.decode()}}})
        return 200, {"Content-Type": "text/event-stream; charset=utf-8"}, answer

    with use_transport(transport):
        asyncio.run(streaming.stream(provider, lambda text: None))
    return {"version": 1, "interactions": interactions}


if __name__ == "__main__":
    for name in ("openai", "anthropic", "gemini"):
        path = ROOT / "fixtures" / name / "stream.json"
        path.write_text(json.dumps(construct(name), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print("wrote", path.relative_to(ROOT))
