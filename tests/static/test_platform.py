"""What a user's own machine needs: one supported Python, said the same way everywhere and refused clearly
otherwise, and documentation that speaks to that machine, not to the one the project was written on."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parents[2]
MAKEFILE = (REPO / "Makefile").read_text()
SUPPORTED = re.search(r"^SUPPORTED_PYTHON := (\d+)\.(\d+)$", MAKEFILE, re.MULTILINE)
assert SUPPORTED, "the Makefile names the one supported Python in SUPPORTED_PYTHON"
MAJOR, MINOR = int(SUPPORTED.group(1)), int(SUPPORTED.group(2))
PYTHON = f"{MAJOR}.{MINOR}"


def test_one_python_everywhere() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert re.search(r"--python-version (\d+\.\d+)", MAKEFILE).group(1) == PYTHON, "make lock resolves for another"
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    assert {f"{PYTHON}.0", f"{PYTHON}.20"} <= set(requires.filter([f"{PYTHON}.0", f"{PYTHON}.20"]))
    assert not list(requires.filter([f"{MAJOR}.{MINOR - 1}.12", f"{MAJOR}.{MINOR + 1}.0"])), "pyproject admits more"
    assert pyproject["tool"]["ruff"]["target-version"] == f"py{MAJOR}{MINOR}"
    assert f"-python-{PYTHON}" in (REPO / "Dockerfile").read_text(), "the deployment image runs another Python"
    assert f"You need Python {PYTHON}" in (REPO / "README.md").read_text()


@pytest.mark.parametrize(
    ("interpreter", "says"),
    [
        ("#!/bin/sh\necho 3.12\n", "is 3.12."),  # answers the version check as Python 3.12 would
        ("#!/bin/sh\necho 3.10\n", "is 3.10."),
        ("#!/bin/sh\nexit 127\n", "is not a working Python."),
    ],
)
def test_make_refuses_another_python_and_says_what_to_do(tmp_path: Path, interpreter: str, says: str) -> None:
    python = tmp_path / "python3"
    python.write_text(interpreter)
    python.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "--no-print-directory", f"PYTHON={python}", f"VENV={venv}", "setup"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"Python {PYTHON} is required" in result.stderr
    assert f"{python} {says}" in result.stderr
    assert f"make PYTHON=/path/to/python{PYTHON} setup" in result.stderr
    assert not venv.exists(), "nothing is installed with the wrong Python"


# --- documentation speaks to the user's machine -------------------------------------------------------------

# Phrases that only make sense to the people who wrote the project, on the machines they wrote it on.
AUTHORS_MACHINE = re.compile(
    r"\.\./shared|\bshared/|NOTES\.md|these machines|our machines?\b|this sandbox|other engineers|"
    r"the authors'? machines?",
    re.IGNORECASE,
)
SKIPPED = {".git", ".venv", ".local", "target", "dbt_packages", "logs", "node_modules", "__pycache__"}
TEXT = {".md", ".py", ".sql", ".yml", ".yaml", ".toml", ".txt", ".in", ".cfg", ".sh", ".json", ""}


def _files(suffixes: set[str]) -> list[Path]:
    found = []
    for directory, subdirectories, names in os.walk(REPO):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED]
        found += [Path(directory, name) for name in names if Path(name).suffix in suffixes]
    return found


def _mentions(text: str) -> list[str]:
    return [match.group(0) for match in AUTHORS_MACHINE.finditer(text)]


def test_readme_and_docs_do_not_mention_the_authors_machines() -> None:
    docs = _files({".md"})
    assert REPO / "README.md" in docs
    assert REPO / "docs" / "fork-this-template.md" in docs
    found = {str(path.relative_to(REPO)): _mentions(path.read_text()) for path in docs}
    assert {path: mentions for path, mentions in found.items() if mentions} == {}


def test_code_and_comments_do_not_mention_the_authors_machines() -> None:
    this = Path(__file__).resolve()
    files = [path for path in _files(TEXT) if path.resolve() != this and path.suffix != ".md"]
    found = {}
    for path in files:
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if mentions := _mentions(text):
            found[str(path.relative_to(REPO))] = mentions
    assert found == {}
