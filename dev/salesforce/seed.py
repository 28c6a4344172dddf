"""The org the emulator starts with: profiles and permission sets, users (account managers by region),
a lead queue, accounts, contacts, leads.

Seed records are ordinary API payloads, with one convenience: a reference field may name its target by
any of the target's fields instead of by Id, e.g. ``"OwnerId": {"Alias": "amer1"}`` or
``"AccountId": {"Name": "Northwind Traders"}``; a polymorphic one adds the type when the named fields
exist on several of its objects, e.g. ``"WhoId": {"attributes": {"type": "Lead"}, "Email": "..."}``
(a lead's ``"OwnerId": {"Alias": "amer1"}`` can only be a User). The reference is resolved when the seed
is loaded, against records loaded before it (objects load in ``LOAD_ORDER``), and must match exactly
one record. Seed records may set read-only fields (a converted lead's ConvertedContactId, say).
"""

from __future__ import annotations

from typing import Any

from dev.salesforce.dml import Payload, Writer, parse_payload
from dev.salesforce.ids import make_id
from dev.salesforce.schema import SObjectType, sobject
from dev.salesforce.store import Store

Seed = dict[str, list[dict[str, Any]]]

LOAD_ORDER = (
    "Profile",
    "PermissionSet",
    "User",
    "PermissionSetAssignment",
    "Group",
    "QueueSobject",
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Task",
)
INTEGRATION_USERNAME = "integration@example.com"
# The profile Salesforce recommends for integration users (API access, no object permissions of its own);
# what the pipeline needs comes from the permission set below.
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
STANDARD_PROFILE = "Standard User"
INTEGRATION_PERMISSION_SET = "Pipeline_Integration"
LEAD_QUEUE = "Unassigned_Leads"

_INTEGRATION_USER = {
    "Username": INTEGRATION_USERNAME,
    "Email": INTEGRATION_USERNAME,
    "FirstName": "Integration",
    "LastName": "User",
    "Alias": "integ",
    "Title": "API integration user",
    "ProfileId": {"Name": INTEGRATION_PROFILE},
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
    """The least an org needs: the profiles, and the user API sessions run as (creator and default owner of
    records), whose permission set lets it convert leads."""
    return {
        "Profile": [
            {"Name": "System Administrator", "PermissionsConvertLeads": True},
            {"Name": STANDARD_PROFILE, "PermissionsConvertLeads": True},
            {"Name": INTEGRATION_PROFILE, "PermissionsConvertLeads": False},
        ],
        "PermissionSet": [
            {"Name": INTEGRATION_PERMISSION_SET, "Label": "Pipeline Integration", "PermissionsConvertLeads": True}
        ],
        "User": [dict(_INTEGRATION_USER)],
        "PermissionSetAssignment": [
            {"AssigneeId": {"Username": INTEGRATION_USERNAME}, "PermissionSetId": {"Name": INTEGRATION_PERMISSION_SET}}
        ],
    }


def default_seed(extra: Seed | None = None) -> Seed:
    """The demo org, plus ``extra`` records (by object name) appended after the built-in ones."""
    seed: Seed = integration_seed() | {
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
        # A lead queue, as orgs route web leads: a few seed leads wait in it for an owner.
        "Group": [{"Name": "Unassigned Leads", "DeveloperName": LEAD_QUEUE, "Type": "Queue"}],
        "QueueSobject": [{"QueueId": {"DeveloperName": LEAD_QUEUE}, "SobjectType": "Lead"}],
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
            _lead("Gavin", "Belson", "Hooli", "hooli.com", LEAD_QUEUE, "United States", "Web"),
            _lead("Monica", "Hall", "Raviga Capital", "raviga.com", "amer1", "United States", "Partner Referral"),
            _lead("Ines", "Weber", "Kessler Logistik", "kessler-logistik.de", LEAD_QUEUE, "Germany", "Web"),
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
    """A lead owned by the user with alias ``owner``, or by the queue of that DeveloperName."""
    queue = {"attributes": {"type": "Group"}, "DeveloperName": owner}
    return {
        "FirstName": first,
        "LastName": last,
        "Company": company,
        "Email": f"{first}.{last}@{domain}".lower(),
        "OwnerId": queue if owner == LEAD_QUEUE else {"Alias": owner},
        "Country": country,
        "LeadSource": source,
    }


def load_seed(store: Store, seed: Seed) -> None:
    """Create the seed's records in one transaction, in an empty store; the first User is the API user.

    Every profile gets the permission set it owns (IsOwnedByProfile), and a user without a ProfileId
    gets the Standard User profile, as the demo org's people are standard users.
    """
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
        _load(Writer(store, tx, integration_id, trusted=True), seed)


def _load(writer: Writer, seed: Seed) -> None:
    for object_name in LOAD_ORDER:
        object_type = sobject(object_name)
        assert object_type is not None
        for raw in seed.get(object_name, []):
            if object_name == "User":
                raw = {"ProfileId": {"Name": STANDARD_PROFILE}} | raw
            body = {key: _resolve(writer.store, object_type, key, value) for key, value in raw.items()}
            record = writer.create(parse_payload(object_type, body))
            if object_name == "Profile":
                _owned_permission_set(writer, record.id, record.fields)


def upgrade(store: Store) -> bool:
    """Give state written before the emulator modelled profiles their profiles and permission sets (the
    integration user's lets it convert leads); True if the store needed it. Other records stay as they are."""
    if store.is_empty() or store.records("Profile"):
        return False
    basics = integration_seed()
    user_type = sobject("User")
    assert user_type is not None
    with store.transaction() as tx:
        writer = Writer(store, tx, make_id(user_type.key_prefix, 1), trusted=True)
        _load(writer, {"Profile": basics["Profile"], "PermissionSet": basics["PermissionSet"]})
        profiles = {r.fields["Name"]: r.id for r in store.records("Profile")}
        for user in store.records("User"):
            name = INTEGRATION_PROFILE if user.fields.get("Username") == INTEGRATION_USERNAME else STANDARD_PROFILE
            writer.update(user_type, user.id, Payload(user_type, {"ProfileId": profiles[name]}))
        _load(writer, {"PermissionSetAssignment": basics["PermissionSetAssignment"]})
    return True


def _owned_permission_set(writer: Writer, profile_id: str, profile: dict[str, Any]) -> None:
    """The permission set a profile owns: it holds the profile's permissions (PermissionSet docs)."""
    permission_set = sobject("PermissionSet")
    assert permission_set is not None
    permissions = {k: v for k, v in profile.items() if k.startswith("Permissions")}
    writer.create(
        Payload(
            permission_set,
            {"Name": f"X{profile_id}", "Label": profile_id, "IsOwnedByProfile": True, "ProfileId": profile_id}
            | permissions,
        )
    )


def _resolve(store: Store, object_type: SObjectType, key: str, value: Any) -> Any:
    """A seed reference given as ``{field: value}`` (plus attributes.type if it must) -> the record Id.

    Without a type, every object the reference may point to that has the named fields is searched
    (a lead's owner by Alias is a User, by DeveloperName a Group); exactly one record must match.
    """
    field = object_type.field(key)
    if field is None or field.type != "reference" or not isinstance(value, dict):
        return value
    criteria = {k: v for k, v in value.items() if k != "attributes"}
    named = value.get("attributes", {}).get("type")
    targets = [named] if named else list(field.reference_to)
    matches = []
    for target_name in targets:
        target = sobject(target_name)
        if target is None or any(target.field(name) is None for name in criteria):
            continue
        matches += [
            r.id
            for r in store.records(target.name)
            if not r.deleted and all(r.fields.get(name) == wanted for name, wanted in criteria.items())
        ]
    if len(matches) != 1:
        raise ValueError(f"seed {object_type.name}.{key} = {value} matches {len(matches)} records, not 1")
    return matches[0]
