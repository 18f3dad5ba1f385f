"""The pytest plugin, driven with pytester: marker, cassette names, --record-mode, failure text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = '''
import json
from pathlib import Path

import pytest

{extra}

@pytest.fixture
def agentkit_cassette_config():
    """The "provider": an in-process sender that logs what reached it."""
    def send(method, url, headers, body, timeout, stream=False):
        question = json.loads(body)["q"]
        with open(Path(__file__).parent / "sent.log", "a") as log:
            log.write(question + "\\n")
        return 200, {{"content-type": "application/json"}}, json.dumps({{"answer": question}}).encode()
    return {{"send": send}}
'''

TESTS = '''
import pytest

from agentkit_min import http


def ask(question):
    return http.post_json("p", "http://127.0.0.1:9/v1/ask", {"authorization": "Bearer sk-inner-secret-0123"},
                          {"q": question}, retry=http.RetryPolicy(max_retries=0)).body


@pytest.mark.agentkit_cassette
def test_one():
    assert ask("QUESTION")["answer"] == "QUESTION"


@pytest.mark.agentkit_cassette("custom/place.json")
def test_custom_path(agentkit_cassette):
    assert ask("custom")["answer"] == "custom"
    assert len(agentkit_cassette.requests) == 1


class TestGroup:
    @pytest.mark.agentkit_cassette
    @pytest.mark.parametrize("question", ["a/b"])
    def test_param(self, question):
        assert ask(question)["answer"] == question
'''

CASSETTES = ["fixtures/cassettes/test_inner/test_one.json", "custom/place.json",
             "fixtures/cassettes/test_inner/TestGroup.test_param[a_b].json"]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST.format(extra=""))
    pytester.makepyfile(test_inner=TESTS.replace("QUESTION", "one"))
    return pytester


def sent(pytester: pytest.Pytester) -> list[str]:
    log = pytester.path / "sent.log"
    return log.read_text().split() if log.exists() else []


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "agentkit_min.pytest_plugin", "-p", "no:cacheprovider", *args)


def test_record_mode_none_once_and_all(project: pytest.Pytester) -> None:
    result = run(project, "--record-mode=none")  # nothing recorded yet: every request refused
    result.assert_outcomes(failed=3)
    assert sent(project) == [] and not (project.path / "fixtures").exists()
    result.stdout.fnmatch_lines(["*UsageError: cassette *test_one.json: no unplayed interaction matches "
                                 "POST http://127.0.0.1:9/v1/ask (0 unplayed)*"])

    run(project, "--record-mode=once").assert_outcomes(passed=3)  # recorded, one file per test
    assert sorted(sent(project)) == ["a/b", "custom", "one"]
    for name in CASSETTES:
        text = (project.path / name).read_text()
        assert json.loads(text)["version"] == 1 and "sk-inner-secret" not in text, name

    run(project, "--record-mode=once").assert_outcomes(passed=3)  # replayed: nothing sent
    run(project, "--record-mode=none").assert_outcomes(passed=3)
    assert len(sent(project)) == 3
    run(project, "--record-mode=all").assert_outcomes(passed=3)  # re-recorded
    assert len(sent(project)) == 6
    assert len(json.loads((project.path / CASSETTES[0]).read_text())["interactions"]) == 1
    run(project, "--record-mode=rewrite").assert_outcomes(passed=3)
    assert len(sent(project)) == 9


def test_a_mismatch_fails_with_the_request_and_the_nearest_recorded_one(project: pytest.Pytester) -> None:
    run(project, "--record-mode=once").assert_outcomes(passed=3)
    project.makepyfile(test_inner=TESTS.replace("QUESTION", "changed"))
    result = run(project, "--record-mode=none")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*no unplayed interaction matches POST http://127.0.0.1:9/v1/ask (1 unplayed); the body "
        "differs from interaction #0 POST http://127.0.0.1:9/v1/ask:",
        '*  sent:     {"q": "changed"}',
        '*  recorded: {"q": "one"}',
    ])
    assert len(sent(project)) == 3  # nothing reached the provider


def test_unplayed_interactions_fail_the_test_at_teardown(project: pytest.Pytester) -> None:
    run(project, "--record-mode=once").assert_outcomes(passed=3)
    path = project.path / CASSETTES[0]
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "interactions": data["interactions"] * 2}))
    result = run(project, "--record-mode=none", "-k", "test_one")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 interaction(s) never played: #1 POST http://127.0.0.1:9/v1/ask*"])


def test_default_mode_is_none_under_ci_and_once_elsewhere(project: pytest.Pytester,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    run(project).assert_outcomes(failed=3)
    assert sent(project) == []
    monkeypatch.delenv("CI")
    run(project).assert_outcomes(passed=3)
    assert len(sent(project)) == 3
    project.makepyfile(test_marker_mode='''
import pytest
@pytest.mark.agentkit_cassette(record_mode="none")
def test_never_records():
    from agentkit_min import http
    http.post_json("p", "http://127.0.0.1:9/x", {}, {"q": "z"}, retry=http.RetryPolicy(max_retries=0))
''')
    run(project, "test_marker_mode.py").assert_outcomes(failed=1)  # the marker's mode, without the option
    run(project, "test_marker_mode.py", "--record-mode=once").assert_outcomes(passed=1)  # the option wins


def test_vendored_without_the_entry_point_and_without_vcrpy(pytester: pytest.Pytester,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST.format(extra='import sys\nsys.modules["vcr"] = None  # no vcrpy\n'
                                                'pytest_plugins = ["agentkit_min.pytest_plugin"]'))
    pytester.makepyfile(test_inner=TESTS.replace("QUESTION", "one"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once")
    result.assert_outcomes(passed=3)
    assert (pytester.path / CASSETTES[0]).exists()


def test_importing_agentkit_min_does_not_import_pytest() -> None:
    import subprocess

    code = "import sys, agentkit_min, agentkit_min.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "False"
