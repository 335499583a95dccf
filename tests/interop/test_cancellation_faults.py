"""Cancellation at random points, delivered once, twice, or by anyio's cancel scopes (as
Starlette and FastAPI deliver it), and on a stalled server: a cancelled caller returns
promptly and never leaves a visible, a half-visible or an orphaned file behind.

Async only: the sync twin cannot be cancelled.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import anyio
import pytest
from pymongo import AsyncMongoClient

from gridfield._async.store import AsyncFileStore, wait_cleanups
from tests.conftest import fresh_db_name
from tests.tcp_proxy import TcpProxy

CHUNK = 1024
RUNS = 60
# A bound on waiting for a task that should end (it fails the test, it measures nothing).
NO_HANG = 15.0


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


async def pieces(data: bytes, size: int = 16 * CHUNK) -> AsyncIterator[bytes]:
    """``data`` a piece at a time, giving the event loop a turn between pieces."""
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


async def orphan_chunks(db: Any) -> int:
    """Chunks whose files document does not exist, counted directly; the bucket check must
    agree."""
    ids = {doc["_id"] async for doc in db["fs.files"].find({}, {"_id": 1})}
    count = await db["fs.chunks"].count_documents({"files_id": {"$nin": list(ids)}})
    report = await AsyncFileStore(db).check(grace=timedelta(0))
    assert sum(orphans.chunks for orphans in report.orphan_chunks) == count, report
    assert report.damaged_files == [], report
    return count


async def cancelled(mode: str, delay: float, operation: Callable[[], Awaitable[Any]]) -> bool:
    """Run ``operation``, cancelling it after ``delay`` seconds the way ``mode`` says; True if
    the cancellation reached it (False: it had finished first)."""
    if mode == "anyio":
        with anyio.move_on_after(delay) as scope:
            await operation()
        return scope.cancelled_caught
    task = asyncio.ensure_future(operation())
    await asyncio.wait([task], timeout=delay)
    task.cancel()
    if mode == "twice":
        await asyncio.sleep(0.002)  # into its clean-up, then again
        task.cancel()
    done, _ = await asyncio.wait([task], timeout=NO_HANG)
    assert done, f"a cancelled operation ({mode}) was still running after {NO_HANG} s"
    if task.cancelled():
        return True
    task.result()
    return False


@pytest.fixture
async def db(mongo_uri: str) -> AsyncIterator[Any]:
    """A fresh database through PyMongo's async client only: cancellation is the same
    through Motor, and these tests are long."""
    client: Any = AsyncMongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_random_cancellations_leave_nothing_half_done(db: Any) -> None:
    async_db = db
    rng = random.Random(9)
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    modes = ("once", "twice", "anyio")
    cancelled_puts: list[str] = []
    finished_puts: dict[str, bytes] = {}
    stored: dict[str, bytes] = {}  # files of read and delete runs, written beforehand
    for run in range(RUNS):
        kind = ("put", "read", "delete")[run % 3]
        mode = modes[(run // 3) % 3]
        data = payload(rng.randrange(1, 200) * CHUNK + rng.randrange(CHUNK), seed=run)
        delay = rng.uniform(0, 0.15)
        file_id = f"{kind}-{run}"
        if kind == "put":

            async def put(file_id: str = file_id, data: bytes = data) -> None:
                await store.put(pieces(data), file_id=file_id)

            if await cancelled(mode, delay, put):
                cancelled_puts.append(file_id)
            else:
                finished_puts[file_id] = data
        elif kind == "read":
            await store.put(data, file_id=file_id)
            stored[file_id] = data
            stream = await store.open_download(file_id)
            got: list[bytes] = []

            async def read(stream: Any = stream, got: list[bytes] = got) -> None:
                while piece := await stream.read(7 * CHUNK):
                    got.append(piece)

            await cancelled(mode, delay, read)
            # Where the cancelled read stopped, the stream goes on: never short, never wrong.
            assert b"".join(got) + await stream.read() == data, (run, mode)
            await store.delete(file_id)  # a small bucket keeps FerretDB's full scans short
            del stored[file_id]
        else:
            await store.put(data, file_id=file_id)
            stored[file_id] = data

            async def delete(file_id: str = file_id) -> None:
                await store.delete(file_id)

            await cancelled(mode, delay, delete)
    await wait_cleanups()

    visible = {doc["_id"] async for doc in async_db["fs.files"].find({}, {"_id": 1})}
    assert not visible & set(cancelled_puts), "a cancelled put left a visible file"
    for file_id in visible:  # every file there reads whole: none is half visible
        assert await store.get(file_id) == {**finished_puts, **stored}[file_id], file_id
    assert await orphan_chunks(async_db) == 0
    assert cancelled_puts, "no put was cancelled: the delays miss the uploads"


@pytest.fixture
async def stalling_client(tcp_proxy: TcpProxy) -> AsyncIterator[Any]:
    """A client through the proxy, with no socket timeout: a stall lasts as long as the test
    wants it to."""
    client: Any = AsyncMongoClient(tcp_proxy.uri(serverSelectionTimeoutMS=5000))
    try:
        yield client
    finally:
        await client.close()


async def test_a_cancel_on_a_stalled_server_returns_while_the_stall_lasts(
    db: Any, stalling_client: Any, tcp_proxy: TcpProxy
) -> None:
    async_db = db
    store = AsyncFileStore(stalling_client[async_db.name], chunk_size=CHUNK)
    await store.put(b"warms up the connection and the indexes")
    tcp_proxy.stall()
    started = time.monotonic()
    task = asyncio.ensure_future(
        asyncio.wait_for(store.put(payload(300 * CHUNK, 1), file_id="stalled"), 1)
    )
    done, _ = await asyncio.wait([task], timeout=NO_HANG)
    returned_after = time.monotonic() - started
    try:
        assert done, f"the cancelled put was still waiting on the stalled server after {NO_HANG} s"
        with pytest.raises(TimeoutError):
            task.result()
    finally:
        tcp_proxy.resume()
        await asyncio.wait([task], timeout=NO_HANG)
    print(f"wait_for(put, 1) on a stalled server returned after {returned_after:.2f} s")
    await wait_cleanups()  # the clean-up went on without the caller, and ends once it can
    assert await async_db["fs.files"].count_documents({"_id": "stalled"}) == 0
    assert await orphan_chunks(async_db) == 0


async def test_a_delete_cancelled_while_it_removes_the_files_document_still_removes_the_chunks(
    db: Any, stalling_client: Any, tcp_proxy: TcpProxy
) -> None:
    async_db = db
    store = AsyncFileStore(stalling_client[async_db.name], chunk_size=CHUNK)
    for attempt in range(3):
        file_id = f"deleted-{attempt}"
        await store.put(payload(40 * CHUNK, attempt), file_id=file_id)
        tcp_proxy.stall()
        task = asyncio.ensure_future(store.delete(file_id))
        await asyncio.sleep(0.3)  # the delete of the files document is sent, and held
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=NO_HANG)
        tcp_proxy.resume()
        assert done and task.cancelled(), attempt
        await wait_cleanups()
        assert await async_db["fs.files"].count_documents({"_id": file_id}) == 0, attempt
        assert await async_db["fs.chunks"].count_documents({"files_id": file_id}) == 0, attempt
