"""What counts as a stored file's id where one comes from outside: an ObjectId, or the 24
hexadecimal digits that spell one."""

from __future__ import annotations

import re

from bson import ObjectId

__all__ = ["OBJECT_ID_PATTERN", "as_object_id"]

OBJECT_ID_PATTERN = "^[0-9a-fA-F]{24}$"
"""The text of an ObjectId, as a JSON schema ``pattern`` gives it."""

_HEX_24 = re.compile(r"[0-9a-fA-F]{24}")


def as_object_id(value: object) -> ObjectId | None:
    """The ObjectId ``value`` is or spells, or None for anything else.

    Only an ObjectId (a subclass, such as Beanie's ``PydanticObjectId``, comes back as a
    plain ObjectId) or a str of exactly 24 hexadecimal digits: no surrounding space, no
    12-byte ``bytes`` (which ObjectId itself would take), no Extended JSON ``{"$oid": ...}``.
    """
    if isinstance(value, ObjectId):
        return value if type(value) is ObjectId else ObjectId(value.binary)
    # fullmatch, and no re.ASCII needed: [0-9a-fA-F] lists ASCII characters only
    if isinstance(value, str) and _HEX_24.fullmatch(value):
        return ObjectId(value)
    return None
