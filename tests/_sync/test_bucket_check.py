# Generated from tests/_async/test_bucket_check.py by scripts/unasync.py: do not edit.
"""The bucket check and sweep: orphan chunks, damaged files and files no document holds are
found exactly, uploads in flight are left alone, and the sweep removes only what it should."""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from mongoengine.connection import ConnectionFailure
from PIL import Image
from pymongo import MongoClient

from benchmarks.rss import PeakRSS
from gridfield._sync.connection import connect, disconnect
from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.image_field import ImageField
from gridfield._sync.store import FileStore
from gridfield.core.raw_holders import Holder
from gridfield.core.sweeping import SweepTiming
from gridfield.plain_fields import EmbeddedDocument, EmbeddedDocumentField, ListField

OTHER_ALIAS = "gridfield-test-check-other"
CHUNK = 4
OLD = datetime.now(timezone.utc) - timedelta(hours=3)
# Tests sweep with no grace.
QUICK = SweepTiming(min_grace=timedelta(0))


class CheckBurrow(EmbeddedDocument):
    photo = FileField()


class CheckOwner(Document):
    photo = FileField()
    burrow = EmbeddedDocumentField(CheckBurrow)
    gallery = ListField(FileField())
    burrows = ListField(EmbeddedDocumentField(CheckBurrow))
    meta = {"collection": "check_owners", "allow_inheritance": True}


class CheckOwnerChild(CheckOwner):
    """A subclass in its parent's collection, with a field stored under another alias."""

    poster = FileField(db_alias=OTHER_ALIAS)


class CheckElsewhere(Document):
    """Holds files of another bucket: its ids do not keep files of "fs" alive."""

    photo = FileField(collection_name="photos")
    meta = {"collection": "check_elsewhere"}


class CheckAlbum(Document):
    """Holds images: each stores a thumbnail and a named variant beside the image."""

    cover = ImageField(thumbnail_size=(8, 8, True), variants={"small": (16, 16)})
    meta = {"collection": "check_albums"}


def old_object_id(when: datetime = OLD) -> ObjectId:
    """A unique ObjectId made at ``when``, as an old chunk's would be."""
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + os.urandom(8))


def files_doc(file_id: Any, length: int, name: str, when: datetime = OLD) -> dict[str, Any]:
    return {
        "_id": file_id,
        "length": length,
        "chunkSize": CHUNK,
        "uploadDate": when,
        "filename": name,
    }


def chunk(file_id: Any, n: int, data: bytes, when: datetime = OLD) -> dict[str, Any]:
    return {"_id": old_object_id(when), "files_id": file_id, "n": n, "data": data}


def owner_for(slot: int, file_id: Any) -> dict[str, Any]:
    """A stored document holding ``file_id`` in one of five places."""
    if slot == 0:
        return {"_cls": "CheckOwner", "photo": file_id}
    if slot == 1:
        return {"_cls": "CheckOwner", "burrow": {"photo": file_id}}
    if slot == 2:
        return {"_cls": "CheckOwner", "gallery": [ObjectId(), file_id]}
    if slot == 3:
        return {"_cls": "CheckOwner", "burrows": [{"photo": ObjectId()}, {"photo": file_id}]}
    return {"_cls": "CheckOwner.CheckOwnerChild", "poster": file_id}


# Where raw collections hold file ids (a pydantic or PyMongo app's): top-level, embedded,
# arrays of ids, arrays of subdocuments, and in another database of the same client.
HELD_DB = "{}_held"


def holders_in(db: Any) -> list[Any]:
    """The raw holders of the planted references, as tuples and as a Holder."""
    return [
        ("products", "photo_id"),
        ("pages", "meta.cover"),
        ("albums", "photos"),
        Holder("pages", "blocks.file"),
        ("products", "photo_id", HELD_DB.format(db.name)),
    ]


def raw_owner_for(slot: int, file_id: Any) -> tuple[str, dict[str, Any]]:
    """A raw stored document (and its collection) holding ``file_id`` in one of five places;
    beside it, values at the path that are no file's id."""
    if slot == 0:
        return "products", {"photo_id": file_id, "name": "marmot"}
    if slot == 1:
        return "pages", {"meta": {"cover": file_id, "title": "burrows"}, "blocks": []}
    if slot == 2:
        return "albums", {"photos": [ObjectId(), file_id, None, "not an id"]}
    if slot == 3:
        blocks = [{"text": "hi"}, {"file": None}, {"file": ObjectId()}, {"file": file_id}]
        return "pages", {"blocks": blocks}
    return HELD_DB, {"photo_id": file_id}


class Planted:
    """A bucket with sound files and planted problems, as raw GridFS documents; references
    in CheckOwner documents, or (``raw``) in raw collections (``holders_in``)."""

    def __init__(self, *, raw: bool = False) -> None:
        self.raw = raw
        self.files: list[dict[str, Any]] = []
        self.chunks: list[dict[str, Any]] = []
        self.owners: list[dict[str, Any]] = []
        self.raw_owners: dict[str, list[dict[str, Any]]] = {}
        self.elsewhere: list[dict[str, Any]] = []
        self.sound: list[Any] = []
        self.damaged: dict[Any, str] = {}
        self.orphans: dict[Any, int] = {}
        self.unreferenced: list[Any] = []

    def sound_file(self, i: int, *, referenced: bool = True) -> Any:
        file_id = ObjectId()
        self.files.append(files_doc(file_id, 6, f"file-{i}"))
        self.chunks += [chunk(file_id, 0, b"abcd"), chunk(file_id, 1, b"ef")]
        if referenced:
            self.own(i, file_id)
            self.sound.append(file_id)
        return file_id

    def own(self, i: int, file_id: Any) -> None:
        if self.raw:
            collection, doc = raw_owner_for(i % 5, file_id)
            self.raw_owners.setdefault(collection, []).append(doc)
        else:
            self.owners.append(owner_for(i % 5, file_id))

    def damaged_file(self, i: int) -> None:
        file_id = ObjectId()
        kind = ("missing", "short", "extra")[i % 3]
        self.files.append(files_doc(file_id, 6, f"damaged-{i}"))
        if kind == "missing":
            self.chunks.append(chunk(file_id, 0, b"abcd"))
            self.damaged[file_id] = "chunk 1 is missing"
        elif kind == "short":
            self.chunks += [chunk(file_id, 0, b"abcd"), chunk(file_id, 1, b"e")]
            self.damaged[file_id] = "chunk 1 is 1 bytes, expected 2"
        else:
            self.chunks += [chunk(file_id, n, d) for n, d in enumerate([b"abcd", b"ef", b"gh"])]
            self.damaged[file_id] = "extra chunk 2"
        self.own(i, file_id)

    def orphan_chunks(self, i: int) -> None:
        # Ids of several kinds: GridFS ids need not be ObjectIds.
        file_id: Any = (ObjectId(), f"orphan-{i}", {"key": i})[i % 3]
        count = 1 + i % 3
        self.chunks += [chunk(file_id, n, b"abcd") for n in range(count)]
        self.orphans[repr(file_id)] = count

    def unreferenced_file(self, i: int) -> None:
        file_id = self.sound_file(10_000 + i, referenced=False)
        if i % 4 == 0:  # held only by a field of another bucket
            self.elsewhere.append({"photo": file_id})
        if i % 4 == 1 and self.raw:  # held at a path no holder names
            self.raw_owners.setdefault("products", []).append({"draft": {"photo_id": file_id}})
        self.unreferenced.append(file_id)

    def insert(self, db: Any) -> None:
        db["fs.files"].insert_many(self.files)
        db["fs.chunks"].insert_many(self.chunks)
        if self.owners:
            db["check_owners"].insert_many(self.owners)
        if self.elsewhere:
            db["check_elsewhere"].insert_many(self.elsewhere)
        for collection, docs in self.raw_owners.items():
            if collection == HELD_DB:
                db.client[HELD_DB.format(db.name)]["products"].insert_many(docs)
            else:
                db[collection].insert_many(docs)


def counts(db: Any) -> tuple[int, int]:
    return (
        db["fs.files"].count_documents({}),
        db["fs.chunks"].count_documents({}),
    )


@pytest.fixture
def db(connected: Callable[..., Any]) -> Iterator[Any]:
    connected(OTHER_ALIAS)
    db = connected("default")
    try:
        yield db
    finally:
        db.client.drop_database(HELD_DB.format(db.name))


# --------------------------------------------------------------------------- small cases


def test_a_clean_bucket_reports_nothing_and_changes_nothing(db: Any) -> None:
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
    info = store.put(b"abcdef", filename="a")
    db["check_owners"].insert_one({"_cls": "CheckOwner", "photo": info.file_id})
    report = store.check([CheckOwner], grace=timedelta(0))
    assert report.clean, report.summary()
    assert (report.files_checked, report.chunks_checked) == (1, 2)
    assert report.documents_scanned == ["CheckOwner"]
    assert report.references_found == 1
    assert "unreferenced files: 0 (1 references found in CheckOwner)" in report.summary()


def test_each_class_of_problem_is_found(db: Any) -> None:
    planted = Planted()
    planted.sound_file(0)
    for i in range(3):
        planted.damaged_file(i)
        planted.orphan_chunks(i)
        planted.unreferenced_file(i)
    planted.insert(db)
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
    before = counts(db)
    report = store.check([CheckOwner, CheckElsewhere])
    assert counts(db) == before  # a check changes nothing
    damaged = {d.file_id: d.problem for d in report.damaged_files}
    assert set(damaged) == set(planted.damaged)
    for file_id, problem in planted.damaged.items():
        assert problem in damaged[file_id]
    assert {repr(o.files_id): o.chunks for o in report.orphan_chunks} == planted.orphans
    assert {u.file_id for u in report.unreferenced_files} == set(planted.unreferenced)
    assert not report.clean
    assert "damaged files: 3" in report.summary()
    without_refs = store.check()
    assert without_refs.unreferenced_files == []
    assert "not checked" in without_refs.summary()


def test_young_orphans_and_unreferenced_files_are_left_alone(db: Any) -> None:
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
    upload = store.open_upload(filename="in flight")
    upload.write(b"x" * 40)
    upload.flush()
    stored = store.put(b"not saved on a document yet")
    planted = Planted()
    planted.orphan_chunks(0)
    planted.unreferenced_file(0)
    planted.insert(db)
    before = counts(db)
    dry = store.sweep([CheckOwner])
    assert counts(db) == before
    assert (dry.removed_files, dry.removed_chunks) == (0, 0)
    assert [u.file_id for u in dry.unreferenced_files] == planted.unreferenced
    report = store.sweep([CheckOwner], delete=True)
    assert (report.removed_files, report.removed_chunks) == (1, 3)
    assert counts(db) == (before[0] - 1, before[1] - 3)
    assert report.in_flight == 1
    upload.write(b"tail")
    info = upload.close()
    assert store.get(info.file_id) == b"x" * 40 + b"tail"
    assert store.get(stored.file_id) == b"not saved on a document yet"
    now = store.check([CheckOwner], grace=timedelta(0))
    assert {u.file_id for u in now.unreferenced_files} == {info.file_id, stored.file_id}


def test_bad_arguments_are_refused_before_any_read(db: Any) -> None:
    store = FileStore(db)
    with pytest.raises(ValueError, match="grace must not be negative"):
        store.check(grace=timedelta(seconds=-1))
    with pytest.raises(TypeError, match="grace must be a timedelta, not int"):
        store.check(grace=3600)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="documents must be Document classes"):
        store.check([CheckBurrow])
    with pytest.raises(ValueError, match=re.escape("'registered' or None, not 'all'")):
        store.sweep("all", delete=True)


@pytest.mark.parametrize(
    ("holder", "error", "message"),
    [
        ((3, "photo_id"), TypeError, "a holder's collection must be a str, not int"),
        (("products", ""), ValueError, "holder 'products': the path must not be empty"),
        (("products", "$where"), ValueError, "path '$where' is a field path, not an operator"),
        (["products", "photo_id"], TypeError, "documents must be Document classes or holders"),
        ("products", TypeError, "documents must be Document classes or holders"),
    ],
)
def test_bad_holders_are_refused_before_any_io(
    db: Any, holder: Any, error: type[Exception], message: str
) -> None:
    planted = Planted(raw=True)
    planted.unreferenced_file(0)
    planted.insert(db)
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
    with pytest.raises(error, match=re.escape(message)):
        store.sweep([("products", "photo_id"), holder], delete=True)
    assert counts(db) == (1, 2)  # nothing swept
    # A store on a server no one answers: any read would fail otherwise, and late.
    nowhere = MongoClient("mongodb://127.0.0.1:9", serverSelectionTimeoutMS=200)
    try:
        unreachable = FileStore(nowhere["nothing"], sweep_timing=QUICK)
        with pytest.raises(error, match=re.escape(message)):
            unreachable.check([CheckElsewhere, holder])
    finally:
        nowhere.close()


def test_a_check_names_its_holders(db: Any) -> None:
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
    held = store.put(b"held", filename="held")
    loose = store.put(b"loose", filename="loose")
    db["products"].insert_one({"photo_id": held.file_id})
    report = store.check([CheckOwner, ("products", "photo_id")], grace=timedelta(0))
    assert report.documents_scanned == ["CheckOwner", "products:photo_id"]
    assert report.references_found == 1
    assert [u.file_id for u in report.unreferenced_files] == [loose.file_id]
    assert "(1 references found in CheckOwner, products:photo_id)" in report.summary()


def test_registered_classes_with_no_connection_are_listed_and_block_deletion(
    db: Any,
) -> None:
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)

    class CheckUnconnected(Document):
        photo = FileField()
        meta = {"db_alias": "gridfield-test-check-never-connected"}

    planted = Planted()
    planted.unreferenced_file(0)
    planted.insert(db)
    report = store.check("registered")
    assert "CheckUnconnected" in report.documents_unscanned
    assert "CheckOwner" in (report.documents_scanned or [])
    with pytest.raises(ConnectionFailure, match="CheckUnconnected"):
        store.sweep("registered", delete=True)
    assert counts(db) == (1, 2)
    with pytest.raises(ConnectionFailure):
        store.check([CheckUnconnected])


# --------------------------------------------------------------------------- at scale

SOUND = 2000
PLANTED = 100
IN_FLIGHT = 20


@pytest.mark.parametrize("raw", [False, True], ids=["classes", "raw holders"])
def test_planted_problems_are_found_exactly_and_swept_alone(db: Any, raw: bool) -> None:
    planted = Planted(raw=raw)
    # Raw holders beside a class: CheckElsewhere holds ids of another bucket.
    documents = [CheckElsewhere, *holders_in(db)] if raw else [CheckOwner, CheckElsewhere]
    for i in range(SOUND):
        planted.sound_file(i)
    for i in range(PLANTED):
        planted.damaged_file(i)
        planted.orphan_chunks(i)
        planted.unreferenced_file(i)
    planted.insert(db)
    store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
    uploads = []
    for i in range(IN_FLIGHT):
        upload = store.open_upload(filename=f"in-flight-{i}")
        upload.write(bytes([i]) * 12)
        upload.flush()
        uploads.append(upload)

    report = store.check(documents)
    assert report.files_checked == SOUND + 2 * PLANTED
    assert {d.file_id for d in report.damaged_files} == set(planted.damaged)
    assert {repr(o.files_id): o.chunks for o in report.orphan_chunks} == planted.orphans
    assert {u.file_id for u in report.unreferenced_files} == set(planted.unreferenced)
    assert report.in_flight == IN_FLIGHT

    files_before, chunks_before = counts(db)
    swept = store.sweep(iter(documents), delete=True)  # an iterator serves both phases
    orphan_chunks = sum(planted.orphans.values())
    assert swept.removed_files == PLANTED
    assert swept.removed_chunks == 2 * PLANTED + orphan_chunks
    assert counts(db) == (files_before - PLANTED, chunks_before - swept.removed_chunks)
    finished = [upload.close() for upload in uploads]
    assert {info.length for info in finished} == {12}
    assert store.get(finished[0].file_id) == bytes([0]) * 12
    held = [*planted.sound, *planted.damaged]
    assert db["fs.files"].count_documents({"_id": {"$in": held}}) == len(held)
    after = store.check(documents)
    assert after.orphan_chunks == []
    # Every chunk of every file was checked again: the sound files and the uploads that
    # were in flight are whole; the damaged ones are still there, as the sweep leaves them.
    assert after.files_checked == SOUND + PLANTED + IN_FLIGHT
    assert {d.file_id for d in after.damaged_files} == set(planted.damaged)
    # The finished uploads are new: within the grace period, not yet unreferenced.
    assert after.unreferenced_files == []


def test_thumbnails_and_variants_go_with_their_image(db: Any) -> None:
    held, dropped = CheckAlbum(), CheckAlbum()
    for album in (held, dropped):
        out = io.BytesIO()
        Image.new("RGB", (40, 30), "teal").save(out, "PNG")
        album.cover.put(out.getvalue(), filename="cover.png")
        album.save()
    images = [raw for raw in db["images.files"].find()]
    children: dict[Any, set[Any]] = {
        raw["_id"]: {raw["thumbnail_id"], *raw["variants"].values()}
        for raw in images
        if raw.get("thumbnail_id") is not None
    }
    assert set(children) == {held.cover.grid_id, dropped.cover.grid_id}
    assert all(len(ids) == 2 for ids in children.values())  # a thumbnail and a variant
    db["check_albums"].delete_one({"_id": dropped.id})  # no document holds it now
    store = FileStore(db, "images", sweep_timing=QUICK)

    report = store.check([CheckAlbum], grace=timedelta(0))
    gone = {dropped.cover.grid_id, *children[dropped.cover.grid_id]}
    assert {u.file_id for u in report.unreferenced_files} == gone
    swept = store.sweep([CheckAlbum], delete=True, grace=timedelta(0))
    assert swept.removed_files == 3
    assert db["images.files"].count_documents({"_id": {"$in": list(gone)}}) == 0
    assert db["images.chunks"].count_documents({"files_id": {"$in": list(gone)}}) == 0
    for file_id in (held.cover.grid_id, *children[held.cover.grid_id]):
        assert store.get(file_id)  # every thumbnail and variant of the held image reads
    after = store.check([CheckAlbum], grace=timedelta(0))
    assert after.clean, after.summary()


MANY = 10_000
MAX_GROWTH = 64 * 2**20


def test_a_check_of_ten_thousand_files_keeps_memory_bounded(mongo_uri: str) -> None:
    # One client flavour is enough to measure memory, and a bucket this size is slow to fill
    # on FerretDB: this test makes its own PyMongo client instead of running once per driver.
    client = MongoClient(mongo_uri)
    db = client[f"gridfield_test_{uuid.uuid4().hex}"]
    connect(db=db.name, client=client, alias="default")
    connect(db=db.name, client=client, alias=OTHER_ALIAS)
    try:
        planted = Planted()
        for i in range(MANY):
            planted.sound_file(i)
        for i in range(10):
            planted.damaged_file(i)
            planted.orphan_chunks(i)
            planted.unreferenced_file(i)
        planted.insert(db)
        wanted = (set(planted.damaged), len(planted.orphans), set(planted.unreferenced))
        del planted  # the test's own copy of the bucket is not the check's memory
        store = FileStore(db, chunk_size=CHUNK, sweep_timing=QUICK)
        with PeakRSS() as rss:
            report = store.check([CheckOwner, CheckElsewhere])
        assert report.files_checked == MANY + 20
        assert report.chunks_checked >= 2 * MANY
        found = (
            {d.file_id for d in report.damaged_files},
            len(report.orphan_chunks),
            {u.file_id for u in report.unreferenced_files},
        )
        assert found == wanted
        assert rss.growth < MAX_GROWTH, f"peak RSS grew by {rss.growth / 2**20:.1f} MiB"
    finally:
        disconnect("default")
        disconnect(OTHER_ALIAS)
        client.drop_database(db.name)
        client.close()
