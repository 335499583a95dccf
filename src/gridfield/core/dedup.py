"""Deduplication by content within a scope: the checked request, the digest keys and the
filter a stored copy must pass.

A file stored with a scope records it under the files document's ``gridfield`` key beside
its SHA-256. Which file holds given bytes in a scope is a claim: a document of the bucket's
``digests`` collection whose ``_id`` is the digest key (scope, SHA-256, length) and which
names the file. An upload asking for deduplication takes the claim by inserting it, one
indexed write on any server: the insert succeeds when the bytes are new, and a duplicate key
says they are stored already (the claim is then read, and the file it names checked, both by
``_id``). A key names one scope: no lookup ever crosses scopes, as one that did would be an
oracle of what others stored.

A claim taken is a promise that the file's document goes in next: for the store's
``SweepTiming.claim_lapse`` after its ``at``, a claim naming a file not there yet is left to
its taker; after that it is one a crashed upload left, and it is taken over. A claim naming
a file that is gone, or that lives less long than an upload asks, is taken over at once.
Files stored before claims existed get theirs once per bucket (``backfill_claims``),
recorded by a document whose ``_id`` is ``BACKFILL_MARK``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import CorruptFile
from .expiry import EXPIRE_AT_FIELD, is_expired
from .files_document import FileInfo
from .queries import file_filter

__all__ = [
    "BACKFILL_MARK",
    "CLAIMED_FILES_FILTER",
    "CLAIMED_FILES_PROJECTION",
    "MATCHED_FIELD",
    "SCOPE_FIELD",
    "SHA256_FIELD",
    "backfill_claims",
    "check_declared",
    "check_scope",
    "claim_document",
    "claim_key_of",
    "copy_filter",
    "dedup_filter",
    "digest_key",
    "unmatched_filter",
]

SHA256_FIELD = "gridfield.sha256"
SCOPE_FIELD = "gridfield.scope"

BACKFILL_MARK = "backfilled"
"""The ``_id`` of the document recording that the files stored before claims existed have
theirs (no digest key looks like it: a key starts with 64 hex digits and a colon)."""

CLAIMED_FILES_FILTER: dict[str, Any] = {
    SCOPE_FIELD: {"$exists": True},
    SHA256_FIELD: {"$exists": True},
}
"""The files a backfill gives claims to: those stored with a scope and a SHA-256."""

CLAIMED_FILES_PROJECTION = {"length": 1, "chunkSize": 1, "uploadDate": 1, "gridfield": 1}
"""What a backfill reads of each of them."""

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


def digest_key(scope: str, sha256: str, length: int) -> str:
    """The ``_id`` of the claim on the bytes of SHA-256 ``sha256`` and ``length`` in
    ``scope``: the hash and the length first (fixed alphabets), so any scope reads back
    unambiguously after them."""
    return f"{sha256}:{length}:{scope}"


def claim_document(key: str, file_id: Any, at: datetime) -> dict[str, Any]:
    """The claim on ``key`` by the file ``file_id``, taken at ``at``."""
    return {"_id": key, "file_id": file_id, "at": at}


def copy_filter(
    file_id: Any, sha256: str, length: int, scope: str, expire_at: datetime | None
) -> dict[str, Any]:
    """The files filter of the file ``file_id`` when it may be an upload's answer: the
    ``dedup_filter`` of the upload's bytes, scope and expiry, on that one ``_id``."""
    return {**file_filter(file_id), **dedup_filter(sha256, length, scope, expire_at)}


def _claimable(doc: Mapping[str, Any]) -> tuple[str, FileInfo] | None:
    """The digest key of the file of files document ``doc`` and its description, when it
    was stored with a scope and a SHA-256 (None for another, or a damaged one: the bucket
    check reports those)."""
    try:
        info = FileInfo.from_document(doc)
    except CorruptFile:
        return None
    if info.scope is None or info.sha256 is None:
        return None
    return digest_key(info.scope, info.sha256, info.length), info


def claim_key_of(doc: Mapping[str, Any]) -> str | None:
    """The digest key a file may hold the claim on, read from its files document (read
    with ``CLAIMED_FILES_PROJECTION``); None when it was stored without a scope."""
    described = _claimable(doc)
    return None if described is None else described[0]


def _lives_longer(one: datetime | None, other: datetime | None) -> bool:
    """Whether a file expiring at ``one`` outlives one expiring at ``other`` (None: never)."""
    if one is None:
        return other is not None
    return other is not None and one > other


def backfill_claims(docs: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The claims to take for files stored before claims existed (documents read with
    ``CLAIMED_FILES_PROJECTION``): one per digest key, naming the longest-lived of the
    files that share it, each dated by its file's upload; expired files and documents that
    are not ours (no str scope, no SHA-256) get none."""
    best: dict[str, FileInfo] = {}
    for doc in docs:
        described = _claimable(doc)
        if described is None or is_expired(described[1].expire_at, now):
            continue
        key, info = described
        held = best.get(key)
        if held is None or _lives_longer(info.expire_at, held.expire_at):
            best[key] = info
    return [
        claim_document(key, info.file_id, info.upload_date or now) for key, info in best.items()
    ]
