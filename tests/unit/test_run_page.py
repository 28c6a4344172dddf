"""The run page's data: signups followed into Salesforce and grouped by account manager; and its rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHECKOUT, NOT_IN_IMAGE

if not CHECKOUT:
    pytest.skip(NOT_IN_IMAGE, allow_module_level=True)

from dev.run_page import render, shape

SINCE = datetime(2026, 11, 26, 2, 20, tzinfo=UTC)  # the activation run started
BEFORE = "2026-11-20T09:00:00.000+0000"
DURING = "2026-11-26T02:21:30.000+0000"


def signup(workspace_id: str, email: str, company: str | None = "Acme", **extra: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "workspace_name": f"ws {workspace_id}",
        "email": email,
        "first_name": "Ann",
        "last_name": workspace_id,
        "company": company,
        "plan": "team",
        "seats": 5,
        "created_at": "2026-11-26T02:05:00Z",
        **extra,
    }


def record(record_id: str, owner: str, created: str = DURING, modified: str | None = None, **fields: Any):
    return {
        "Id": record_id,
        "OwnerId": owner,
        "CreatedDate": created,
        "LastModifiedDate": modified or created,
        **fields,
    }


def salesforce() -> dict[str, list[dict[str, Any]]]:
    """Acme: new account of Maya with two people (one was a lead), an opportunity and a task. Globex: an account
    sales had, owned by Li, stamped by this run, with a contact already there. Gmail: a personal address."""
    return {
        "User": [{"Id": "005A", "Name": "Maya Account-Manager"}, {"Id": "005B", "Name": "Li Seller"}],
        "Account": [
            record("001A", "005A", Name="Acme", Website="acme.com", Dwh_External_Id__c="acct-acme"),
            record("001G", "005B", BEFORE, DURING, Name="Globex", Website="globex.com", Dwh_External_Id__c="acct-sf-1"),
            record("001Z", "005B", BEFORE, Name="Unrelated Inc"),
        ],
        "Contact": [
            record("003A", "005A", Email="ann@acme.com", AccountId="001A"),
            record("003B", "005B", Email="Bob@Acme.com ", AccountId="001A"),  # the lead owner keeps the contact
            record("003G", "005B", BEFORE, Email="gil@globex.com", AccountId="001G"),
            record("003P", "005B", Email="pat@gmail.com", AccountId=None),
        ],
        "Opportunity": [
            record("006A", "005A", Name="Acme - team", AccountId="001A", StageName="Prospecting", Amount=1200.0),
            record("006Z", "005B", BEFORE, Name="Old deal", AccountId="001Z"),
        ],
        "Task": [
            record("00TA", "005A", Subject="Reach out to Ann", WhoId="003A", ActivityDate="2026-11-27"),
            record("00TZ", "005B", BEFORE, Subject="Unrelated", WhoId="003Z"),
        ],
        "Lead": [{"Id": "00QB", "IsConverted": True, "ConvertedContactId": "003B"}],
    }


@pytest.fixture
def view() -> shape.RunView:
    signups = shape.signups_from_rows(
        [
            signup("w1", "ann@acme.com"),
            signup("w2", " BOB@acme.com"),
            signup("w3", "ann@acme.com"),  # Ann's second workspace
            signup("w4", "gil@globex.com", "Globex"),
            signup("w5", "pat@gmail.com", None),
            signup("w6", "gone@deleted.com", "Deleted"),
        ]
    )
    return shape.build_run_view(signups, salesforce(), SINCE, {"acct-acme": "roster", "acct-sf-1": "account_owner"})


def test_one_signup_per_workspace_its_latest_event_with_a_normalised_email() -> None:
    rows = [
        signup("w1", " Ann@Acme.com ", created_at="2026-11-26T02:01:00Z", plan="free"),
        signup("w1", "ann@acme.com", created_at="2026-11-26T02:09:00Z", plan="team"),
        signup("", "nobody@acme.com"),
        signup("w0", "zed@acme.com", company="  "),
    ]
    signups = shape.signups_from_rows(rows)
    assert [(s.workspace_id, s.email, s.plan) for s in signups] == [
        ("w0", "zed@acme.com", "team"),
        ("w1", "ann@acme.com", "team"),
    ]
    assert signups[0].company is None


def test_companies_are_grouped_by_the_account_owner_busiest_first(view: shape.RunView) -> None:
    assert [(o.owner, o.signups) for o in view.owners] == [("Maya Account-Manager", 3), ("Li Seller", 2)]
    maya, li = view.owners
    assert [c.name for c in maya.companies] == ["Acme"]
    assert [c.name for c in li.companies] == ["Globex", "pat@gmail.com"]
    assert li.companies[1].account is None  # a personal address: a contact without an account


def test_each_record_counts_once_under_its_own_owner(view: shape.RunView) -> None:
    maya, li = view.owners
    assert maya.tallies["Contact"] == shape.Tally(total=1, new=1)  # Ann, twice signed up, one contact
    assert maya.tallies["Task"] == shape.Tally(total=1, new=1)
    assert maya.tallies["Opportunity"] == shape.Tally(total=1, new=1)
    # Bob's contact sits under Acme but belongs to Li, his lead's owner.
    assert li.tallies["Contact"] == shape.Tally(total=3, new=2)
    assert li.tallies["Account"] == shape.Tally(total=1, new=0, updated=1)
    assert view.tallies["Account"] == shape.Tally(total=2, new=1, updated=1)
    assert view.tallies["Contact"].total == 4


def test_records_of_other_signups_are_left_out(view: shape.RunView) -> None:
    ids = {c.record_id for o in view.owners for company in o.companies for c in company.changes()}
    assert not ids & {"001Z", "006Z", "00TZ"}


def test_new_updated_and_unchanged_follow_the_run_start(view: shape.RunView) -> None:
    acme = view.owners[0].companies[0]
    globex = view.owners[1].companies[0]
    assert acme.account is not None
    assert acme.account.status == "new"
    assert globex.account is not None
    assert globex.account.status == "updated"
    assert globex.people[0].contact is not None
    assert globex.people[0].contact.status == "unchanged"
    assert not view.nothing_new


def test_what_the_page_says_about_a_company(view: shape.RunView) -> None:
    acme = view.owners[0].companies[0]
    assert acme.reason == shape.OWNER_REASONS["roster"]
    assert [p.signup.workspace_id for p in acme.people] == ["w1", "w2", "w3"]
    assert [p.lead_converted for p in acme.people] == [False, True, False]
    assert [t.label for t in acme.tasks] == ["Reach out to Ann"]  # listed once for Ann's two workspaces
    assert acme.opportunities[0].detail == "Prospecting · $1,200"
    assert view.leads_converted == 1


def test_a_signup_without_a_contact_is_listed_as_not_in_salesforce(view: shape.RunView) -> None:
    assert [s.email for s in view.not_in_salesforce] == ["gone@deleted.com"]
    assert view.signups == 6


def test_a_rerun_that_changed_nothing_says_so() -> None:
    later = datetime(2026, 12, 1, tzinfo=UTC)
    rerun = shape.build_run_view(shape.signups_from_rows([signup("w1", "ann@acme.com")]), salesforce(), later)
    assert rerun.nothing_new
    assert all(t.new == 0 for t in rerun.tallies.values())


def test_the_run_start_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        shape.build_run_view([], salesforce(), datetime(2026, 11, 26, 2, 20))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-26T02:15:00.000+0000", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),
        ("2026-11-26T03:15:00.000+0100", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),
        (None, None),
    ],
)
def test_salesforce_datetimes(raw: str | None, expected: datetime | None) -> None:
    assert shape.parse_salesforce_time(raw) == expected


def test_a_malformed_datetime_is_named() -> None:
    with pytest.raises(ValueError, match="not a Salesforce datetime: 'yesterday'"):
        shape.parse_salesforce_time("yesterday")


def _context(run_id: str = "scheduled__2026-11-26T02:15:00+00:00") -> render.RunContext:
    return render.RunContext(
        activation_run_id=run_id,
        activation_run_url=f"http://localhost:8080/dags/activate_salesforce/runs/{run_id}",
        interval_start="2026-11-26T02:00:00+00:00",
        interval_end="2026-11-26T02:15:00+00:00",
        started_at=SINCE,
        generated_at=SINCE,
        dbt_docs_url="http://localhost:8080/plugin/dbt-docs",
    )


def test_the_page_shows_each_owner_and_links_back_to_the_run(view: shape.RunView, tmp_path: Path) -> None:
    path = render.write(view, _context(), tmp_path)
    html = path.read_text()
    assert path.parent == tmp_path
    for owner in view.owners:
        assert owner.owner in html
    assert _context().activation_run_url in html
    assert "http://localhost:8080/plugin/dbt-docs" in html
    assert "lead converted" in html
    assert "<th>Opportunities</th>" in html
    assert "team, 5 seats" in html
    assert "<script" not in html  # self-contained and static


def test_the_page_escapes_what_people_typed(tmp_path: Path) -> None:
    rows = [signup("w1", "ann@acme.com")]
    data = salesforce()
    data["Account"][0]["Name"] = "<script>alert(1)</script> Acme"
    html = render.render(shape.build_run_view(shape.signups_from_rows(rows), data, SINCE), _context())
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Acme" in html


def test_a_rerun_page_says_nothing_changed() -> None:
    later = datetime(2026, 12, 1, tzinfo=UTC)
    view = shape.build_run_view(shape.signups_from_rows([signup("w1", "ann@acme.com")]), salesforce(), later)
    assert "created and changed nothing in Salesforce" in render.render(view, _context())


def test_the_page_file_name_is_the_run_id_made_safe(tmp_path: Path) -> None:
    path = render.page_path(tmp_path, "scheduled__2026-11-26T02:15:00+00:00")
    assert path == tmp_path / "scheduled__2026-11-26T02_15_00_00_00.html"
    with pytest.raises(ValueError, match="cannot name a page"):
        render.page_path(tmp_path, "::")


def test_an_account_the_run_found_keeps_its_owner_and_the_page_says_why() -> None:
    rows = [signup("w1", "ann@acme.com"), signup("w4", "gil@globex.com", "Globex")]
    view = shape.build_run_view(shape.signups_from_rows(rows), salesforce(), SINCE)  # no routing rules known
    reasons = {c.name: c.reason for o in view.owners for c in o.companies}
    assert reasons == {"Acme": None, "Globex": shape.OWNER_REASONS["account_owner"]}


def test_personal_addresses_come_after_the_companies() -> None:
    rows = [signup("w5", "pat@gmail.com", None), signup("w7", "pat2@gmail.com", None), signup("w4", "gil@globex.com")]
    data = salesforce()
    data["Contact"].append(record("003Q", "005B", Email="pat2@gmail.com", AccountId=None))
    (li,) = shape.build_run_view(shape.signups_from_rows(rows), data, SINCE).owners
    assert [c.account is None for c in li.companies] == [False, True, True]
