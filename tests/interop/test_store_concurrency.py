"""Twenty uploads and downloads at once through one client: tasks on the async store, threads
on the sync one."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gridfield._async.store import AsyncFileStore
from gridfield._sync.store import FileStore

FILES = 20
CHUNK = 1024


def payload(i: int) -> bytes:
    """File ``i``'s bytes: sizes around and across chunk boundaries, different per file."""
    return random.Random(i).randbytes([0, 1, CHUNK - 1, CHUNK, CHUNK + 1][i % 5] + 200 * i)


async def test_twenty_tasks_upload_and_download_at_once(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)

    async def upload(i: int) -> Any:
        if i % 2:
            return (await store.put(payload(i), filename=f"f{i}")).file_id
        async with store.open_upload(filename=f"f{i}") as stream:
            for pos in range(0, len(payload(i)), 500):
                await stream.write(payload(i)[pos : pos + 500])
        return stream.file_id

    async def download(file_id: Any) -> bytes:
        stream = await store.open_download(file_id)
        return b"".join([piece async for piece in stream])

    ids = await asyncio.gather(*(upload(i) for i in range(FILES)))
    wholes = await asyncio.gather(*(store.get(file_id) for file_id in ids))
    streamed = await asyncio.gather(*(download(file_id) for file_id in ids))
    expected = [payload(i) for i in range(FILES)]
    assert list(wholes) == expected
    assert list(streamed) == expected

    # Uploads of new files while the old ones are read back.
    mixed = await asyncio.gather(
        *(upload(FILES + i) for i in range(FILES)), *(download(file_id) for file_id in ids)
    )
    assert list(mixed[FILES:]) == expected
    for i, file_id in enumerate(mixed[:FILES]):
        assert await store.get(file_id) == payload(FILES + i)
    assert await async_db["fs.files"].count_documents({}) == 2 * FILES


def test_twenty_threads_upload_and_download_at_once(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)

    def upload(i: int) -> Any:
        if i % 2:
            return store.put(payload(i), filename=f"f{i}").file_id
        with store.open_upload(filename=f"f{i}") as stream:
            for pos in range(0, len(payload(i)), 500):
                stream.write(payload(i)[pos : pos + 500])
        return stream.file_id

    def download(file_id: Any) -> bytes:
        with store.open_download(file_id) as stream:
            return b"".join(stream)

    with ThreadPoolExecutor(max_workers=FILES) as pool:
        ids = list(pool.map(upload, range(FILES)))
        wholes = list(pool.map(store.get, ids))
        streamed = list(pool.map(download, ids))
        new = [pool.submit(upload, FILES + i) for i in range(FILES)]
        again = [pool.submit(download, file_id) for file_id in ids]
        new_ids = [future.result() for future in new]
        reread = [future.result() for future in again]
    expected = [payload(i) for i in range(FILES)]
    assert wholes == expected
    assert streamed == expected
    assert reread == expected
    for i, file_id in enumerate(new_ids):
        assert store.get(file_id) == payload(FILES + i)
    assert sync_db["fs.files"].count_documents({}) == 2 * FILES
