"""The Python blocks of README.md's quick start and of fixtures/README.md run as written.

The quick start runs from a folder outside the checkout with the package on PYTHONPATH, as the
README tells (it is not installed from PyPI). fixtures/README.md's blocks run from the
repository root, as that file says; a block whose first line is `# fragment` would be skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY")


def blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if not b.startswith("# fragment")]


def run(code: str, cwd: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS and k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_readme_quick_start_runs_outside_the_checkout(tmp_path: Path) -> None:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    code = blocks_in(section)[0]
    assert "PYTHONPATH=/path/to/agentkit-min python3 quickstart.py" in section
    done = run(code, tmp_path, pythonpath=str(ROOT))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "{'looked_up': 'u1'}"


def blocks_in(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("index", range(len(blocks(ROOT / "fixtures" / "README.md"))))
def test_fixtures_readme_python_blocks_run_from_the_root(index: int) -> None:
    code = blocks(ROOT / "fixtures" / "README.md")[index]
    if "import vcr" in code and importlib.util.find_spec("vcr") is None:
        pytest.skip("vcrpy (dev extra) is not installed for this Python")
    done = run(code, ROOT)
    assert done.returncode == 0, done.stderr
    expected = re.findall(r"# (\[.*\]|\{.*\})$", code, re.M)  # the `# <printed value>` comments
    assert expected and done.stdout.splitlines()[-1] == expected[-1]
