# Generated from src/gridfield/_async/leases.py by scripts/unasync.py: do not edit.
"""The one lease: take, renew and release a key with a token and a lapse.

Holds on files (a save's, a sweep's), a Django storage's turn on a name and a tus PATCH's
hold on its upload are all leases (``core.leases`` says how they are stored). A lease
lapses by itself: a process that dies holding one stops blocking others after the lapse.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from ..core.leases import LEASE_FIELD, free_filter, lapsed, lease_document, lease_value

__all__ = ["FieldLeases", "Leases"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _key_filter(key: Any) -> dict[str, Any]:
    return {"_id": {"$eq": key}}


class Leases:
    """Leases that are documents of their own in ``collection``, keyed by ``_id``, lapsing
    ``lapse`` after they are taken or renewed."""

    def __init__(self, collection: Any, lapse: timedelta) -> None:
        self.collection = collection
        self.lapse = lapse

    def take(self, key: Any, token: Any, fields: Mapping[str, Any] | None = None) -> bool:
        """Take the lease on ``key`` for ``token``; False while another holds it. A lapsed
        one found in the way is removed (only that one: by its token) and the take tried
        again."""
        while True:
            now = _now()
            try:
                self.collection.insert_one(
                    lease_document(key, token, now, self.lapse, fields or {})
                )
                return True
            except DuplicateKeyError:
                other = self.collection.find_one(_key_filter(key))
                if other is None:
                    continue  # released meanwhile
                if not lapsed(other, now, self.lapse):
                    return False
                self.release(key, other.get("token"))

    def take_many(
        self, keys: list[Any], token: Any, fields: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Take what can be taken of the leases on ``keys`` for ``token``, in one insert;
        the keys taken. The lapsed ones found in the way are removed, for a next take."""
        if not keys:
            return []
        now = _now()
        docs = [lease_document(key, token, now, self.lapse, fields or {}) for key in keys]
        try:
            self.collection.insert_many(docs, ordered=False)
            return list(keys)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(error.get("code") != 11000 for error in errors):
                raise
            refused = {error["index"] for error in errors}
        others = [keys[i] for i in sorted(refused)]
        for other in self.collection.find({"_id": {"$in": others}}):
            if lapsed(other, now, self.lapse):
                self.release(other["_id"], other.get("token"))
        return [key for i, key in enumerate(keys) if i not in refused]

    def renew(self, key: Any, token: Any) -> bool:
        """Push back the lapse of ``token``'s lease on ``key``; False if it is not held."""
        result = self.collection.update_one(
            {**_key_filter(key), "token": token}, {"$set": {"until": _now() + self.lapse}}
        )
        return bool(result.matched_count)

    def release(self, key: Any, token: Any) -> bool:
        """Let go of ``token``'s lease on ``key``; False if it did not hold it."""
        result = self.collection.delete_one({**_key_filter(key), "token": token})
        return bool(result.deleted_count)

    def release_many(self, keys: list[Any], token: Any) -> int:
        """Let go of ``token``'s leases on ``keys``; how many it held."""
        if len(keys) == 1:
            return int(self.release(keys[0], token))
        if not keys:
            return 0
        result = self.collection.delete_many({"_id": {"$in": keys}, "token": token})
        return int(result.deleted_count)

    def holder(self, key: Any) -> Any:
        """The lease document on ``key`` (None when no one holds it)."""
        return self.collection.find_one(_key_filter(key))


class FieldLeases:
    """Leases kept in the ``lease`` field of existing documents of ``collection`` (keyed by
    ``_id``), lapsing ``lapse`` after they are taken or renewed."""

    def __init__(self, collection: Any, lapse: timedelta) -> None:
        self.collection = collection
        self.lapse = lapse

    def value(self, token: Any, now: datetime | None = None) -> dict[str, Any]:
        """The lease field of a document inserted already held by ``token``."""
        return lease_value(token, _now() if now is None else now, self.lapse)

    def take(self, key: Any, token: Any, where: Mapping[str, Any] | None = None) -> Any:
        """Take the lease on the document ``key`` (which must also match ``where``) for
        ``token`` if it is free or lapsed; the document as it was before (its ``lease``
        not None when a holder lapsed), or None when it is held or does not match."""
        now = _now()
        return self.collection.find_one_and_update(
            {**_key_filter(key), **(where or {}), **free_filter(now)},
            {"$set": {LEASE_FIELD: lease_value(token, now, self.lapse)}},
            return_document=ReturnDocument.BEFORE,
        )

    def renew(self, key: Any, token: Any, fields: Mapping[str, Any] | None = None) -> bool:
        """Push back the lapse of ``token``'s lease on ``key``, setting ``fields`` with it;
        False if the lease is not held (lost to another, or the document gone)."""
        changes = {**(fields or {}), f"{LEASE_FIELD}.until": _now() + self.lapse}
        result = self.collection.update_one(
            {**_key_filter(key), f"{LEASE_FIELD}.token": token}, {"$set": changes}
        )
        return bool(result.matched_count)

    def release(self, key: Any, token: Any, fields: Mapping[str, Any] | None = None) -> bool:
        """Let go of ``token``'s lease on ``key``, setting ``fields`` with it; False if it
        did not hold it."""
        update: dict[str, Any] = {"$unset": {LEASE_FIELD: ""}}
        if fields:
            update["$set"] = dict(fields)
        result = self.collection.update_one(
            {**_key_filter(key), f"{LEASE_FIELD}.token": token}, update
        )
        return bool(result.matched_count)

    def free(self, now: datetime) -> dict[str, Any]:
        """A filter on the documents whose lease is free at ``now``."""
        return free_filter(now)
