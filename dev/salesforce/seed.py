"""The org the emulator starts with: users (account managers by region), accounts, contacts, leads.

Seed records are ordinary API payloads, with one convenience: a reference field may name its target by
any of the target's fields instead of by Id, e.g. ``"OwnerId": {"Alias": "amer1"}`` or
``"AccountId": {"Name": "Northwind Traders"}``; a polymorphic one adds the type, e.g.
``"WhoId": {"attributes": {"type": "Lead"}, "Email": "..."}``. The reference is resolved when the seed
is loaded, against records loaded before it (objects load in ``LOAD_ORDER``), and must match exactly
one record. Seed records may set read-only fields (a converted lead's ConvertedContactId, say).
"""

from __future__ import annotations

from typing import Any

from dev.salesforce.dml import Writer, parse_payload
from dev.salesforce.ids import make_id
from dev.salesforce.schema import SObjectType, sobject
from dev.salesforce.store import Store

Seed = dict[str, list[dict[str, Any]]]

LOAD_ORDER = ("User", "Account", "Contact", "Lead", "Opportunity", "Task")
INTEGRATION_USERNAME = "integration@example.com"

_INTEGRATION_USER = {
    "Username": INTEGRATION_USERNAME,
    "Email": INTEGRATION_USERNAME,
    "FirstName": "Integration",
    "LastName": "User",
    "Alias": "integ",
    "Title": "API integration user",
}


def _manager(alias: str, first: str, last: str, region: str, *, active: bool = True) -> dict[str, Any]:
    username = f"{first}.{last}@example.com".lower()
    return {
        "Username": username,
        "Email": username,
        "FirstName": first,
        "LastName": last,
        "Alias": alias,
        "Title": "Account Manager",
        "Region__c": region,
        "IsActive": active,
    }


def integration_seed() -> Seed:
    """The least an org needs: the user API sessions run as (creator and default owner of records)."""
    return {"User": [dict(_INTEGRATION_USER)]}


def default_seed(extra: Seed | None = None) -> Seed:
    """The demo org, plus ``extra`` records (by object name) appended after the built-in ones."""
    seed: Seed = {
        "User": [
            dict(_INTEGRATION_USER),
            {
                "Username": "sales-ops-queue@example.com",
                "Email": "sales-ops@example.com",
                "LastName": "Sales Ops Queue",
                "Alias": "queue",
                "Title": "Default owner of unassigned records",
            },
            _manager("amer1", "Avery", "Brooks", "AMER"),
            _manager("amer2", "Jordan", "Reyes", "AMER"),
            _manager("emea1", "Sofia", "Lindqvist", "EMEA"),
            _manager("emea2", "Luca", "Moretti", "EMEA"),
            _manager("apac1", "Haruto", "Sato", "APAC"),
            _manager("apac2", "Priya", "Nair", "APAC"),
            _manager("amer0", "Morgan", "Hale", "AMER", active=False),
            _manager("emea0", "Elena", "Petrova", "EMEA", active=False),
        ],
        "Account": [
            _account("Northwind Traders", "Retail", "United States", "amer1", 240),
            _account("Initech", "Technology", "United States", "amer2", 1200),
            _account("Globex", "Manufacturing", "Germany", "emea1", 5400),
            _account("Vandelay Industries", "Manufacturing", "United Kingdom", "emea2", 80),
            _account("Umbrella Pharma", "Healthcare", "Japan", "apac1", 9000),
        ],
        "Contact": [
            _contact("Nancy", "Davolio", "northwindtraders.com", "Northwind Traders", "amer1", "United States"),
            _contact("Andrew", "Fuller", "northwindtraders.com", "Northwind Traders", "amer1", "United States"),
            _contact("Bill", "Lumbergh", "initech.com", "Initech", "amer2", "United States"),
            _contact("Hank", "Scorpio", "globex.de", "Globex", "emea1", "Germany"),
            _contact("Art", "Vandelay", "vandelay.co.uk", "Vandelay Industries", "emea2", "United Kingdom"),
            _contact("Ayumi", "Tanaka", "umbrella-pharma.jp", "Umbrella Pharma", "apac1", "Japan"),
        ],
        "Lead": [
            _lead("Gavin", "Belson", "Hooli", "hooli.com", "queue", "United States", "Web"),
            _lead("Monica", "Hall", "Raviga Capital", "raviga.com", "amer1", "United States", "Partner Referral"),
            _lead("Ines", "Weber", "Kessler Logistik", "kessler-logistik.de", "queue", "Germany", "Web"),
            _lead("Omar", "Haddad", "Dune Analytics", "dune-analytics.ae", "emea2", "United Arab Emirates", "Other"),
            _lead("Mei", "Lin", "Lotus Robotics", "lotusrobotics.sg", "apac2", "Singapore", "Phone Inquiry"),
            {
                **_lead(
                    "Nancy", "Davolio", "Northwind Traders", "northwindtraders.com", "amer1", "United States", "Web"
                ),
                "Status": "Closed - Converted",
                "IsConverted": True,
                "ConvertedDate": "2026-01-15",
                "ConvertedAccountId": {"Name": "Northwind Traders"},
                "ConvertedContactId": {"Email": "nancy.davolio@northwindtraders.com"},
            },
        ],
        "Opportunity": [
            {
                "Name": "Northwind Traders - Expansion",
                "StageName": "Proposal/Price Quote",
                "CloseDate": "2026-06-30",
                "Amount": 48000,
                "Type": "Existing Business",
                "AccountId": {"Name": "Northwind Traders"},
                "OwnerId": {"Alias": "amer1"},
            }
        ],
        "Task": [
            {
                "Subject": "Intro call",
                "Priority": "High",
                "ActivityDate": "2026-02-02",
                "WhoId": {"attributes": {"type": "Lead"}, "Email": "gavin.belson@hooli.com"},
                "OwnerId": {"Alias": "queue"},
            }
        ],
    }
    for object_name, records in (extra or {}).items():
        seed.setdefault(object_name, []).extend(records)
    return seed


def _account(name: str, industry: str, country: str, owner: str, employees: int) -> dict[str, Any]:
    # Website and Dwh_External_Id__c stay empty: these accounts were typed in by sales, not synced.
    return {
        "Name": name,
        "Industry": industry,
        "Type": "Customer - Direct",
        "BillingCountry": country,
        "NumberOfEmployees": employees,
        "OwnerId": {"Alias": owner},
    }


def _contact(first: str, last: str, domain: str, account: str, owner: str, country: str) -> dict[str, Any]:
    return {
        "FirstName": first,
        "LastName": last,
        "Email": f"{first}.{last}@{domain}".lower(),
        "AccountId": {"Name": account},
        "OwnerId": {"Alias": owner},
        "MailingCountry": country,
    }


def _lead(first: str, last: str, company: str, domain: str, owner: str, country: str, source: str) -> dict[str, Any]:
    return {
        "FirstName": first,
        "LastName": last,
        "Company": company,
        "Email": f"{first}.{last}@{domain}".lower(),
        "OwnerId": {"Alias": owner},
        "Country": country,
        "LeadSource": source,
    }


def load_seed(store: Store, seed: Seed) -> None:
    """Create the seed's records in one transaction, in an empty store; the first User is the API user."""
    if not store.is_empty():
        raise ValueError("a seed loads into an empty store only")
    unknown = set(seed) - set(LOAD_ORDER)
    if unknown:
        raise ValueError(f"seed has objects the emulator does not model: {sorted(unknown)}")
    users = seed.get("User", [])
    if not users or users[0].get("Username") != INTEGRATION_USERNAME:
        raise ValueError(f"the seed's first User must be {INTEGRATION_USERNAME}")
    user_type = sobject("User")
    assert user_type is not None
    # The integration user is the org's first record, so it gets the first User Id and creates itself.
    integration_id = make_id(user_type.key_prefix, 1)
    with store.transaction() as tx:
        writer = Writer(store, tx, integration_id, trusted=True)
        for object_name in LOAD_ORDER:
            object_type = sobject(object_name)
            assert object_type is not None
            for raw in seed.get(object_name, []):
                body = {key: _resolve(store, object_type, key, value) for key, value in raw.items()}
                writer.create(parse_payload(object_type, body))


def _resolve(store: Store, object_type: SObjectType, key: str, value: Any) -> Any:
    """A seed reference given as ``{field: value}`` (plus attributes.type if polymorphic) -> the record Id."""
    field = object_type.field(key)
    if field is None or field.type != "reference" or not isinstance(value, dict):
        return value
    criteria = {k: v for k, v in value.items() if k != "attributes"}
    target = value.get("attributes", {}).get("type") or field.reference_to[0]
    matches = [
        r.id
        for r in store.records(target)
        if not r.deleted and all(r.fields.get(name) == wanted for name, wanted in criteria.items())
    ]
    if len(matches) != 1:
        raise ValueError(f"seed {object_type.name}.{key} = {value} matches {len(matches)} {target} records, not 1")
    return matches[0]
