"""Salesforce preflight checks over describe payloads, no network.

Payloads are shaped as sObject Describe answers them (per field ``name``, ``type``, ``externalId``, ``unique``,
``createable``, ``updateable``, ``referenceTo``, ``relationshipName``, ``picklistValues``):
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
"""

from __future__ import annotations

from typing import Any

import pytest

from include.hightouch.syncs import SyncCatalogue, default_syncs
from include.preflight.checks import Status
from include.preflight.dbt_manifest import MartPromises, load_mart_promises
from include.preflight.salesforce import (
    FieldNeed,
    FieldWrite,
    ReferenceNeed,
    check_convert_object_access,
    check_convert_permission,
    check_converted_status,
    check_external_id,
    check_object_fields,
    check_picklist,
    check_sign_in_flow,
    contract_family,
    field_problems,
    mirrored_fields,
    picklist_checks,
    reference_problems,
    requirements,
    sign_in_flow,
)

CONTACTS = "salesforce-contacts"
CATALOGUE = SyncCatalogue.model_validate(
    {
        "syncs": [
            {
                "slug": "salesforce-accounts",
                "model": "ANALYTICS.MARTS.SYNC_ACCOUNTS",
                "primary_key": "ACCOUNT_EXTERNAL_ID",
                "destination_object": "Account",
                "mode": "upsert",
                "external_id_field": "Dwh_External_Id__c",
                "field_mapping": {"ACCOUNT_EXTERNAL_ID": "Dwh_External_Id__c", "ACCOUNT_TYPE": "Type"},
            },
            {
                "slug": CONTACTS,
                "model": "ANALYTICS.MARTS.SYNC_CONTACTS",
                "primary_key": "CONTACT_EXTERNAL_ID",
                "destination_object": "Contact",
                "mode": "upsert",
                "external_id_field": "Dwh_External_Id__c",
                "field_mapping": {
                    "CONTACT_EXTERNAL_ID": "Dwh_External_Id__c",
                    "WORKSPACE_ID": "Workspace_Id__c",
                    "LEAD_SOURCE": "LeadSource",
                    "SIGNED_UP_ON": "Birthdate",
                },
                "parent_references": [
                    {"column": "ACCOUNT_EXTERNAL_ID", "relationship": "Account", "object": "Account"}
                ],
            },
        ]
    }
)
PROMISES = MartPromises(
    contract_types={
        "MARTS.SYNC_ACCOUNTS": {"ACCOUNT_EXTERNAL_ID": "varchar", "ACCOUNT_TYPE": "varchar"},
        "MARTS.SYNC_CONTACTS": {
            "CONTACT_EXTERNAL_ID": "varchar",
            "WORKSPACE_ID": "varchar",
            "LEAD_SOURCE": "varchar",
            "SIGNED_UP_ON": "date",
        },
    },
    accepted_values={
        "MARTS.SYNC_ACCOUNTS": {"ACCOUNT_TYPE": ("Prospect",)},
        "MARTS.SYNC_CONTACTS": {"LEAD_SOURCE": ("Product Signup",)},
    },
)
MIRROR = {"Contact": ("Id", "IsDeleted", "Dwh_External_Id__c", "Workspace_Id__c", "Email")}


def field(name: str, type_: str = "string", **flags: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": name,
        "type": type_,
        "externalId": False,
        "unique": False,
        "createable": True,
        "updateable": True,
        "referenceTo": [],
        "relationshipName": None,
        "picklistValues": [],
        **flags,
    }


def picklist(name: str, *values: str, inactive: tuple[str, ...] = ()) -> dict[str, Any]:
    entries = [{"value": v, "label": v, "active": v not in inactive} for v in values]
    return field(name, "picklist", picklistValues=entries)


def contact_describe(**replace: dict[str, Any] | None) -> dict[str, Any]:
    fields = {
        "Id": field("Id", "id", createable=False, updateable=False),
        "IsDeleted": field("IsDeleted", "boolean", createable=False, updateable=False),
        "Dwh_External_Id__c": field("Dwh_External_Id__c", externalId=True, unique=True),
        "Workspace_Id__c": field("Workspace_Id__c"),
        "Email": field("Email", "email"),
        "LeadSource": picklist("LeadSource", "Web", "Product Signup"),
        "Birthdate": field("Birthdate", "date"),
        "AccountId": field("AccountId", "reference", referenceTo=["Account"], relationshipName="Account"),
    }
    for name, value in replace.items():
        if value is None:
            fields.pop(name)
        else:
            fields[name] = value
    return {"name": "Contact", "fields": list(fields.values())}


@pytest.fixture
def reqs():
    return requirements(MIRROR, CATALOGUE, PROMISES)


# --- what the pipeline needs -----------------------------------------------------------------------------------


def test_requirements_join_what_the_mirror_reads_and_the_syncs_write(reqs) -> None:
    need = reqs.fields[("Contact", "Workspace_Id__c")]
    assert need.mirrored
    assert [(w.slug, w.column, w.family) for w in need.writes] == [(CONTACTS, "WORKSPACE_ID", "text")]
    assert reqs.fields[("Contact", "Birthdate")].writes[0].family == "date"
    assert not reqs.fields[("Contact", "Birthdate")].mirrored
    assert reqs.objects == ["Contact", "Account"]


def test_a_parent_reference_requires_the_parents_external_id(reqs) -> None:
    assert reqs.external_ids[("Account", "Dwh_External_Id__c")] == ["salesforce-accounts", CONTACTS]
    assert reqs.references == [ReferenceNeed("Contact", "Account", "Account", "Dwh_External_Id__c", CONTACTS, "upsert")]


def test_an_external_id_nothing_reads_or_writes_must_still_exist() -> None:
    catalogue = SyncCatalogue.model_validate(
        {"syncs": [{**CATALOGUE.syncs[1].model_dump(), "parent_references": [
            {"column": "ACCOUNT_KEY", "relationship": "Account", "object": "Account", "external_id_field": "Erp_Key__c"}
        ]}]}
    )  # fmt: skip
    reqs = requirements({}, catalogue, PROMISES)
    need = reqs.fields[("Account", "Erp_Key__c")]
    assert (need.mirrored, need.writes, need.matched_by) == (False, [], [CONTACTS])
    check = check_object_fields("Account", {"fields": []}, reqs.field_needs("Account"), [])
    assert check.detail == f"Erp_Key__c is missing (matched on by {CONTACTS})"


def test_text_columns_carry_the_values_their_accepted_values_test_allows(reqs) -> None:
    writes = reqs.text_writes[("Contact", "LeadSource")]
    assert [(w.column, w.values) for w in writes] == [("LEAD_SOURCE", ("Product Signup",))]
    assert reqs.text_writes[("Contact", "Workspace_Id__c")][0].values is None  # no test: not a picklist value list
    assert ("Contact", "Birthdate") not in reqs.text_writes


@pytest.mark.parametrize(
    ("data_type", "family"),
    [("varchar", "text"), ("VARCHAR(255)", "text"), ("number(12, 2)", "number"), ("date", "date"),
     ("timestamp_tz", "datetime"), ("boolean", "boolean"), ("variant", None), (None, None)],
)  # fmt: skip
def test_contract_types_map_to_field_type_families(data_type, family) -> None:
    assert contract_family(data_type) == family


def test_the_repositorys_requirements_cover_the_mirror_and_every_sync() -> None:
    reqs = requirements(mirrored_fields(), default_syncs(), load_mart_promises())
    for sync in default_syncs().syncs:
        for name in sync.field_mapping.values():
            assert (sync.destination_object, name) in reqs.fields
    for obj, names in mirrored_fields().items():
        assert all(reqs.fields[(obj, name)].mirrored for name in names)
    assert reqs.text_writes[("Contact", "LeadSource")][0].values == ("Product Signup",)


# --- fields -------------------------------------------------------------------------------------------------------


def test_an_org_with_every_field_passes(reqs) -> None:
    check = check_object_fields("Contact", contact_describe(), reqs.field_needs("Contact"), reqs.references)
    assert check.status is Status.PASSED, check.line()
    assert "1 lookup" in check.detail


def test_a_missing_custom_field_fails_with_how_to_create_it(reqs) -> None:
    check = check_object_fields(
        "Contact", contact_describe(Workspace_Id__c=None), reqs.field_needs("Contact"), reqs.references
    )
    assert check.failed
    assert check.detail == f"Workspace_Id__c is missing (read by the mirror; written by {CONTACTS})"
    assert "create the custom field Workspace_Id__c (Text(255)) on Contact" in (check.fix or "")


def test_a_standard_field_hidden_from_the_user_names_field_level_security() -> None:
    need = FieldNeed("Contact", "Email", mirrored=True)
    [(problem, fix)] = field_problems(need, None)
    assert problem == "Email is missing (read by the mirror)"
    assert "field-level security" in fix


def test_a_pipeline_field_of_another_type_fails() -> None:
    need = FieldNeed("Contact", "Workspace_Id__c", mirrored=True)
    [(problem, fix)] = field_problems(need, field("Workspace_Id__c", "double"))
    assert "is a double field" in problem
    assert fix == "make Contact.Workspace_Id__c a Text(255) field"


def test_a_column_written_to_a_field_of_an_incompatible_type_fails() -> None:
    write = FieldWrite(CONTACTS, "M", "SIGNED_UP_ON", "upsert", "date", "date")
    need = FieldNeed("Contact", "Birthdate", writes=[write])
    [(problem, _)] = field_problems(need, field("Birthdate", "string"))
    assert problem == f"Birthdate is a string field, but {CONTACTS} writes SIGNED_UP_ON (date)"
    assert field_problems(need, field("Birthdate", "date")) == []


def test_text_goes_to_any_text_like_field_and_the_id_an_update_matches_on_is_not_written() -> None:
    text = FieldWrite(CONTACTS, "M", "C", "upsert", "text", "varchar")
    for sf_type in ("string", "picklist", "email", "url", "reference", "textarea", "phone"):
        assert field_problems(FieldNeed("Contact", "F", writes=[text]), field("F", sf_type)) == []
    match_key = FieldWrite("x", "M", "LEAD_ID", "update", "id", "varchar")
    assert field_problems(FieldNeed("Lead", "Id", writes=[match_key]), field("Id", "id", updateable=False)) == []


@pytest.mark.parametrize(
    ("mode", "flags", "refused"),
    [("upsert", {"createable": False}, "creatable"), ("upsert", {"updateable": False}, "updatable"),
     ("update", {"updateable": False}, "updatable")],
)  # fmt: skip
def test_a_field_the_user_may_not_write_fails(mode, flags, refused) -> None:
    need = FieldNeed("Contact", "Email", writes=[FieldWrite(CONTACTS, "M", "EMAIL", mode, "text", "varchar")])
    [(problem, fix)] = field_problems(need, field("Email", "email", **flags))
    assert problem == f"Email is not {refused} by the integration user ({CONTACTS} writes it)"
    assert "Edit access to Contact.Email" in fix


def test_an_update_needs_no_create_permission() -> None:
    need = FieldNeed("Lead", "Status", writes=[FieldWrite("x", "M", "S", "update", "text", "varchar")])
    assert field_problems(need, field("Status", "picklist", createable=False)) == []


def test_a_lookup_by_external_id_needs_its_relationship_to_the_parent() -> None:
    ref = ReferenceNeed("Task", "Who", "Contact", "Dwh_External_Id__c", "tasks", "upsert")
    who = field("WhoId", "reference", referenceTo=["Contact", "Lead"], relationshipName="Who")
    assert reference_problems(ref, {"whoid": who}) == []
    [(problem, _)] = reference_problems(ref, {})
    assert problem.startswith("no lookup field with the relationship Who")
    wrong = field("WhoId", "reference", referenceTo=["Lead"], relationshipName="Who")
    [(problem, _)] = reference_problems(ref, {"whoid": wrong})
    assert "not Contact" in problem


# --- external ids, picklists, conversion --------------------------------------------------------------------------


def test_an_external_id_must_be_unique() -> None:
    not_unique = contact_describe(Dwh_External_Id__c=field("Dwh_External_Id__c", externalId=True, unique=False))
    check = check_external_id("Contact", "Dwh_External_Id__c", not_unique, [CONTACTS])
    assert check.failed
    assert check.detail == f"Dwh_External_Id__c is not unique, and {CONTACTS} match Contact records by it"
    assert "'External ID' and 'Unique'" in (check.fix or "")
    assert check_external_id("Contact", "Dwh_External_Id__c", contact_describe(), [CONTACTS]).status is Status.PASSED


def test_an_external_id_that_is_missing_is_left_to_the_fields_check() -> None:
    check = check_external_id("Contact", "Dwh_External_Id__c", contact_describe(Dwh_External_Id__c=None), [CONTACTS])
    assert check.status is Status.SKIPPED


def test_picklist_values_must_exist_and_be_active(reqs) -> None:
    writes = reqs.text_writes[("Contact", "LeadSource")]
    assert (
        check_picklist("Contact", "LeadSource", picklist("LeadSource", "Product Signup"), writes).status
        is Status.PASSED
    )

    missing = check_picklist("Contact", "LeadSource", picklist("LeadSource", "Web"), writes)
    assert missing.failed
    assert missing.detail == f"'Product Signup' is missing ({CONTACTS} sends it)"
    assert (
        missing.fix
        == "add 'Product Signup' to it (Setup > Object Manager > Contact > Fields & Relationships > LeadSource)"
    )

    inactive = check_picklist(
        "Contact", "LeadSource", picklist("LeadSource", "Product Signup", inactive=("Product Signup",)), writes
    )
    assert inactive.failed
    assert inactive.detail.startswith("'Product Signup' is inactive")


def test_a_picklist_written_without_an_accepted_values_test_cannot_be_checked(reqs) -> None:
    writes = reqs.text_writes[("Contact", "Workspace_Id__c")]
    check = check_picklist("Contact", "Workspace_Id__c", picklist("Workspace_Id__c", "a"), writes)
    assert check.failed
    assert "accepted_values test on workspace_id of ANALYTICS.MARTS.SYNC_CONTACTS" in (check.fix or "")


def test_only_fields_the_org_describes_as_picklists_are_checked(reqs) -> None:
    account = {"fields": [field("Dwh_External_Id__c", externalId=True, unique=True), picklist("Type", "Prospect")]}
    checks = picklist_checks(reqs, {"Contact": contact_describe(), "Account": account})
    assert [c.name for c in checks] == ["Account.Type picklist", "Contact.LeadSource picklist"]
    assert all(c.status is Status.PASSED for c in checks)


def test_a_converted_lead_status_must_exist() -> None:
    assert check_converted_status([]).failed
    check = check_converted_status([{"ApiName": "Closed - Converted", "MasterLabel": "Closed - Converted"}])
    assert check.status is Status.PASSED
    assert "'Closed - Converted'" in check.detail


def test_the_integration_user_must_be_allowed_to_convert_leads() -> None:
    denied = check_convert_permission("api@acme.io", "005x", 0, None)
    assert denied.failed
    assert "permission set with 'Convert Leads'" in (denied.fix or "")
    assert check_convert_permission("api@acme.io", "005x", 1, None).status is Status.PASSED
    assert check_convert_permission("api@acme.io", None, None, "no userinfo").failed


KEY = "<the PEM private key of the connected app's certificate>"  # only its presence picks the flow


@pytest.mark.parametrize(
    ("login", "password", "extra", "flow", "soap_login"),
    [
        ("api@acme.io", None, {"consumer_key": "3MVG9", "private_key": KEY}, "OAuth 2.0 JWT bearer flow", False),
        ("api@acme.io", None, {"consumer_key": "3MVG9", "private_key_file_path": "/k.pem"}, "JWT bearer", False),
        (None, None, {"consumer_key": "k", "consumer_secret": "s", "domain": "acme.my"}, "client credentials", False),
        ("api@acme.io", "pw", {"consumer_key": "k", "consumer_secret": "s"}, "username-password flow", False),
        ("api@acme.io", "pw", {"security_token": "t", "domain": "login"}, "security token", True),
        # A security token wins over a connected app's keys: simple-salesforce then calls SOAP login().
        ("api@acme.io", "pw", {"security_token": "t", "consumer_key": "k", "private_key": KEY}, "SOAP login()", True),
        ("api@acme.io", "pw", {"organization_id": "00D000000000001"}, "trusted IP range", True),
        ("api@acme.io", "pw", {"extra__salesforce__security_token": "t"}, "SOAP login()", True),
    ],
)
def test_the_sign_in_flow_is_the_one_simple_salesforce_picks(login, password, extra, flow, soap_login) -> None:
    found = sign_in_flow(login, password, extra)
    assert found is not None
    assert flow in found.name
    assert found.soap_login is soap_login


def test_client_credentials_need_a_my_domain_and_nothing_is_no_flow() -> None:
    """simple-salesforce sends client credentials only to a My Domain (not login or test); without any of the
    flows' values the hook cannot sign in."""
    assert sign_in_flow(None, None, {"consumer_key": "k", "consumer_secret": "s", "domain": "login"}) is None
    assert sign_in_flow("api@acme.io", None, {"domain": "login"}) is None


def test_a_connection_built_on_soap_login_is_a_warning_with_the_way_out() -> None:
    flow = sign_in_flow("api@acme.io", "pw", {"security_token": "t"})
    assert flow is not None
    check = check_sign_in_flow(flow)
    assert (check.status, check.failed) == (Status.WARNING, False), "a warning does not fail the preflight"
    assert "Summer '27" in check.detail
    assert "JWT bearer" in (check.fix or "")
    assert check.line().startswith("! Salesforce: sign-in flow: SOAP login()")
    jwt = sign_in_flow("api@acme.io", None, {"consumer_key": "k", "private_key": KEY})
    assert jwt is not None
    assert check_sign_in_flow(jwt).line() == "✓ Salesforce: sign-in flow: OAuth 2.0 JWT bearer flow"


def _describes(**flags: dict[str, bool]) -> dict[str, dict[str, bool]]:
    full = {"createable": True, "updateable": True}
    return {obj: {**full, **flags.get(obj, {})} for obj in ("Lead", "Account", "Contact")}


def test_lead_conversion_needs_the_documented_object_access() -> None:
    """convertLead() requires Edit on Lead and Create and Edit on Account and Contact besides Convert Leads: a user
    with Convert Leads alone passes the permission check and still fails every conversion."""
    assert check_convert_object_access(_describes()).status is Status.PASSED
    check = check_convert_object_access(_describes(Account={"createable": False}, Lead={"updateable": False}))
    assert check.failed
    assert check.detail == ("the integration user lacks Edit on Lead, Create on Account, which convertLead() requires")
    assert "permission set" in (check.fix or "")


def test_lead_conversion_access_is_not_judged_without_the_describes() -> None:
    check = check_convert_object_access({"Lead": {"createable": True, "updateable": True}})
    assert check.status is Status.SKIPPED
    assert "Account, Contact" in check.detail
