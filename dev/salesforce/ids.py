"""Salesforce record Ids: 15 case-sensitive characters plus a 3-character case-safe checksum.

The first three characters are the object's key prefix (00Q Lead, 003 Contact, ...). The suffix encodes,
for each block of five characters, which ones are upper-case letters; that lets case-insensitive systems
(spreadsheets, most databases) round-trip Ids, and lets us restore the case of an 18-character Id.
"""

from __future__ import annotations

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order: sorts like numbers
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Characters 4-6 are a pod identifier and a reserved character in real Ids; any fixed value will do.
_POD = "5g0"


def checksum(id15: str) -> str:
    suffix = ""
    for block in range(3):
        bits = 0
        for position, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX[bits]
    return suffix


def make_id(prefix: str, number: int) -> str:
    """The 18-character Id of the ``number``-th record with this key prefix (numbers start at 1)."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    id15 = prefix + _POD + digits.rjust(9, "0")
    return id15 + checksum(id15)


def normalize(raw: str) -> str | None:
    """The canonical 18-character form of a 15- or 18-character Id, or None when it is not an Id."""
    if not (raw.isascii() and raw.isalnum()):
        return None
    if len(raw) == 15:
        return raw + checksum(raw)
    if len(raw) != 18:
        return None
    suffix = raw[15:].upper()
    if any(char not in _SUFFIX for char in suffix):
        return None
    chars = []
    for block, code in enumerate(suffix):
        bits = _SUFFIX.index(code)
        for position, char in enumerate(raw[block * 5 : block * 5 + 5]):
            upper = bool(bits >> position & 1)
            if upper and not char.isalpha():
                return None
            chars.append(char.upper() if upper else char.lower())
    return "".join(chars) + suffix
