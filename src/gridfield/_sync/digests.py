# Generated from src/gridfield/_async/digests.py by scripts/unasync.py: do not edit.
"""Deduplication claims: which file holds given bytes in a scope, one digest key each.

A claim is a document of ``<bucket>.digests`` (``core.dedup``) whose ``_id`` is the digest
key of (scope, SHA-256, length) and which names the file holding those bytes. An upload
about to store bytes takes the claim by inserting it: one indexed write is the whole lookup
of a new file. A duplicate key says the bytes may be stored already: the claim, then the
file it names, are read by ``_id``, the file checked (the same bytes, the same scope, a
life long enough) and marked matched in the same command. A claim naming a file that is
gone or lives too briefly is taken over by a conditional update; one naming a file not in
yet is left to its taker for ``SweepTiming.claim_lapse``, as a lease would be.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from .._twins import sleep_seconds
from ..core.bucket_report import id_key
from ..core.dedup import (
    BACKFILL_MARK,
    CLAIMED_FILES_FILTER,
    CLAIMED_FILES_PROJECTION,
    MATCHED_FIELD,
    backfill_claims,
    claim_document,
    claim_key_of,
    copy_filter,
    digest_key,
)
from ..core.files_document import FileInfo
from ..core.leases import lapsed
from ..core.queries import file_filter
from ..core.sweeping import SweepTiming
from .bucket import Bucket

__all__ = ["DigestClaims"]

# Files documents read at once by a backfill, and claims by a sweep.
_BATCH = 1000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _millis(moment: datetime) -> datetime:
    """``moment`` as BSON stores it (milliseconds, no zone), so that it compares equal to
    the value read back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=None)


class DigestClaims:
    """The claims on the digest keys of one bucket (``<bucket>.digests``), with the
    ``timing`` its uploads and sweeps agree on (a claim not followed by its file is left to
    its taker for ``timing.claim_lapse``, looked at again every ``timing.poll``)."""

    def __init__(self, bucket: Bucket, timing: SweepTiming) -> None:
        self.bucket = bucket
        self.timing = timing

    def find(
        self, sha256: str, length: int, scope: str, expire_at: datetime | None
    ) -> FileInfo | None:
        """The stored file of ``scope`` holding the bytes of SHA-256 ``sha256`` and
        ``length``, living at least until ``expire_at`` (None: for ever), marked matched;
        None when there is none. Takes no claim: two reads by ``_id``."""
        self._backfilled()
        claim = self.bucket.digests.find_one({"_id": digest_key(scope, sha256, length)})
        if claim is None:
            return None
        return self._matched(claim.get("file_id"), sha256, length, scope, expire_at)

    def take(
        self, file_id: Any, sha256: str, length: int, scope: str, expire_at: datetime | None
    ) -> FileInfo | None:
        """Make ``file_id`` the holder of these bytes in ``scope``, unless a stored file of
        the scope holds them already and lives at least until ``expire_at``: that file,
        marked matched (``file_id`` holds nothing then). None: the claim is ``file_id``'s,
        and its files document must go in next (or the claim be ``release``d).

        New bytes cost one insert. A claim whose file is not stored yet is waited on while
        it is younger than ``timing.claim_lapse`` (the file may be on its way), then taken
        over, as is at once one naming a file that is gone or expires sooner."""
        self._backfilled()
        key = digest_key(scope, sha256, length)
        while True:
            now = _now()
            try:
                self.bucket.digests.insert_one(claim_document(key, file_id, now))
                return None
            except DuplicateKeyError:
                pass
            claim = self.bucket.digests.find_one({"_id": key})
            if claim is None:
                continue  # released meanwhile: try again
            holder = claim.get("file_id")
            if holder == file_id:
                return None  # ours already (a repeat of a completion that died)
            found = self._matched(holder, sha256, length, scope, expire_at)
            if found is not None:
                return found
            if not lapsed(claim, now, self.timing.claim_lapse):
                # Taken moments ago: its upload may be about to store its files document.
                if not self._exists(holder):
                    sleep_seconds(self.timing.poll.total_seconds())
                    continue
                # In since the first look: a second one says whether it will do.
                found = self._matched(holder, sha256, length, scope, expire_at)
                if found is not None:
                    return found
            # The holder is gone, or expires sooner than this upload asks: ours now.
            taken = self.bucket.digests.update_one(
                {"_id": key, "file_id": {"$eq": holder}},
                {"$set": {"file_id": file_id, "at": now}},
            )
            if taken.matched_count:
                return None

    def release(self, file_id: Any, sha256: str, length: int, scope: str) -> None:
        """Let go of the claim ``take`` gave ``file_id`` (its files document did not go
        in); a claim taken over since is left alone."""
        self._let_go(digest_key(scope, sha256, length), file_id)

    def forget(self, doc: Mapping[str, Any]) -> None:
        """The file of files document ``doc`` (at least ``CLAIMED_FILES_PROJECTION``) was
        deleted: the claim it holds goes, so that the same bytes uploaded again are new at
        once (a claim left is taken over all the same, but one taken less than
        ``timing.claim_lapse`` ago is waited on first: its file might be on its way)."""
        key = claim_key_of(doc)
        if key is not None:
            self._let_go(key, doc.get("_id"))

    def _let_go(self, key: str, file_id: Any) -> None:
        self.bucket.digests.delete_one({"_id": key, "file_id": {"$eq": file_id}})

    def _matched(
        self, holder: Any, sha256: str, length: int, scope: str, expire_at: datetime | None
    ) -> FileInfo | None:
        """The file ``holder`` if it holds these bytes in ``scope`` and lives long enough,
        marked matched in the same command (by its ``_id``: a write a sharded bucket routes;
        a deletion of a shared file leaves one matched lately: ``unmatched_filter``)."""
        moment = _millis(_now())
        doc = self.bucket.files.find_one_and_update(
            copy_filter(holder, sha256, length, scope, expire_at),
            {"$set": {MATCHED_FIELD: moment}},
        )
        if doc is None:
            return None
        return dataclasses.replace(FileInfo.from_document(doc), matched=moment)

    def _exists(self, file_id: Any) -> bool:
        doc = self.bucket.files.find_one(file_filter(file_id), projection={"_id": 1})
        return doc is not None

    # -- files stored before claims existed ---------------------------------------------------

    def _backfilled(self) -> None:
        """``backfill`` once per bucket: recorded in the bucket (a document whose ``_id`` is
        ``BACKFILL_MARK``), and looked for by this client at most every ``INDEX_RECHECK``
        seconds."""
        if self.bucket.done_lately("digests"):
            return
        mark = self.bucket.digests.find_one({"_id": BACKFILL_MARK}, projection={"_id": 1})
        if mark is None:
            self.backfill()
        self.bucket.did("digests")

    def backfill(self) -> int:
        """Give the files stored with a scope before claims existed the claims on their
        bytes (the longest-lived of several copies; a key claimed already stays as it is),
        then record it done; how many claims were taken. Safe to run again, and alongside
        uploads: every claim is an insert that a taken key refuses."""
        taken = 0
        batch: list[dict[str, Any]] = []
        cursor = self.bucket.files.find(CLAIMED_FILES_FILTER, projection=CLAIMED_FILES_PROJECTION)
        for doc in cursor.batch_size(_BATCH):
            batch.append(doc)
            if len(batch) >= _BATCH:
                taken += self._insert_claims(batch)
                batch = []
        taken += self._insert_claims(batch)
        try:
            self.bucket.digests.insert_one({"_id": BACKFILL_MARK, "at": _now()})
        except DuplicateKeyError:
            pass  # another process backfilled at the same time
        return taken

    def _insert_claims(self, docs: list[dict[str, Any]]) -> int:
        claims = backfill_claims(docs, _now())
        if not claims:
            return 0
        try:
            self.bucket.digests.insert_many(claims, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(error.get("code") != 11000 for error in errors):
                raise
            return len(claims) - len(errors)
        return len(claims)

    # -- the sweep ----------------------------------------------------------------------------

    def remove_stale(self, now: datetime | None = None) -> int:
        """Remove the claims naming files that are gone (deleted, expired and removed, or
        never stored by an upload that died), taken longer than ``timing.claim_lapse`` ago; how
        many. Leaving them does no harm (an upload checks the file a claim names, and takes
        the claim over): this keeps the collection to the files there are."""
        cutoff = (_now() if now is None else now) - self.timing.claim_lapse
        old = {"_id": {"$ne": BACKFILL_MARK}, "at": {"$lte": cutoff}}
        removed = 0
        batch: list[tuple[Any, Any]] = []
        cursor = self.bucket.digests.find(old, projection={"file_id": 1})
        for claim in cursor.batch_size(_BATCH):
            batch.append((claim["_id"], claim.get("file_id")))
            if len(batch) >= _BATCH:
                removed += self._remove_gone(batch, old)
                batch = []
        return removed + self._remove_gone(batch, old)

    def _remove_gone(self, claims: list[tuple[Any, Any]], old: dict[str, Any]) -> int:
        if not claims:
            return 0
        ids = [file_id for _, file_id in claims]
        found = self.bucket.files.find({"_id": {"$in": ids}}, projection={"_id": 1})
        present = {id_key(doc["_id"]) for doc in found}
        gone = [key for key, file_id in claims if id_key(file_id) not in present]
        if not gone:
            return 0
        # Still old: a claim taken over meanwhile is dated anew, and stays.
        result = self.bucket.digests.delete_many({**old, "_id": {"$in": gone}})
        return int(result.deleted_count)
