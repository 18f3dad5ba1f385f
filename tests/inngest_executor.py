"""An Inngest executor double: drives an app served at /api/inngest over real HTTP (127.0.0.1).

No Inngest Dev Server can run on these machines (its npm package downloads a binary), so this
speaks the protocol the Python SDK's `serve` adapters implement (read from the SDK,
inngest/_internal/comm_lib and step_lib, v0.5):

- `GET /api/inngest`: inspection. Dev mode: counts and the mode, unsigned. Cloud mode: signed
  requests get the authenticated inspection, unsigned ones 401.
- `PUT /api/inngest` with `x-inngest-sync-kind: in_band` (cloud mode, signed): the app answers
  with its function configs (ids, triggers, retries, the step URL to call).
- `POST /api/inngest?fnId=<id>&stepId=step` with `{"ctx": {"attempt", "max_attempts",
  "run_id", "stack", "disable_immediate_execution"}, "event", "events", "steps", "use_api"}`.
  The app replays the function with `steps` (hashed step id -> memo) and answers 206 with
  the opcodes of the next new step (`StepRun` with its `data`, `StepError` to retry it,
  `StepFailed` after the last attempt, `WaitForEvent`, `InvokeFunction`, `Sleep`), 200 with the
  function's return value, or 500 (with `x-inngest-no-retry: true` when it must not be retried).
  The executor stores each result in `steps` and calls again, until the function returns.
- Cloud mode signs every request: `X-Inngest-Signature: t=<unix s>&s=<hex HMAC-SHA256>` over
  the JSON-canonicalised body then the timestamp, keyed with the signing key minus its
  `signkey-<env>-` prefix; the app signs its responses the same way over the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RETRIES = 4  # Inngest's default retry policy (the seed's "retry 4 times")


def canonical(value: Any) -> bytes:
    """JSON canonical form (RFC 8785) for the plain data used here: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(body: bytes, signing_key: str, ts: int) -> str:
    key = re.sub(r"^signkey-\w+-", "", signing_key).encode()
    return f"t={ts}&s={hmac.new(key, body + str(ts).encode(), hashlib.sha256).hexdigest()}"


@dataclass
class Run:
    """What happened to one function run."""

    status: str = "running"  # "completed" | "failed"
    output: Any = None
    rounds: int = 0
    steps: list[str] = field(default_factory=list)
    """Display names of the steps that ran to completion (StepRun), in order."""
    step_ids: list[str] = field(default_factory=list)
    errors: list[tuple[str, int]] = field(default_factory=list)
    """(step display name, attempt) for each StepError / StepFailed."""
    function_errors: list[Any] = field(default_factory=list)
    waits: list[dict[str, Any]] = field(default_factory=list)


class Executor:
    """Calls one app's /api/inngest as Inngest would; `signing_key` None = dev mode."""

    def __init__(self, url: str, *, signing_key: str | None = None, timeout: float = 30.0) -> None:
        self.url = urllib.parse.urlsplit(url)
        assert self.url.hostname == "127.0.0.1", "the double only talks to loopback"
        self.signing_key = signing_key
        self.timeout = timeout
        self.kind = "cloud" if signing_key else "dev"
        self.requests = 0

    def request(self, method: str, query: dict[str, str] | None = None, body: Any = None, *,
                sign: bool = True, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        raw = canonical(body) if body is not None else b""
        sent = {"content-type": "application/json", "x-inngest-server-kind": self.kind, **(headers or {})}
        if self.signing_key and sign:
            sent["x-inngest-signature"] = signature(raw, self.signing_key, int(time.time()))
        path = self.url.path + ("?" + urllib.parse.urlencode(query) if query else "")
        conn = http.client.HTTPConnection(self.url.hostname or "", self.url.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=raw or None, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            got = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        self.requests += 1
        if self.signing_key and sign and resp.status != 401:
            self._check_response_signature(data, got)
        return resp.status, got, json.loads(data) if data else None

    def _check_response_signature(self, data: bytes, headers: dict[str, str]) -> None:
        assert self.signing_key is not None
        parsed = urllib.parse.parse_qs(headers.get("x-inngest-signature", ""))
        assert "t" in parsed and "s" in parsed, f"unsigned response: {headers}"
        expected = signature(data, self.signing_key, int(parsed["t"][0]))
        assert hmac.compare_digest(expected, headers["x-inngest-signature"]), "bad response signature"

    def inspect(self, *, sign: bool = True) -> dict[str, Any]:
        status, _, body = self.request("GET", sign=sign)
        assert status == 200, body
        return dict(body)

    def sync(self) -> list[dict[str, Any]]:
        """In-band sync (cloud mode): the app's function configs."""
        app_url = f"{self.url.scheme}://{self.url.netloc}{self.url.path}"
        status, headers, body = self.request("PUT", body={"url": app_url},
                                             headers={"x-inngest-sync-kind": "in_band"})
        assert status == 200 and headers.get("x-inngest-sync-kind") == "in_band", body
        return list(body["functions"])

    def run(self, fn_id: str, event_name: str, data: dict[str, Any], *,
            retries: int = DEFAULT_RETRIES, answers: dict[str, Any] | None = None,
            max_rounds: int = 100) -> Run:
        """Run the function to its end; `answers` maps a step name to its waited event / invoke result."""
        answers = dict(answers or {})
        event = {"name": event_name, "data": data, "id": str(uuid.uuid4()), "ts": int(time.time() * 1000)}
        memos: dict[str, Any] = {}
        run, attempt, run_id = Run(), 0, str(uuid.uuid4())
        for _ in range(max_rounds):  # bounded: a function that never ends fails the test
            run.rounds += 1
            status, headers, body = self.request("POST", {"fnId": fn_id, "stepId": "step"}, {
                "ctx": {"attempt": attempt, "disable_immediate_execution": False,
                        "max_attempts": retries + 1, "run_id": run_id, "stack": {"stack": list(memos)}},
                "event": event, "events": [event], "steps": memos, "use_api": False})
            if status == 200:
                run.status, run.output = "completed", body
                return run
            if status == 500:
                run.function_errors.append(body)
                if headers.get("x-inngest-no-retry") == "true" or attempt >= retries:
                    run.status = "failed"
                    return run
                attempt += 1  # a function-level retry: replay from the start with the memos
                continue
            assert status == 206, (status, body)
            for op in body:
                name, step_id = op.get("displayName") or op.get("name"), op["id"]
                kind = op["op"]
                if kind == "StepRun":
                    assert step_id not in memos, f"step {name!r} reported twice"
                    memos[step_id] = {"data": op.get("data")}
                    run.steps.append(name)
                    run.step_ids.append(step_id)
                    attempt = 0
                elif kind == "StepError":
                    run.errors.append((name, attempt))
                    attempt += 1  # Inngest retries the step: same memos, next attempt
                    assert attempt <= retries, "the SDK must send StepFailed on the last attempt"
                elif kind == "StepFailed":
                    run.errors.append((name, attempt))
                    memos[step_id] = {"error": op.get("error")}
                    attempt = 0
                elif kind == "WaitForEvent":
                    run.waits.append({"step": name, "event": op.get("name"), **(op.get("opts") or {})})
                    memos[step_id] = answers[name]  # the matched event, or None for a timeout
                elif kind == "InvokeFunction":
                    memos[step_id] = {"data": answers[name]}
                elif kind == "Sleep":
                    memos[step_id] = None
                else:
                    raise AssertionError(f"unsupported opcode {kind}: {op}")
        raise AssertionError(f"the function did not finish in {max_rounds} rounds")
