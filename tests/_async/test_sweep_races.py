"""A deleting sweep racing saves and uploads: no document ends up naming a missing file, no
upload ends up visible with chunks missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId

from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.store import AsyncFileStore
from gridfield._twins import wait_seconds
from tests.concurrency import run_together

OLD = datetime.now(timezone.utc) - timedelta(hours=3)
BUCKET_FILES = 3000
GRACE = timedelta(0)


class RaceOwner(Document):
    photo = FileField()
    meta = {"collection": "race_owners"}


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected("default")


def store_for(db: Any) -> AsyncFileStore:
    return AsyncFileStore(db, chunk_size=4)


async def plant_old_files(db: Any, count: int) -> list[ObjectId]:
    """``count`` old, whole, unreferenced files, in id order."""
    ids = sorted(ObjectId() for _ in range(count))
    await db["fs.files"].insert_many(
        [{"_id": i, "length": 2, "chunkSize": 4, "uploadDate": OLD, "filename": "f"} for i in ids]
    )
    await db["fs.chunks"].insert_many([{"files_id": i, "n": 0, "data": b"ab"} for i in ids])
    return ids


async def test_a_document_saved_during_a_sweep_keeps_its_file(db: Any) -> None:
    ids = await plant_old_files(db, BUCKET_FILES)
    held = ids[-1]  # the last file the walk reaches: the save lands before it gets there
    store = store_for(db)

    async def sweep() -> Any:
        return await store.sweep([RaceOwner], delete=True, grace=GRACE)

    async def save() -> RaceOwner:
        await wait_seconds(0.05)
        return await RaceOwner(photo=held).save()

    report, owner = await run_together(sweep, save)
    assert report.removed_files >= 1
    stored = await RaceOwner.objects.get(id=owner.id)
    assert await stored.photo.read() == b"ab"


async def test_a_raw_reference_written_during_a_sweep_keeps_its_file(db: Any) -> None:
    ids = await plant_old_files(db, BUCKET_FILES)
    held = ids[-1]
    store = store_for(db)

    async def sweep() -> Any:
        return await store.sweep([RaceOwner], delete=True, grace=GRACE)

    async def insert() -> None:
        await wait_seconds(0.05)
        await db["race_owners"].insert_one({"photo": held})

    await run_together(sweep, insert)
    assert await store.get(held) == b"ab"


async def test_a_slow_upload_open_during_a_sweep_loses_no_chunk(db: Any) -> None:
    store = store_for(db)
    upload = store.open_upload(filename="slow.bin")
    await upload.write(b"x" * 4096)
    await upload.flush()  # its chunks are in; the rest trickles in, a byte at a time

    async def trickle() -> None:
        for _ in range(20):
            await upload.write(b"y")
            await wait_seconds(0.02)

    async def sweep() -> Any:
        await wait_seconds(0.2)
        return await store.sweep(delete=True, grace=GRACE)

    await run_together(trickle, sweep)
    info = await upload.close()
    assert await store.get(info.file_id) == b"x" * 4096 + b"y" * 20
