"""The stdlib recorder: vcrpy's record modes (checked against vcrpy itself), scrubbing, streams.

The provider is the scripted loopback fake of tests/adapters/loopback.py: reply n is
`{"n": n}`, so which requests reached it and in what order shows in the cassettes. The same
script is run under vcrpy and under our recorder; the files and the errors must agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

import pytest
import vcr

from agentkit_min import http
from agentkit_min.cassette_record import Recorder, use_cassette
from agentkit_min.errors import UsageError

from ..adapters.loopback import Reply, fake_provider

KEY = "sk-RECOGNISABLE-0123456789abcdef"
NO_RETRY = http.RetryPolicy(max_retries=0)


def post(base: str, body: dict[str, Any]) -> Any:
    return http.post_json("p", f"{base}/v1/chat?key={KEY}&alt=json", {"Authorization": f"Bearer {KEY}"},
                          body, retry=NO_RETRY).body


def seed(path: Path, base: str, *names: str) -> None:
    """A cassette holding requests `names`, answered {"seeded": name}."""
    path.write_text(json.dumps({"version": 1, "interactions": [
        {"request": {"method": "POST", "uri": f"{base}/v1/chat?alt=json", "body": json.dumps({"q": n}),
                     "headers": {"Content-Type": ["application/json"]}},
         "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["application/json"]},
                      "body": {"string": json.dumps({"seeded": n})}}} for n in names]}, indent=4))


def vcrpy_cassette(path: Path, mode: str) -> ContextManager[Any]:
    recorder: ContextManager[Any] = vcr.VCR(serializer="json", record_mode=mode, match_on=["method", "scheme", "host", "port", "path",
                                                                  "query", "body"],
                   filter_headers=["authorization"], filter_query_parameters=["key"]).use_cassette(str(path))
    return recorder


def ours(path: Path, mode: str) -> ContextManager[Any]:
    return use_cassette(path, mode, allow_unplayed=True)  # vcrpy does not fail on unplayed ones


def run(player: Callable[[Path, str], ContextManager[Any]], tmp: Path, mode: str, seeded: tuple[str, ...],
        asked: list[str]) -> dict[str, Any]:
    """Run `asked` in a cassette seeded with `seeded`; what was answered, sent and saved."""
    path = tmp / f"{player.__name__}-{mode}.json"
    with fake_provider(*[Reply(200, {"n": n}) for n in range(1, 6)]) as fake:
        if seeded:
            seed(path, fake.url, *seeded)
        answers: list[Any] = []
        with player(path, mode):
            for name in asked:
                try:
                    answers.append(post(fake.url, {"q": name}))
                except Exception as exc:  # vcrpy's CannotOverwriteExistingCassetteException, our UsageError
                    answers.append(type(exc).__name__)
        sent = [json.loads(body)["q"] for _, _, body in fake.requests]
    saved = [(json.loads(i["request"]["body"])["q"], json.loads(i["response"]["body"]["string"]))
             for i in json.loads(path.read_text())["interactions"]] if path.exists() else None
    return {"answers": answers, "sent": sent, "saved": saved}


ERROR = {"CannotOverwriteExistingCassetteException": "refused", "UsageError": "refused"}


@pytest.mark.parametrize("mode", ["none", "once", "new_episodes", "all"])
@pytest.mark.parametrize("seeded", [(), ("a", "b")], ids=["missing cassette", "existing cassette"])
def test_every_record_mode_does_what_vcrpy_does(tmp_path: Path, mode: str, seeded: tuple[str, ...]) -> None:
    asked = ["a", "c", "a"]  # a recorded request, a new one, the recorded one again
    theirs = run(vcrpy_cassette, tmp_path, mode, seeded, asked)
    mine = run(ours, tmp_path, mode, seeded, asked)
    for result in (theirs, mine):
        result["answers"] = [ERROR.get(a, a) if isinstance(a, str) else a for a in result["answers"]]
    assert mine == theirs
    # and what vcrpy documents, spelled out:
    if mode == "none" or (mode == "once" and seeded):
        assert mine["sent"] == [] and "refused" in mine["answers"]
    elif mode == "all":
        assert mine["sent"] == asked
    elif seeded:  # new_episodes: replays a, records c; the 2nd "a" is recorded (a is played)
        assert mine["sent"] == ["c", "a"] and mine["answers"][0] == {"seeded": "a"}
    else:
        assert mine["sent"] == asked


def test_unplayed_interactions_per_mode(tmp_path: Path) -> None:
    with fake_provider(Reply(200, {"n": 1})) as fake:
        for mode, raises in [("none", True), ("once", True), ("new_episodes", False), ("all", False)]:
            path = tmp_path / f"{mode}.json"
            seed(path, fake.url, "a", "b")
            with pytest.raises(UsageError, match=r"1 interaction\(s\) never played: #1 POST") if raises \
                    else _nothing():
                with use_cassette(path, mode):
                    post(fake.url, {"q": "a"})
            kept = [json.loads(i["request"]["body"])["q"] for i in json.loads(path.read_text())["interactions"]]
            assert kept == ["a", "b"] if mode != "all" else ["b", "a"], mode  # all: a re-recorded, b kept
            with use_cassette(path, mode, allow_unplayed=True):
                post(fake.url, {"q": "a"})


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_mismatch_shows_the_request_and_the_nearest_recorded_one(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    seed(path, "http://127.0.0.1:9", "a")
    with pytest.raises(UsageError) as info:
        with use_cassette(path, "none"):
            post("http://127.0.0.1:9", {"q": "z"})
    text = str(info.value)
    assert "no unplayed interaction matches POST http://127.0.0.1:9/v1/chat?key=<redacted>&alt=json" in text
    assert 'the body differs from interaction #0 POST' in text
    assert 'sent:     {"q": "z"}' in text and 'recorded: {"q": "a"}' in text and KEY not in text


def test_the_key_never_reaches_the_file_even_when_the_provider_echoes_it(tmp_path: Path) -> None:
    echo = Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}. Bearer {KEY}"}},
                 {"X-Echo-Key": KEY, "Set-Cookie": f"session={KEY}", "X-Org": "org-123"})
    path = tmp_path / "c.json"

    def drop_org(response: dict[str, Any]) -> dict[str, Any]:
        response["headers"].pop("x-org")  # the sender gives lower-cased header names
        return response

    with fake_provider(echo) as fake:
        with use_cassette(path, "once", before_record_response=drop_org, secrets=["org-123"]):
            post(fake.url, {"q": "a"})
        assert fake.requests[0][1]["authorization"] == f"Bearer {KEY}"  # the provider did get the key
    text = path.read_text()
    assert KEY not in text and "RECOGNISABLE" not in text and "org-123" not in text
    interaction = json.loads(text)["interactions"][0]
    assert "<redacted>" in interaction["response"]["body"]["string"]
    received = {k.lower(): v for k, v in interaction["response"]["headers"].items()}
    assert received["x-echo-key"] == ["<redacted>"] and "set-cookie" not in received and "x-org" not in received
    assert "authorization" not in {k.lower() for k in interaction["request"]["headers"]}
    assert interaction["request"]["uri"].endswith("/v1/chat?alt=json")
    with use_cassette(path, "none"):  # and it still replays: the filtered key is ignored in matching
        assert post(fake.url, {"q": "a"})["error"]["message"] == (
            "Incorrect API key provided: <redacted>. <redacted>")  # "Bearer <key>" went whole


def test_a_hook_returning_none_leaves_the_interaction_out(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with fake_provider(Reply(200, {"n": 1})) as fake:
        with use_cassette(path, "all", before_record_request=lambda request: None):
            assert post(fake.url, {"q": "a"}) == {"n": 1}
    assert not path.exists()


def test_a_streamed_response_is_teed_and_recorded_as_its_raw_body(tmp_path: Path) -> None:
    chunks = [b'data: {"a": 1}\n\n', b'data: {"b": ', b'2}\n\n', b"data: [DONE]\n\n"]
    closed: list[bool] = []

    class Body:
        def __init__(self) -> None:
            self.items = iter(chunks)

        def __iter__(self) -> Iterator[bytes]:
            return self

        def __next__(self) -> bytes:
            return next(self.items)

        def close(self) -> None:
            closed.append(True)

    def send(method: str, url: str, headers: Any, body: bytes, timeout: float, stream: bool = False) -> Any:
        assert stream
        return 200, {"Content-Type": "text/event-stream"}, Body()

    recorder = Recorder(tmp_path / "s.json", "all", send=send)
    status, headers, body = recorder.transport("POST", "http://127.0.0.1:1/v1/s", {}, b"{}", 5.0, stream=True)
    seen = []
    for chunk in body:  # handed on one by one, not joined first
        seen.append(chunk)
        assert len(recorder.interactions) == 0 or chunk == chunks[-1]
    assert seen == chunks and closed == []  # read to the end: nothing to release
    early = recorder.transport("POST", "http://127.0.0.1:1/v1/s", {}, b'{"x": 1}', 5.0, stream=True)[2]
    assert next(iter(early)) == chunks[0]
    early.close()  # the consumer stops early: the connection is released, what came is recorded
    assert closed == [True]
    recorder.save()
    saved = json.loads((tmp_path / "s.json").read_text())["interactions"]
    assert [i["response"]["body"]["string"] for i in saved] == [b"".join(chunks).decode(), chunks[0].decode()]


def test_recording_obeys_allow_model_requests_and_refuses_yaml_and_bad_modes(tmp_path: Path) -> None:
    assert http.ALLOW_MODEL_REQUESTS is False  # tests/conftest.py
    with pytest.raises(UsageError, match="real model requests are disabled"):
        with use_cassette(tmp_path / "c.json", "once"):
            post("https://api.example.com", {"q": "a"})
    (tmp_path / "c.yaml").write_text("interactions: []\nversion: 1\n")
    with pytest.raises(UsageError, match="records JSON cassettes only"):
        with use_cassette(tmp_path / "c.yaml", "new_episodes"):
            post("http://127.0.0.1:1", {"q": "a"})
    with pytest.raises(UsageError, match="record_mode must be one of none, once, new_episodes, all"):
        use_cassette(tmp_path / "c.json", "any").__enter__()


def test_what_was_recorded_is_saved_when_the_block_raises(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with fake_provider(Reply(200, {"n": 1})) as fake:
        with pytest.raises(RuntimeError):
            with use_cassette(path, "once"):
                post(fake.url, {"q": "a"})
                raise RuntimeError("the test failed later")
    assert len(json.loads(path.read_text())["interactions"]) == 1
