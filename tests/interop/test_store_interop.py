"""Files cross between gridfield's file store, PyMongo's gridfs and MongoEngine's FileField."""

from __future__ import annotations

import io
import random
import warnings
from datetime import datetime
from typing import Any

import gridfs
import mongoengine
import pytest
from bson import ObjectId
from gridfs import GridFSBucket
from mongoengine.fields import GridFSProxy

from gridfield._async.store import AsyncFileStore
from gridfield._sync.store import FileStore
from gridfield.core.errors import NoFile

DEFAULT = gridfs.DEFAULT_CHUNK_SIZE

# (size, chunk size): empty, one byte, exactly one chunk, several chunks with a short last one.
CASES = [(0, 1000), (1, 1000), (1000, 1000), (3 * 1000 + 5, 1000), (2 * DEFAULT + 17, DEFAULT)]


def payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


class StoreInteropPhoto(mongoengine.Document):
    """A plain MongoEngine document with a FileField."""

    meta = {"collection": "store_interop_photo"}
    name = mongoengine.StringField()
    photo = mongoengine.FileField()


def content_type_of(grid_file: Any) -> Any:
    """``content_type`` as PyMongo's GridOut and MongoEngine's proxy still serve it.

    PyMongo deprecates the property (it reads the top-level ``contentType``), but MongoEngine
    users read it today, so the store writes what it needs.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return grid_file.content_type


@pytest.fixture
def same_db_sync(async_db: Any, sync_client: Any) -> Any:
    """PyMongo's sync handle on the async test database, for PyMongo's gridfs."""
    return sync_client[async_db.name]


# --------------------------------------------------------------------------- store -> PyMongo


async def test_store_files_read_by_pymongo_gridfs(async_db: Any, same_db_sync: Any) -> None:
    bucket = GridFSBucket(same_db_sync)
    legacy = gridfs.GridFS(same_db_sync)
    for size, chunk_size in CASES:
        data = payload(size, seed=size)
        store = AsyncFileStore(async_db, chunk_size=chunk_size)
        info = await store.put(
            data, filename=f"s{size}.bin", content_type="image/jpeg", metadata={"owner": "ann"}
        )
        assert bucket.open_download_stream(info.file_id).read() == data, size
        out = legacy.get(info.file_id)
        assert out.read() == data, size
        assert out.length == size
        assert out.chunk_size == chunk_size
        assert out.filename == f"s{size}.bin"
        assert content_type_of(out) == "image/jpeg"
        assert out.metadata["owner"] == "ann"
        assert out.metadata["contentType"] == "image/jpeg"
        assert isinstance(out.upload_date, datetime)
        assert legacy.get_last_version(f"s{size}.bin").read() == data
    # PyMongo's own consistency checks on a ranged read: seek then read across chunks.
    info = await AsyncFileStore(async_db, chunk_size=1000).put(payload(5000))
    out = legacy.get(info.file_id)
    out.seek(1500)
    assert out.read(2000) == payload(5000)[1500:3500]


def test_sync_store_files_read_by_pymongo_gridfs(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=1000)
    data = payload(4321)
    store.put(io.BytesIO(data), filename="sync.bin", content_type="text/csv")
    out = GridFSBucket(sync_db).open_download_stream_by_name("sync.bin")
    assert out.read() == data
    assert content_type_of(out) == "text/csv"


async def test_deleting_either_way_removes_every_chunk(async_db: Any, same_db_sync: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=1000)
    bucket = GridFSBucket(same_db_sync)
    ours = await store.put(payload(3500))
    bucket.delete(ours.file_id)
    assert not await store.exists(ours.file_id)
    theirs = bucket.upload_from_stream("theirs.bin", payload(3500), chunk_size_bytes=1000)
    await store.delete(theirs)
    with pytest.raises(gridfs.errors.NoFile):
        bucket.open_download_stream(theirs)
    assert await async_db["fs.chunks"].count_documents({}) == 0


# --------------------------------------------------------------------------- PyMongo -> store


async def test_pymongo_bucket_files_read_by_the_store(async_db: Any, same_db_sync: Any) -> None:
    bucket = GridFSBucket(same_db_sync)
    store = AsyncFileStore(async_db)
    for size, chunk_size in CASES:
        data = payload(size, seed=size)
        file_id = ObjectId()
        bucket.upload_from_stream_with_id(
            file_id,
            f"b{size}.txt",
            data,
            chunk_size_bytes=chunk_size,
            metadata={"contentType": "text/plain", "owner": "bob"},
        )
        assert await store.get(file_id) == data, size
        info = await store.get_info(file_id)
        assert info.length == size
        assert info.chunk_size == chunk_size
        assert info.filename == f"b{size}.txt"
        assert info.content_type == "text/plain"
        assert info.metadata["owner"] == "bob"
        assert isinstance(info.upload_date, datetime)
        assert await store.read_range(file_id, size // 3, size // 2) == data[size // 3 : size // 2]


@pytest.mark.parametrize("users_value", ["x", "0" * 64, "AB" * 32, 5, {"sha256": "x"}])
async def test_a_users_sha256_in_metadata_is_not_taken_for_a_checksum(
    async_db: Any, same_db_sync: Any, sync_db: Any, users_value: Any
) -> None:
    """``metadata.sha256`` is the user's: files written by PyMongo with it, and files of
    ours with it, read back whole, with the user's value untouched."""
    data = payload(2500, seed=7)
    GridFSBucket(same_db_sync).upload_from_stream_with_id(
        "theirs", "theirs.bin", data, metadata={"sha256": users_value}
    )
    for store in (AsyncFileStore(async_db), FileStore(same_db_sync)):
        read = store.get("theirs")
        assert (await read if isinstance(store, AsyncFileStore) else read) == data
    ours = await AsyncFileStore(async_db).put(
        data, metadata={"sha256": users_value}, checksum=False
    )
    assert ours.sha256 is None
    assert await AsyncFileStore(async_db).get(ours.file_id) == data
    checked = FileStore(sync_db).put(data, metadata={"sha256": users_value}, checksum=True)
    assert FileStore(sync_db).get(checked.file_id) == data
    doc = sync_db["fs.files"].find_one({"_id": checked.file_id})
    assert doc["metadata"]["sha256"] == users_value
    assert doc["gridfield"] == {"sha256": checked.sha256}
    assert GridFSBucket(sync_db).open_download_stream(checked.file_id).read() == data


async def test_pymongo_legacy_files_read_by_the_store(async_db: Any, same_db_sync: Any) -> None:
    legacy = gridfs.GridFS(same_db_sync)
    store = AsyncFileStore(async_db)
    lines = b"".join(b"line %d %s\n" % (i, b"x" * (i * 37 % 1500)) for i in range(40))
    file_id = legacy.put(lines, filename="p.txt", contentType="image/png", chunkSize=1000)
    info = await store.get_info(file_id)
    assert info.content_type == "image/png"
    assert info.chunk_size == 1000
    stream = await store.open_download(file_id)
    expected = io.BytesIO(lines)
    for _ in range(41):
        assert await stream.readline() == expected.readline()
    stream.seek(2500)
    pieces = [piece async for piece in stream]
    assert pieces[0] == lines[2500:3000]
    assert b"".join(pieces) == lines[2500:]
    with legacy.new_file(filename="w.bin", chunkSize=100, content_type="text/csv") as grid_in:
        grid_in.write(b"a,b\n" * 100)
    written = legacy.get_last_version("w.bin")._id
    assert await store.get(written) == b"a,b\n" * 100
    assert (await store.get_info(written)).content_type == "text/csv"


async def test_legacy_fields_of_older_writers_are_read(async_db: Any) -> None:
    # A files document as GridFS writers of old left it: md5, aliases, top-level
    # contentType, and a key of their own.
    file_id = ObjectId()
    await async_db["fs.chunks"].insert_one({"files_id": file_id, "n": 0, "data": b"old bytes"})
    await async_db["fs.files"].insert_one(
        {
            "_id": file_id,
            "length": 9,
            "chunkSize": 261120,
            "uploadDate": datetime(2012, 5, 1, 12, 0, 0),
            "filename": "old.txt",
            "md5": "0123456789abcdef0123456789abcdef",
            "aliases": ["older.txt"],
            "contentType": "text/plain",
            "custom": {"kept": True},
        }
    )
    store = AsyncFileStore(async_db)
    assert await store.get(file_id) == b"old bytes"
    info = await store.get_info(file_id)
    assert info.content_type == "text/plain"
    assert info.md5 == "0123456789abcdef0123456789abcdef"
    assert info.aliases == ["older.txt"]
    assert info.extra == {"custom": {"kept": True}}
    assert info.metadata == {}


# --------------------------------------------------------------------------- MongoEngine


async def test_store_files_read_by_mongoengine(
    async_client: Any, mongoengine_connection: Any
) -> None:
    store = AsyncFileStore(async_client[mongoengine_connection.name])
    data = payload(600 * 1024, seed=3)
    info = await store.put(data, filename="marmot.jpg", content_type="image/jpeg")
    marmot = StoreInteropPhoto(name="marmot", photo=GridFSProxy(grid_id=info.file_id))
    marmot.save()
    assert mongoengine_connection["store_interop_photo"].find_one()["photo"] == info.file_id
    loaded = StoreInteropPhoto.objects.get(name="marmot")
    assert loaded.photo.grid_id == info.file_id
    assert loaded.photo.read() == data
    assert content_type_of(loaded.photo) == "image/jpeg"
    assert loaded.photo.filename == "marmot.jpg"
    assert loaded.photo.length == len(data)
    loaded.photo.delete()
    assert not await store.exists(info.file_id)
    assert await async_client[mongoengine_connection.name]["fs.chunks"].count_documents({}) == 0


async def test_mongoengine_files_read_by_the_store(
    async_client: Any, mongoengine_connection: Any
) -> None:
    store = AsyncFileStore(async_client[mongoengine_connection.name])
    data = payload(300 * 1024, seed=4)
    marmot = StoreInteropPhoto(name="put")
    marmot.photo.put(io.BytesIO(data), content_type="image/png", filename="marmot.png")
    marmot.save()
    assert await store.get(marmot.photo.grid_id) == data
    info = await store.get_info(marmot.photo.grid_id)
    assert info.content_type == "image/png"
    assert info.filename == "marmot.png"

    streamed = StoreInteropPhoto(name="streamed")
    streamed.photo.new_file(content_type="text/plain", filename="notes.txt")
    streamed.photo.write(b"some_image_data")
    streamed.photo.write(b"some_more_image_data")
    streamed.photo.close()
    streamed.save()
    assert await store.get(streamed.photo.grid_id) == b"some_image_datasome_more_image_data"
    assert (await store.get_info(streamed.photo.grid_id)).content_type == "text/plain"

    await store.delete(marmot.photo.grid_id)
    assert StoreInteropPhoto.objects.get(name="put").photo.get() is None
    with pytest.raises(NoFile):
        await store.get_info(marmot.photo.grid_id)
