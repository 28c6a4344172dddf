"""The run page: shaped from a run's own record (pure), and what its HTML says."""

from __future__ import annotations

from include.activation.run_page import build_page, render
from include.activation.run_record import CONVERSION_STEP, GATE_STEP

AVERY, JORDAN = "avery.brooks@example.com", "jordan.reyes@example.com"


def change(kind: str, obj: str, key: str, label: str, owner: str | None, previous: str | None = None, why=None):
    return {"sync_slug": {"Account": "salesforce-accounts", "Contact": "salesforce-contacts"}.get(obj, "x"),
            "salesforce_object": obj, "record_key": key, "record_label": label, "change_kind": kind,
            "planned_owner_username": owner, "current_owner_username": previous, "owner_reason": why}  # fmt: skip


def sync(slug: str, status: str, added: int, failed: int = 0, error: str | None = None) -> dict:
    return {"step": slug, "status": status, "outcome": {
        "run_id": "7", "planned_rows": {"added": added + failed, "changed": 0, "removed": 0},
        "successful_rows": {"added": added, "changed": 0, "removed": 0},
        "failed_rows": {"added": failed, "changed": 0, "removed": 0}, "error": error,
        "links": {"Hightouch run": "https://app.hightouch.com/acme/syncs/1/runs/7"}}}  # fmt: skip


STEPS = [
    {
        "step": GATE_STEP,
        "status": "approved",
        "outcome": {
            "by": "Ada",
            "reasons": ["salesforce-accounts would change 3 of 4 Account records"],
            "changes": [
                change("create", "Account", "acct-1", "Acme", AVERY, why="roster"),
                change("create", "Contact", "cont-1", "Ann Early <ann@acme.io>", AVERY),
                change("owner_change", "Account", "acct-2", "Globex", JORDAN, previous=AVERY),
                change("update", "Account", "acct-3", "Initech", AVERY, previous=AVERY),
            ],
            "held_signups": [
                {
                    "email": "dot@gone.com",
                    "first_name": "Dot",
                    "last_name": "Gone",
                    "company_domain": "gone.com",
                    "held_back_reason": "account_deleted",
                }
            ],
        },
    },
    sync("salesforce-accounts", "success", 1),
    sync("salesforce-contacts", "warning", 0, failed=1, error="1 of 1 rows failed; first: cont-1: DUPLICATE_VALUE"),
    {
        "step": CONVERSION_STEP,
        "status": "failed",
        "outcome": {
            "planned": 2,
            "successful": 1,
            "already_converted": 0,
            "failed": 1,
            "leads": [
                {"lead_id": "00QA", "outcome": "converted"},
                {"lead_id": "00QB", "outcome": "failed", "status_code": "DUPLICATES_DETECTED", "message": "dupe"},
            ],
        },
    },
]


def test_each_manager_gets_what_the_run_planned_for_them() -> None:
    page = build_page("activate_salesforce", "run-1", STEPS)
    managers = {m.owner: m for m in page.managers}
    assert set(managers) == {AVERY, JORDAN}
    assert (managers[AVERY].created["Account"], managers[AVERY].created["Contact"]) == (1, 1)
    assert managers[AVERY].accounts == [("Acme", "account manager roster (region rotation)")]
    assert managers[AVERY].contacts == ["Ann Early <ann@acme.io>"]
    assert (managers[AVERY].moved_out, managers[JORDAN].moved_in) == (1, 1)
    assert page.managers[0].owner == AVERY, "the manager with the most new records first"


def test_what_did_not_reach_salesforce_is_said_with_its_reason() -> None:
    page = build_page("activate_salesforce", "run-1", STEPS)
    assert page.not_in_salesforce
    assert [lead["lead_id"] for lead in page.failed_leads] == ["00QB"]
    html = render(page, "../../dags/activate_salesforce/runs/run-1")
    assert "Sync salesforce-contacts: warning, 1 rows rejected. Hightouch: 1 of 1 rows failed" in html
    assert "<td>00QB</td><td>DUPLICATES_DETECTED: dupe</td>" in html
    assert "Dot Gone &lt;dot@gone.com&gt;" in html
    assert "sales deleted the company&#39;s account: a deletion by sales stands" in html
    assert '<span class="ok">Approved</span> by Ada.' in html
    assert 'id="back-to-run" href="../../dags/activate_salesforce/runs/run-1" target="_top"' in html


def test_a_run_without_a_record_says_so() -> None:
    html = render(build_page("ingest_salesforce", "run-2", []), "../../dags/ingest_salesforce/runs/run-2")
    assert 'id="no-record"' in html
    assert "By account manager" not in html


def test_a_clean_run_says_everything_reached_salesforce() -> None:
    gate = {"step": GATE_STEP, "status": "not needed", "outcome": {"changes": [], "held_signups": []}}
    page = build_page("activate_salesforce", "run-3", [gate, sync("salesforce-accounts", "success", 0)])
    html = render(page, "x")
    assert 'id="all-reached"' in html
    assert "Nothing new for anyone" in html


def test_every_routing_rule_has_words_on_the_run_page() -> None:
    """The run page says why an account got its owner: one phrase per value of the routing model's owner_source
    (its accepted_values), so a rule added to the model without words here fails."""
    from pathlib import Path

    import yaml

    from include.activation.run_page import OWNER_REASONS

    path = Path(__file__).resolve().parents[2] / "dbt_project/models/intermediate/_intermediate.yml"
    model = next(m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == "int_customers_routed_to_owners")
    column = next(c for c in model["columns"] if c["name"] == "owner_source")
    accepted = next(t["accepted_values"]["arguments"]["values"] for t in column["data_tests"] if "accepted_values" in t)
    assert set(OWNER_REASONS) == set(accepted)
