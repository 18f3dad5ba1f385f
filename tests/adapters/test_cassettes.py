"""Replay every cassette in fixtures/ with vcrpy (record_mode="none") and with the stdlib player.

Requests must match the recorded ones exactly (method, URI, JSON body) and every interaction
must be played, so a change in what an adapter sends, or an extra or missing request, fails.
The assertions are structural (kinds of messages, tool names, arguments, ids, error types), so
they hold for constructed cassettes and for cassettes re-recorded by `make record`.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import vcr

from agentkit_min import http
from agentkit_min.cassette import Cassette, play_cassette
from agentkit_min.errors import (AuthenticationError, ModelHTTPError, RateLimitError, ServerError,
                                 UsageError)
from agentkit_min.model import ModelResponse
from agentkit_min.models import ProviderModel

from .scenarios import (FACTORIES, MODELS, NETWORK_INPUT, PROVIDERS, Scenario, drive, network_params,
                        run_network, scenarios)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "sk-replay-key-0123456789"
ERRORS: dict[int, type[ModelHTTPError]] = {401: AuthenticationError, 429: RateLimitError, 400: ModelHTTPError,
                                           500: ServerError, 529: ServerError}

REPLAY = vcr.VCR(
    serializer="json", record_mode="none", decode_compressed_response=True,
    match_on=["method", "scheme", "host", "port", "path", "query", "body"],
    filter_headers=sorted(http.SECRET_HEADERS), filter_query_parameters=["key"],
)


@contextmanager
def vcrpy_player(path: Path) -> Iterator[None]:
    """vcrpy replay; real requests are only allowed inside, where vcrpy refuses unrecorded ones."""
    http.ALLOW_MODEL_REQUESTS = True
    try:
        with REPLAY.use_cassette(str(path), allow_playback_repeats=False) as cassette:
            yield
        assert cassette.all_played, f"{path}: {len(cassette) - len(cassette.play_counts)} interactions unplayed"
    finally:
        http.ALLOW_MODEL_REQUESTS = False


@contextmanager
def stdlib_player(path: Path) -> Iterator[None]:
    with play_cassette(path):
        yield


PLAYERS: dict[str, Callable[[Path], Any]] = {"vcrpy": vcrpy_player, "stdlib": stdlib_player}
CASES = [(p, s) for p in PROVIDERS for s in scenarios(p)]


def model(provider: str, scenario: Scenario | None = None, **kw: Any) -> ProviderModel:
    params = network_params(provider) if scenario is None else scenario.params
    return FACTORIES[provider](MODELS[provider], api_key=SECRET, default_parameters=params,
                               max_retries=0, sleep=lambda s: None, **kw)


def test_every_provider_has_the_required_cassettes() -> None:
    required = {"text", "system_prompt", "tool_call", "parallel_tool_calls", "forced_tool_choice",
                "error_401", "error_429", "error_400", "error_500", "network"}
    for provider in PROVIDERS:
        assert required <= {p.stem for p in (FIXTURES / provider).glob("*.json")}, provider
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    assert all(v["source"] in ("constructed", "recorded") for v in manifest.values())


@pytest.mark.parametrize("player", PLAYERS)
@pytest.mark.parametrize("provider, scenario", CASES, ids=[f"{p}-{s.name}" for p, s in CASES])
def test_scenario_replays(player: str, provider: str, scenario: Scenario) -> None:
    path = FIXTURES / provider / f"{scenario.name}.json"
    with PLAYERS[player](path):
        if scenario.error is not None:
            with pytest.raises(ModelHTTPError) as info:
                asyncio.run(drive(model(provider, scenario), scenario))
            check_error(info.value, provider, scenario)
            return
        responses = asyncio.run(drive(model(provider, scenario), scenario))
    check_responses(responses, scenario)


def check_error(error: ModelHTTPError, provider: str, scenario: Scenario) -> None:
    assert scenario.error is not None
    status, kind = scenario.error
    expected = AuthenticationError if kind == "bad_key" else ERRORS[status]
    assert isinstance(error, expected) and error.provider == provider
    assert error.message and SECRET not in str(error)
    if isinstance(error, RateLimitError):
        assert error.retry_after is not None and error.retry_after > 0


def calls(response: ModelResponse) -> list[dict[str, Any]]:
    return [dict(t) for m in response.output if m["type"] == "tool_call" for t in m["tools"]]


def texts(response: ModelResponse) -> list[str]:
    return [str(m["content"]) for m in response.output if m["type"] == "text" and m["content"]]


def check_responses(responses: list[ModelResponse], scenario: Scenario) -> None:
    assert all(r.usage.get("input_tokens", 0) > 0 for r in responses)  # G2: usage on every result
    if scenario.name in ("text", "system_prompt"):
        assert len(responses) == 1 and texts(responses[0]) and not calls(responses[0])
    elif scenario.name in ("tool_call", "parallel_tool_calls"):
        first, final = responses
        cities = ["Paris"] if scenario.name == "tool_call" else ["Paris", "Tokyo"]
        assert sorted(c["input"]["city"] for c in calls(first)) == cities
        assert {c["name"] for c in calls(first)} == {"get_weather"}
        assert len({c["id"] for c in calls(first)}) == len(cities)  # unique ids
        assert texts(final) and not calls(final)
    elif scenario.name == "forced_tool_choice":
        assert [c["name"] for c in calls(responses[0])] == ["get_weather"]
    else:
        raise AssertionError(f"no expectation for {scenario.name}")


@pytest.mark.parametrize("player", PLAYERS)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_network_of_two_agents_with_tools_runs_end_to_end(player: str, provider: str) -> None:
    with PLAYERS[player](FIXTURES / provider / "network.json"):
        run = run_network(model(provider))
    results = run.state.results
    assert [r.agent_name for r in results] == ["researcher", "researcher", "writer", "writer"]
    assert [[t["tool"]["name"] for t in r.tool_calls] for r in results] == [["get_weather"], [], ["save_note"], []]
    assert results[0].tool_calls[0]["content"] == {"data": {"city": "Paris", "temp_c": 21, "sky": "sunny"}}
    assert isinstance(run.state.data.get("note"), str) and run.state.data["note"]
    assert all(r.usage.get("output_tokens", 0) > 0 for r in results)
    last = results[-1].output[-1]
    assert last["type"] == "text" and last["content"]


def test_the_network_cassette_carries_provider_data_back() -> None:
    """Thinking blocks (Anthropic) and thought signatures (Gemini) go back on the next turn."""
    anthropic_body = json.loads(Cassette.load(FIXTURES / "anthropic" / "network.json").interactions[1].body or "")
    first_turn = anthropic_body["messages"][1]["content"]
    assert first_turn[0]["type"] == "thinking" and first_turn[0]["signature"]
    assert anthropic_body["messages"][0] == {"role": "user", "content": NETWORK_INPUT}
    gemini_body = json.loads(Cassette.load(FIXTURES / "gemini" / "network.json").interactions[1].body or "")
    parts = gemini_body["contents"][1]["parts"]
    assert parts[0]["functionCall"]["name"] == "get_weather" and parts[0]["thoughtSignature"]


def test_cassettes_hold_no_secrets() -> None:
    for path in FIXTURES.rglob("*.json"):
        text = path.read_text()
        assert SECRET not in text and "constructed-key" not in text, path
        for interaction in json.loads(text).get("interactions", []) if path.name != "manifest.json" else []:
            headers = {k.lower() for k in interaction["request"]["headers"]}
            assert not headers & http.SECRET_HEADERS, path
            assert "key=" not in interaction["request"]["uri"], path


# --- the stdlib player itself ----------------------------------------------------------------

def write(tmp_path: Path, *interactions: tuple[str, str, Any, int, Any]) -> Path:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"version": 1, "interactions": [
        {"request": {"method": m, "uri": u, "body": json.dumps(b), "headers": {}},
         "response": {"status": {"code": s, "message": ""}, "headers": {"Content-Type": ["application/json"]},
                      "body": {"string": json.dumps(r)}}} for m, u, b, s, r in interactions]}))
    return path


def post(url: str, body: Any) -> Any:
    return http.post_json("p", url, {}, body, retry=http.RetryPolicy(max_retries=0)).body


def test_player_matches_json_bodies_ignores_filtered_keys_and_plays_each_once(tmp_path: Path) -> None:
    path = write(tmp_path, ("POST", "https://h/v1/x", {"a": 1, "b": [2]}, 200, {"n": 1}),
                 ("POST", "https://h/v1/x", {"a": 1, "b": [2]}, 200, {"n": 2}))
    with play_cassette(path) as cassette:
        assert post("https://h:443/v1/x?key=abc", {"b": [2], "a": 1}) == {"n": 1}
        assert post("https://h/v1/x", {"a": 1, "b": [2]}) == {"n": 2}
        with pytest.raises(UsageError, match="no unplayed interaction"):
            post("https://h/v1/x", {"a": 1, "b": [2]})
    assert cassette.all_played and len(cassette.requests) == 3


def test_player_reports_a_body_mismatch_and_unplayed_interactions(tmp_path: Path) -> None:
    path = write(tmp_path, ("POST", "https://h/v1/x", {"a": 1}, 200, {}),
                 ("POST", "https://h/v1/y", {}, 200, {}))
    with pytest.raises(UsageError) as info:
        with play_cassette(path):
            post("https://h/v1/x", {"a": 2})
    assert "body differs" in str(info.value) and '{"a": 2}' in str(info.value)
    with pytest.raises(UsageError, match=r"1 interaction\(s\) never played: #1 POST https://h/v1/y"):
        with play_cassette(path):
            post("https://h/v1/x", {"a": 1})
    with play_cassette(path, allow_unplayed=True) as cassette:
        post("https://h/v1/y", {})
    assert [i.played for i in cassette.interactions] == [0, 1]


def test_player_rejects_files_that_are_not_cassettes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"interactions": [')
    with pytest.raises(UsageError, match="not a JSON cassette"):
        Cassette.load(bad)
    bad.write_text("interactions: {a: 1}")  # YAML, but a flow mapping: outside the subset
    with pytest.raises(UsageError, match="line 1: the scalar '{a: 1}' is outside the YAML subset"):
        Cassette.load(bad)
    bad.write_text('{"interactions": [{"request": {}}]}')
    with pytest.raises(UsageError, match="malformed interaction"):
        Cassette.load(bad)
    bad.write_bytes(b"\xff\xfe\x00 a binary file")
    with pytest.raises(UsageError, match=r"is not a cassette: not UTF-8 text \(invalid start byte at byte 0\)"):
        Cassette.load(bad)
