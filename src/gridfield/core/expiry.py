"""When a file expires: the checked request, the moment stored, reads refused after it, the
queries that leave expired files out, and the HTTP caching that never outlives it.

An expiring file carries ``expireAt`` (a BSON date) under the files document's ``gridfield``
key. Where the server has TTL indexes its monitor removes the files document; the bucket
sweep removes what it leaves (the chunks, as orphans) and, where the server has no TTL,
the expired files themselves. Reads refuse an expired file at once, before anything removed
it. A file without the key never expires.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

__all__ = [
    "EXPIRE_AT_FIELD",
    "check_expiry",
    "earliest",
    "expired_filter",
    "expired_message",
    "expiry_cache_headers",
    "expiry_moment",
    "is_expired",
    "not_expired_filter",
    "parse_duration",
    "ttl_refused",
    "with_filter",
]

EXPIRE_AT_FIELD = "gridfield.expireAt"
"""The dotted path of the expiry in a files document (the TTL index's key)."""

_LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)  # BSON dates go further; Python's do not


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # BSON dates read back naive are UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _millis(moment: datetime) -> datetime:
    """``moment`` at BSON's millisecond precision, so what is stored is what was checked."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def check_expiry(
    expire_at: object = None, expire_after: object = None, *, now: datetime | None = None
) -> datetime | timedelta | None:
    """The expiry an upload asks for, checked: an aware UTC datetime (``expire_at``), a
    positive timedelta (``expire_after``, counted from the upload's date) or None.

    TypeError for a value of another type; ValueError for both at once, a naive datetime
    (which time zone it meant cannot be known: ``datetime.now()`` is local time), a moment
    not after ``now`` or a duration not above zero.
    """
    if expire_at is not None and expire_after is not None:
        raise ValueError("give expire_at or expire_after, not both")
    if expire_after is not None:
        if not isinstance(expire_after, timedelta):
            raise TypeError(
                f"expire_after must be a datetime.timedelta, not {type(expire_after).__name__}"
            )
        if expire_after <= timedelta(0):
            raise ValueError(f"expire_after must be more than zero, got {expire_after}")
        if expire_after > _LATEST - datetime.now(timezone.utc):
            raise ValueError(f"expire_after {expire_after} reaches past the year 9999")
        return expire_after
    if expire_at is None:
        return None
    if not isinstance(expire_at, datetime):
        raise TypeError(f"expire_at must be a datetime.datetime, not {type(expire_at).__name__}")
    if expire_at.tzinfo is None or expire_at.utcoffset() is None:
        raise ValueError(
            f"expire_at {expire_at.isoformat()} has no time zone: give an aware datetime "
            "(datetime.now(timezone.utc) + timedelta(...)) or expire_after=timedelta(...)"
        )
    moment = _millis(_utc(expire_at))
    current = datetime.now(timezone.utc) if now is None else _utc(now)
    if moment <= current:
        raise ValueError(
            f"expire_at {expire_at.isoformat()} is not in the future (now is "
            f"{current.isoformat(timespec='seconds')})"
        )
    return moment


def expiry_moment(expiry: datetime | timedelta | None, upload_date: datetime) -> datetime | None:
    """The moment to store for a checked expiry of a file uploaded at ``upload_date``."""
    if expiry is None:
        return None
    if isinstance(expiry, timedelta):
        return _millis(_utc(upload_date) + expiry)
    return expiry


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the moments given, in UTC (naive ones read as UTC); None for none."""
    known = [_utc(moment) for moment in moments if moment is not None]
    return min(known) if known else None


def is_expired(expire_at: datetime | None, now: datetime) -> bool:
    """Whether a file with this expiry has expired at ``now`` (one without never has)."""
    return expire_at is not None and _utc(expire_at) <= _utc(now)


def expired_message(file: str, expire_at: datetime) -> str:
    """The NoFile text for an expired file (``file`` names it: an id or a filename)."""
    return f"{file} expired at {_utc(expire_at).isoformat(timespec='milliseconds')}"


def not_expired_filter(now: datetime) -> dict[str, Any]:
    """A files filter leaving out the files expired at ``now`` (those with no expiry stay)."""
    return {
        "$or": [
            {EXPIRE_AT_FIELD: {"$exists": False}},
            {EXPIRE_AT_FIELD: {"$gt": _utc(now)}},
        ]
    }


def expired_filter(now: datetime) -> dict[str, Any]:
    """A files filter matching the files expired at ``now`` (only dates: another writer's
    value under our key is no expiry)."""
    return {EXPIRE_AT_FIELD: {"$type": "date", "$lte": _utc(now)}}


def with_filter(query: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``query`` and ``extra`` both (``extra`` alone for an empty query)."""
    return {"$and": [dict(query), dict(extra)]} if query else dict(extra)


_MAX_AGE = re.compile(r"(?i)\b(s-maxage|max-age)\s*=\s*\"?(\d+)\"?")


def expiry_cache_headers(
    cache_control: str | None, expire_at: datetime | None, now: datetime
) -> list[tuple[str, str]]:
    """``Cache-Control`` (and ``Expires``) for a response about a file expiring at
    ``expire_at``: no cache keeps it past then.

    Without an expiry, ``cache_control`` as given. With one, ``Expires`` is the expiry and
    every ``max-age``/``s-maxage`` is capped at the seconds left (one is added when none is
    given, as a cache would otherwise guess a freshness of its own from ``Last-Modified``).
    """
    if expire_at is None:
        return [] if cache_control is None else [("Cache-Control", cache_control)]
    left = max(0, int((_utc(expire_at) - _utc(now)).total_seconds()))
    if cache_control is None:
        control = f"max-age={left}"
    else:
        control = _MAX_AGE.sub(lambda m: f"{m[1]}={min(int(m[2]), left)}", cache_control)
        if not _MAX_AGE.search(control) and not _no_caching(control):
            control = f"{control}, max-age={left}"
    return [("Cache-Control", control), ("Expires", format_datetime(_utc(expire_at), usegmt=True))]


def _no_caching(control: str) -> bool:
    words = {part.strip().split("=")[0].lower() for part in control.split(",")}
    return bool(words & {"no-store", "no-cache"})


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """``1h``, ``90m``, ``2d12h``, ``30s``, ``1w`` as a timedelta; ValueError otherwise."""
    spec = text.strip().lower()
    parts = _DURATION.findall(spec)
    if not spec or "".join(f"{n}{u}" for n, u in parts) != spec:
        raise ValueError(
            f"{text!r} is not a duration like 30s, 90m, 1h, 2d12h or 1w "
            "(whole numbers of s, m, h, d, w)"
        )
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


# FerretDB v1: 'Index option "expireAfterSeconds" is not implemented yet' (code 238,
# NotImplemented). MongoDB has TTL indexes on every deployment.
_NOT_IMPLEMENTED = 238


def ttl_refused(code: int | None, message: str) -> bool:
    """Whether a createIndexes error is the server saying it has no TTL indexes."""
    return code == _NOT_IMPLEMENTED or (
        "expireAfterSeconds" in message and "not implemented" in (message.lower())
    )
