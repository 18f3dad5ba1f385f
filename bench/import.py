"""Benchmark: cold `import agentkit_min` against the standard-library floor, whole processes.

    .venv/bin/python bench/import.py [--rounds 40]

The floor is what any program that talks to a provider imports anyway:
`python -c "import urllib.request, json, asyncio, http.client, ssl"`. Ours is
`python -c "import agentkit_min"` from a fresh copy of the package, twice: with `.pyc` files
(compiled beforehand, as a normal install has) and without them (as an editable install run
under PYTHONDONTWRITEBYTECODE=1 has: every module compiled from source on each start). Each
round starts the three processes once, in a rotating order, so drift from other load on the
machine hits all alike; the medians and their ratios are printed (target: with .pyc <= 1.1x).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import urllib.request, json, asyncio, http.client, ssl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for kind in ("pyc", "src"):
            trees[kind] = Path(tmp, kind)
            shutil.copytree(ROOT / "agentkit_min", trees[kind] / "agentkit_min",
                            ignore=shutil.ignore_patterns("__pycache__"))
        compileall.compile_dir(str(trees["pyc"]), quiet=1)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        runs = {
            "floor": ([sys.executable, "-c", FLOOR], {**env, "PYTHONPATH": str(trees["pyc"])}),
            "pyc": ([sys.executable, "-c", "import agentkit_min"], {**env, "PYTHONPATH": str(trees["pyc"])}),
            "no pyc": ([sys.executable, "-c", "import agentkit_min"],
                       {**env, "PYTHONPATH": str(trees["src"]), "PYTHONDONTWRITEBYTECODE": "1"}),
        }
        where = subprocess.run([sys.executable, "-c", "import agentkit_min; print(agentkit_min.__file__)"],
                               env=runs["pyc"][1], cwd=tmp, capture_output=True, text=True, check=True).stdout
        assert where.startswith(str(trees["pyc"])), where  # the copy, not the editable install
        times: dict[str, list[float]] = {name: [] for name in runs}
        names = list(runs)
        for i in range(rounds + 2):
            for name in names[i % 3:] + names[:i % 3]:
                cmd, cmd_env = runs[name]
                start = time.perf_counter()
                subprocess.run(cmd, env=cmd_env, cwd=tmp, check=True)  # cwd: not the repo's package
                if i >= 2:  # two warm-up rounds: the OS file cache, not our code
                    times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"bench/import.py: {rounds} rounds of 3 whole processes, rotating order "
          f"(Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f})")
    print(f"  stdlib floor ({FLOOR}): {med['floor'] * 1e3:7.1f} ms median")
    for name in ("pyc", "no pyc"):
        print(f"  import agentkit_min, {name:<6}: {med[name] * 1e3:7.1f} ms median = "
              f"{med[name] / med['floor']:.2f}x the floor" + ("  (target <= 1.1x)" if name == "pyc" else ""))


if __name__ == "__main__":
    main()
