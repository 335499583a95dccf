"""Validators of a stored file (``ETag``, ``Last-Modified``) and HTTP dates, from its files
document alone: GridFS files never change in place, so nothing else needs reading."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import bson

from ..files_document import FileInfo

__all__ = [
    "entity_tag",
    "format_http_date",
    "last_modified",
    "parse_entity_tags",
    "parse_http_date",
]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name.lower(): i + 1 for i, name in enumerate(_MONTHS)}


def entity_tag(info: FileInfo) -> str:
    """A strong ``ETag`` for the file: its stored SHA-256 when there is one, else a digest of
    its id, length and upload date (which together never name two different contents)."""
    if info.sha256 is not None and len(info.sha256) == 64:
        return f'"{info.sha256.lower()}"'
    identity = bson.encode(
        {"_id": info.file_id, "length": info.length, "uploadDate": info.upload_date}
    )
    return f'"{hashlib.sha256(identity).hexdigest()[:32]}"'


def last_modified(info: FileInfo) -> datetime | None:
    """When the file was stored, in UTC, to the second (HTTP dates have no fractions)."""
    when = info.upload_date
    if not isinstance(when, datetime):
        return None  # none stored, or another writer stored something else (a str)
    # PyMongo hands back naive datetimes in UTC unless the client asks for aware ones.
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
    return when.astimezone(timezone.utc).replace(microsecond=0)


def format_http_date(when: datetime) -> str:
    """An IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), independent of the locale."""
    when = when.astimezone(timezone.utc)
    return (
        f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year:04d}"
        f" {when.hour:02d}:{when.minute:02d}:{when.second:02d} GMT"
    )


def _clock(text: str) -> tuple[int, int, int] | None:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) == 2 for p in parts):
        return None
    hour, minute, second = (int(p) for p in parts)
    return hour, minute, second


def _build(year: int, month: int, day: int, clock: tuple[int, int, int]) -> datetime | None:
    try:
        return datetime(year, month, day, *clock, tzinfo=timezone.utc)
    except ValueError:
        return None


def _digits(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def parse_http_date(text: str | None) -> datetime | None:
    """An HTTP date in any of the three forms RFC 9110 5.6.7 makes recipients accept
    (IMF-fixdate, RFC 850, asctime), as an aware UTC datetime; None if it is none of them."""
    if text is None:
        return None
    words = text.strip().split()
    if len(words) == 6 and words[5] == "GMT" and words[0].endswith(","):  # IMF-fixdate
        day, month, year, clock = _digits(words[1]), words[2], _digits(words[3]), words[4]
    elif len(words) == 4 and words[3] == "GMT" and words[0].endswith(","):  # RFC 850
        pieces = words[1].split("-")
        if len(pieces) != 3:
            return None
        day, month, year, clock = _digits(pieces[0]), pieces[1], _digits(pieces[2]), words[2]
        if year is not None and len(pieces[2]) == 2:
            # RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            now = datetime.now(timezone.utc).year
            year += now - now % 100
            if year > now + 50:
                year -= 100
    elif len(words) == 5:  # asctime: Sun Nov  6 08:49:37 1994
        day, month, year, clock = _digits(words[2]), words[1], _digits(words[4]), words[3]
    else:
        return None
    number = _MONTH_NUMBER.get(month.lower())
    hms = _clock(clock)
    if day is None or year is None or number is None or hms is None:
        return None
    return _build(year, number, day, hms)


def parse_entity_tags(text: str) -> list[tuple[bool, str]] | None:
    """The entity tags of an ``If-Match``/``If-None-Match`` value as ``(weak, opaque)`` pairs,
    the opaque part with its quotes; None for ``*``. Malformed members are dropped."""
    if text.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    rest = text
    while rest:
        rest = rest.lstrip(" \t,")
        weak = rest.startswith("W/")
        if weak:
            rest = rest[2:]
        if not rest.startswith('"'):
            # Not a tag: skip to the next list member.
            _, _, rest = rest.partition(",")
            continue
        close = rest.find('"', 1)
        if close < 0:
            break
        tags.append((weak, rest[: close + 1]))
        rest = rest[close + 1 :]
    return tags
