"""What the run page shows, shaped from plain rows: pure functions, no warehouse or Salesforce calls.

One run of the pipeline handles the signups of one data interval. The page follows each signup to what
Salesforce has for it now: the person's contact (matched by email, as the marts match), the contact's account,
the account's opportunities and the outreach tasks on the contact. Companies are grouped by the account
manager who owns the account; each record counts under its own owner. A record created since the activation
run started is *new*; one only modified since then is *updated*; anything older was already there (a re-run
plans nothing new, and the page says so).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECTS = ("Account", "Contact", "Opportunity", "Task")
NO_OWNER = "(no owner)"

# The routing rule that chose an account's owner (the accounts mart's OWNER_SOURCE), in words.
OWNER_REASONS = {
    "account_owner": "owner of the existing account",
    "assigned_before": "kept the owner it already had",
    "lead_owner": "owner of the person's lead",
    "roster": "account manager roster (region rotation)",
    "default_owner": "default owner (no roster match)",
}


def parse_salesforce_time(value: str | None) -> datetime | None:
    """Salesforce datetimes (``2026-11-26T02:15:00.000+0000``) as aware UTC datetimes."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a Salesforce datetime: {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class Signup:
    workspace_id: str
    workspace_name: str
    email: str  # normalised: trimmed, lower-case
    first_name: str
    last_name: str
    company: str | None
    plan: str | None
    seats: int | None

    @property
    def person(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


def signups_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Signup]:
    """One signup per workspace from the interval's raw events (a workspace may have several: the last wins)."""
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        workspace_id = row.get("workspace_id")
        if not workspace_id:
            continue
        seen = latest.get(workspace_id)
        if seen is None or str(row.get("created_at") or "") >= str(seen.get("created_at") or ""):
            latest[workspace_id] = row
    signups = []
    for workspace_id, row in sorted(latest.items()):
        seats = row.get("seats")
        signups.append(
            Signup(
                workspace_id=str(workspace_id),
                workspace_name=str(row.get("workspace_name") or workspace_id),
                email=str(row.get("email") or "").strip().lower(),
                first_name=str(row.get("first_name") or "").strip(),
                last_name=str(row.get("last_name") or "").strip(),
                company=(str(row["company"]).strip() or None) if row.get("company") else None,
                plan=row.get("plan"),
                seats=int(seats) if seats not in (None, "") else None,
            )
        )
    return signups


@dataclass(frozen=True)
class Change:
    """What the run did to one Salesforce record."""

    object_name: str
    record_id: str
    label: str
    owner: str
    status: str  # "new" | "updated" | "unchanged"
    detail: str = ""


def _status(record: Mapping[str, Any], since: datetime) -> str:
    created = parse_salesforce_time(record.get("CreatedDate"))
    modified = parse_salesforce_time(record.get("LastModifiedDate"))
    if created is not None and created >= since:
        return "new"
    if modified is not None and modified >= since:
        return "updated"
    return "unchanged"


@dataclass
class Person:
    signup: Signup
    contact: Change | None
    lead_converted: bool = False


@dataclass
class Company:
    name: str
    website: str | None
    account: Change | None  # None: a personal email address, so no company account
    reason: str | None  # why this owner (routing rule), when the warehouse says
    people: list[Person] = field(default_factory=list)
    opportunities: list[Change] = field(default_factory=list)
    tasks: list[Change] = field(default_factory=list)

    def changes(self) -> list[Change]:
        contacts = [p.contact for p in self.people if p.contact is not None]
        return [c for c in [self.account, *contacts, *self.opportunities, *self.tasks] if c is not None]


@dataclass(frozen=True)
class Tally:
    total: int = 0
    new: int = 0
    updated: int = 0


@dataclass
class OwnerView:
    owner: str
    signups: int
    tallies: dict[str, Tally]
    companies: list[Company]


@dataclass
class RunView:
    signups: int
    tallies: dict[str, Tally]
    owners: list[OwnerView]
    not_in_salesforce: list[Signup]
    leads_converted: int

    @property
    def nothing_new(self) -> bool:
        return all(t.new == 0 and t.updated == 0 for t in self.tallies.values())


def _tally(changes: Iterable[Change]) -> dict[str, Tally]:
    counts: dict[str, Counter[str]] = {name: Counter() for name in OBJECTS}
    for change in changes:
        counts[change.object_name][change.status] += 1
    return {name: Tally(total=sum(c.values()), new=c["new"], updated=c["updated"]) for name, c in counts.items()}


def _money(amount: Any) -> str:
    if amount in (None, ""):
        return ""
    return f"${float(amount):,.0f}"


def build_run_view(
    signups: list[Signup],
    salesforce: Mapping[str, list[Mapping[str, Any]]],
    since: datetime,
    owner_sources: Mapping[str, str] | None = None,
) -> RunView:
    """Follow each signup into Salesforce and group what it led to by account owner.

    ``salesforce`` holds the query results per object: ``User``, ``Account``, ``Contact``, ``Opportunity``,
    ``Task`` and ``Lead`` (converted leads). ``owner_sources`` maps an account's external id to the routing rule
    that chose its owner (the accounts mart). ``since`` is when the activation run started.
    """
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware (the run's start in UTC)")
    owner_sources = owner_sources or {}
    users = {u["Id"]: u.get("Name") or u["Id"] for u in salesforce.get("User", [])}

    def owner(record: Mapping[str, Any]) -> str:
        owner_id = record.get("OwnerId")
        return users.get(owner_id, owner_id) if owner_id else NO_OWNER

    accounts = {a["Id"]: a for a in salesforce.get("Account", [])}
    contacts_by_email: dict[str, Mapping[str, Any]] = {}
    # Oldest first, so a person's contact is the one they had first (ours, or the one sales typed in).
    for contact in sorted(salesforce.get("Contact", []), key=lambda c: (c.get("CreatedDate") or "", c["Id"])):
        email = (contact.get("Email") or "").strip().lower()
        if email:
            contacts_by_email.setdefault(email, contact)
    opportunities: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for opp in salesforce.get("Opportunity", []):
        if opp.get("AccountId"):
            opportunities[opp["AccountId"]].append(opp)
    tasks: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for task in salesforce.get("Task", []):
        if task.get("WhoId"):
            tasks[task["WhoId"]].append(task)
    converted = {lead.get("ConvertedContactId") for lead in salesforce.get("Lead", []) if lead.get("IsConverted")}

    companies: dict[str, Company] = {}
    company_owner: dict[str, str] = {}
    missing: list[Signup] = []
    for signup in signups:
        contact = contacts_by_email.get(signup.email)
        if contact is None:
            missing.append(signup)
            continue
        account = accounts.get(contact.get("AccountId") or "")
        key = account["Id"] if account else f"person:{signup.email}"
        company = companies.get(key)
        if company is None:
            if account:
                account_change = Change(
                    "Account",
                    account["Id"],
                    account.get("Name") or account["Id"],
                    owner(account),
                    _status(account, since),
                    account.get("Website") or "",
                )
                rule = owner_sources.get(account.get("Dwh_External_Id__c") or "")
                if rule is None and account_change.status != "new":
                    rule = "account_owner"  # an account the run found keeps its owner
                reason = OWNER_REASONS.get(rule or "")
                company = Company(account_change.label, account.get("Website"), account_change, reason)
                company.opportunities = [
                    Change(
                        "Opportunity",
                        o["Id"],
                        o.get("Name") or o["Id"],
                        owner(o),
                        _status(o, since),
                        " · ".join(x for x in (o.get("StageName") or "", _money(o.get("Amount"))) if x),
                    )
                    for o in sorted(opportunities.get(account["Id"], []), key=lambda o: o["Id"])
                ]
                company_owner[key] = account_change.owner
            else:
                company = Company(signup.company or signup.email, None, None, None)
                company_owner[key] = owner(contact)
            companies[key] = company
        known_contact = any(p.contact and p.contact.record_id == contact["Id"] for p in company.people)
        contact_change = Change(
            "Contact", contact["Id"], signup.person, owner(contact), _status(contact, since), signup.email
        )
        company.people.append(Person(signup, contact_change, contact["Id"] in converted))
        if known_contact:  # a second workspace of the same person: their tasks are listed already
            continue
        company.tasks += [
            Change(
                "Task",
                t["Id"],
                t.get("Subject") or t["Id"],
                owner(t),
                _status(t, since),
                f"due {t['ActivityDate']}" if t.get("ActivityDate") else "",
            )
            for t in sorted(tasks.get(contact["Id"], []), key=lambda t: t["Id"])
        ]

    by_owner: dict[str, list[Company]] = defaultdict(list)
    for key, company in companies.items():
        by_owner[company_owner[key]].append(company)
    changes = _dedupe(change for company in companies.values() for change in company.changes())
    changes_by_owner: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        changes_by_owner[change.owner].append(change)
    owners = []
    for name in set(by_owner) | set(changes_by_owner):
        # Companies first (most signups first), then people who signed up with a personal address.
        owned = sorted(by_owner.get(name, []), key=lambda c: (c.account is None, -len(c.people), c.name.lower()))
        owners.append(OwnerView(name, sum(len(c.people) for c in owned), _tally(changes_by_owner[name]), owned))
    owners.sort(key=lambda o: (-o.signups, o.owner.lower()))
    return RunView(
        signups=len(signups),
        tallies=_tally(changes),
        owners=owners,
        not_in_salesforce=missing,
        leads_converted=sum(1 for c in companies.values() for p in c.people if p.lead_converted),
    )


def _dedupe(changes: Iterable[Change]) -> list[Change]:
    """A record counts once (two signups of one person share a contact and its tasks)."""
    return list({(c.object_name, c.record_id): c for c in changes}.values())
