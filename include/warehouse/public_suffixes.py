"""The Public Suffix List as a dbt seed, so company matching in dbt reduces domains to registrable domains.

``eng.bigco.com`` and ``bigco.com`` are one company: dbt matches on the *registrable domain* (the public suffix
plus one label), computed by the macro ``registrable_domain_ctes`` from the seed
``dbt_project/seeds/public_suffixes.csv``. The seed is generated here from the copy of the list that the
``publicsuffixlist`` package bundles (no network), rule for rule as that package reads it: ICANN and private
sections, punycode forms of internationalised rules added. Regenerate after upgrading the package (``make lock``
does): ``python -m include.warehouse.public_suffixes``; tests/unit/test_public_suffixes.py fails while they differ.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "public_suffixes.csv"
COLUMNS = ("suffix", "rule_type")


def bundled_list() -> str:
    """The Public Suffix List as shipped inside the publicsuffixlist package."""
    return resources.files("publicsuffixlist").joinpath("public_suffix_list.dat").read_text(encoding="utf-8")


def _rule(text: str) -> tuple[str, str]:
    if text.startswith("!"):
        return text[1:], "exception"
    if text.startswith("*."):
        return text[2:], "wildcard"
    return text, "normal"


def seed_rows(psl_lines: Iterable[str]) -> list[tuple[str, str]]:
    """(suffix, rule_type) per rule: `*.x` is (x, wildcard), `!y.x` is (y.x, exception), else (rule, normal)."""
    from publicsuffixlist import encode_idn

    rules: set[tuple[str, str]] = set()
    for line in psl_lines:
        text = line.lower().split(" ")[0].strip()
        if not text or text.startswith("//"):
            continue
        encoded = encode_idn(text.lstrip("!"))
        for form in (text, f"!{encoded}" if text.startswith("!") else encoded):
            rules.add(_rule(form))
    return sorted(rules)


def labels_needed(rows: Iterable[tuple[str, str]]) -> int:
    """How many trailing labels of a domain the registrable-domain macro must look at for these rules."""
    extra = {"normal": 1, "wildcard": 2, "exception": 0}
    return max(suffix.count(".") + 1 + extra[rule_type] for suffix, rule_type in rows)


def write_seed(path: Path = SEED) -> int:
    rows = seed_rows(bundled_list().splitlines())
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(f"{SEED}: {write_seed()} rules")
