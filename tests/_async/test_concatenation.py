"""Final uploads joined from partial ones on a real server: chunks renumbered in place when
the parts line up with the chunk size, copied otherwise, a join resumed after a crash, and
refusals that change nothing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import gridfs
import pytest
from pymongo import AsyncMongoClient, MongoClient

from gridfield._async.resumable import AsyncResumableStore
from gridfield._async.store import AsyncFileStore
from gridfield.core.tus import Concat, Creation, FileNaming, PatchRequest, TusError, TusOptions

from ..commands import Commands

_PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
NAMING = FileNaming("whole.bin", "application/octet-stream", {"k": "v"})


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _partial(resumable: AsyncResumableStore, data: bytes) -> Any:
    state = await resumable.create(
        Creation(len(data), {}, None, concat=Concat(partial=True)), FileNaming()
    )
    if data:
        request = PatchRequest(0, None, None, len(data))
        state = await resumable.patch(state.upload_id, request, _body(data))
    assert state.complete and state.is_partial
    return state


def _pymongo_read(mongo_uri: str, db_name: str, file_id: Any) -> bytes:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        return gridfs.GridFSBucket(client[db_name]).open_download_stream(file_id).read()


async def test_parts_in_whole_chunks_are_renumbered_not_copied(
    async_db: Any, mongo_uri: str
) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    resumable = AsyncResumableStore(store)
    pieces = [os.urandom(300), os.urandom(500), os.urandom(123)]
    parts = [await _partial(resumable, p) for p in pieces]
    assert await store.files.count_documents({}) == 0  # partial uploads are no files
    before = {doc["_id"] async for doc in store.chunks.find({}, {"_id": 1})}
    ids = tuple(p.upload_id for p in parts)
    final = await resumable.concatenate(ids, "final;/a /b /c", NAMING)
    whole = b"".join(pieces)
    assert final.complete and final.length == len(whole) and final.is_final
    after = {doc["_id"] async for doc in store.chunks.find({}, {"_id": 1})}
    assert after == before  # the same chunk documents, renumbered
    info = await store.get_info(final.file_id)
    assert info.sha256 == hashlib.sha256(whole).hexdigest() and info.filename == "whole.bin"
    assert await store.get(final.file_id) == whole
    assert _pymongo_read(mongo_uri, async_db.name, final.file_id) == whole
    assert await resumable.registry.count_documents({}) == 1  # the parts are consumed
    assert (await resumable.get(final.upload_id)).complete
    assert await resumable.open_file_ids() == []


async def test_misaligned_parts_are_copied(async_db: Any, mongo_uri: str) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    resumable = AsyncResumableStore(store)
    a, b = await _partial(resumable, b"a" * 150), await _partial(resumable, b"b" * 70)
    c = await _partial(resumable, b"c" * 150)
    # A stale chunk past the first part's end (a refused PATCH's) goes, seen in the query
    # that reads the part's partial chunk.
    await store.chunks.insert_one({"files_id": a.file_id, "n": 2, "data": b"stale"})
    final = await resumable.concatenate((a.upload_id, b.upload_id, c.upload_id), "final;x", NAMING)
    whole = b"a" * 150 + b"b" * 70 + b"c" * 150
    assert await store.get(final.file_id) == whole
    assert (await store.get_info(final.file_id)).sha256 == hashlib.sha256(whole).hexdigest()
    assert _pymongo_read(mongo_uri, async_db.name, final.file_id) == whole
    assert await store.chunks.count_documents({}) == 4  # the parts' own chunks are gone
    assert await resumable.registry.count_documents({}) == 1


async def test_a_copy_keeps_the_first_parts_whole_chunks(async_db: Any, mongo_uri: str) -> None:
    # Counting needs a client with a listener: a PyMongo one on the test's fresh database.
    heard = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[heard])
    try:
        store = AsyncFileStore(client[async_db.name], chunk_size=100)
        resumable = AsyncResumableStore(store)
        pieces = [os.urandom(350), os.urandom(420)]  # no whole number of chunks
        parts = [await _partial(resumable, p) for p in pieces]
        head = [doc async for doc in store.chunks.find({"files_id": parts[0].file_id, "n": 3})]
        kept = {
            doc["n"]: (doc["_id"], doc["data"])
            async for doc in store.chunks.find({"files_id": parts[0].file_id, "n": {"$lt": 3}})
        }
        heard.clear()
        final = await resumable.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
        updates = _on_chunks(heard, "update")
        inserts = _on_chunks(heard, "insert")
        finds = _on_chunks(heard, "find")
        deletes = _on_chunks(heard, "delete")
        whole = b"".join(pieces)
        assert final.file_id == parts[0].file_id
        # Nothing past the first part's chunks to clear: the one delete is of the second
        # part's chunks once the file is stored.
        assert [d["deletes"][0]["q"]["files_id"] for d in deletes] == [{"$eq": parts[1].file_id}]
        # The first part's whole chunks are untouched; its partial one keeps its _id, filled.
        stored = {
            doc["n"]: (doc["_id"], doc["data"])
            async for doc in store.chunks.find({"files_id": final.file_id, "n": {"$lt": 3}})
        }
        assert stored == kept
        filled = await store.chunks.find_one({"files_id": final.file_id, "n": 3})
        assert filled["_id"] == head[0]["_id"] and filled["data"] == whole[300:400]
        # One update (that chunk's data), only the later part's bytes inserted, and (the
        # first part hashed as it came) only its partial chunk and the second part read.
        assert [len(command["updates"]) for command in updates] == [1]
        assert updates[0]["updates"][0]["q"] == {
            "_id": {"$eq": head[0]["_id"]},
            "files_id": {"$eq": parts[0].file_id},
        }
        inserted = [doc for command in inserts for doc in command["documents"]]
        assert [doc["n"] for doc in inserted] == [4, 5, 6, 7]
        assert [find["filter"] for find in finds] == [
            {"files_id": {"$eq": parts[0].file_id}, "n": {"$gte": 3}},
            {"files_id": {"$eq": parts[1].file_id}, "n": {"$lte": 4}},
        ]
        info = await store.get_info(final.file_id)
        assert info.sha256 == hashlib.sha256(whole).hexdigest() and info.length == len(whole)
        assert await store.get(final.file_id) == whole
        assert _pymongo_read(mongo_uri, async_db.name, final.file_id) == whole
        assert await store.chunks.count_documents({}) == 8  # the second part's are gone
        assert await resumable.registry.count_documents({}) == 1
    finally:
        await client.close()


async def test_a_copy_by_another_process_reads_the_first_part_back(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    pieces = [os.urandom(250), os.urandom(130), os.urandom(99)]
    uploader = AsyncResumableStore(store)
    parts = [await _partial(uploader, p) for p in pieces]
    # A stale chunk past the first part's end (a refused PATCH's) is not the final's.
    await store.chunks.insert_one({"files_id": parts[0].file_id, "n": 3, "data": b"stale"})
    joiner = AsyncResumableStore(store)  # holds no running hash of the parts
    final = await joiner.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
    whole = b"".join(pieces)
    assert final.file_id == parts[0].file_id
    assert (await store.get_info(final.file_id)).sha256 == hashlib.sha256(whole).hexdigest()
    assert await store.get(final.file_id) == whole
    assert await store.chunks.count_documents({}) == 5


async def test_parts_of_another_chunk_size_are_copied_whole(async_db: Any) -> None:
    uploader = AsyncResumableStore(AsyncFileStore(async_db, chunk_size=50))
    pieces = [os.urandom(120), os.urandom(75)]
    parts = [await _partial(uploader, p) for p in pieces]
    store = AsyncFileStore(async_db, chunk_size=100)
    final = await AsyncResumableStore(store).concatenate(
        tuple(p.upload_id for p in parts), "final;x", NAMING
    )
    whole = b"".join(pieces)
    assert final.file_id not in {p.file_id for p in parts}  # none of their chunks fit
    assert (await store.get_info(final.file_id)).chunk_size == 100
    assert (await store.get_info(final.file_id)).sha256 == hashlib.sha256(whole).hexdigest()
    assert await store.get(final.file_id) == whole
    assert await store.chunks.count_documents({}) == 2


@pytest.mark.parametrize("filled", [False, True])
async def test_a_copy_that_died_is_finished_by_the_retry(async_db: Any, filled: bool) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    pieces = [os.urandom(34), os.urandom(27)]
    parts = [await _partial(resumable, p) for p in pieces]
    ids = tuple(p.upload_id for p in parts)
    whole = b"".join(pieces)
    final = await resumable.concatenate(ids, "final;x", NAMING)
    assert final.file_id == parts[0].file_id
    # What a crash part way through the copy leaves: the first part's partial chunk filled
    # up already or not, one chunk after it written, the parts still there and claimed.
    await store.files.delete_one({"_id": final.file_id})
    await store.chunks.delete_many({"files_id": final.file_id, "n": {"$gte": 5}})
    if not filled:
        await store.chunks.update_one(
            {"files_id": final.file_id, "n": 3}, {"$set": {"data": pieces[0][30:]}}
        )
    await store.chunks.insert_one({"files_id": final.file_id, "n": 5, "data": b"torn"})
    await _partial_again(resumable, parts[1], pieces[1])
    await resumable.registry.insert_one({**parts[0].to_document(), "joined_into": final.upload_id})
    await resumable.registry.update_one(
        {"_id": parts[1].upload_id}, {"$set": {"joined_into": final.upload_id}}
    )
    await resumable.registry.update_one(
        {"_id": final.upload_id},
        {"$set": {"complete": False, "offset": 0, "lease": {"token": 1, "until": _PAST}}},
    )
    joiner = AsyncResumableStore(store)  # another process: no running hash of the parts
    again = await joiner.concatenate(ids, "final;x", NAMING)
    assert again.upload_id == final.upload_id and again.complete
    assert again.file_id == parts[0].file_id
    assert (await store.get_info(final.file_id)).sha256 == hashlib.sha256(whole).hexdigest()
    assert await store.get(final.file_id) == whole
    assert await store.chunks.count_documents({}) == 7
    assert await resumable.registry.count_documents({}) == 1


async def _partial_again(resumable: AsyncResumableStore, part: Any, data: bytes) -> None:
    """Put back a partial upload a join consumed: its registry entry and its chunks."""
    await resumable.registry.insert_one(part.to_document())
    for n in range(0, len(data), part.chunk_size):
        chunk = {"files_id": part.file_id, "n": n // part.chunk_size}
        await resumable.store.chunks.insert_one({**chunk, "data": data[n : n + part.chunk_size]})


async def test_an_abandoned_copy_leaves_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    pieces = [os.urandom(34), os.urandom(27)]
    parts = [await _partial(resumable, p) for p in pieces]
    final = await resumable.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
    await store.files.delete_one({"_id": final.file_id})
    await _partial_again(resumable, parts[1], pieces[1])
    await resumable.registry.insert_one({**parts[0].to_document(), "joined_into": final.upload_id})
    await resumable.registry.update_one(
        {"_id": parts[1].upload_id}, {"$set": {"joined_into": final.upload_id}}
    )
    await resumable.registry.update_one(
        {"_id": final.upload_id},
        {"$set": {"complete": False, "offset": 0, "expires": _PAST}},
    )
    assert await resumable.remove_expired() == 3
    assert await store.chunks.count_documents({}) == 0
    assert await resumable.registry.count_documents({}) == 0


async def test_a_part_named_twice_or_too_many_parts_consume_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    resumable = AsyncResumableStore(store, TusOptions(max_parts=2))
    a, b = await _partial(resumable, b"a" * 150), await _partial(resumable, b"b" * 70)
    with pytest.raises(TusError, match=f"names partial upload {a.upload_id} twice") as err:
        await resumable.concatenate((a.upload_id, a.upload_id), "final;x", NAMING)
    assert err.value.status == 400
    ids = (a.upload_id, b.upload_id, a.upload_id)
    with pytest.raises(TusError, match="names 3 partial uploads, over this server's limit of 2"):
        await resumable.concatenate(ids, "final;x", NAMING)
    assert await store.files.count_documents({}) == 0
    assert await store.chunks.count_documents({}) == 3
    assert await resumable.registry.count_documents({"joined_into": None}) == 2
    final = await resumable.concatenate((a.upload_id, b.upload_id), "final;x", NAMING)
    assert await store.get(final.file_id) == b"a" * 150 + b"b" * 70


async def test_a_join_that_died_is_finished_by_the_retry(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    pieces = [os.urandom(30), os.urandom(25)]
    parts = [await _partial(resumable, p) for p in pieces]
    ids = tuple(p.upload_id for p in parts)
    # What a crash after claiming the parts and moving one chunk of the second leaves.
    final = await resumable.concatenate(ids, "final;x", NAMING)
    await store.files.delete_one({"_id": final.file_id})
    await store.chunks.update_many(
        {"files_id": final.file_id, "n": {"$gte": 4}},
        {"$set": {"files_id": parts[1].file_id}, "$inc": {"n": -3}},
    )
    await store.chunks.update_one(
        {"files_id": parts[1].file_id, "n": 0}, {"$set": {"files_id": final.file_id, "n": 3}}
    )
    for part in parts:
        await resumable.registry.insert_one({**part.to_document(), "joined_into": final.upload_id})
    await resumable.registry.update_one(
        {"_id": final.upload_id},
        {"$set": {"complete": False, "offset": 0, "lease": {"token": 1, "until": _PAST}}},
    )
    with pytest.raises(TusError, match="is already part of final upload") as err:
        await resumable.concatenate(ids[:1], "final;x", NAMING)  # another concatenation
    assert err.value.status == 400
    again = await resumable.concatenate(ids, "final;x", NAMING)
    assert again.upload_id == final.upload_id and again.complete
    assert await store.get(final.file_id) == b"".join(pieces)
    assert await resumable.registry.count_documents({}) == 1
    with pytest.raises(TusError, match=f"there is no upload {ids[0]}"):
        await resumable.concatenate(ids, "final;x", NAMING)  # the parts are consumed now


async def test_refusals_change_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    done = await _partial(resumable, b"x" * 10)
    unfinished = await resumable.create(
        Creation(20, {}, None, concat=Concat(partial=True)), FileNaming()
    )
    with pytest.raises(TusError, match=r"partial upload .* is not complete") as err:
        await resumable.concatenate((done.upload_id, unfinished.upload_id), "final;x", NAMING)
    assert err.value.status == 400
    with pytest.raises(TusError, match="there is no upload nope"):
        await resumable.concatenate((done.upload_id, "nope"), "final;x", NAMING)
    assert await resumable.registry.count_documents({"joined_into": {"$ne": None}}) == 0
    assert await resumable.registry.count_documents({}) == 2
    assert await store.files.count_documents({}) == 0
    # A partial upload can be terminated (its chunks go), unless a final one claims it.
    await resumable.terminate(done.upload_id)
    assert await store.chunks.count_documents({}) == 0


async def test_expired_partial_uploads_leave_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    await _partial(resumable, b"x" * 25)
    assert await resumable.remove_expired() == 0
    later = datetime.now(timezone.utc) + timedelta(days=2)
    assert await resumable.remove_expired(later) == 1
    assert await store.chunks.count_documents({}) == 0


def _on_chunks(heard: Commands, name: str) -> list[dict[str, Any]]:
    return [command for command in heard.named(name) if command.get(name) == "fs.chunks"]


async def test_an_in_place_join_moves_only_the_later_parts_one_update_each(
    async_db: Any, mongo_uri: str
) -> None:
    # Counting needs a client with a listener: a PyMongo one on the test's fresh database.
    heard = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[heard])
    try:
        store = AsyncFileStore(client[async_db.name], chunk_size=100)
        resumable = AsyncResumableStore(store)
        pieces = [os.urandom(300), os.urandom(500), os.urandom(123)]
        parts = [await _partial(resumable, p) for p in pieces]
        head = {
            doc["n"]: doc["_id"] async for doc in store.chunks.find({"files_id": parts[0].file_id})
        }
        heard.clear()
        final = await resumable.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
        whole = b"".join(pieces)
        # The first part's file id is the final file's: its chunks stay as they were.
        assert final.file_id == parts[0].file_id
        # One update per later part, in place (no chunk data sent, none inserted) ...
        updates = _on_chunks(heard, "update")
        assert [len(command["updates"]) for command in updates] == [1, 1]
        assert [command["updates"][0]["q"]["files_id"] for command in updates] == [
            {"$eq": parts[1].file_id},
            {"$eq": parts[2].file_id},
        ]
        assert _on_chunks(heard, "insert") == []
        # ... and this process hashed the first part's bytes as they came: only the later
        # parts are read, each in one cursor under its own file id, before it moves.
        finds = _on_chunks(heard, "find")
        assert [find["filter"]["files_id"] for find in finds] == [
            {"$eq": parts[1].file_id},
            {"$eq": parts[2].file_id},
        ]
        names = [name for name, command in heard.sent if command.get(name) == "fs.chunks"]
        assert names.index("update") > names.index("find", names.index("find") + 1)
        # The first part's stale tail, then each later part's leftovers: one delete each.
        assert len(_on_chunks(heard, "delete")) == len(parts)
        kept = store.chunks.find({"files_id": final.file_id, "n": {"$lt": 3}})
        assert {doc["n"]: doc["_id"] async for doc in kept} == head
        info = await store.get_info(final.file_id)
        assert info.sha256 == hashlib.sha256(whole).hexdigest()
        assert await store.get(final.file_id) == whole
        assert _pymongo_read(mongo_uri, async_db.name, final.file_id) == whole
        assert await store.chunks.count_documents({}) == 10
        assert await resumable.registry.count_documents({}) == 1
    finally:
        await client.close()


async def test_a_join_by_another_process_reads_every_chunk_back(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    pieces = [os.urandom(200), os.urandom(150)]
    uploader = AsyncResumableStore(store)
    parts = [await _partial(uploader, p) for p in pieces]
    # A stale chunk past the first part's end (a refused PATCH's) is not the final's.
    await store.chunks.insert_one({"files_id": parts[0].file_id, "n": 2, "data": b"stale"})
    joiner = AsyncResumableStore(store)  # holds no running hash of the parts
    final = await joiner.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
    whole = b"".join(pieces)
    assert (await store.get_info(final.file_id)).sha256 == hashlib.sha256(whole).hexdigest()
    assert await store.get(final.file_id) == whole
    assert await store.chunks.count_documents({}) == 4


async def test_a_join_whose_first_part_was_lost_is_refused(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    resumable = AsyncResumableStore(store)
    parts = [await _partial(AsyncResumableStore(store), os.urandom(200)) for _ in range(2)]
    await store.chunks.delete_one({"files_id": parts[0].file_id, "n": 1})
    with pytest.raises(TusError, match="chunk 1") as err:
        await resumable.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
    assert err.value.status == 500
    assert await store.files.count_documents({}) == 0


async def test_a_copy_whose_first_part_lost_its_last_chunk_is_refused(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    resumable = AsyncResumableStore(store)
    parts = [await _partial(resumable, os.urandom(n)) for n in (250, 130)]
    await store.chunks.delete_one({"files_id": parts[0].file_id, "n": 2})
    before = [doc async for doc in store.chunks.find().sort("_id")]
    with pytest.raises(TusError, match="chunk 2 is missing") as err:
        await resumable.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
    assert err.value.status == 500
    assert await store.files.count_documents({}) == 0
    assert [doc async for doc in store.chunks.find().sort("_id")] == before  # none written


async def test_an_abandoned_join_keeps_a_file_it_stored(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    pieces = [os.urandom(30), os.urandom(25)]
    parts = [await _partial(resumable, p) for p in pieces]
    ids = tuple(p.upload_id for p in parts)
    # What a crash after the files document went in, before the join was marked complete,
    # leaves; then the final upload expires.
    final = await resumable.concatenate(ids, "final;x", NAMING)
    for part in parts:
        await resumable.registry.insert_one({**part.to_document(), "joined_into": final.upload_id})
    await resumable.registry.update_one(
        {"_id": final.upload_id},
        {"$set": {"complete": False, "offset": 0, "expires": _PAST}},
    )
    assert await resumable.remove_expired() == 3
    assert await store.get(final.file_id) == b"".join(pieces)  # the first part's id is its
    assert await resumable.registry.count_documents({}) == 0


async def test_an_abandoned_join_before_its_file_leaves_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    parts = [await _partial(resumable, os.urandom(n)) for n in (30, 25)]
    final = await resumable.concatenate(tuple(p.upload_id for p in parts), "final;x", NAMING)
    await store.files.delete_one({"_id": final.file_id})
    for part in parts:
        await resumable.registry.insert_one({**part.to_document(), "joined_into": final.upload_id})
    await resumable.registry.update_one(
        {"_id": final.upload_id},
        {"$set": {"complete": False, "offset": 0, "expires": _PAST}},
    )
    assert await resumable.remove_expired() == 3
    assert await store.chunks.count_documents({}) == 0
    assert await resumable.registry.count_documents({}) == 0
