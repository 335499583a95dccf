"""Resumable uploads into GridFS on a real server: chunks as bytes arrive, the partial chunk
kept across PATCHes, the files document at completion only, refusals that change nothing."""

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
from gridfield.core.sweeping import SweepTiming
from gridfield.core.tus import (
    BodyCut,
    Checksum,
    Creation,
    FileNaming,
    PatchRequest,
    TusError,
    TusOptions,
)

from ..commands import Commands


async def _body(*pieces: bytes, cut: bool = False) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
    if cut:
        raise BodyCut


def _sized(offset: int, data: bytes, checksum: Checksum | None = None) -> PatchRequest:
    return PatchRequest(offset, None, checksum, len(data))


async def _new(resumable: AsyncResumableStore, length: int | None, name: str = "a.bin") -> Any:
    return await resumable.create(
        Creation(length, {}, None), FileNaming(name, "application/octet-stream", {"k": "v"})
    )


def _pymongo_read(mongo_uri: str, db_name: str, file_id: Any) -> bytes:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        return gridfs.GridFSBucket(client[db_name]).open_download_stream(file_id).read()


async def test_patches_at_any_boundary_make_a_standard_file(async_db: Any, mongo_uri: str) -> None:
    store = AsyncFileStore(async_db, chunk_size=1000)
    resumable = AsyncResumableStore(store)
    data = os.urandom(4321)
    state = await _new(resumable, len(data))
    offset = 0
    for size in (1, 998, 1, 1500, 1):  # boundaries off the chunk size on purpose
        piece = data[offset : offset + size]
        state = await resumable.patch(state.upload_id, _sized(offset, piece), _body(piece))
        offset += size
        assert state.offset == offset and not state.complete
        assert await store.files.count_documents({}) == 0  # nothing visible yet
        assert await store.chunks.count_documents({}) == offset // 1000
    # A fresh store (a restarted server): no running hash, the chunks are read back.
    resumable = AsyncResumableStore(store)
    rest = data[offset:]
    state = await resumable.patch(state.upload_id, _sized(offset, rest), _body(rest[:7], rest[7:]))
    assert state.complete and state.offset == len(data)
    info = await store.get_info(state.file_id)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.filename == "a.bin" and info.metadata["k"] == "v"
    assert _pymongo_read(mongo_uri, async_db.name, state.file_id) == data
    assert await store.get(state.file_id) == data  # checked against its SHA-256 too
    again = await resumable.patch(state.upload_id, _sized(len(data), b""), _body())
    assert again.complete  # a retry of the completing PATCH


async def test_a_body_cut_short_keeps_every_byte_received(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=100)
    resumable = AsyncResumableStore(store)
    data = os.urandom(1000)
    state = await _new(resumable, len(data))
    state = await resumable.patch(
        state.upload_id, _sized(0, data), _body(data[:150], data[150:333], cut=True)
    )
    assert state.offset == 333 and (await resumable.get(state.upload_id)).offset == 333
    state = await resumable.patch(state.upload_id, _sized(333, data[333:]), _body(data[333:]))
    assert await store.get(state.file_id) == data


async def test_a_checksum_mismatch_is_refused_with_nothing_changed(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store)
    state = await _new(resumable, 100)
    state = await resumable.patch(state.upload_id, _sized(0, b"abcde"), _body(b"abcde"))
    piece = b"x" * 40
    wrong = Checksum("sha1", hashlib.sha1(b"y" * 40).digest())
    with pytest.raises(TusError, match="sha1 checksum does not match its body") as err:
        await resumable.patch(state.upload_id, _sized(5, piece, wrong), _body(piece))
    assert err.value.status == 460
    after = await resumable.get(state.upload_id)
    assert (after.offset, after.tail) == (5, b"abcde")
    assert await store.chunks.count_documents({}) == 0  # the chunks it wrote are gone
    right = Checksum("sha1", hashlib.sha1(piece).digest())
    state = await resumable.patch(state.upload_id, _sized(5, piece, right), _body(piece))
    assert state.offset == 45


async def test_stale_offsets_and_bytes_past_the_length(async_db: Any) -> None:
    resumable = AsyncResumableStore(AsyncFileStore(async_db, chunk_size=10))
    state = await _new(resumable, 20)
    with pytest.raises(TusError, match="Upload-Offset 3 does not match the upload's offset 0"):
        await resumable.patch(state.upload_id, _sized(3, b"a"), _body(b"a"))
    with pytest.raises(TusError, match="go past the upload's length of 20 bytes"):
        await resumable.patch(state.upload_id, _sized(0, b"a" * 21), _body(b"a" * 21))
    chunked = PatchRequest(0)  # no Content-Length: refused while read
    with pytest.raises(TusError, match="the PATCH goes past the upload's length"):
        await resumable.patch(state.upload_id, chunked, _body(b"a" * 15, b"a" * 15))
    assert (await resumable.get(state.upload_id)).offset == 0
    assert await resumable.store.chunks.count_documents({}) == 0


async def test_a_writer_that_died_holding_the_lease(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store, TusOptions(lease=timedelta(seconds=30)))
    state = await _new(resumable, 50)
    state = await resumable.patch(state.upload_id, _sized(0, b"a" * 12), _body(b"a" * 12))
    # What a crash mid-PATCH leaves: an uncounted chunk, and a lease no one will release.
    await store.chunks.insert_one({"files_id": state.file_id, "n": 1, "data": b"z" * 10})
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    live = datetime.now(timezone.utc) + timedelta(seconds=60)
    await resumable.registry.update_one(
        {"_id": state.upload_id}, {"$set": {"lease": {"token": 1, "until": live}}}
    )
    with pytest.raises(TusError, match="is being written by another request") as err:
        await resumable.patch(state.upload_id, _sized(12, b"b"), _body(b"b"))
    assert err.value.status == 423
    await resumable.registry.update_one({"_id": state.upload_id}, {"$set": {"lease.until": past}})
    rest = b"b" * 38
    state = await resumable.patch(state.upload_id, _sized(12, rest), _body(rest))
    assert await store.get(state.file_id) == b"a" * 12 + rest


async def test_termination_and_expiry_leave_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=10)
    resumable = AsyncResumableStore(store, TusOptions(expire_after=timedelta(hours=1)))
    doomed = await _new(resumable, 100)
    await resumable.patch(doomed.upload_id, _sized(0, b"a" * 35), _body(b"a" * 35))
    await resumable.terminate(doomed.upload_id)
    with pytest.raises(TusError, match=f"no upload {doomed.upload_id}") as err:
        await resumable.get(doomed.upload_id)
    assert err.value.status == 404
    assert await store.chunks.count_documents({}) == 0
    abandoned = await _new(resumable, 100)
    await resumable.patch(abandoned.upload_id, _sized(0, b"a" * 35), _body(b"a" * 35))
    done = await _new(resumable, 5)
    done = await resumable.patch(done.upload_id, _sized(0, b"hello"), _body(b"hello"))
    assert await resumable.open_file_ids() == [abandoned.file_id]
    assert await resumable.remove_expired() == 0
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    with pytest.raises(TusError, match="has expired: start a new upload") as err:
        state = await resumable.get(abandoned.upload_id)
        PatchRequest(35).applied_to(state, resumable.options, later)
    assert err.value.status == 410
    assert await resumable.remove_expired(later) == 2
    assert await resumable.registry.count_documents({}) == 0
    assert await store.chunks.count_documents({}) == 1  # the finished file's one chunk
    assert await store.get(done.file_id) == b"hello"


async def test_an_empty_upload_is_a_file_at_once(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    state = await _new(AsyncResumableStore(store), 0)
    assert state.complete
    info = await store.get_info(state.file_id)
    assert info.length == 0 and info.sha256 == hashlib.sha256(b"").hexdigest()


async def test_refused_namings_store_nothing(async_db: Any) -> None:
    resumable = AsyncResumableStore(
        AsyncFileStore(async_db), TusOptions(content_types=("video/*",))
    )
    with pytest.raises(TusError, match="content type 'image/png' is not allowed") as err:
        await resumable.create(Creation(5, {}, None), FileNaming("a.png", "image/png"))
    assert err.value.status == 415
    with pytest.raises(TusError) as err:
        await resumable.create(Creation(5, {}, None), FileNaming("a.mp4", None, {"a.b": "1"}))
    assert err.value.status == 400
    assert str(err.value) == "Upload-Metadata: metadata.a.b: metadata keys must not contain '.'"
    assert await resumable.registry.count_documents({}) == 0


async def test_a_sweep_removes_an_abandoned_upload_once_expired_and_spares_an_open_one(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db, chunk_size=10, sweep_timing=SweepTiming(min_grace=timedelta()))
    resumable = AsyncResumableStore(store, TusOptions(expire_after=timedelta(hours=1)))
    abandoned = await _new(resumable, 100)
    await resumable.patch(abandoned.upload_id, _sized(0, b"a" * 35), _body(b"a" * 35))
    report = await store.sweep(delete=True, grace=timedelta())
    assert report.removed_chunks == 0 and report.removed_resumable == 0  # open: spared
    assert await store.chunks.count_documents({}) == 3
    # Past its expiry, the next sweep removes its entry and its chunks.
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    await resumable.registry.update_one(
        {"_id": abandoned.upload_id}, {"$set": {"expires": later - timedelta(hours=3)}}
    )
    report = await store.sweep(delete=True, grace=timedelta())
    assert report.removed_resumable == 1
    assert await resumable.registry.count_documents({}) == 0
    assert await store.chunks.count_documents({}) == 0


async def test_a_patch_records_its_state_once_when_it_ends(async_db: Any, mongo_uri: str) -> None:
    # Counting needs a client with a listener: a PyMongo one on the test's fresh database.
    heard = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[heard])
    try:
        store = AsyncFileStore(client[async_db.name], chunk_size=1000)
        await store.ensure_indexes()
        resumable = AsyncResumableStore(store)
        state = await resumable.create(Creation(5000, {}, None), FileNaming())
        data = os.urandom(5000)
        heard.clear()
        after = await resumable.patch(state.upload_id, _sized(0, data[:2500]), _body(data[:2500]))
        assert after.offset == 2500 and after.tail == data[2000:2500]
        # The state, its lease taken, the chunks (one batch), the state it ends in.
        sent = [(name, command[name]) for name, command in heard.sent]
        assert sent == [
            ("find", "fs.resumable"),
            ("findAndModify", "fs.resumable"),
            ("insert", "fs.chunks"),
            ("update", "fs.resumable"),
        ]
        done = await resumable.patch(state.upload_id, _sized(2500, data[2500:]), _body(data[2500:]))
        assert done.complete and await store.get(done.file_id) == data
    finally:
        await client.close()
