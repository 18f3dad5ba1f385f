"""The built sdist and wheel: LICENSE in both, the metadata a package page shows, no partial suite.

Builds offline with setuptools' own PEP 517 hooks (no isolated build environment, so nothing
is downloaded) from a copy of the checkout, so the working tree is not touched.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = "import sys; from setuptools import build_meta as b; getattr(b, sys.argv[1])(sys.argv[2])"


def _setuptools_supports_license_expressions() -> bool:
    try:
        found = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    return tuple(int(p) for p in found.split(".")[:2]) >= (77, 0)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _setuptools_supports_license_expressions():
        pytest.skip("needs setuptools>=77 (the dev extra) to build with `license = \"Apache-2.0\"`")
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv*", "*.egg-info", "__pycache__", ".git", "build", "dist", ".mypy_cache"))
    out = tmp / "dist"
    for hook in ("build_sdist", "build_wheel"):  # one process each: setuptools keeps state
        done = subprocess.run([sys.executable, "-c", BUILD, hook, str(out)], cwd=src,
                              capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_license_is_the_apache_2_text_in_the_repository() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) > 190


def test_wheel_has_license_and_metadata_and_only_the_package(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = email.message_from_bytes(zf.read("agentkit_min-0.1.0.dist-info/METADATA"))
        license_text = zf.read("agentkit_min-0.1.0.dist-info/licenses/LICENSE")
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert {n.split("/")[0] for n in names} == {"agentkit_min", "agentkit_min-0.1.0.dist-info"}
    assert "agentkit_min/py.typed" in names
    assert meta["License-Expression"] == "Apache-2.0"
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert "Programming Language :: Python :: 3.13" in classifiers
    assert "Typing :: Typed" in classifiers
    assert meta.get_all("Project-URL") and meta["Keywords"]
    assert meta["Requires-Python"] == ">=3.10"
    assert not [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]  # stdlib only


def test_sdist_has_license_and_no_partial_test_suite(dist: Path) -> None:
    sdist = next(dist.glob("*.tar.gz"))
    with tarfile.open(sdist) as tf:
        names = [n.split("/", 1)[1] for n in tf.getnames() if "/" in n]
    assert "LICENSE" in names and "README.md" in names and "pyproject.toml" in names
    assert "agentkit_min/__init__.py" in names
    # MANIFEST.in: the suite needs tests/, fixtures/, spec/ and examples/ together: none ships.
    assert not [n for n in names if n.split("/")[0] in ("tests", "fixtures", "spec", "examples")]
