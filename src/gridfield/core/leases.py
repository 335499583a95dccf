"""Leases, pure: what a lease on a key looks like where it is stored, and when it lapses.

A lease is a token and a moment it lapses (``until``). It is stored either as a document of
its own whose ``_id`` is the key (holds on files, turns on names: whoever inserts it first
has it, as ``_id`` is unique on any server), or as the ``lease`` field of an existing
document (a resumable upload's registry entry). The I/O is in the twins' ``leases``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["LEASE_FIELD", "free_filter", "lapsed", "lease_document", "lease_value"]

LEASE_FIELD = "lease"
"""The field holding a lease inside a document that is not the lease itself."""


def lease_value(token: Any, now: datetime, lapse: timedelta) -> dict[str, Any]:
    """The value of a ``lease`` field: held by ``token`` until ``now + lapse``."""
    return {"token": token, "until": now + lapse}


def lease_document(
    key: Any, token: Any, now: datetime, lapse: timedelta, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """A lease that is a document of its own: ``_id`` the key, with ``fields`` beside it."""
    return {**fields, "_id": key, "token": token, "at": now, "until": now + lapse}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def lapsed(doc: Any, now: datetime, lapse: timedelta) -> bool:
    """Whether the lease document ``doc`` has lapsed at ``now``: past its ``until``, or,
    for one that names only when it was taken (``at``), older than ``lapse``. A document
    with neither was left by something else than a lease holder: lapsed."""
    if not isinstance(doc, Mapping):
        return True
    until = doc.get("until")
    if isinstance(until, datetime):
        return _aware(until) <= now
    at = doc.get("at")
    if isinstance(at, datetime):
        return now - _aware(at) > lapse
    return True


def free_filter(now: datetime, field: str = LEASE_FIELD) -> dict[str, Any]:
    """A filter on documents whose ``field`` lease is free at ``now``: none, or lapsed."""
    return {"$or": [{field: None}, {f"{field}.until": {"$lte": now}}]}
