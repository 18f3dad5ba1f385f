"""The constructed streaming cassettes (fixtures/<provider>/stream.json) replay through the
incremental decoders with the stdlib player and with vcrpy, giving the same events."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import vcr

from agentkit_min import http
from agentkit_min.adapters import ADAPTERS
from agentkit_min.testing import play_cassette

from . import bodies
from .construct import REPLIES, construct

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ["openai", "anthropic", "gemini"]
REPLAY = vcr.VCR(serializer="json", record_mode="none", match_on=["method", "scheme", "host", "port", "path",
                                                                   "query", "body"],
                 filter_headers=sorted(http.SECRET_HEADERS))


@contextmanager
def vcrpy_player(path: Path) -> Iterator[None]:
    http.ALLOW_MODEL_REQUESTS = True  # vcrpy refuses anything not in the cassette
    try:
        with REPLAY.use_cassette(str(path), allow_playback_repeats=False) as cassette:
            yield
        assert cassette.all_played
    finally:
        http.ALLOW_MODEL_REQUESTS = False


PLAYERS: dict[str, Callable[[Path], Any]] = {"stdlib": play_cassette, "vcrpy": vcrpy_player}


def example() -> Any:
    sys.path.insert(0, str(ROOT / "examples"))
    return importlib.import_module("streaming")  # examples/streaming.py


def replay(provider: str, player: str) -> tuple[list[dict[str, Any]], Any]:
    agent = example().weather_agent(provider)
    chunks: list[dict[str, Any]] = []
    with PLAYERS[player](ROOT / "fixtures" / provider / "stream.json"):
        result = asyncio.run(agent.run(example().QUESTION, max_iter=2, publish=chunks.append))
    return chunks, result


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_cassette_is_what_construct_writes(provider: str) -> None:
    on_disk = json.loads((ROOT / "fixtures" / provider / "stream.json").read_text(encoding="utf-8"))
    assert on_disk == construct(provider)


@pytest.mark.parametrize("player", PLAYERS)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_streamed_cassettes_replay_delta_by_delta(provider: str, player: str) -> None:
    chunks, result = replay(provider, player)
    deltas = [c["data"]["delta"] for c in chunks if c["event"] == "text.delta"]
    assert deltas == [piece for reply in REPLIES for piece in reply["text"]]  # one per streamed event
    args = "".join(c["data"]["delta"] for c in chunks if c["event"] == "tool_call.arguments.delta")
    assert json.loads(args) == {"city": "Paris"}
    first, _ = ADAPTERS[provider].parse_response(200, bodies.body(provider, REPLIES[0]))
    second, _ = ADAPTERS[provider].parse_response(200, bodies.body(provider, REPLIES[1]))
    assert result.output == first + second
    assert result.tool_calls[0]["content"] == {"data": {"city": "Paris", "temp_c": 18, "sky": "sunny"}}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_both_players_give_the_same_events(provider: str) -> None:
    def shape(chunks: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
        return [(c["event"], c["data"].get("delta"), c["data"].get("toolName")) for c in chunks]

    assert shape(replay(provider, "stdlib")[0]) == shape(replay(provider, "vcrpy")[0])
