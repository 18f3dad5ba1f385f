"""agentkit_min.http with an in-memory transport: retries, Retry-After, guards, redaction."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from typing import Any, Mapping

import pytest

from agentkit_min import http
from agentkit_min.errors import ModelConnectionError, ModelTimeoutError, UsageError
from agentkit_min.http import HTTPResponse, RetryPolicy, post_json, use_transport

URL = "https://api.example.test/v1/chat/completions"


class Script:
    """A transport replying from a list: (status, headers, body) tuples or exceptions."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[str, str, dict[str, str], bytes, float]] = []

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                 timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        self.calls.append((method, url, dict(headers), body, timeout))
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        status, headers_, data = reply
        return status, headers_, data if isinstance(data, bytes) else json.dumps(data).encode()


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def policy(sleeps: Sleeps, retries: int = 4) -> RetryPolicy:
    return RetryPolicy(max_retries=retries, sleep=sleeps)


def test_success_returns_decoded_json_and_sends_json_body() -> None:
    script = Script((200, {"Content-Type": "application/json"}, {"ok": True}))
    with use_transport(script):
        response = post_json("openai", URL, {"authorization": "Bearer k"}, {"a": "é"}, timeout=7)
    assert response == HTTPResponse(200, {"content-type": "application/json"}, {"ok": True}, '{"ok": true}')
    method, url, headers, body, timeout = script.calls[0]
    assert (method, url, timeout) == ("POST", URL, 7)
    assert json.loads(body) == {"a": "é"} and headers["content-type"] == "application/json"


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
def test_transient_statuses_are_retried_then_succeed(status: int) -> None:
    sleeps = Sleeps()
    script = Script((status, {}, {"error": "x"}), (200, {}, {"ok": 1}))
    with use_transport(script):
        response = post_json("p", URL, {}, {}, retry=policy(sleeps))
    assert response.status == 200 and len(script.calls) == 2 and len(sleeps.delays) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    script = Script((status, {}, {"error": {"message": "no"}}))
    with use_transport(script):
        response = post_json("p", URL, {}, {}, retry=policy(Sleeps()))
    assert response.status == status and len(script.calls) == 1


def test_gives_up_after_max_retries_and_returns_the_last_response() -> None:
    sleeps = Sleeps()
    script = Script(*[(500, {}, {"n": i}) for i in range(5)])
    with use_transport(script):
        response = post_json("p", URL, {}, {}, retry=policy(sleeps, retries=4))
    assert len(script.calls) == 5 and response.body == {"n": 4} and len(sleeps.delays) == 4


def test_backoff_grows_exponentially_with_jitter_within_bounds() -> None:
    sleeps = Sleeps()
    script = Script(*[(503, {}, {}) for _ in range(5)])
    with use_transport(script):
        post_json("p", URL, {}, {}, retry=RetryPolicy(max_retries=4, base_delay=1.0, max_delay=5.0, sleep=sleeps))
    bounds = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.5, 5.0)]  # equal jitter: [d/2, d], d capped at 5
    assert all(lo <= d <= hi for d, (lo, hi) in zip(sleeps.delays, bounds)), sleeps.delays


def test_retry_after_seconds_and_http_date_are_honoured() -> None:
    sleeps = Sleeps()
    date = email.utils.formatdate(1_000_000_030, usegmt=True)
    assert http.retry_after_seconds({"retry-after": date}, now=1_000_000_000) == 30
    assert http.retry_after_seconds({"retry-after": " 3 "}) == 3.0
    assert http.retry_after_seconds({"retry-after": "soon"}) is None
    assert http.retry_after_seconds({}) is None
    script = Script((429, {"Retry-After": "3"}, {}), (503, {"retry-after": "0.5"}, {}), (200, {}, {}))
    with use_transport(script):
        assert post_json("p", URL, {}, {}, retry=policy(sleeps)).status == 200
    assert sleeps.delays == [3.0, 0.5]


def test_a_retry_after_longer_than_the_cap_is_returned_not_waited_for() -> None:
    sleeps = Sleeps()
    script = Script((429, {"Retry-After": "3600"}, {"error": "slow down"}))
    with use_transport(script):
        response = post_json("p", URL, {}, {}, retry=policy(sleeps))
    assert response.status == 429 and sleeps.delays == [] and len(script.calls) == 1


def test_no_retry_hook_stops_retrying_a_retryable_status() -> None:
    script = Script((429, {}, {"error": {"message": "prompt is too long"}}))
    with use_transport(script):
        response = post_json("p", URL, {}, {}, retry=policy(Sleeps()), no_retry=lambda r: True)
    assert response.status == 429 and len(script.calls) == 1


def test_connection_errors_are_retried_then_raised_typed() -> None:
    sleeps = Sleeps()
    script = Script(*[ConnectionResetError("reset by peer") for _ in range(3)])
    with use_transport(script), pytest.raises(ModelConnectionError, match="reset by peer"):
        post_json("p", URL, {}, {}, retry=policy(sleeps, retries=2))
    assert len(script.calls) == 3 and len(sleeps.delays) == 2


def test_timeouts_raise_model_timeout_error_which_is_also_a_timeout_error() -> None:
    script = Script(TimeoutError("slow"), TimeoutError("slow"))
    with use_transport(script), pytest.raises(ModelTimeoutError) as info:
        post_json("p", URL, {}, {}, timeout=0.5, retry=policy(Sleeps(), retries=1))
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ConnectionError)
    assert "0.5s" in str(info.value)


def test_connection_error_then_success() -> None:
    script = Script(OSError("network unreachable"), (200, {}, {"ok": True}))
    with use_transport(script):
        assert post_json("p", URL, {}, {}, retry=policy(Sleeps())).body == {"ok": True}


def test_non_json_bodies_are_returned_as_text() -> None:
    script = Script((502, {}, b"<html><title>502 Bad Gateway</title></html>"))
    with use_transport(script):
        response = post_json("p", URL, {}, {}, retry=policy(Sleeps(), retries=0))
    assert response.body == "<html><title>502 Bad Gateway</title></html>"


def test_real_requests_are_refused_when_disabled_naming_the_switch() -> None:
    assert http.ALLOW_MODEL_REQUESTS is False  # set by tests/adapters/conftest.py
    with pytest.raises(UsageError, match="ALLOW_MODEL_REQUESTS"):
        post_json("p", URL + "?key=secret-value", {}, {})


def test_installed_transport_is_scoped_to_the_context() -> None:
    outer, inner = Script((200, {}, {"who": "outer"})), Script((200, {}, {"who": "inner"}))
    with use_transport(outer):
        with use_transport(inner):
            assert post_json("p", URL, {}, {}).body == {"who": "inner"}
        assert post_json("p", URL, {}, {}).body == {"who": "outer"}
    with pytest.raises(UsageError):  # back to the default transport, which is switched off
        post_json("p", URL, {}, {})


def test_debug_log_has_the_exact_body_and_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    script = Script((200, {}, {}))
    caplog.set_level(logging.DEBUG, logger="agentkit_min.http")
    headers = {"Authorization": "Bearer sk-secret-1", "x-api-key": "sk-secret-2",
               "x-goog-api-key": "sk-secret-3", "api-key": "sk-secret-4", "anthropic-version": "v"}
    with use_transport(script):
        post_json("p", URL + "?key=sk-secret-5&alt=json", headers, {"messages": ["hé"]})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sk-secret" not in logged
    assert '{"messages": ["hé"]}' in logged and "key=<redacted>&alt=json" in logged
    assert '"anthropic-version": "v"' in logged
    assert script.calls[0][2]["x-api-key"] == "sk-secret-2"  # redaction is for logs only


def test_redact_helpers() -> None:
    assert http.redact_url("https://h/p?key=abc&x=1&api_key=def") == "https://h/p?key=<redacted>&x=1&api_key=<redacted>"
    assert http.redact_headers({"Authorization": "a", "Cookie": "c", "Accept": "j"}) == {
        "Authorization": "<redacted>", "Cookie": "<redacted>", "Accept": "j"}



def test_provider_waits_retry_after_ms_then_retry_after_then_google_retry_info() -> None:
    info = {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}
    assert http.retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert http.retry_after_seconds({"retry-after-ms": "x", "retry-after": "9"}) == 9.0
    assert http.retry_after_seconds({}, body=info) == 1.5
    assert http.retry_after_seconds({}, body=[info]) == 1.5  # Gemini stream endpoints wrap errors in a list
    assert http.retry_after_seconds({}, body={"error": {"details": [{"retryDelay": "soon"}]}}) is None


def test_every_attempt_is_reported_to_the_listener_without_secrets() -> None:
    seen: list[dict[str, Any]] = []
    script = Script(ConnectionResetError("reset"), (503, {"Retry-After": "2"}, {}), (200, {}, {"ok": 1}))
    token = http.ATTEMPT_LISTENER.set(seen.append)
    try:
        with use_transport(script):
            post_json("p", URL + "?key=sk-secret-9", {"authorization": "Bearer sk-secret-9"}, {},
                      retry=policy(Sleeps()))
    finally:
        http.ATTEMPT_LISTENER.reset(token)
    assert [(a["attempt"], a["status"], a["wait"]) for a in seen][1:] == [(2, 503, 2.0), (3, 200, None)]
    assert seen[0]["status"] is None and seen[0]["error"].startswith("ModelConnectionError: ")
    assert seen[0]["wait"] > 0 and all(a["elapsed"] >= 0 for a in seen)
    assert "sk-secret" not in json.dumps(seen)


def test_the_sync_deadline_stops_retries_and_cuts_each_attempt_timeout() -> None:
    slept: list[float] = []

    def sleep(delay: float) -> None:  # really waits (0.25 s at a time): the deadline is wall time
        slept.append(delay)
        time.sleep(delay)

    script = Script(*[(503, {"Retry-After": "0.25"}, {}) for _ in range(10)])
    with use_transport(script):
        response = post_json("p", URL, {}, {}, timeout=30, deadline=0.9, retry=RetryPolicy(max_retries=9, sleep=sleep))
    assert response.status == 503 and slept == [0.25, 0.25, 0.25] and len(script.calls) == 4
    timeouts = [call[4] for call in script.calls]
    assert timeouts == sorted(timeouts, reverse=True) and timeouts[0] <= 0.9 and timeouts[-1] < 0.3


def test_x_should_retry_overrides_the_status_rule() -> None:
    script = Script((400, {"x-should-retry": "true"}, {}), (200, {}, {}))
    with use_transport(script):
        assert post_json("p", URL, {}, {}, retry=policy(Sleeps())).status == 200
    script = Script((503, {"x-should-retry": "false"}, {}))
    with use_transport(script):
        assert post_json("p", URL, {}, {}, retry=policy(Sleeps())).status == 503
    assert len(script.calls) == 1
