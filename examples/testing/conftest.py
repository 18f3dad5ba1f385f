"""The "provider" for recording this example: a loopback fake standing in for api.openai.com.

Recording a real agent needs nothing here: `pytest --record-mode=once` with OPENAI_API_KEY set
sends to OpenAI for real. This example has no key and no internet, so `agentkit_cassette_config`
gives the recorder a sender (`send=`) that forwards each request to a fake OpenAI server on
127.0.0.1, which calls get_weather first and answers once it has the tool's result.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Mapping

import pytest

from agentkit_min import http

pytest_plugins = ["agentkit_min.pytest_plugin"]  # for a vendored copy; installed, pytest loads it itself


def chat_completion(request: dict[str, Any]) -> dict[str, Any]:
    """What OpenAI's Chat Completions API plausibly answers (constructed, not recorded)."""
    done = any(m["role"] == "tool" for m in request["messages"])
    message: dict[str, Any] = {"role": "assistant", "content": "It is sunny and 21°C in Paris." if done else None}
    if not done:
        message["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    return {"id": "chatcmpl-fake", "object": "chat.completion", "model": request["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop" if done else "tool_calls"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}}


class FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.dumps(chat_completion(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def agentkit_cassette_config(fake_openai: str) -> dict[str, Any]:
    def send(method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float,
             stream: bool = False) -> Any:
        local = url.replace("https://api.openai.com", fake_openai)
        return http.real_transport(method, local, headers, body, timeout, stream=stream)

    return {"send": send}
