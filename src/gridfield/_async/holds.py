"""Holds on stored files, in ``<bucket>.holds``: a save holds a file while it writes a
document naming it, a deleting sweep while it decides and deletes. Whoever inserts the
hold first has the file: the unique ``_id`` decides, on any server."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .._twins import wait_seconds
from ..core.errors import NoFile
from ..core.queries import file_filter
from ..core.sweeping import SAVE, SWEEP, hold, stale

if TYPE_CHECKING:
    from .store import AsyncFileStore

__all__ = ["hold_for_save", "hold_for_sweep", "let_go"]


async def hold_for_save(store: AsyncFileStore, file_id: Any) -> Any:
    """Hold ``file_id`` for a save, waiting while another holds it (a hold older than
    ``sweep_timing.hold`` is taken for a crashed one's and removed); the hold's token.

    NoFile, holding nothing, when the file is gone."""
    timing = store.sweep_timing
    token = ObjectId()
    while True:
        now = datetime.now(timezone.utc)
        try:
            await store.bucket.holds.insert_one(hold(file_id, SAVE, token, now))
            break
        except DuplicateKeyError:
            other = await store.bucket.holds.find_one(file_filter(file_id))
            if other is None:
                continue  # let go meanwhile
            if stale(other, now, timing):
                await store.bucket.holds.delete_one(
                    {**file_filter(file_id), "token": other.get("token")}
                )
                continue
            await wait_seconds(timing.poll.total_seconds())
    try:
        found = await store.bucket.files.find_one(file_filter(file_id), projection={"_id": 1})
    except BaseException:
        await let_go(store, [file_id], token)
        raise
    if found is None:
        await let_go(store, [file_id], token)
        raise NoFile(
            f"no file with id {file_id!r} in {store.bucket.files.name} (deleted, or removed by a"
            " bucket sweep): a document naming it is not saved"
        )
    return token


async def hold_for_sweep(store: AsyncFileStore, ids: list[Any], token: Any) -> list[Any]:
    """Hold what can be held of ``ids`` for a sweep (``token``); the ids it holds. Those a
    save holds are left; a crashed process's stale holds among them are removed for the
    next sweep."""
    if not ids:
        return []
    now = datetime.now(timezone.utc)
    try:
        await store.bucket.holds.insert_many(
            [hold(i, SWEEP, token, now) for i in ids], ordered=False
        )
        return list(ids)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors") or []
        if any(error.get("code") != 11000 for error in errors):
            raise
        taken = {error["index"] for error in errors}
    others = [ids[i] for i in sorted(taken)]
    async for other in store.bucket.holds.find({"_id": {"$in": others}}):
        if stale(other, now, store.sweep_timing):
            await store.bucket.holds.delete_one({"_id": other["_id"], "token": other.get("token")})
    return [file_id for i, file_id in enumerate(ids) if i not in taken]


async def let_go(store: AsyncFileStore, ids: list[Any], token: Any) -> None:
    """Release the holds ``token`` has on ``ids``."""
    if len(ids) == 1:
        await store.bucket.holds.delete_one({**file_filter(ids[0]), "token": token})
    elif ids:
        await store.bucket.holds.delete_many({"_id": {"$in": ids}, "token": token})
