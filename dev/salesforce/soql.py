"""The SOQL subset the pipeline needs, parsed and evaluated the way Salesforce does.

``SELECT field, Parent.field, ... | COUNT() FROM Object [WHERE ...] [ORDER BY ...] [LIMIT n]``. WHERE has
``= != <> < <= > >=``, ``[NOT] IN (...)``, ``LIKE``, ``AND``/``OR``/``NOT`` and parentheses; like
Salesforce, AND and OR cannot be mixed at one level without parentheses. Text compares without regard
to case; ``!=`` and ``NOT IN`` match nulls. Literals are typed: strings are quoted, and dates
(``2026-01-01``), datetimes (``2026-01-01T00:00:00Z``, ``+01:00``), numbers, booleans and null are not.
Errors carry Salesforce's codes and its ``ERROR at Row:r:Column:c`` message layout.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dev.salesforce import ids
from dev.salesforce.errors import ApiError
from dev.salesforce.schema import API_VERSION, NUMBER_TYPES, STRING_TYPES, Field, SObjectType, sobject
from dev.salesforce.store import Record
from dev.salesforce.values import format_datetime, parse_date, parse_datetime

Lookup = Callable[[str], Record | None]
Predicate = Callable[[Record, Lookup], bool]

_TOKENS = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<operator>!=|<>|<=|>=|=|<|>)
    |(?P<punctuation>[(),])
    """,
    re.VERBOSE,
)
_RESERVED = frozenset(
    [
        "SELECT",
        "FROM",
        "WHERE",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "GROUP",
        "HAVING",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "NULL",
        "TRUE",
        "FALSE",
        "ASC",
        "DESC",
        "NULLS",
    ]
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\", "%": "%", "_": "_"}
_COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TYPE_NAMES = {"datetime": "dateTime", "int": "int", "double": "double", "currency": "double", "boolean": "boolean"}


@dataclass(frozen=True)
class Token:
    kind: str  # a group name of _TOKENS, or "end"
    text: str
    position: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "name" and self.text.upper() in words


# The fields SOQL can read through a polymorphic relationship (a lead's Owner, a task's Who and What)
# without TYPEOF: those of the Name object, which stands for whichever record the Id names.
NAME_FIELDS = {
    f.name.lower(): f
    for f in (
        Field("Id", "id", "Record ID", 18),
        Field("Name", "string", "Name", 255),
        Field("Type", "string", "Type", 40),
        Field("Alias", "string", "Alias", 8),
        Field("Email", "email", "Email", 128),
        Field("FirstName", "string", "First Name", 40),
        Field("LastName", "string", "Last Name", 80),
        Field("IsActive", "boolean", "Active"),
        Field("Title", "string", "Title", 128),
        Field("Username", "string", "Username", 80),
        Field("ProfileId", "reference", "Profile ID", 18, reference_to=("Profile",)),
    )
}
_USER_ONLY_NAME_FIELDS = frozenset({"Alias", "IsActive", "Username", "ProfileId"})


def name_value(record: Record, field: Field) -> Any:
    """A Name-object field of whichever record a polymorphic reference names."""
    if field.name == "Type":  # the object's name, or a group's type ("Queue" for a queue owner)
        return record.fields.get("Type") if record.sobject == "Group" else record.sobject
    if field.name in _USER_ONLY_NAME_FIELDS and record.sobject != "User":
        return False if field.name == "IsActive" else None
    object_type = sobject(record.sobject)
    source = object_type.field(field.name) if object_type else None
    return record.fields.get(source.key) if source else None


@dataclass(frozen=True)
class FieldPath:
    """``Owner.Alias``: the reference fields walked (OwnerId), then the field read (Alias).

    The last hop may be polymorphic (``polymorphic`` true): the field is then one of the Name object's.
    """

    hops: tuple[Field, ...]
    field: Field
    polymorphic: bool = False

    def value(self, record: Record, lookup: Lookup) -> Any:
        current: Record | None = record
        for hop in self.hops:
            parent_id = current.fields.get(hop.key) if current else None
            current = lookup(parent_id) if parent_id else None
        if current is None:
            return None
        return name_value(current, self.field) if self.polymorphic else current.fields.get(self.field.key)


@dataclass(frozen=True)
class OrderBy:
    path: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    sobject: SObjectType
    paths: tuple[FieldPath, ...]  # empty for COUNT()
    count: bool
    where: Predicate | None
    order_by: tuple[OrderBy, ...]
    limit: int | None

    def run(self, records: list[Record], lookup: Lookup, *, include_deleted: bool) -> list[Record]:
        """The matching records, sorted and limited; without ORDER BY, in creation order."""
        matches = [
            r for r in records if (include_deleted or not r.deleted) and (self.where is None or self.where(r, lookup))
        ]
        for order in reversed(self.order_by):  # stable sorts, least significant key first
            null_rank = 0 if order.nulls_first != order.descending else 1

            def key(record: Record, order: OrderBy = order, null_rank: int = null_rank) -> tuple[int, Any]:
                value = _comparable(order.path.field, order.path.value(record, lookup))
                return (null_rank, None) if value is None else (1 - null_rank, value)

            matches.sort(key=key, reverse=order.descending)
        return matches if self.limit is None else matches[: self.limit]

    def render(self, record: Record, lookup: Lookup) -> dict[str, Any]:
        """A record as the query returns it: selected fields only, parents as nested objects."""
        row: dict[str, Any] = {"attributes": attributes(record)}
        for path in self.paths:
            target, current = row, record
            for hop in path.hops:
                parent_id = current.fields.get(hop.key)
                parent = lookup(parent_id) if parent_id else None
                if parent is None:
                    target[str(hop.relationship_name)] = None  # no parent: null, whatever is selected from it
                    break
                # A polymorphic parent comes back as the Name object, with the URL of the real record.
                parent_attributes = attributes(parent) | ({"type": "Name"} if hop.polymorphic else {})
                target = target.setdefault(str(hop.relationship_name), {"attributes": parent_attributes})
                current = parent
            else:
                if path.polymorphic:
                    target[path.field.name] = name_value(current, path.field)
                else:
                    target[path.field.name] = current.fields.get(path.field.key)
        return row


def attributes(record: Record) -> dict[str, str]:
    return {"type": record.sobject, "url": f"/services/data/v{API_VERSION}/sobjects/{record.sobject}/{record.id}"}


def _comparable(field: Field, value: Any) -> Any:
    """Text compares without regard to case; Ids after normalising 15-character ones."""
    if value is None or field.type not in STRING_TYPES:
        return value
    if field.type in {"id", "reference"}:
        return ids.normalize(value) or value
    return value.casefold()


def parse(text: str) -> Query:
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = self._tokenize(text)
        self._index = 0

    # --- tokens ------------------------------------------------------------------------------------

    def _tokenize(self, text: str) -> list[Token]:
        tokens = []
        position = 0
        while position < len(text):
            match = _TOKENS.match(text, position)
            if match is None:
                raise self._error("MALFORMED_QUERY", Token("unknown", text[position], position), "unexpected token")
            assert match.lastgroup is not None
            if match.lastgroup == "date" and text.startswith("T", match.end()):
                # Not a datetime SOQL accepts, e.g. the +0000 offset the API writes: SOQL wants +00:00 or Z.
                bad = Token("datetime", text[position:].split(maxsplit=1)[0], position)
                raise self._unexpected(bad)
            if match.lastgroup != "space":
                tokens.append(Token(match.lastgroup, match.group(), position))
            position = match.end()
        tokens.append(Token("end", "<EOF>", len(text)))
        return tokens

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _take(self) -> Token:
        token = self._tokens[self._index]
        self._index = min(self._index + 1, len(self._tokens) - 1)
        return token

    def _accept(self, *words: str) -> Token | None:
        if self._peek().is_word(*words) or (self._peek().kind == "punctuation" and self._peek().text in words):
            return self._take()
        return None

    def _expect(self, word: str) -> Token:
        token = self._accept(word)
        if token is None:
            raise self._unexpected(self._peek())
        return token

    def _name(self) -> Token:
        token = self._take()
        if token.kind != "name" or token.text.upper() in _RESERVED:
            raise self._unexpected(token)
        return token

    def _error(self, code: str, token: Token, detail: str) -> ApiError:
        row = self._text.count("\n", 0, token.position) + 1
        line_start = self._text.rfind("\n", 0, token.position) + 1
        column = token.position - line_start + 1
        line = self._text[line_start:].split("\n", 1)[0]
        return ApiError(400, code, f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}")

    def _unexpected(self, token: Token) -> ApiError:
        return self._error("MALFORMED_QUERY", token, f"unexpected token: '{token.text}'")

    # --- grammar -----------------------------------------------------------------------------------

    def query(self) -> Query:
        self._expect("SELECT")
        count = False
        selected: list[Token] = []
        if self._peek().is_word("COUNT") and self._tokens[self._index + 1].text == "(":
            self._take()
            self._expect("(")
            self._expect(")")
            count = True
        else:
            selected.append(self._name())
            while self._accept(","):
                selected.append(self._name())
        self._expect("FROM")
        object_token = self._take()  # an object may have a reserved word's name: FROM Group
        if object_token.kind != "name":
            raise self._unexpected(object_token)
        object_type = sobject(object_token.text)
        if object_type is None:
            raise self._error(
                "INVALID_TYPE",
                object_token,
                f"sObject type '{object_token.text}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        paths = tuple(self._path(object_type, token) for token in selected)
        where = self._condition(object_type) if self._accept("WHERE") else None
        order_by: list[OrderBy] = []
        if self._accept("ORDER"):
            self._expect("BY")
            order_by.append(self._order_by(object_type))
            while self._accept(","):
                order_by.append(self._order_by(object_type))
        limit = None
        if self._accept("LIMIT"):
            token = self._take()
            if token.kind != "number" or not token.text.isdigit():
                raise self._unexpected(token)
            limit = int(token.text)
        if self._peek().kind != "end":
            raise self._unexpected(self._peek())
        return Query(object_type, paths, count, where, tuple(order_by), limit)

    def _path(self, object_type: SObjectType, token: Token) -> FieldPath:
        *relationships, name = token.text.split(".")
        hops = []
        current: SObjectType | None = object_type
        for relationship in relationships:
            reference = current.relationship(relationship) if current else None
            if reference is None:
                raise self._error(
                    "INVALID_FIELD",
                    token,
                    f"Didn't understand relationship '{relationship}' in field path. If you are attempting to use "
                    "a custom relationship, be sure to append the '__r' after the custom relationship name. Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                )
            hops.append(reference)
            # A polymorphic parent (Owner of a lead, Who, What) is read as the Name object: no further hops.
            current = None if reference.polymorphic else sobject(reference.reference_to[0])
        polymorphic = bool(hops) and hops[-1].polymorphic
        field = NAME_FIELDS.get(name.lower()) if polymorphic else current.field(name) if current else None
        if field is None:
            entity = "Name" if polymorphic else current.name if current else ""
            raise self._error(
                "INVALID_FIELD",
                token,
                f"No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        return FieldPath(tuple(hops), field, polymorphic)

    def _order_by(self, object_type: SObjectType) -> OrderBy:
        path = self._path(object_type, self._name())
        direction = self._accept("ASC", "DESC")
        descending = direction is not None and direction.text.upper() == "DESC"
        nulls_first = not descending
        if self._accept("NULLS"):
            nulls_first = bool(self._accept("FIRST"))
            if not nulls_first:
                self._expect("LAST")
        return OrderBy(path, descending, nulls_first)

    def _condition(self, object_type: SObjectType) -> Predicate:
        parts = [self._unit(object_type)]
        joiner = None
        while (token := self._accept("AND", "OR")) is not None:
            if joiner is not None and token.text.upper() != joiner:
                raise self._unexpected(token)  # SOQL needs parentheses to mix AND and OR
            joiner = token.text.upper()
            parts.append(self._unit(object_type))
        if joiner is None:
            return parts[0]
        combine = all if joiner == "AND" else any
        return lambda record, lookup: combine(part(record, lookup) for part in parts)

    def _unit(self, object_type: SObjectType) -> Predicate:
        if self._accept("NOT"):
            inner = self._unit(object_type)
            return lambda record, lookup: not inner(record, lookup)
        if self._accept("("):
            condition = self._condition(object_type)
            self._expect(")")
            return condition
        return self._comparison(object_type)

    def _comparison(self, object_type: SObjectType) -> Predicate:
        field_token = self._name()
        path = self._path(object_type, field_token)
        negated = bool(self._accept("NOT"))
        if negated or self._accept("IN"):
            if negated:
                self._expect("IN")
            self._expect("(")
            values = {self._literal(path, field_token)}
            while self._accept(","):
                values.add(self._literal(path, field_token))
            self._expect(")")
            return lambda record, lookup: (_comparable(path.field, path.value(record, lookup)) in values) != negated
        if self._accept("LIKE"):
            return self._like(path, field_token)
        op = self._take()
        if op.kind != "operator":
            raise self._unexpected(op)
        value = self._literal(path, field_token)
        if op.text in {"=", "!=", "<>"}:
            equal = op.text == "="
            return lambda record, lookup: (_comparable(path.field, path.value(record, lookup)) == value) == equal
        compare = _COMPARE[op.text]

        def ordered(record: Record, lookup: Lookup) -> bool:
            actual = _comparable(path.field, path.value(record, lookup))
            return actual is not None and value is not None and compare(actual, value)

        return ordered

    def _like(self, path: FieldPath, field_token: Token) -> Predicate:
        token = self._take()
        if token.kind != "string":
            raise self._unexpected(token)
        if path.field.type not in STRING_TYPES:
            raise self._error("INVALID_FIELD", field_token, f"invalid operator on field: {path.field.name}")
        pattern = "".join(
            {"%": ".*", "_": "."}.get(char, re.escape(char)) if not escaped else re.escape(char)
            for char, escaped in self._string_chars(token)
        )
        regex = re.compile(pattern, re.IGNORECASE | re.DOTALL)

        def like(record: Record, lookup: Lookup) -> bool:
            actual = path.value(record, lookup)
            return actual is not None and regex.fullmatch(actual) is not None

        return like

    def _string_chars(self, token: Token) -> list[tuple[str, bool]]:
        """The characters of a quoted literal, each with whether it was backslash-escaped."""
        chars = []
        body = iter(token.text[1:-1])
        for char in body:
            if char != "\\":
                chars.append((char, False))
                continue
            code = next(body)
            if code not in _ESCAPES:
                raise self._error("MALFORMED_QUERY", token, f"Invalid string literal '{token.text}'. Illegal escape")
            chars.append((_ESCAPES[code], True))
        return chars

    def _literal(self, path: FieldPath, field_token: Token) -> Any:
        """A typed value, checked against the field's type the way Salesforce checks filter values."""
        token = self._take()
        field = path.field
        if token.is_word("NULL"):
            return None
        if field.type in STRING_TYPES:
            if token.kind != "string":
                raise self._type_error(field_token, field, "string", quoted=True)
            text = "".join(char for char, _ in self._string_chars(token))
            if field.type in {"id", "reference"} and ids.normalize(text) is None:
                raise self._error("INVALID_QUERY_FILTER_OPERATOR", token, f"invalid ID field: {text}")
            return _comparable(field, text)
        expected = {"date": "date", "datetime": "datetime", "boolean": "name"}.get(field.type, "number")
        if token.kind != expected or (expected == "name" and not token.is_word("TRUE", "FALSE")):
            raise self._type_error(field_token, field, _TYPE_NAMES.get(field.type, field.type), quoted=False)
        if field.type == "boolean":
            return token.text.upper() == "TRUE"
        if field.type == "date":
            parsed_date = parse_date(token.text)
            if parsed_date is None:
                raise self._unexpected(token)
            return parsed_date.isoformat()
        if field.type == "datetime":
            parsed = parse_datetime(token.text)
            if parsed is None:
                raise self._unexpected(token)
            return format_datetime(parsed)
        assert field.type in NUMBER_TYPES
        return float(token.text)

    def _type_error(self, token: Token, field: Field, type_name: str, *, quoted: bool) -> ApiError:
        quotes = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self._error(
            "INVALID_FIELD",
            token,
            f"value of filter criterion for field '{field.name}' must be of type {type_name} and {quotes}",
        )
