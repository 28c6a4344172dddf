"""The company-domain rule's data and its SQL agree with the Public Suffix List as the publicsuffixlist package
reads it: the seed is that package's bundled list, and every expectation of the dbt unit tests of the rule is the
package's own answer for the same rules (so the SQL in macros/registrable_domain_ctes.sql implements the list's
algorithm, not a guess of it)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import CHECKOUT, NOT_IN_IMAGE

if not CHECKOUT:  # publicsuffixlist is a tooling package (requirements-dev.txt): `make lock` writes the seed with it
    pytest.skip(NOT_IN_IMAGE, allow_module_level=True)

from publicsuffixlist import PublicSuffixList

from include.warehouse.public_suffixes import SEED, bundled_list, labels_needed, seed_rows

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
UNIT_TESTS = DBT / "models" / "intermediate" / "_company_domain_unit_tests.yml"
PREFIX = {"normal": "", "wildcard": "*.", "exception": "!"}


def seed() -> list[tuple[str, str]]:
    with SEED.open(encoding="utf-8", newline="") as handle:
        return [(row["suffix"], row["rule_type"]) for row in csv.DictReader(handle)]


def test_the_seed_is_the_bundled_public_suffix_list() -> None:
    assert seed() == seed_rows(bundled_list().splitlines()), "run: python -m include.warehouse.public_suffixes"


def test_the_macro_looks_at_enough_labels_for_the_deepest_rule() -> None:
    macro = (DBT / "macros" / "registrable_domain_ctes.sql").read_text()
    max_labels = int(re.search(r"macro registrable_domain_ctes\(domains_cte, max_labels=(\d+)\)", macro).group(1))
    assert labels_needed(seed()) <= max_labels


def test_rule_kinds_are_parsed_like_the_list_defines_them() -> None:
    rows = seed_rows(["// comment", "", "com", "*.ck", "!www.ck", "公司.cn"])
    assert {("ck", "wildcard"), ("www.ck", "exception"), ("com", "normal")} <= set(rows)
    assert {("公司.cn", "normal"), ("xn--55qx5d.cn", "normal")} <= set(rows)  # and its punycode form


def unit_tests() -> dict[str, dict]:
    return {test["name"]: test for test in yaml.safe_load(UNIT_TESTS.read_text())["unit_tests"]}


def psl_from_fixture(test: dict) -> PublicSuffixList:
    (fixture,) = [given for given in test["given"] if given["input"] == "ref('public_suffixes')"]
    rules = [PREFIX[row["rule_type"]] + row["suffix"] for row in fixture["rows"]]
    return PublicSuffixList(source="\n".join(rules))


def company_domain(psl: PublicSuffixList, domain: str) -> str:
    return psl.privatesuffix(domain) or domain


@pytest.mark.parametrize("case", ["signups_match_companies_by_registrable_domain"])
def test_signup_expectations_are_the_librarys_answers(case: str) -> None:
    test = unit_tests()[case]
    psl = psl_from_fixture(test)
    for row in test["expect"]["rows"]:
        assert row["company_domain"] == company_domain(psl, row["email_domain"]), row


def test_account_expectations_are_the_librarys_answers() -> None:
    test = unit_tests()["account_websites_and_contacts_reduce_to_the_registrable_domain"]
    psl = psl_from_fixture(test)
    (accounts,) = [given for given in test["given"] if given["input"] == "ref('stg_salesforce__accounts')"]
    expected = {row["account_id"]: row["company_domain"] for row in test["expect"]["rows"]}
    checked = 0
    for account in accounts["rows"]:
        if account["website"]:
            url = account["website"] if "//" in account["website"] else f"//{account['website']}"
            host = urlsplit(url).hostname.removeprefix("www.")
            assert expected[account["account_id"]] == company_domain(psl, host), account
            checked += 1
    assert checked >= 3
