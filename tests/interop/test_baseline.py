"""The test server is real: GridFS files round-trip between PyMongo, Motor and MongoEngine."""

from __future__ import annotations

import inspect
import io
import os
import random
from typing import Any

import gridfs
import mongoengine
import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket, GridFSBucket
from motor.motor_asyncio import AsyncIOMotorDatabase, AsyncIOMotorGridFSBucket
from pymongo.errors import DuplicateKeyError

from tests.server_differences import check_duplicate_key_details

DATA = random.Random(20260601).randbytes(3 * 1024 * 1024)
CHUNK = gridfs.DEFAULT_CHUNK_SIZE  # 255 KiB: DATA spans 13 chunks, the last one short
CHUNK_COUNT = -(-len(DATA) // CHUNK)
FILENAME = "baseline.bin"
CONTENT_TYPE = "application/octet-stream"
CHUNK_KEY = {"files_id": 1, "n": 1}

# (offset, size) pairs: inside one chunk, across one and several chunk boundaries, at the
# very end, past the end, and "the rest" (size -1). Each seek costs a chunks query, which
# FerretDB answers by scanning the whole collection (FERRETDB_NO_FILTER_PUSHDOWN): keep it short.
RANGED_READS = [
    (0, 1),
    (0, CHUNK),
    (CHUNK - 1, 2),
    (CHUNK, CHUNK),
    (CHUNK + 1, 3 * CHUNK),
    (5 * CHUNK - 10, 20),
    (1_000_003, 777),
    (len(DATA) - 5, 100),
    (len(DATA), 10),
    (len(DATA) - CHUNK - 3, -1),
    (123, 0),
]


class Stored(mongoengine.Document):
    """A MongoEngine document holding one file."""

    meta = {"collection": "baseline_stored"}
    name = mongoengine.StringField()
    file = mongoengine.FileField()


def assert_same(got: bytes, want: bytes, where: str) -> None:
    """Compare without pytest diffing megabytes: report the length and first differing byte."""
    if got == want:
        return
    shorter = min(len(got), len(want))
    first = next((i for i in range(shorter) if got[i] != want[i]), shorter)
    pytest.fail(f"{where}: got {len(got)} bytes, want {len(want)}; first difference at {first}")


def expected(offset: int, size: int) -> bytes:
    return DATA[offset:] if size < 0 else DATA[offset : offset + size]


def check_ranged_reads(stream: Any) -> None:
    """Seek and read(n) on a synchronous GridFS reader (GridOut or MongoEngine's proxy)."""
    for offset, size in RANGED_READS:
        stream.seek(offset)
        assert stream.tell() == offset
        assert_same(stream.read(size), expected(offset, size), f"read({size}) at {offset}")
    stream.seek(CHUNK - 3)
    stream.seek(6, os.SEEK_CUR)
    assert_same(stream.read(4), DATA[CHUNK + 3 : CHUNK + 7], "read(4) after SEEK_CUR")
    stream.seek(-10, os.SEEK_END)
    assert_same(stream.read(), DATA[-10:], "read() after SEEK_END")


async def _seek(stream: Any, offset: int, whence: int = os.SEEK_SET) -> None:
    # PyMongo's AsyncGridOut.seek is a coroutine; Motor's MotorGridOut.seek is not.
    moved = stream.seek(offset, whence)
    if inspect.isawaitable(moved):
        await moved


async def check_ranged_reads_async(stream: Any) -> None:
    """Seek and read(n) on an asynchronous GridFS reader (PyMongo's or Motor's)."""
    for offset, size in RANGED_READS:
        await _seek(stream, offset)
        assert stream.tell() == offset
        assert_same(await stream.read(size), expected(offset, size), f"read({size}) at {offset}")
    await _seek(stream, CHUNK - 3)
    await _seek(stream, 6, os.SEEK_CUR)
    assert_same(await stream.read(4), DATA[CHUNK + 3 : CHUNK + 7], "read(4) after SEEK_CUR")
    await _seek(stream, -10, os.SEEK_END)
    assert_same(await stream.read(), DATA[-10:], "read() after SEEK_END")


def assert_unique_chunk_index(indexes: dict[str, Any]) -> None:
    """fs.chunks has the unique (files_id, n) index GridFS readers and writers rely on."""
    for name, spec in indexes.items():
        if {key: int(direction) for key, direction in spec["key"]} == CHUNK_KEY:
            assert spec.get("unique") is True, f"index {name} on (files_id, n) is not unique"
            return
    pytest.fail(f"no (files_id, n) index on fs.chunks: {indexes}")


def assert_stored_shape(files_doc: dict[str, Any], chunks: list[dict[str, Any]]) -> None:
    """The files document and chunks are standard GridFS."""
    assert files_doc["length"] == len(DATA)
    assert files_doc["chunkSize"] == CHUNK
    assert files_doc["filename"] == FILENAME
    assert [chunk["n"] for chunk in chunks] == list(range(CHUNK_COUNT))
    assert all(chunk["files_id"] == files_doc["_id"] for chunk in chunks)
    assert_same(b"".join(chunk["data"] for chunk in chunks), DATA, "chunks joined")


def bucket_for(db: Any) -> Any:
    """The async GridFS bucket matching the driver behind db."""
    if isinstance(db, AsyncIOMotorDatabase):
        return AsyncIOMotorGridFSBucket(db)
    return AsyncGridFSBucket(db)


# --------------------------------------------------------------------------- PyMongo, sync


def test_sync_bucket_round_trip(sync_db: Any) -> None:
    bucket = GridFSBucket(sync_db)
    file_id = bucket.upload_from_stream(FILENAME, DATA, metadata={"contentType": CONTENT_TYPE})

    with bucket.open_download_stream(file_id) as stream:
        assert_same(stream.read(), DATA, "open_download_stream().read()")
    sink = io.BytesIO()
    bucket.download_to_stream(file_id, sink)
    assert_same(sink.getvalue(), DATA, "download_to_stream")

    files_doc = sync_db.fs.files.find_one({"_id": file_id})
    chunks = list(sync_db.fs.chunks.find({"files_id": file_id}).sort("n", 1))
    assert_stored_shape(files_doc, chunks)
    assert files_doc["metadata"] == {"contentType": CONTENT_TYPE}


def test_sync_bucket_ranged_reads(sync_db: Any) -> None:
    bucket = GridFSBucket(sync_db)
    file_id = bucket.upload_from_stream(FILENAME, DATA)
    with bucket.open_download_stream(file_id) as stream:
        check_ranged_reads(stream)


def test_sync_bucket_unique_chunk_index(sync_db: Any, server_kind: str) -> None:
    file_id = GridFSBucket(sync_db).upload_from_stream(FILENAME, DATA)
    assert_unique_chunk_index(sync_db.fs.chunks.index_information())
    with pytest.raises(DuplicateKeyError) as caught:
        sync_db.fs.chunks.insert_one({"files_id": file_id, "n": 0, "data": b"again"})
    check_duplicate_key_details(caught.value.details, CHUNK_KEY, server_kind)
    assert sync_db.fs.chunks.count_documents({"files_id": file_id}) == CHUNK_COUNT


# --------------------------------------------------------------------------- async: PyMongo, Motor


async def test_async_bucket_round_trip(async_db: Any) -> None:
    bucket = bucket_for(async_db)
    file_id = await bucket.upload_from_stream(FILENAME, DATA)

    stream = await bucket.open_download_stream(file_id)
    assert_same(await stream.read(), DATA, "open_download_stream().read()")
    sink = io.BytesIO()
    await bucket.download_to_stream(file_id, sink)
    assert_same(sink.getvalue(), DATA, "download_to_stream")

    files_doc = await async_db.fs.files.find_one({"_id": file_id})
    chunks = await async_db.fs.chunks.find({"files_id": file_id}).sort("n", 1).to_list(None)
    assert_stored_shape(files_doc, chunks)


async def test_async_bucket_ranged_reads(async_db: Any) -> None:
    bucket = bucket_for(async_db)
    file_id = await bucket.upload_from_stream(FILENAME, DATA)
    await check_ranged_reads_async(await bucket.open_download_stream(file_id))


async def test_async_bucket_unique_chunk_index(async_db: Any, server_kind: str) -> None:
    file_id = await bucket_for(async_db).upload_from_stream(FILENAME, DATA)
    assert_unique_chunk_index(await async_db.fs.chunks.index_information())
    with pytest.raises(DuplicateKeyError) as caught:
        await async_db.fs.chunks.insert_one({"files_id": file_id, "n": 0, "data": b"again"})
    check_duplicate_key_details(caught.value.details, CHUNK_KEY, server_kind)
    assert await async_db.fs.chunks.count_documents({"files_id": file_id}) == CHUNK_COUNT


# --------------------------------------------------------------------------- MongoEngine


def test_mongoengine_filefield_round_trip(mongoengine_connection: Any, server_kind: str) -> None:
    db = mongoengine_connection
    doc = Stored(name="put")
    doc.file.put(DATA, filename=FILENAME, content_type=CONTENT_TYPE)
    doc.save()

    doc.reload()
    assert isinstance(doc.file.grid_id, ObjectId)
    assert db.baseline_stored.find_one({"_id": doc.id})["file"] == doc.file.grid_id
    assert_same(doc.file.read(), DATA, "FileField read()")
    assert doc.file.length == len(DATA)

    again = Stored.objects.get(id=doc.id)
    check_ranged_reads(again.file)

    files_doc = db.fs.files.find_one({"_id": doc.file.grid_id})
    chunks = list(db.fs.chunks.find({"files_id": doc.file.grid_id}).sort("n", 1))
    assert_stored_shape(files_doc, chunks)
    assert files_doc["contentType"] == CONTENT_TYPE
    assert_unique_chunk_index(db.fs.chunks.index_information())
    with pytest.raises(DuplicateKeyError) as caught:
        db.fs.chunks.insert_one({"files_id": doc.file.grid_id, "n": 0, "data": b"again"})
    check_duplicate_key_details(caught.value.details, CHUNK_KEY, server_kind)


# --------------------------------------------------------------------------- crossing writers


def test_bucket_file_read_by_mongoengine(mongoengine_connection: Any) -> None:
    db = mongoengine_connection
    file_id = GridFSBucket(db).upload_from_stream(FILENAME, DATA)
    # As another application would store it: the document field holds the file's ObjectId.
    db.baseline_stored.insert_one({"name": "from-bucket", "file": file_id})

    doc = Stored.objects.get(name="from-bucket")
    assert doc.file.grid_id == file_id
    assert doc.file.filename == FILENAME
    assert_same(doc.file.read(), DATA, "FileField read() of a GridFSBucket file")
    check_ranged_reads(Stored.objects.get(name="from-bucket").file)


def test_mongoengine_file_read_by_bucket(mongoengine_connection: Any) -> None:
    db = mongoengine_connection
    doc = Stored(name="from-mongoengine")
    doc.file.put(DATA, filename=FILENAME, content_type=CONTENT_TYPE)
    doc.save()

    bucket = GridFSBucket(db)
    with bucket.open_download_stream(doc.file.grid_id) as stream:
        assert stream.filename == FILENAME
        assert_same(stream.read(), DATA, "GridFSBucket read of a FileField file")
        check_ranged_reads(stream)
    # MongoEngine (through PyMongo's legacy GridFS) keeps the content type top-level.
    assert db.fs.files.find_one({"_id": doc.file.grid_id})["contentType"] == CONTENT_TYPE


async def test_async_bucket_crosses_with_mongoengine(
    async_client: Any, mongoengine_connection: Any
) -> None:
    async_db = async_client[mongoengine_connection.name]
    bucket = bucket_for(async_db)

    doc = Stored(name="from-mongoengine")
    doc.file.put(DATA, filename=FILENAME, content_type=CONTENT_TYPE)
    doc.save()
    stream = await bucket.open_download_stream(doc.file.grid_id)
    assert_same(await stream.read(), DATA, "async bucket read of a FileField file")

    file_id = await bucket.upload_from_stream(FILENAME, DATA)
    await async_db.baseline_stored.insert_one({"name": "from-async-bucket", "file": file_id})
    loaded = Stored.objects.get(name="from-async-bucket")
    assert_same(loaded.file.read(), DATA, "FileField read() of an async bucket file")
