"""Deduplication by content within a scope: the checked request and the lookup it makes.

A file stored with a scope records it under the files document's ``gridfield`` key beside
its SHA-256. A later upload asking for deduplication in the same scope looks, when it
closes, for a file with the same SHA-256, length and scope; there is one lookup per upload,
on an index of those keys, and never one across scopes: an upload that could learn whether
some other scope holds given bytes would be an oracle of what others stored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .expiry import EXPIRE_AT_FIELD

__all__ = [
    "DEDUP_INDEX",
    "MATCHED_FIELD",
    "SCOPE_FIELD",
    "SHA256_FIELD",
    "check_declared",
    "check_scope",
    "dedup_filter",
    "unmatched_filter",
]

SHA256_FIELD = "gridfield.sha256"
SCOPE_FIELD = "gridfield.scope"
DEDUP_INDEX = [(SHA256_FIELD, 1), ("length", 1), (SCOPE_FIELD, 1)]
"""The keys of the index the deduplication lookup uses."""

MATCHED_FIELD = "gridfield.matched"
"""When a deduplicating upload last took a stored file as its answer: set by the lookup
itself (one atomic find-and-update, so the file exists when it is set), and read by the
deletion of a shared file, which leaves a file matched lately for its new holder to save a
document naming it."""


def unmatched_filter(since: datetime) -> dict[str, Any]:
    """A files filter on the files no deduplicating upload took as its answer after
    ``since``."""
    return {"$or": [{MATCHED_FIELD: {"$exists": False}}, {MATCHED_FIELD: {"$lte": since}}]}


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_scope(scope: object, what: str = "scope") -> str | None:
    """``scope`` if it is None or a str; TypeError otherwise (an id, a number or a tuple
    would compare differently in the server than it reads here)."""
    if scope is not None and not isinstance(scope, str):
        raise TypeError(
            f"{what} must be a str naming who may share files, not {type(scope).__name__}"
        )
    return scope


def check_declared(sha256: object, length: object) -> tuple[str, int] | None:
    """A declared SHA-256 (64 hex digits, either case) and length, both or neither."""
    if sha256 is None and length is None:
        return None
    if sha256 is None or length is None:
        raise ValueError("give sha256 and length together (the file's SHA-256 and size)")
    if not isinstance(sha256, str):
        raise TypeError(f"sha256 must be a str of 64 hex digits, not {type(sha256).__name__}")
    digest = sha256.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError(f"sha256 must be 64 hex digits, not {sha256!r}")
    if isinstance(length, bool) or not isinstance(length, int):
        raise TypeError(f"length must be an int, not {type(length).__name__}")
    if length < 0:
        raise ValueError(f"length must not be negative, got {length}")
    return digest, length


def dedup_filter(
    sha256: str, length: int, scope: str, expire_at: datetime | None
) -> dict[str, Any]:
    """The files filter of a stored file an upload may be deduplicated to: the same SHA-256,
    length and scope, living at least as long as the upload asks (``expire_at``, checked to
    be in the future): one that never expires for an upload without expiry, else one
    expiring no sooner (or never)."""
    query: dict[str, Any] = {SHA256_FIELD: sha256, "length": length, SCOPE_FIELD: scope}
    if expire_at is None:
        query[EXPIRE_AT_FIELD] = {"$exists": False}
    else:
        query["$or"] = [
            {EXPIRE_AT_FIELD: {"$exists": False}},
            {EXPIRE_AT_FIELD: {"$gte": expire_at}},
        ]
    return query
