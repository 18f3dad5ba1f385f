"""examples/testing/ runs: it replays its committed cassette offline, and records a new one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASSETTE = ROOT / "fixtures" / "cassettes" / "test_weather_agent" / "test_the_agent_checks_the_weather.json"


def pytest_in(where: Path, *args: str, ci: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_API_KEY", "PYTEST_ADDOPTS")}
    env.update({"CI": "true"} if ci else {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=where, env=env, capture_output=True, text=True, timeout=120)


def test_the_example_replays_its_committed_cassette_offline() -> None:
    before = CASSETTE.read_text()
    done = pytest_in(ROOT, "examples/testing")  # CI: record mode none, nothing may be sent
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout and CASSETTE.read_text() == before
    assert [i["request"]["uri"] for i in json.loads(before)["interactions"]] == [
        "https://api.openai.com/v1/chat/completions"] * 2


def test_the_example_records_against_its_loopback_provider_then_replays(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "testing", tmp_path / "testing")
    recorded = tmp_path / "testing" / CASSETTE.relative_to(ROOT)
    done = pytest_in(tmp_path / "testing", ".")  # CI and no cassette: refused, nothing recorded
    assert done.returncode == 1 and "no unplayed interaction matches POST" in done.stdout
    assert not recorded.exists()
    done = pytest_in(tmp_path / "testing", ".", ci=False)  # default once: records
    assert done.returncode == 0, done.stdout + done.stderr
    text = recorded.read_text()
    assert "sk-example-not-a-real-key" not in text and len(json.loads(text)["interactions"]) == 2
    done = pytest_in(tmp_path / "testing", ".", "--record-mode=none")
    assert done.returncode == 0, done.stdout + done.stderr
