"""A cancelled upload leaves nothing behind (async only: the sync twin cannot be cancelled)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gridfield._async.store import AsyncFileStore, wait_cleanups

CHUNK = 1024
POLLS = 500  # how many event-loop turns of 10 ms to wait for chunks to reach the server


async def counts(db: Any) -> tuple[int, int]:
    return (
        await db["fs.files"].count_documents({}),
        await db["fs.chunks"].count_documents({}),
    )


async def wait_for_chunks(db: Any, task: asyncio.Task[Any]) -> None:
    """Return once the task's first chunks are on the server (it must not have finished)."""
    for _ in range(POLLS):
        if await db["fs.chunks"].count_documents({}):
            break
        assert not task.done(), task
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the upload wrote no chunk to the server")


async def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel ``task``, then wait for the clean-up it leaves running in the background."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_cleanups()


def stalling_source(stalled: asyncio.Event) -> Any:
    """A source that fills more than one insert batch (1000 chunks), then waits forever."""

    async def source() -> Any:
        yield b"x" * (40 * CHUNK)
        for _ in range(1100):
            yield b"y" * CHUNK
        stalled.set()
        await asyncio.Event().wait()
        yield b"never sent"

    return source()


async def test_cancelled_put_waiting_on_its_source_leaves_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    stalled = asyncio.Event()
    task = asyncio.create_task(store.put(stalling_source(stalled), filename="stalled"))
    await stalled.wait()
    # The source was asked for more, so the first full batch is on the server.
    assert (await counts(async_db))[1] > 0
    await cancel(task)
    assert await counts(async_db) == (0, 0)


async def test_cancelled_put_mid_insert_leaves_nothing(async_db: Any) -> None:
    # Cancel the moment the first chunks show up: usually while their insert is still running
    # (FerretDB inserts a batch a hundred documents at a time). The insert must not outlive
    # the clean-up, or the chunks it adds after the clean-up stay behind.
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    for attempt in range(3):
        task = asyncio.create_task(store.put(stalling_source(asyncio.Event())))
        await wait_for_chunks(async_db, task)
        await cancel(task)
        assert await counts(async_db) == (0, 0), f"attempt {attempt}"


async def test_cancelled_upload_block_leaves_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    never = asyncio.Event()
    upload = store.open_upload(filename="cancelled")

    async def write_then_stall() -> None:
        async with upload:
            await upload.write(b"z" * (5 * CHUNK + 1))
            await upload.flush()
            await never.wait()

    task = asyncio.create_task(write_then_stall())
    await wait_for_chunks(async_db, task)
    assert await counts(async_db) == (0, 5)
    await cancel(task)
    assert upload.closed
    assert await counts(async_db) == (0, 0)


async def test_cancelled_while_inserting_leaves_nothing(async_db: Any) -> None:
    # Cancel at many points of a large upload, including while an insert is in flight.
    store = AsyncFileStore(async_db, chunk_size=64 * 1024)
    for turns in [0, 1, 2, 5, 20]:
        task = asyncio.create_task(store.put([b"w" * (1024 * 1024)] * 40, filename="big"))
        for _ in range(turns):
            await asyncio.sleep(0)
        await cancel(task)
        assert await counts(async_db) == (0, 0), turns


async def test_the_store_works_after_a_cancelled_download(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(b"d" * (50 * CHUNK))

    async def read_slowly() -> None:
        stream = await store.open_download(info.file_id)
        async for _ in stream:
            await asyncio.sleep(0.01)

    task = asyncio.create_task(read_slowly())
    await asyncio.sleep(0.02)
    await cancel(task)
    assert await store.get(info.file_id) == b"d" * (50 * CHUNK)
