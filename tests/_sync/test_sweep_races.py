# Generated from tests/_async/test_sweep_races.py by scripts/unasync.py: do not edit.
"""A deleting sweep racing saves and uploads: no document ends up naming a missing file, no
upload ends up visible with chunks missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId

from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.store import FileStore
from gridfield._twins import sleep_seconds
from tests.concurrency import run_in_threads

OLD = datetime.now(timezone.utc) - timedelta(hours=3)
BUCKET_FILES = 3000
GRACE = timedelta(0)


class RaceOwner(Document):
    photo = FileField()
    meta = {"collection": "race_owners"}


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected("default")


def store_for(db: Any) -> FileStore:
    return FileStore(db, chunk_size=4)


def plant_old_files(db: Any, count: int) -> list[ObjectId]:
    """``count`` old, whole, unreferenced files, in id order."""
    ids = sorted(ObjectId() for _ in range(count))
    db["fs.files"].insert_many(
        [{"_id": i, "length": 2, "chunkSize": 4, "uploadDate": OLD, "filename": "f"} for i in ids]
    )
    db["fs.chunks"].insert_many([{"files_id": i, "n": 0, "data": b"ab"} for i in ids])
    return ids


def test_a_document_saved_during_a_sweep_keeps_its_file(db: Any) -> None:
    ids = plant_old_files(db, BUCKET_FILES)
    held = ids[-1]  # the last file the walk reaches: the save lands before it gets there
    store = store_for(db)

    def sweep() -> Any:
        return store.sweep([RaceOwner], delete=True, grace=GRACE)

    def save() -> RaceOwner:
        sleep_seconds(0.05)
        return RaceOwner(photo=held).save()

    report, owner = run_in_threads(sweep, save)
    assert report.removed_files >= 1
    stored = RaceOwner.objects.get(id=owner.id)
    assert stored.photo.read() == b"ab"


def test_a_raw_reference_written_during_a_sweep_keeps_its_file(db: Any) -> None:
    ids = plant_old_files(db, BUCKET_FILES)
    held = ids[-1]
    store = store_for(db)

    def sweep() -> Any:
        return store.sweep([RaceOwner], delete=True, grace=GRACE)

    def insert() -> None:
        sleep_seconds(0.05)
        db["race_owners"].insert_one({"photo": held})

    run_in_threads(sweep, insert)
    assert store.get(held) == b"ab"


def test_a_slow_upload_open_during_a_sweep_loses_no_chunk(db: Any) -> None:
    store = store_for(db)
    upload = store.open_upload(filename="slow.bin")
    upload.write(b"x" * 4096)
    upload.flush()  # its chunks are in; the rest trickles in, a byte at a time

    def trickle() -> None:
        for _ in range(20):
            upload.write(b"y")
            sleep_seconds(0.02)

    def sweep() -> Any:
        sleep_seconds(0.2)
        return store.sweep(delete=True, grace=GRACE)

    run_in_threads(trickle, sweep)
    info = upload.close()
    assert store.get(info.file_id) == b"x" * 4096 + b"y" * 20
