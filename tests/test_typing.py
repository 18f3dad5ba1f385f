"""`mypy --strict` catches wrong routers, hooks and histories (tests/typing/).

`tests/typing/mistakes.py` holds deliberate mistakes, each line marked `# E: <codes>`: mypy
must flag exactly the marked lines with exactly those codes. `tests/typing/correct.py` uses
the same options correctly and must type-check clean. Both are checked in one mypy run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = "tests/typing/mistakes.py"
CORRECT = "tests/typing/correct.py"
MARK = re.compile(r"  # E: ([a-z-]+(?:, [a-z-]+)*)$")
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def expected_errors() -> dict[int, set[str]]:
    marks: dict[int, set[str]] = {}
    for number, line in enumerate((ROOT / MISTAKES).read_text(encoding="utf-8").splitlines(), 1):
        m = MARK.search(line)
        if m:
            marks[number] = {c.strip() for c in m[1].split(",")}
    return marks


@pytest.fixture(scope="module")
def reported() -> dict[str, dict[int, set[str]]]:
    pytest.importorskip("mypy", reason="mypy (the dev extra) is not installed for this Python")
    # a cache of its own per Python: CI runs several suites and `make test`'s mypy at once
    cache = ROOT / ".mypy_cache" / f"test_typing-{sys.version_info[0]}.{sys.version_info[1]}"
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                           "--show-error-codes", "--hide-error-context", "--cache-dir", str(cache),
                           MISTAKES, CORRECT],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr or done.stdout  # 2 = mypy itself failed
    found: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for line in done.stdout.splitlines():
        m = ERROR.match(line)
        if m:
            found[m["file"]][int(m["line"])].add(m["code"])
    return found


def test_every_deliberate_mistake_is_a_type_error(reported: dict[str, dict[int, set[str]]]) -> None:
    marks = expected_errors()
    assert len(marks) >= 15
    got = {line: codes for line, codes in reported[MISTAKES].items()}
    missed = {line: codes for line, codes in marks.items() if got.get(line) != codes}
    assert missed == {}, f"expected errors not reported as marked (line: codes): {missed}; got {got}"
    assert set(got) == set(marks), f"errors on unmarked lines: {set(got) - set(marks)}"


def test_correct_usage_type_checks_clean(reported: dict[str, dict[int, set[str]]]) -> None:
    assert dict(reported[CORRECT]) == {}


def test_untyped_callers_still_get_usage_errors_at_run_time() -> None:
    from typing import Any

    from agentkit_min import UsageError, create_agent, create_network
    from agentkit_min.testing import ScriptedModel

    writer = create_agent(name="Writer", system="s", model=ScriptedModel(["hi"]))
    untyped: Any = "oops"
    with pytest.raises(UsageError, match="router must be a function or a routing agent"):
        create_network(agents=[writer], router=untyped)
    with pytest.raises(UsageError, match="lifecycle must be a dict of hooks"):
        create_agent(name="a", system="s", lifecycle=untyped)
    ts_spelling: Any = {"onStart": lambda args: None}
    with pytest.raises(UsageError, match="unknown lifecycle hook 'onStart'"):
        create_agent(name="a", system="s", lifecycle=ts_spelling)
    network = create_network(agents=[writer], router=lambda args: None, history=untyped)
    with pytest.raises(UsageError, match="history must be a HistoryConfig or an object with one of"):
        network.run_sync("hi")
    assert writer.model is not None and writer.model.requests == []  # type: ignore[attr-defined]
