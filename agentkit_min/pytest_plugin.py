"""pytest plugin: `@pytest.mark.agentkit_cassette` runs a test in a cassette of its own.

Default path `fixtures/cassettes/<module>/<test>.json` from the rootdir (or the marker's first
argument); its keywords, over the `agentkit_cassette_config` fixture's, go to `use_cassette`.
`--record-mode`: vcrpy's modes and pytest-recording's `rewrite`; the command line wins, then
the marker's `record_mode=`, then `none` if `CI` is set, else `once`. Loaded through the
`pytest11` entry point, or `pytest_plugins = ["agentkit_min.pytest_plugin"]` in the root
conftest.py of a vendored copy; importing agentkit_min never imports it (or pytest).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from .cassette_record import RECORD_MODES, Recorder, use_cassette

__all__ = ["pytest_addoption", "pytest_configure", "pytest_runtest_makereport", "agentkit_cassette_config",
           "agentkit_cassette"]

_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--record-mode`."""
    try:
        parser.getgroup("agentkit-min").addoption(
            "--record-mode", choices=[*RECORD_MODES, "rewrite"], default=None,
            help="cassette record mode for @pytest.mark.agentkit_cassette tests "
                 "(default: none when CI is set, else once)")
    except ValueError:  # pytest-recording is installed and owns the option: same names, same meanings
        pass


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker."""
    config.addinivalue_line("markers", "agentkit_cassette(path=None, **options): run the test in a "
                                       "cassette (fixtures/cassettes/<module>/<test>.json by default)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Remember a failed test: its unplayed interactions are then not reported on top."""
    report = yield
    if getattr(report, "when", "") == "call" and getattr(report, "failed", False):
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def agentkit_cassette_config() -> dict[str, Any]:
    """Keyword arguments for every test's `use_cassette`; override in a conftest.py."""
    return {}


@pytest.fixture
def agentkit_cassette(request: pytest.FixtureRequest,
                      agentkit_cassette_config: dict[str, Any]) -> Iterator[Recorder]:
    """The test's cassette, installed for the whole test."""
    marker = request.node.get_closest_marker("agentkit_cassette")
    args, options = (marker.args, {**agentkit_cassette_config, **marker.kwargs}) if marker \
        else ((), dict(agentkit_cassette_config))
    mode = (request.config.getoption("record_mode", None) or options.pop("record_mode", None)
            or ("none" if os.environ.get("CI") else "once"))
    options.pop("record_mode", None)
    allow_unplayed = options.pop("allow_unplayed", False)
    name = re.sub(r"[^\w.\[\]-]+", "_", ".".join(filter(None, [
        request.cls.__name__ if request.cls else "", request.node.name])))
    path = Path(request.config.rootpath, *(args[:1] or [f"fixtures/cassettes/{request.node.path.stem}/{name}.json"]))
    if mode == "rewrite":
        path.unlink(missing_ok=True)
    with use_cassette(path, "all" if mode == "rewrite" else mode, allow_unplayed=True, **options) as cassette:
        yield cassette
    if cassette.replay_only and not allow_unplayed and not request.node.stash.get(_FAILED, False):
        cassette.assert_all_played()


@pytest.fixture(autouse=True)
def _agentkit_cassette_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("agentkit_cassette") is not None:
        request.getfixturevalue("agentkit_cassette")
