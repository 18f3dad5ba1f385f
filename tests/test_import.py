"""The package imports with the standard library alone and does nothing at import time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import sys, json, os
before = set(sys.modules)
env_reads = []
class Spy(dict):
    def __getitem__(self, k): env_reads.append(k); return super().__getitem__(k)
    def get(self, k, d=None): env_reads.append(k); return super().get(k, d)
os.environ = Spy(os.environ)
import agentkit_min, agentkit_min.testing
new = sorted(m for m in set(sys.modules) - before)
print(json.dumps({"new": new, "env": env_reads}))
"""


def _stdlib_names() -> set[str]:
    return set(sys.stdlib_module_names)


def test_import_with_python_S_prints_nothing_and_loads_only_stdlib() -> None:
    out = subprocess.run([sys.executable, "-S", "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stderr == ""
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, "importing agentkit_min must print nothing"
    data = json.loads(lines[0])
    third_party = [m for m in data["new"]
                   if m.split(".")[0] not in _stdlib_names() and m.split(".")[0] != "agentkit_min"]
    assert third_party == []
    assert data["env"] == [], f"import read environment variables: {data['env']}"


def test_every_module_imports_standalone_without_third_party() -> None:
    modules = sorted(p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
                     for p in (ROOT / "agentkit_min").rglob("*.py") if p.name != "__init__.py")
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('inngest', 'mcp', 'websockets', 'vcr', 'httpx', 'pydantic')]\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
