"""Round trips between our recorder, our player and vcrpy, on a two-agent network with tools.

The "provider" is the loopback fake of tests/adapters/loopback.py serving the constructed
replies of tests/adapters/fakes.py: the cassettes are recorded (by us or by vcrpy) against a
loopback fake provider, not from real provider traffic. `python -m tests.cassettes.test_roundtrip`
rewrites fixtures/vcrpy_yaml/ (vcrpy's default YAML serializer; one gzip-encoded body).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vcr

from agentkit_min import http
from agentkit_min.cassette import Cassette, play_cassette
from agentkit_min.cassette_record import use_cassette
from agentkit_min.errors import ModelResponseError
from agentkit_min.messages import text_message

from ..adapters import fakes
from ..adapters.loopback import Reply, fake_provider
from ..adapters.scenarios import MODELS, PROVIDERS, network_replies, run_network
from .network import KEY, model, summary

ROOT = Path(__file__).resolve().parents[2]
VCRPY_YAML = ROOT / "fixtures" / "vcrpy_yaml"
MATCH = ["method", "scheme", "host", "port", "path", "query", "body"]


def replies(provider: str) -> list[Reply]:
    return [Reply(200, fakes.response(provider, r, n, MODELS[provider]))
            for n, r in enumerate(network_replies(provider), 1)]


EXPECTED_AGENTS = [("researcher", ["get_weather"]), ("researcher", []), ("writer", ["save_note"]), ("writer", [])]

REPLAY_UNDER_S = """
import json, sys
sys.path.insert(0, sys.argv[1])
from agentkit_min import http
http.ALLOW_MODEL_REQUESTS = False
from agentkit_min.testing import play_cassette
from tests.cassettes.network import model, summary
from tests.adapters.scenarios import run_network
with play_cassette(sys.argv[2]) as cassette:
    run = run_network(model(sys.argv[3], sys.argv[4]))
print(json.dumps({"summary": summary(run), "played": [i.played for i in cassette.interactions],
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("vcr", "yaml", "pytest"))}))
"""


@pytest.mark.parametrize("provider", PROVIDERS)
def test_we_record_and_replay_under_python_S_and_vcrpy_replays_it(tmp_path: Path, provider: str) -> None:
    path = tmp_path / f"{provider}.json"
    with fake_provider(*replies(provider)) as fake:
        base = f"{fake.url}/v1/"
        with use_cassette(path, "once"):
            recorded = summary(run_network(model(provider, base)))
        assert len(fake.requests) == 4
    assert recorded[0] == EXPECTED_AGENTS
    assert KEY not in path.read_text()
    # 1. our player, in a fresh `python -S` (no site-packages: no vcrpy, no yaml, no pytest)
    done = subprocess.run([sys.executable, "-S", "-c", REPLAY_UNDER_S, str(ROOT), str(path), provider, base],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    offline = json.loads(done.stdout)
    assert offline == {"summary": json.loads(json.dumps(recorded)), "played": [1, 1, 1, 1], "modules": []}
    # 2. vcrpy, record_mode="none", the same file (the server is gone: vcrpy must answer everything)
    http.ALLOW_MODEL_REQUESTS = True
    try:
        with vcr.VCR(serializer="json", record_mode="none", match_on=MATCH).use_cassette(str(path)) as cassette:
            replayed = summary(run_network(model(provider, base)))
        assert cassette.all_played and cassette.play_count == 4
    finally:
        http.ALLOW_MODEL_REQUESTS = False
    assert replayed == recorded


def record_with_vcrpy(path: Path, provider: str, serializer: str) -> list[Any]:
    """vcrpy records the network run against the loopback fake provider."""
    with fake_provider(*replies(provider)) as fake:
        with vcr.VCR(serializer=serializer, record_mode="once", match_on=MATCH,
                     filter_headers=sorted(http.SECRET_HEADERS)).use_cassette(str(path)):
            return summary(run_network(model(provider, f"{fake.url}/v1/")))


def record_gzip_with_vcrpy(path: Path) -> None:
    """A gzip-encoded body, as vcrpy stores it for clients that ask for gzip: `!!binary`."""
    body = gzip.compress(json.dumps(fakes.response("openai", {"text": "Hello from gzip."}, 1, "gpt-4o-mini")).encode())
    with fake_provider(Reply(200, body, {"Content-Encoding": "gzip"})) as fake:
        with vcr.VCR(record_mode="once", filter_headers=sorted(http.SECRET_HEADERS)).use_cassette(str(path)):
            with pytest.raises(ModelResponseError):  # agentkit-min itself does not ask for gzip
                asyncio.run(model("openai", f"{fake.url}/v1/").infer([text_message("user", "Hi")], [], "auto"))


def base_url(path: Path) -> str:
    uri = Cassette.load(path).interactions[0].uri
    return uri[:uri.index("/v1/") + 4]


@pytest.mark.parametrize("serializer", ["json", "yaml"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_cassette_vcrpy_recorded_replays_with_the_stdlib_player(tmp_path: Path, provider: str,
                                                                   serializer: str) -> None:
    path = tmp_path / f"{provider}.{serializer}"
    recorded = record_with_vcrpy(path, provider, serializer)
    assert recorded[0] == EXPECTED_AGENTS
    with play_cassette(path) as cassette:
        assert summary(run_network(model(provider, base_url(path)))) == recorded
    assert cassette.is_yaml == (serializer == "yaml") and len(cassette.interactions) == 4


def test_a_gzip_body_vcrpy_recorded_is_decoded_on_replay(tmp_path: Path) -> None:
    path = tmp_path / "gzip.yaml"
    record_gzip_with_vcrpy(path)
    assert "!!binary" in path.read_text() and "gzip" in path.read_text()
    with play_cassette(path):
        reply = asyncio.run(model("openai", base_url(path)).infer([text_message("user", "Hi")], [], "auto"))
    assert reply.output[0].get("content") == "Hello from gzip."


COMMITTED = sorted(VCRPY_YAML.glob("*.yaml"))


def test_the_committed_vcrpy_yaml_cassettes_are_there() -> None:
    assert {p.stem for p in COMMITTED} == {f"{p}_network" for p in PROVIDERS} | {"openai_gzip"}


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_every_vcrpy_yaml_cassette_in_fixtures_replays_through_the_stdlib_reader(path: Path) -> None:
    provider = path.stem.split("_")[0]
    assert KEY not in path.read_text()
    with play_cassette(path) as cassette:
        if path.stem.endswith("gzip"):
            reply = asyncio.run(model("openai", base_url(path)).infer([text_message("user", "Hi")], [], "auto"))
            assert reply.output[0].get("content") == "Hello from gzip."
        else:
            assert summary(run_network(model(provider, base_url(path))))[0] == EXPECTED_AGENTS
    assert cassette.is_yaml and cassette.all_played


if __name__ == "__main__":  # rewrite fixtures/vcrpy_yaml/ (vcrpy against the loopback fake provider)
    VCRPY_YAML.mkdir(parents=True, exist_ok=True)
    for name in PROVIDERS:
        (VCRPY_YAML / f"{name}_network.yaml").unlink(missing_ok=True)
        record_with_vcrpy(VCRPY_YAML / f"{name}_network.yaml", name, "yaml")
    (VCRPY_YAML / "openai_gzip.yaml").unlink(missing_ok=True)
    record_gzip_with_vcrpy(VCRPY_YAML / "openai_gzip.yaml")
