"""The package imports with the standard library alone and does nothing at import time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Counts only the package's own environment reads: a read is ours when, walking up the stack
# from it, an agentkit_min frame comes before any import machinery frame. A stdlib module's
# import-time read (Python 3.10's asyncio reads PYTHONASYNCIODEBUG) passes through
# importlib's frames first, so it is not counted; `os.getenv(...)` or
# `tempfile.gettempdir()` called by our module code is.
PROBE = r"""
import sys, json, os
before = set(sys.modules)
env_reads = []
PKG = os.path.join(os.getcwd(), "agentkit_min") + os.sep
def ours():
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(PKG):
            return True
        if name.startswith("<frozen importlib"):
            return False
        frame = frame.f_back
    return False
class Spy(dict):
    def _read(self, k):
        if ours(): env_reads.append(k)
    def __getitem__(self, k): self._read(k); return super().__getitem__(k)
    def get(self, k, d=None): self._read(k); return super().get(k, d)
    def __contains__(self, k): self._read(k); return super().__contains__(k)
    def copy(self): self._read("*"); return dict(self)
    def items(self): self._read("*"); return super().items()
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
                     for p in (ROOT / "agentkit_min").rglob("*.py") if p.name != "__init__.py"
                     and p.name not in ("pytest_plugin.py",   # loaded only by pytest, which it needs
                                        "otel.py"))  # loaded only when opentelemetry is importable
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('inngest', 'mcp', 'websockets', 'vcr', 'httpx', 'pydantic')]\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
