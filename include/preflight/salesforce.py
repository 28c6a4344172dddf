"""Salesforce: does the org have every field, picklist value and permission the pipeline relies on?

What is required comes from the code, never from a list kept here: the fields the mirror selects
(``include/salesforce/mirror.py``), the fields the syncs write (``include/hightouch/syncs.yaml``:
``field_mapping``, ``external_id_field``, ``parent_references``), the types the marts' contracts promise and the
values their ``accepted_values`` tests allow (the dbt manifest, ``dbt_manifest.py``). A fork that adds a field or
changes a value is checked without touching this module.

What is read from Salesforce, with the documentation of each call:

- ``GET /services/data/vXX.X/sobjects/{Object}/describe`` (sObject Describe,
  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm):
  per field ``name``, ``type``, ``externalId``, ``unique``, ``createable``, ``updateable``, ``referenceTo``,
  ``relationshipName``, ``picklistValues`` (``value``, ``active``), as the DescribeSObjectResult's Field
  documents them (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm).
  Describe answers for the signed-in user: a field hidden from it by field-level security is missing, and
  ``createable``/``updateable`` say whether it may write the field. Types are those of "Field Types"
  (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm).
- ``SELECT ApiName, MasterLabel FROM LeadStatus WHERE IsConverted = true``: the statuses a converted lead may
  take (LeadStatus, https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_leadstatus.htm);
  ``convertLead()`` refuses any other (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm).
- ``GET /services/oauth2/userinfo`` for the signed-in user's Id (UserInfo endpoint,
  https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_using_userinfo_endpoint.htm; a password-grant
  connection falls back to ``SELECT Id FROM User WHERE Username = '<login>'``), then
  ``SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = '<id>' AND
  PermissionSet.PermissionsConvertLeads = true``: a user holds the permissions of every permission set assigned
  to it, its profile's own included (PermissionSet, https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_permissionset.htm;
  PermissionSetAssignment, https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_permissionsetassignment.htm).
  ``convertLead()`` requires "Convert Leads".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from include.hightouch.syncs import SyncCatalogue
from include.preflight.checks import Check, connection_failed, error_text, failed, passed, plural, skipped, warning
from include.preflight.dbt_manifest import MartPromises

SERVICE = "Salesforce"

#: Field types (describe ``type``) a value of each contract type can be written to ("Field Types", above).
TYPE_FAMILIES: dict[str, frozenset[str]] = {
    "text": frozenset(
        {
            *("string", "textarea", "picklist", "multipicklist", "combobox", "email", "url", "phone", "id"),
            *("reference", "encryptedstring"),
        }
    ),
    "number": frozenset({"double", "currency", "percent", "int", "long"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "boolean": frozenset({"boolean"}),
}
PICKLIST_TYPES = frozenset({"picklist", "multipicklist"})
#: What describe must allow for a sync's mode: an upsert creates and updates, an update only updates.
WRITE_FLAGS = {
    "upsert": (("createable", "creatable"), ("updateable", "updatable")),
    "update": (("updateable", "updatable"),),
    "insert": (("createable", "creatable"),),
}

#: The pipeline's own custom fields and the field type each must have, wherever the mirror reads it or a sync
#: writes it. ``Dwh_External_Id__c`` must also be an External ID and unique where a sync matches on it.
PIPELINE_FIELD_TYPES: dict[str, str] = {"Dwh_External_Id__c": "string", "Workspace_Id__c": "string"}
PIPELINE_FIELD_LABELS = {"string": "Text(255)"}


def mirrored_fields() -> dict[str, tuple[str, ...]]:
    """sObject -> the fields the mirror selects (the one place the preflight learns them)."""
    from include.salesforce.mirror import mirrored_fields as from_the_mirror

    return from_the_mirror()


def contract_family(data_type: str | None) -> str | None:
    """The family of a dbt contract type (``varchar``, ``number(12, 2)``, ``date``, ...); None if unknown."""
    if not data_type:
        return None
    base = data_type.strip().lower().split("(")[0].strip()
    if base in {"varchar", "char", "character", "string", "text", "nvarchar", "nchar"}:
        return "text"
    if base in {"number", "numeric", "decimal", "int", "integer", "bigint", "smallint", "tinyint", "byteint",
                "float", "float4", "float8", "double", "double precision", "real"}:  # fmt: skip
        return "number"
    if base == "date":
        return "date"
    if base.startswith("timestamp") or base == "datetime":
        return "datetime"
    if base == "boolean":
        return "boolean"
    return None


# --- what the pipeline needs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldWrite:
    """A sync writing a mart column to a field."""

    slug: str
    model: str
    column: str
    mode: str  # upsert | update | insert
    family: str | None  # from the column's contract type
    contract_type: str | None


@dataclass
class FieldNeed:
    """Why the pipeline needs one field: the mirror reads it, syncs write it."""

    object: str
    name: str
    mirrored: bool = False
    writes: list[FieldWrite] = field(default_factory=list)
    matched_by: list[str] = field(default_factory=list)  # slugs that find records by it (upsert key, lookup)

    def why(self) -> str:
        """``read by the mirror; written by a, b; matched on by c``."""
        writers = ", ".join(dict.fromkeys(w.slug for w in self.writes))
        matchers = ", ".join(dict.fromkeys(self.matched_by))
        parts = ["read by the mirror" if self.mirrored else "", writers and f"written by {writers}"]
        return "; ".join(p for p in [*parts, matchers and f"matched on by {matchers}"] if p)


@dataclass(frozen=True)
class ReferenceNeed:
    """A sync setting a lookup by the parent's external id: ``{relationship: {parent_field: value}}``."""

    object: str
    relationship: str
    parent_object: str
    parent_field: str
    slug: str
    mode: str


@dataclass(frozen=True)
class PicklistWrite:
    slug: str
    model: str
    column: str
    values: tuple[str, ...] | None  # the column's accepted_values; None when it has no such test


@dataclass
class Requirements:
    """Everything the pipeline needs from the org, per object, in a stable order."""

    fields: dict[tuple[str, str], FieldNeed] = field(default_factory=dict)
    references: list[ReferenceNeed] = field(default_factory=list)
    external_ids: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (object, field) -> slugs
    text_writes: dict[tuple[str, str], list[PicklistWrite]] = field(default_factory=dict)

    @property
    def objects(self) -> list[str]:
        names = [o for o, _ in self.fields] + [r.object for r in self.references] + [o for o, _ in self.external_ids]
        return list(dict.fromkeys(names))

    def field_needs(self, obj: str) -> list[FieldNeed]:
        return [need for (o, _), need in self.fields.items() if o == obj]

    def need(self, obj: str, name: str) -> FieldNeed:
        return self.fields.setdefault((obj, name), FieldNeed(obj, name))


def requirements(mirror: Mapping[str, Sequence[str]], catalogue: SyncCatalogue, promises: MartPromises) -> Requirements:
    """What the org must have for the mirror to read and every sync of ``catalogue`` to write."""
    reqs = Requirements()
    for obj, names in mirror.items():
        for name in names:
            reqs.need(obj, name).mirrored = True
    for sync in catalogue.syncs:
        obj = sync.destination_object
        for column, name in sync.field_mapping.items():
            contract = promises.contract_type(sync.model, column)
            family = "id" if name == "Id" else contract_family(contract)
            reqs.need(obj, name).writes.append(FieldWrite(sync.slug, sync.model, column, sync.mode, family, contract))
            if name != "Id" and family == "text":
                write = PicklistWrite(sync.slug, sync.model, column, promises.values(sync.model, column))
                reqs.text_writes.setdefault((obj, name), []).append(write)
        keys = [(obj, sync.external_id_field)] if sync.external_id_field else []
        for ref in sync.parent_references:
            reqs.references.append(
                ReferenceNeed(obj, ref.relationship, ref.object, ref.external_id_field, sync.slug, sync.mode)
            )
            keys.append((ref.object, ref.external_id_field))
        for key_object, key_field in keys:  # must exist, even where nothing reads or writes it
            reqs.need(key_object, key_field).matched_by.append(sync.slug)
            reqs.external_ids.setdefault((key_object, key_field), []).append(sync.slug)
    return reqs


# --- pure checks over describe results ----------------------------------------------------------------------------


def fields_by_name(describe: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Describe's fields by name, case-insensitively: field API names are case-insensitive in SOQL, and the mirror
    lands every field under the name it selected (include/salesforce/mirror.py, keyed_as_selected)."""
    return {str(f["name"]).lower(): f for f in describe.get("fields") or ()}


def _missing_fix(obj: str, name: str) -> str:
    if name.endswith("__c"):
        kind = PIPELINE_FIELD_LABELS.get(PIPELINE_FIELD_TYPES.get(name, ""), "")
        return (
            f"create the custom field {name}{f' ({kind})' if kind else ''} on {obj} (Setup > Object Manager > {obj} >"
            " Fields & Relationships) and give the integration user access to it (field-level security)"
        )
    return f"give the integration user access to {obj}.{name} (field-level security on its profile or permission set)"


def field_problems(need: FieldNeed, found: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(problem, fix) pairs for one field: missing, of the wrong type, or not writable by the integration user."""
    obj, name = need.object, need.name
    if found is None:
        return [(f"{name} is missing ({need.why()})", _missing_fix(obj, name))]
    problems: list[tuple[str, str]] = []
    sf_type = str(found.get("type"))
    expected = PIPELINE_FIELD_TYPES.get(name)
    if expected and sf_type != expected:
        label = PIPELINE_FIELD_LABELS.get(expected, expected)
        problems.append(
            (f"{name} is a {sf_type} field, the pipeline stores text in it", f"make {obj}.{name} a {label} field")
        )
    for write in need.writes:
        if write.family == "id":  # the record Id an update matches on: read, never written
            continue
        allowed = TYPE_FAMILIES.get(write.family or "")
        if allowed is not None and sf_type not in allowed and not expected:
            problems.append(
                (
                    f"{name} is a {sf_type} field, but {write.slug} writes {write.column} ({write.contract_type})",
                    f"map {write.column} to a field of a {write.family} type, or change the mart's contract",
                )
            )
        refused = [word for flag, word in WRITE_FLAGS[write.mode] if not found.get(flag)]
        if refused:
            problems.append(
                (
                    f"{name} is not {' or '.join(refused)} by the integration user ({write.slug} writes it)",
                    f"give the integration user Edit access to {obj}.{name} (field-level security)",
                )
            )
    return list(dict.fromkeys(problems))


def reference_problems(ref: ReferenceNeed, fields: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """A lookup set by external id needs a reference field with that relationship name, to the parent object."""
    for found in fields.values():
        if str(found.get("relationshipName") or "").lower() == ref.relationship.lower():
            if ref.parent_object not in (found.get("referenceTo") or ()):
                return [
                    (
                        f"relationship {ref.relationship} ({found['name']}) refers to {found.get('referenceTo')}, not"
                        f" {ref.parent_object} ({ref.slug})",
                        f"fix parent_references of {ref.slug} in include/hightouch/syncs.yaml",
                    )
                ]
            writable = found.get("createable") if ref.mode != "update" else found.get("updateable")
            if not writable:
                return [
                    (
                        f"{found['name']} (relationship {ref.relationship}) is not writable by the integration user",
                        f"give the integration user Edit access to {ref.object}.{found['name']}",
                    )
                ]
            return []
    return [
        (
            f"no lookup field with the relationship {ref.relationship} ({ref.slug} sets it by"
            f" {ref.parent_object}.{ref.parent_field})",
            f"fix parent_references of {ref.slug} in include/hightouch/syncs.yaml, or give the integration user"
            f" access to the {ref.relationship} lookup on {ref.object}",
        )
    ]


def check_object_fields(
    obj: str, describe: Mapping[str, Any], needs: Sequence[FieldNeed], refs: Sequence[ReferenceNeed]
) -> Check:
    """One line per object: every field it must have exists, with the right type, writable where written."""
    found = fields_by_name(describe)
    problems = [p for need in needs for p in field_problems(need, found.get(need.name.lower()))]
    problems += [p for ref in refs for p in reference_problems(ref, found)]
    name = f"{obj} fields"
    if problems:
        unique = list(dict.fromkeys(problems))
        return failed(
            SERVICE,
            name,
            "; ".join(p for p, _ in unique),
            "; ".join(dict.fromkeys(f for _, f in unique)),
        )
    relations = f" and {plural(len(refs), 'lookup')} by external id" if refs else ""
    return passed(SERVICE, name, f"{len(needs)} fields the mirror reads or the syncs write{relations}, as required")


def check_external_id(obj: str, name: str, describe: Mapping[str, Any], slugs: Sequence[str]) -> Check:
    """A field syncs match records on must be an External ID and unique (else upserts match several records)."""
    check = f"{obj}.{name} external id"
    found = fields_by_name(describe).get(name.lower())
    users = ", ".join(dict.fromkeys(slugs))
    if found is None:
        return skipped(SERVICE, check, f"not checked: the field is missing (see {obj} fields)")
    flags = (("externalId", "not an External ID"), ("unique", "not unique"))
    problems = [problem for flag, problem in flags if not found.get(flag)]
    if problems:
        return failed(
            SERVICE,
            check,
            f"{name} is {' and '.join(problems)}, and {users} match {obj} records by it",
            f"edit {obj}.{name} in Setup and tick both 'External ID' and 'Unique'",
        )
    return passed(SERVICE, check, f"External ID and unique ({users} match records by it)")


def check_picklist(obj: str, name: str, found: Mapping[str, Any], writes: Sequence[PicklistWrite]) -> Check:
    """Every value the marts send to a picklist exists in it and is active."""
    check = f"{obj}.{name} picklist"
    values = {str(v.get("value")): bool(v.get("active")) for v in found.get("picklistValues") or ()}
    problems: list[tuple[str, str]] = []
    sent: list[str] = []
    for write in writes:
        if write.values is None:
            problems.append(
                (
                    f"{write.slug} writes {write.column} to it, and the mart has no accepted_values test saying which"
                    " values",
                    f"add an accepted_values test on {write.column.lower()} of {write.model} in"
                    " dbt_project/models/marts/_marts.yml",
                )
            )
            continue
        for value in write.values:
            sent.append(value)
            where = f"Setup > Object Manager > {obj} > Fields & Relationships > {found.get('label') or name}"
            if value not in values:
                problems.append((f"'{value}' is missing ({write.slug} sends it)", f"add '{value}' to it ({where})"))
            elif not values[value]:
                problems.append((f"'{value}' is inactive ({write.slug} sends it)", f"activate '{value}' ({where})"))
    if problems:
        unique = list(dict.fromkeys(problems))
        return failed(SERVICE, check, "; ".join(p for p, _ in unique), "; ".join(dict.fromkeys(f for _, f in unique)))
    return passed(SERVICE, check, "active: " + ", ".join(f"'{v}'" for v in dict.fromkeys(sent)))


def picklist_checks(reqs: Requirements, describes: Mapping[str, Mapping[str, Any]]) -> list[Check]:
    """A check per picklist field a sync writes (whether a field is a picklist is the org's describe's answer)."""
    checks = []
    for (obj, name), writes in reqs.text_writes.items():
        if obj not in describes:
            continue
        found = fields_by_name(describes[obj]).get(name.lower())
        if found is not None and found.get("type") in PICKLIST_TYPES:
            checks.append(check_picklist(obj, str(found["name"]), found, writes))
    return checks


def check_converted_status(records: Sequence[Mapping[str, Any]]) -> Check:
    """Lead conversion needs a Lead Status marked Converted (LeadStatus.IsConverted)."""
    name = "converted lead status"
    if not records:
        return failed(
            SERVICE,
            name,
            "no Lead Status is marked Converted, so no lead can be converted",
            "in Setup > Object Manager > Lead > Fields & Relationships > Lead Status, mark a value 'Converted'",
        )
    labels = ", ".join(f"'{r.get('MasterLabel') or r.get('ApiName')}'" for r in records)
    return passed(SERVICE, name, f"{labels} (LeadStatus with IsConverted = true)")


def check_convert_permission(user: str, user_id: str | None, assignments: int | None, error: str | None) -> Check:
    """The integration user converts leads: some permission set assigned to it grants Convert Leads."""
    name = "Convert Leads permission"
    if error or user_id is None or assignments is None:
        return failed(
            SERVICE,
            name,
            f"could not read the permissions of {user}: {error or 'no user id'}",
            "let the integration user read PermissionSetAssignment (View Setup and Configuration) and its own User",
        )
    if assignments < 1:
        return failed(
            SERVICE,
            name,
            f"{user} ({user_id}) has no permission set or profile granting Convert Leads",
            f"assign {user} a permission set with 'Convert Leads' (Setup > Permission Sets > System Permissions),"
            " or give its profile that permission",
        )
    grants = f"{plural(assignments, 'permission set')} {'grants' if assignments == 1 else 'grant'} it"
    return passed(SERVICE, name, f"{user} ({user_id}) may convert leads ({grants})")


# convertLead() requires, beyond Convert Leads, Edit on leads and Create and Edit on the objects a conversion writes
# (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm, Permissions).
# The pipeline converts with doNotCreateOpportunity, so it needs none on Opportunity. Describe reports the session
# user's access to an object in its createable and updateable flags.
CONVERT_OBJECT_ACCESS: tuple[tuple[str, str], ...] = (
    ("Lead", "Edit"),
    ("Account", "Create"),
    ("Account", "Edit"),
    ("Contact", "Create"),
    ("Contact", "Edit"),
)
_DESCRIBE_FLAG = {"Create": "createable", "Edit": "updateable"}


def check_convert_object_access(describes: Mapping[str, Mapping[str, Any]]) -> Check:
    """The object permissions convertLead() requires of the integration user, from each object's describe."""
    name = "lead conversion object access"
    unread = sorted({obj for obj, _ in CONVERT_OBJECT_ACCESS if obj not in describes})
    if unread:
        return skipped(SERVICE, name, f"not checked: {', '.join(unread)} could not be described (see its fields)")
    lacking = [
        f"{access} on {obj}" for obj, access in CONVERT_OBJECT_ACCESS if not describes[obj].get(_DESCRIBE_FLAG[access])
    ]
    if lacking:
        return failed(
            SERVICE,
            name,
            f"the integration user lacks {', '.join(lacking)}, which convertLead() requires",
            "grant them in a permission set assigned to the integration user (Setup > Permission Sets > Object"
            " Settings)",
        )
    needed = ", ".join(f"{access} on {obj}" for obj, access in CONVERT_OBJECT_ACCESS)
    return passed(SERVICE, name, f"{needed}, as convertLead() requires")


# --- the calls ------------------------------------------------------------------------------------------------


def _soql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def signed_in_user(sf: Any, login: str | None) -> tuple[str, str | None]:
    """(username, user Id) of the session: UserInfo, else (password grant) the User with the login's username."""
    try:
        response = sf.session.get(f"https://{sf.sf_instance}/services/oauth2/userinfo", headers=sf.headers, timeout=30)
        if response.ok:
            info = response.json()
            return str(info.get("preferred_username") or login or "the integration user"), info.get("user_id")
    except Exception:  # noqa: BLE001, S110 - fall back to the username below
        pass
    if login:
        records = sf.query(f"SELECT Id FROM User WHERE Username = {_soql_literal(login)}")["records"]
        return login, (records[0]["Id"] if records else None)
    return "the integration user", None


@dataclass(frozen=True)
class SignInFlow:
    name: str
    soap_login: bool = False  # built on SOAP login(), which Salesforce is retiring


def sign_in_flow(login: str | None, password: str | None, extra: Mapping[str, Any]) -> SignInFlow | None:
    """The flow SalesforceHook signs in with for these connection values: simple-salesforce's own order of
    precedence (``simple_salesforce.api.Salesforce``, which the hook calls with the connection's login, password
    and extras). None when the values name no flow."""

    def given(*names: str) -> bool:
        return all(extra.get(name) or extra.get(f"extra__salesforce__{name}") for name in names)

    if login and password and given("security_token"):
        return SignInFlow("SOAP login() with username, password and security token", soap_login=True)
    if login and password and given("organization_id"):
        return SignInFlow("SOAP login() with username and password from a trusted IP range", soap_login=True)
    if login and password and given("consumer_key", "consumer_secret"):
        return SignInFlow("OAuth 2.0 username-password flow")
    if login and given("consumer_key") and (given("private_key") or given("private_key_file_path")):
        return SignInFlow("OAuth 2.0 JWT bearer flow")
    if given("consumer_key", "consumer_secret") and str(extra.get("domain") or "login") not in {"login", "test"}:
        return SignInFlow("OAuth 2.0 client credentials flow")
    return None


def check_sign_in_flow(flow: SignInFlow) -> Check:
    """Which flow the connection signs in with; a warning for one built on SOAP login(), which Salesforce retires
    in Summer '27 and which API version 65.0 and later no longer offers (SOAP API Developer Guide, login() and the
    SOAP API End-of-Life Policy: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_login.htm)."""
    if flow.soap_login:
        return warning(
            SERVICE,
            "sign-in flow",
            f"{flow.name}: Salesforce retires SOAP login() in Summer '27 (unavailable from API version 65.0)",
            "sign in with the OAuth 2.0 JWT bearer flow: a connected or external client app with a certificate, and"
            " the connection's login, consumer_key and private_key (README, Point it at real accounts)",
        )
    return passed(SERVICE, "sign-in flow", flow.name)


def salesforce_checks(conn_id: str | None = None) -> list[Check]:
    """Every Salesforce check, through the pipeline's ``salesforce_crm`` connection; errors become failed checks."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
    from airflow.sdk import BaseHook

    from include.connections import SALESFORCE
    from include.hightouch.syncs import default_syncs
    from include.preflight.dbt_manifest import load_mart_promises

    conn_id = conn_id or SALESFORCE
    try:
        promises = load_mart_promises()
    except FileNotFoundError as exc:
        return [failed(SERVICE, "dbt manifest", str(exc), "run `make setup` (the image builds it with `dbt parse`)")]
    reqs = requirements(mirrored_fields(), default_syncs(), promises)
    fix = (
        f"fix the {conn_id} connection (README, Point it at real accounts): the integration user's username, a"
        " connected app's consumer key and the private key of the certificate it holds (OAuth 2.0 JWT bearer flow)"
    )
    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - a missing connection is this check's finding
        return connection_failed(SERVICE, f"no connection {conn_id!r}: {error_text(exc)}", fix)
    flow = sign_in_flow(connection.login, connection.password, connection.extra_dejson)
    if flow is None:
        detail = f"connection {conn_id!r} names no sign-in flow (no private key, security token or consumer secret)"
        return connection_failed(SERVICE, detail, fix)
    try:
        sf = SalesforceHook(salesforce_conn_id=conn_id).get_conn()
        user, user_id = signed_in_user(sf, connection.login)
    except Exception as exc:  # noqa: BLE001 - any failure to sign in is this check's finding
        return connection_failed(
            SERVICE, f"cannot sign in with connection {conn_id!r} ({flow.name}): {error_text(exc)}", fix
        )
    checks = [
        passed(SERVICE, "connection", f"signed in to {sf.sf_instance} as {user}"),
        check_sign_in_flow(flow),
    ]
    describes: dict[str, Mapping[str, Any]] = {}
    for obj in reqs.objects:
        try:
            describes[obj] = getattr(sf, obj).describe()
        except Exception as exc:  # noqa: BLE001 - an object the user cannot describe is this check's finding
            checks.append(
                failed(
                    SERVICE,
                    f"{obj} fields",
                    f"cannot describe {obj}: {error_text(exc)}",
                    f"give the integration user Read and Edit on {obj} (its profile or a permission set)",
                )
            )
            continue
        refs = [r for r in reqs.references if r.object == obj]
        checks.append(check_object_fields(obj, describes[obj], reqs.field_needs(obj), refs))
    for (obj, name), slugs in reqs.external_ids.items():
        if obj in describes:
            checks.append(check_external_id(obj, name, describes[obj], slugs))
    checks += picklist_checks(reqs, describes)
    try:
        statuses = sf.query("SELECT ApiName, MasterLabel FROM LeadStatus WHERE IsConverted = true")["records"]
        checks.append(check_converted_status(statuses))
    except Exception as exc:  # noqa: BLE001
        detail = f"cannot read LeadStatus: {error_text(exc)}"
        checks.append(failed(SERVICE, "converted lead status", detail, "let the integration user read LeadStatus"))
    count, error = None, None
    if user_id:
        try:
            count = int(
                sf.query(
                    "SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = "
                    f"{_soql_literal(user_id)} AND PermissionSet.PermissionsConvertLeads = true"
                )["totalSize"]
            )
        except Exception as exc:  # noqa: BLE001
            error = error_text(exc)
    checks.append(check_convert_permission(user, user_id, count, error))
    checks.append(check_convert_object_access(describes))
    return checks
