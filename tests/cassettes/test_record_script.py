"""`make record` (scripts/record.py) with its exact recorder settings, against a loopback fake
provider that echoes the key in a response body and headers: the key never reaches a file."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from agentkit_min.cassette import play_cassette

from ..adapters import fakes
from ..adapters.loopback import Reply, fake_provider
from ..adapters.scenarios import ENV_VARS, MODELS, PROVIDERS, drive, scenarios

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-live-LOOKS-REAL-0123456789abcdef"


def record_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_script", ROOT / "scripts" / "record.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("provider", PROVIDERS)
def test_make_record_settings_scrub_an_echoed_key(tmp_path: Path, provider: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    script = record_script()
    monkeypatch.setenv(ENV_VARS[provider], KEY)
    echo = Reply(200, fakes.response(provider, {"text": f"Your key {KEY} works."}, 1, MODELS[provider]),
                 {"X-Echo-Key": KEY, "Set-Cookie": f"session={KEY}", "openai-organization": "org-secret"})
    manifest: dict[str, dict[str, str]] = {}
    with fake_provider(echo) as fake:
        script.record(provider, manifest, fixtures=tmp_path, base_url=f"{fake.url}/v1/")
        assert any(KEY in json.dumps(headers) for _, headers, _ in fake.requests)  # it was sent
    files = sorted((tmp_path / provider).glob("*.json"))
    assert {p.stem for p in files} >= {"text", "tool_call", "network", "error_401"}
    assert all(v["source"] == "recorded" for v in manifest.values())
    for path in files:
        text = path.read_text()
        assert KEY not in text and "LOOKS-REAL" not in text and "org-secret" not in text, path.name
        for interaction in json.loads(text)["interactions"]:
            sent = {k.lower() for k in interaction["request"]["headers"]}
            got = {k.lower() for k in interaction["response"]["headers"]}
            assert not sent & {"authorization", "x-api-key", "x-goog-api-key", "api-key"}, path.name
            assert not got & {"set-cookie", "openai-organization"} and "key=" not in interaction["request"]["uri"]
            assert "Your key <redacted> works." in interaction["response"]["body"]["string"]
    text_scenario = next(s for s in scenarios(provider) if s.name == "text")
    with play_cassette(tmp_path / provider / "text.json"):  # and the recording replays
        model = script.make_model(provider, "any-key", text_scenario.params, base_url=f"{fake.url}/v1/")
        replies = asyncio.run(drive(model, text_scenario))
    assert replies[0].output[0].get("content") == "Your key <redacted> works."
