# Generated from src/gridfield/_async/holds.py by scripts/unasync.py: do not edit.
"""Holds on stored files, in ``<bucket>.holds``: a save holds a file while it writes a
document naming it, a deleting sweep while it decides and deletes. A hold is a lease on
the file's id (``leases``): whoever takes it first has the file, on any server."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from .._twins import sleep_seconds
from ..core.errors import NoFile
from ..core.queries import file_filter
from ..core.sweeping import SAVE, SWEEP
from .interfaces import StoreParts
from .leases import Leases

__all__ = ["hold_for_save", "hold_for_sweep", "holds_of", "let_go"]


def holds_of(store: StoreParts) -> Leases:
    """The holds on ``store``'s files, lapsing after its ``sweep_timing.hold``."""
    return Leases(store.bucket.holds, store.sweep_timing.hold)


def hold_for_save(store: StoreParts, file_id: Any) -> Any:
    """Hold ``file_id`` for a save, waiting while another holds it (a hold older than
    ``sweep_timing.hold`` is taken for a crashed one's and removed); the hold's token.

    NoFile, holding nothing, when the file is gone."""
    holds = holds_of(store)
    token = ObjectId()
    while not holds.take(file_id, token, {"by": SAVE}):
        sleep_seconds(store.sweep_timing.poll.total_seconds())
    try:
        found = store.bucket.files.find_one(file_filter(file_id), projection={"_id": 1})
    except BaseException:
        holds.release(file_id, token)
        raise
    if found is None:
        holds.release(file_id, token)
        raise NoFile(
            f"no file with id {file_id!r} in {store.bucket.files.name} (deleted, or removed by"
            " a bucket sweep): a document naming it is not saved"
        )
    return token


def hold_for_sweep(store: StoreParts, ids: list[Any], token: Any) -> list[Any]:
    """Hold what can be held of ``ids`` for a sweep (``token``); the ids it holds. Those a
    save holds are left; a crashed process's stale holds among them are removed for the
    next sweep."""
    return holds_of(store).take_many(ids, token, {"by": SWEEP})


def let_go(store: StoreParts, ids: list[Any], token: Any) -> None:
    """Release the holds ``token`` has on ``ids``."""
    holds_of(store).release_many(ids, token)
