"""One code path: the product (dags/, include/, plugins/, dbt_project/) never knows whether it runs on the local
cloud or on real accounts. Only connections and settings differ; where a stand-in cannot run what production
sends, the stand-in is fixed (dev/README.md, "What runs where").

Comments and docstrings may say where something runs; code, SQL, Jinja and YAML values may not branch on it.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from include.hightouch.syncs import SYNCS_FILE, Sync

REPO = Path(__file__).resolve().parents[2]
PRODUCT_FOLDERS = ("dags", "include", "plugins", "dbt_project")
SUFFIXES = {".py", ".sql", ".yml", ".yaml"}
# The CLI's connection file: its `local` output is a connection (host, port), the one thing allowed to differ.
CONNECTION_FILES = {"dbt_project/profiles.yml"}

# What a branch on the environment looks like, by the name it branches on.
LOCAL_MARKERS = {
    "dbt target name": re.compile(r"\btarget\.name\b"),
    "local-warehouse switch": re.compile(r"\bis_local\w*", re.IGNORECASE),
    "temp relation switch": re.compile(r"\btmp_relation_type\b"),
    "local file stage": re.compile(r"file://"),
    "local cloud": re.compile(r"\blocal[_ ]?cloud\b", re.IGNORECASE),
    "stand-in package": re.compile(r"\bfakesnow\b", re.IGNORECASE),
    "emulator": re.compile(r"\bemulator\b", re.IGNORECASE),
    "dbt target setting": re.compile(r"\bDBT_TARGET\b"),
    "loopback host": re.compile(r"\blocalhost\b|127\.0\.0\.1"),
}


def _python_code(text: str) -> str:
    """The source without comments and docstrings (a string standing alone as a statement)."""
    kept: list[str] = []
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            continue
        if token.type == tokenize.STRING and previous in {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}:
            continue
        if token.type not in {tokenize.NL}:
            previous = token.type
        kept.append(token.string)
    return " ".join(kept)


def _sql_code(text: str) -> str:
    """SQL and Jinja without Jinja comments, SQL block comments and line comments."""
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.DOTALL)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", " ", text)


def _yaml_code(text: str) -> str:
    return re.sub(r"(^|\s)#[^\n]*", " ", text)


def code_of(path: Path) -> str:
    text = path.read_text()
    if path.suffix == ".py":
        return _python_code(text)
    if path.suffix == ".sql":
        return _sql_code(text)
    return _yaml_code(text)


def local_branches(path: Path) -> set[str]:
    """The markers of a local branch in a product file's code."""
    code = code_of(path)
    return {name for name, pattern in LOCAL_MARKERS.items() if pattern.search(code)}


def _matched_text(path: Path) -> set[str]:
    code = code_of(path)
    return {match.group(0) for pattern in LOCAL_MARKERS.values() for match in pattern.finditer(code)}


def product_files() -> list[Path]:
    files = []
    for folder in PRODUCT_FOLDERS:
        for path in sorted((REPO / folder).rglob("*")):
            relative = path.relative_to(REPO)
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            if {"target", "logs", "dbt_packages", "__pycache__"} & set(relative.parts):
                continue
            if str(relative) in CONNECTION_FILES:
                continue
            files.append(path)
    return files


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_product_code_does_not_branch_on_running_locally(path: Path) -> None:
    relative = str(path.relative_to(REPO))
    found = _matched_text(path)
    assert not found, (
        f"{relative} branches on where it runs ({', '.join(sorted(found))}): product code is the same locally and "
        "in production; make the stand-in run what production sends (dev/README.md, What runs where)"
    )


def sync_fields_in_use() -> set[str]:
    """The sync fields product code reads (outside their definition) or the file's header names among the settings of
    a real workspace."""
    readers = " ".join(code_of(path) for path in product_files() if path.suffix == ".py" and path.name != "syncs.py")
    read = {field for field in Sync.model_fields if re.search(rf"\.\s*{field}\b", readers)}
    header = SYNCS_FILE.read_text().split("\nsyncs:", 1)[0]
    configured = {field for field in Sync.model_fields if re.search(rf"\b{field}\b", header)}
    return read | configured


def test_every_field_of_a_sync_is_read_by_the_product() -> None:
    """syncs.yaml holds what configures a real workspace and what the DAG reads: no field only a stand-in reads
    (a sync's id is the workspace's own; the emulator numbers its syncs itself)."""
    unused = set(Sync.model_fields) - sync_fields_in_use()
    assert not unused, f"syncs.yaml fields neither the product reads nor a workspace is configured with: {unused}"
