# Generated from tests/_async/test_sweep_races.py by scripts/unasync.py: do not edit.
"""A deleting sweep racing saves and uploads: no document ends up naming a missing file, no
upload ends up visible with chunks missing."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId

from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.resumable import ResumableStore
from gridfield._sync.store import FileStore
from gridfield._twins import sleep_seconds
from gridfield.core.errors import CorruptFile, NoFile
from gridfield.core.sweeping import SweepTiming
from gridfield.core.tus import Creation, FileNaming, PatchRequest, TusOptions
from gridfield.plain_fields import EmbeddedDocument, EmbeddedDocumentField, ListField, MapField
from tests.concurrency import run_in_threads

OLD = datetime.now(timezone.utc) - timedelta(hours=3)
BUCKET_FILES = 3000
LOOSE = 10  # files of the bucket no document holds when the sweep starts
GRACE = timedelta(0)
# Every upload registers at once and a sweep may use no grace at all.
TIMING = SweepTiming(min_grace=GRACE, lease=timedelta(seconds=30))


class RaceBurrow(EmbeddedDocument):
    photo = FileField()


class RaceOwner(Document):
    photo = FileField()
    burrow = EmbeddedDocumentField(RaceBurrow)
    gallery = ListField(FileField())
    burrows = ListField(EmbeddedDocumentField(RaceBurrow))
    meta = {"collection": "race_owners"}


class RaceAlbum(Document):
    """Files in a map: no query path names them, so the sweep reads the whole collection."""

    pages = MapField(FileField())
    meta = {"collection": "race_albums"}


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected("default")


def store_for(db: Any, timing: SweepTiming = TIMING) -> FileStore:
    return FileStore(db, chunk_size=4, sweep_timing=timing)


def plant_old_files(db: Any, count: int, loose: int) -> list[ObjectId]:
    """``count`` old, whole files, in id order; documents hold all but the last ``loose``."""
    ids = sorted(ObjectId() for _ in range(count))
    db["fs.files"].insert_many(
        [{"_id": i, "length": 2, "chunkSize": 4, "uploadDate": OLD, "filename": "f"} for i in ids]
    )
    db["fs.chunks"].insert_many([{"files_id": i, "n": 0, "data": b"ab"} for i in ids])
    held = ids[: count - loose]
    if held:  # a few documents, each with a long gallery: the reference scan stays short
        galleries = [held[start : start + 500] for start in range(0, len(held), 500)]
        db["race_owners"].insert_many([{"gallery": g} for g in galleries])
    return ids


def old_object_id() -> ObjectId:
    """A unique ObjectId made hours ago, as an old chunk's would be."""
    return ObjectId(int(OLD.timestamp()).to_bytes(4, "big") + os.urandom(8))


def raw_owner(shape: int, file_id: Any) -> tuple[str, dict[str, Any]]:
    """A stored document holding ``file_id`` in one of six places: (collection, document)."""
    if shape == 0:
        return "race_owners", {"photo": file_id}
    if shape == 1:
        return "race_owners", {"burrow": {"photo": file_id}}
    if shape == 2:
        return "race_owners", {"gallery": [ObjectId(), file_id]}
    if shape == 3:
        return "race_owners", {"burrows": [{"photo": ObjectId()}, {"photo": file_id}]}
    if shape == 4:
        return "race_albums", {"pages": {"cover": file_id}}
    return "race_albums", {"pages": {"back": ObjectId(), "front": file_id}}


def test_a_document_saved_during_a_sweep_keeps_its_file(db: Any) -> None:
    ids = plant_old_files(db, BUCKET_FILES, LOOSE)
    held = ids[-1]  # the last file the walk reaches: the save lands before it gets there
    store = store_for(db)

    def sweep() -> Any:
        return store.sweep([RaceOwner], delete=True, grace=GRACE)

    def save() -> RaceOwner:
        sleep_seconds(0.05)
        return RaceOwner(photo=held).save()

    report, owner = run_in_threads(sweep, save)
    assert report.removed_files == LOOSE - 1  # the others no document holds
    stored = RaceOwner.objects.get(id=owner.id)
    assert stored.photo.read() == b"ab"
    assert db["fs.holds"].count_documents({}) == 0  # every hold let go


def test_raw_references_written_during_a_sweep_keep_their_files(db: Any) -> None:
    ids = plant_old_files(db, BUCKET_FILES, LOOSE)
    held = ids[-6:]  # six of the loose files, each named in another place
    store = store_for(db)

    def sweep() -> Any:
        return store.sweep([RaceOwner, RaceAlbum], delete=True, grace=GRACE)

    def insert() -> None:
        sleep_seconds(0.05)
        for shape, file_id in enumerate(held):
            collection, doc = raw_owner(shape, file_id)
            db[collection].insert_one(doc)

    report, _ = run_in_threads(sweep, insert)
    assert report.removed_files == LOOSE - len(held)
    for file_id in held:
        assert store.get(file_id) == b"ab"


def test_a_save_after_its_file_was_swept_fails_and_writes_nothing(db: Any) -> None:
    ids = plant_old_files(db, 3, 3)
    store = store_for(db)
    owner = RaceOwner(photo=ids[0])  # an id taken before the sweep...
    swept = store.sweep([RaceOwner], delete=True, grace=GRACE)
    assert swept.removed_files == 3
    with pytest.raises(NoFile, match=r"removed by a\s+bucket sweep\): a document naming it"):
        owner.save()  # ... saved after it: refused, not a document naming nothing
    assert db["race_owners"].count_documents({}) == 0
    other = RaceOwner().save()
    with pytest.raises(NoFile, match="a document naming it is not saved"):
        RaceOwner.objects(id=other.id).update_one(set__photo=RaceOwner(photo=ids[1]).photo)
    assert (db["race_owners"].find_one({"_id": other.id}) or {}).get("photo") is None
    assert db["fs.holds"].count_documents({}) == 0


def test_a_save_waits_while_a_sweep_holds_its_file(db: Any) -> None:
    ids = plant_old_files(db, 1, 1)
    # A sweep's hold, as a sweep deciding on the file leaves it for a moment.
    db["fs.holds"].insert_one(
        {"_id": ids[0], "by": "sweep", "token": "t", "at": datetime.now(timezone.utc)}
    )

    def sweep_lets_go() -> None:
        sleep_seconds(0.3)
        db["fs.holds"].delete_one({"_id": ids[0]})

    def save() -> RaceOwner:
        return RaceOwner(photo=ids[0]).save()

    _, owner = run_in_threads(sweep_lets_go, save)
    assert (RaceOwner.objects.get(id=owner.id)).photo.grid_id == ids[0]
    assert db["fs.holds"].count_documents({}) == 0


def test_a_stale_hold_is_taken_for_a_crashed_one(db: Any) -> None:
    ids = plant_old_files(db, 1, 1)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    db["fs.holds"].insert_one({"_id": ids[0], "by": "save", "token": "t", "at": long_ago})
    owner = RaceOwner(photo=ids[0]).save()  # does not wait for the crashed save
    assert (RaceOwner.objects.get(id=owner.id)).photo.grid_id == ids[0]
    assert db["fs.holds"].count_documents({}) == 0


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

    _, report = run_in_threads(trickle, sweep)
    assert report.open_uploads == 1 and report.removed_chunks == 0
    info = upload.close()
    assert store.get(info.file_id) == b"x" * 4096 + b"y" * 20
    assert db["fs.uploads"].count_documents({}) == 0  # the entry goes at close


def test_an_upload_whose_chunks_went_while_it_was_silent_fails_at_close(db: Any) -> None:
    # A lease shorter than the silence: the entry no longer protects the chunks.
    timing = SweepTiming(min_grace=GRACE, lease=timedelta(seconds=0.1))
    store = store_for(db, timing)
    upload = store.open_upload(filename="silent.bin")
    upload.write(b"x" * 4096)
    upload.flush()
    sleep_seconds(0.2)
    swept = store.sweep(delete=True, grace=GRACE)
    assert swept.removed_chunks == 1024
    upload.write(b"tail")
    with pytest.raises(CorruptFile, match=r"1 of its 1025 chunks are in fs.chunks .*nothing was"):
        upload.close()
    assert db["fs.files"].count_documents({}) == 0  # nothing visible
    assert db["fs.chunks"].count_documents({}) == 0  # and its last chunk removed
    assert db["fs.uploads"].count_documents({}) == 0


def test_a_paused_resumable_upload_keeps_its_old_chunks(db: Any) -> None:
    store = store_for(db)
    resumable = ResumableStore(store, TusOptions(expire_after=timedelta(hours=1)))
    naming = FileNaming("a.bin", "application/octet-stream", {})
    paused = resumable.create(Creation(100, {}, None), naming)
    expired = resumable.create(Creation(100, {}, None), naming)
    for upload in (paused, expired):
        resumable.patch(upload.upload_id, PatchRequest(0, None, None, 8), _bytes(b"ab" * 4))
    # Both paused for hours: their chunks as old as their pause, one of them past its expiry.
    for chunk in db["fs.chunks"].find().to_list(None):
        db["fs.chunks"].delete_one({"_id": chunk["_id"]})
        db["fs.chunks"].insert_one({**chunk, "_id": old_object_id()})
    resumable.registry.update_one({"_id": expired.upload_id}, {"$set": {"expires": OLD}})
    report = store.sweep(delete=True, grace=GRACE)
    assert report.removed_resumable == 1
    assert db["fs.chunks"].distinct("files_id") == [paused.file_id]
    assert [doc["_id"] for doc in resumable.registry.find().to_list(None)] == [paused.upload_id]


def _bytes(data: bytes) -> Iterator[bytes]:
    yield data


def test_a_short_upload_costs_no_registration(db: Any) -> None:
    store = FileStore(db)  # the default timing: an upload registers after 15 seconds
    upload = store.open_upload()
    upload.write(b"x" * 100)
    upload.close()
    assert "fs.uploads" not in db.list_collection_names()


def test_a_deleting_sweep_refuses_a_grace_below_its_smallest(db: Any) -> None:
    store = FileStore(db)
    store.put(b"kept")
    with pytest.raises(ValueError, match=r"needs a grace of at least 0:01:00 \(got 0:00:00\)"):
        store.sweep(delete=True, grace=timedelta(0))
    assert db["fs.files"].count_documents({}) == 1
    report = store.sweep(grace=timedelta(0))  # a dry run may look at anything
    assert report.removed_files == report.removed_chunks == 0


SWEEPS = 200
SWEEPERS = 4
WORKERS = 20


def test_sweeps_racing_uploads_and_saves_delete_no_held_file_and_damage_no_upload(
    db: Any,
) -> None:
    old = plant_old_files(db, WORKERS, WORKERS)  # no document holds them yet
    store = store_for(db)
    saved: list[Any] = []
    refused: list[Any] = []
    uploaded: list[tuple[Any, bytes]] = []

    def sweeper() -> None:
        for _ in range(SWEEPS // SWEEPERS):
            store.sweep([RaceOwner], delete=True, grace=GRACE)

    def saver(i: int) -> None:
        sleep_seconds(random.random() * 0.5)
        try:
            owner = RaceOwner(photo=old[i]).save()
        except NoFile:
            refused.append(old[i])  # swept before the save held it: nothing written
        else:
            saved.append(owner.id)

    def uploader(i: int) -> None:
        data = random.Random(i).randbytes(4 * (50 + i))
        upload = store.open_upload(filename=f"up{i}")
        for start in range(0, len(data), 40):
            upload.write(data[start : start + 40])
            upload.flush()
            sleep_seconds(random.random() * 0.02)
        info = upload.close()
        uploaded.append((info.file_id, data))

    workers = [sweeper for _ in range(SWEEPERS)]
    workers += [lambda i=i: saver(i) for i in range(WORKERS)]  # type: ignore[misc]
    workers += [lambda i=i: uploader(i) for i in range(WORKERS)]  # type: ignore[misc]
    run_in_threads(*workers)

    assert len(saved) + len(refused) == WORKERS and len(uploaded) == WORKERS
    for raw in db["race_owners"].find():
        assert store.get(raw["photo"]) == b"ab"  # every saved document's file is there
    assert db["race_owners"].count_documents({}) == len(saved)
    for file_id, data in uploaded:
        try:
            assert store.get(file_id) == data  # whole...
        except NoFile:
            pass  # ... or, unreferenced once closed, swept whole: files document first
    report = store.check([RaceOwner], grace=GRACE)
    assert report.damaged_files == []
    assert db["fs.holds"].count_documents({}) == 0
    assert db["fs.uploads"].count_documents({}) == 0


def test_an_upload_silent_after_its_first_batch_keeps_its_chunks_through_sweeps(
    db: Any,
) -> None:
    # Registration is not left to the clock: with a grace of 2 s (an upload registering
    # after 1.8 s), an upload that sends its first batch at once and then pauses past the
    # grace is protected from its first chunk on.
    grace = timedelta(seconds=2)
    timing = SweepTiming(min_grace=grace, lease=timedelta(hours=1), register_fraction=0.9)
    store = store_for(db, timing)
    upload = store.open_upload(filename="paused.bin")
    finished: list[bool] = []

    def slow_writer() -> Any:
        upload.write(b"x" * 4096)
        upload.flush()  # its first batch: 1024 chunks
        sleep_seconds(2.5)  # silent past the grace while sweeps run
        upload.write(b"tail")
        info = upload.close()
        finished.append(True)
        return info

    def sweeper() -> list[Any]:
        reports = []
        while not finished:
            sleep_seconds(0.2)
            reports.append(store.sweep(delete=True, grace=grace))
        return reports

    info, reports = run_in_threads(slow_writer, sweeper)
    assert reports and all(r.removed_chunks == 0 for r in reports)
    assert store.get(info.file_id) == b"x" * 4096 + b"tail"
    assert db["fs.uploads"].count_documents({}) == 0
