"""A recognisable API key, DEBUG logging on every logger, and every error path of a model call:
the key must appear in no log record, exception text (tracebacks and chained causes included),
repr, attempt-listener record or recorded cassette (issue 9, "no key leaks")."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from agentkit_min import http
from agentkit_min.cassette_record import use_cassette
from agentkit_min.errors import (AgentKitError, AuthenticationError, ModelConnectionError, ModelHTTPError,
                                 ModelResponseError, ModelTimeoutError, ServerError, UsageError)
from agentkit_min.models import ProviderModel, gemini, openai

from .test_model_io import HELLO, Action, Server, reply, response

KEY = "sk-CANARY-7f3a9c2e1b5d4a60"


def echo(status: int, extra: str = "", code: str = "invalid_api_key") -> Action:
    """A response echoing the key in its body and in a header, as a careless proxy would."""
    return reply(status, {"error": {"message": f"Incorrect API key provided: {KEY}{extra}",
                                    "type": "invalid_request_error", "code": code}},
                 {"X-Echo-Authorization": f"Bearer {KEY}", "Set-Cookie": f"session={KEY}"})


def hang(sock: socket.socket) -> bool:
    sock.settimeout(2)
    try:
        sock.recv(1)
    except OSError:
        pass
    return False


def bad_json(sock: socket.socket) -> bool:
    sock.sendall(response(200, f'{{"choices": [{{"message": "{KEY}'.encode()))
    return True


@pytest.fixture()
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        for lg, level in saved:
            lg.setLevel(level)


def text_of(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), repr(exc), str(vars(exc))]
    return "\n".join(parts)


def run(m: ProviderModel) -> BaseException:
    try:
        asyncio.run(m.infer(HELLO, [], "auto"))
    except AgentKitError as exc:
        return exc
    raise AssertionError("no error")


def provoke(url: str, refused: str) -> list[tuple[type[BaseException], BaseException]]:
    """Every error path; returns (expected type, raised error) pairs."""
    def make(base: str, factory: Callable[..., ProviderModel] = openai, **kw: Any) -> ProviderModel:
        return factory("m", api_key=KEY, base_url=base, sleep=lambda s: None, **kw)

    got: list[tuple[type[BaseException], BaseException]] = [
        (AuthenticationError, run(make(url + "/401/"))),
        (ServerError, run(make(url + "/500/", max_retries=1))),
        (ModelTimeoutError, run(make(url + "/hang/", timeout=0.2, max_retries=0))),
        (ModelResponseError, run(make(url + "/json/"))),
        (ModelHTTPError, run(make(url + "/redirect/"))),
        (ModelConnectionError, run(make(refused + "/v1/", max_retries=0))),
        (ModelConnectionError, run(make(refused + f"/v1beta/?key={KEY}&", gemini, max_retries=0))),
        (UsageError, run(openai("m", api_key=KEY + "\x00", base_url=url + "/401/"))),
    ]
    # The old `?key=` style of Gemini URLs, straight through http: logged and raised redacted.
    path, no_retry = f"/gemini/models/m:generateContent?key={KEY}", http.RetryPolicy(max_retries=0)
    assert http.post_json("gemini", url + path, {"x-goog-api-key": KEY}, {}, retry=no_retry).status == 400
    try:
        http.post_json("gemini", refused + path, {"x-goog-api-key": KEY}, {}, retry=no_retry)
    except ModelConnectionError as exc:
        got.append((ModelConnectionError, exc))
    return got


def test_the_key_appears_in_no_error_log_repr_or_listener_record(everything_logged: pytest.LogCaptureFixture) -> None:
    attempts: list[dict[str, Any]] = []
    token = http.ATTEMPT_LISTENER.set(attempts.append)
    script = {"/401/": echo(401), "/500/": echo(500, code="server_error"), "/hang/": hang, "/json/": bad_json,
              "/redirect/": reply(302, b"", {"Location": f"https://evil.example.test/?key={KEY}"}),
              "/gemini/": echo(400, " API_KEY_INVALID")}
    try:
        with Server(routes=script) as server:
            with Server(hang) as gone:
                refused = gone.url  # nothing listens there after this block
            got = provoke(server.url, refused)
    finally:
        http.ATTEMPT_LISTENER.reset(token)
    for expected, error in got:
        assert isinstance(error, expected), (expected, error)
        assert KEY not in text_of(error), text_of(error)
    models = [openai("m", api_key=KEY), gemini("m", api_key=KEY)]
    assert all(KEY not in repr(m) and KEY not in str(vars(m).get("_headers")) for m in models)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in everything_logged.records)
    assert everything_logged.records and KEY not in logged
    assert attempts and KEY not in json.dumps(attempts)
    assert any(e.request_id is None and e.headers for _, e in got if isinstance(e, ModelHTTPError))
    assert all(KEY not in json.dumps(e.headers) for _, e in got if isinstance(e, ModelHTTPError))


def record_with_stdlib(path: Path, url: str) -> None:
    with use_cassette(path, record_mode="all", secrets=[]):
        run(openai("m", api_key=KEY, base_url=url + "/401/", sleep=lambda s: None))


def record_with_make_record(path: Path, url: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.record import recorder  # exactly the settings `make record` uses

    with recorder(path, KEY):
        run(openai("m", api_key=KEY, base_url=url + "/401/", sleep=lambda s: None))


@pytest.mark.parametrize("recorder", [record_with_stdlib, record_with_make_record])
def test_a_recorded_cassette_holds_no_key_even_when_the_provider_echoes_it(
        tmp_path: Path, recorder: Callable[[Path, str], None]) -> None:
    path = tmp_path / "c.json"
    with Server(echo(401)) as server:
        recorder(path, server.url)
    text = path.read_text()
    assert "interactions" in text and "Incorrect API key" in text
    assert KEY not in text
