"""File ids typed on the command line, read the way mongofiles reads them, and shown back."""

from __future__ import annotations

from typing import Any

from bson import ObjectId, json_util
from bson.errors import InvalidId
from bson.json_util import CANONICAL_JSON_OPTIONS

__all__ = ["id_candidates", "parse_id", "show_id"]


class BadId(ValueError):
    """An id argument that cannot be read."""


def parse_id(text: str) -> Any:
    """The id ``text`` stands for, as mongofiles' ``put_id`` reads it.

    Text starting with ``{`` is an Extended JSON value (``{"$oid": "..."}``,
    ``{"$numberLong": "7"}``); anything else is the string itself. Blank text is None:
    the store then makes a new ObjectId.
    """
    trimmed = text.strip(" ")
    if not trimmed:
        return None
    if trimmed.startswith("{"):
        try:
            return json_util.loads(f'{{"_id": {trimmed}}}')["_id"]
        except Exception as exc:  # json_util raises several types for bad text
            raise BadId(f"cannot read the id {trimmed!r} as Extended JSON: {exc}") from exc
    return trimmed


def id_candidates(text: str) -> list[Any]:
    """The ids ``text`` may name when looking a file up.

    As ``parse_id``, plus the ObjectId a bare 24-digit hex string spells: listings show
    ObjectIds that way, so what is listed can be pasted back.
    """
    value = parse_id(text)
    if value is None:
        raise BadId("the id must not be blank")
    found = [value]
    if isinstance(value, str) and len(value) == 24:
        try:
            found.append(ObjectId(value))
        except InvalidId:
            pass
    return found


def show_id(value: Any) -> str:
    """An id as listings print it: an ObjectId or a str as is, anything else as canonical
    Extended JSON (``{"$numberLong": "7"}``), which ``parse_id`` reads back to the same value."""
    if isinstance(value, (ObjectId, str)):
        return str(value)
    return json_util.dumps(value, json_options=CANONICAL_JSON_OPTIONS)
