"""Many streams open at once through one client keep their bytes apart."""

from __future__ import annotations

import random
from typing import Any

from gridfield._async.store import AsyncFileStore

STREAMS = 20
PIECE = 700
SIZE = 1400


def payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


async def test_twenty_interleaved_uploads_and_downloads(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=1024)
    # Sizes and chunk sizes differ per stream, so the streams fill and flush at different times.
    contents = [payload(150 * i + i % 3, seed=i) for i in range(STREAMS)]
    uploads = [
        store.open_upload(filename=f"f{i}", chunk_size=[1024, 100, 4096][i % 3])
        for i in range(STREAMS)
    ]
    for pos in range(0, max(map(len, contents)), PIECE):
        for upload, data in zip(uploads, contents, strict=True):
            await upload.write(data[pos : pos + PIECE])
    for upload in reversed(uploads):
        await upload.close()

    downloads = [await store.open_download(upload.file_id) for upload in uploads]
    got = [bytearray() for _ in downloads]
    for _ in range(max(map(len, contents)) // 1000 + 1):
        for stream, buffer in zip(downloads, got, strict=True):
            buffer += await stream.read(1000)
    assert [bytes(b) for b in got] == contents
    for stream in downloads:
        await stream.close()


async def test_reads_and_writes_interleaved_on_the_same_files(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=512)
    done = [await store.put(payload(SIZE, seed=i), filename=f"old{i}") for i in range(STREAMS)]
    readers = [await store.open_download(info.file_id) for info in done]
    writers = [store.open_upload(filename=f"new{i}") for i in range(STREAMS)]
    read_back = [bytearray() for _ in readers]
    for pos in range(0, SIZE, PIECE):
        for i, (reader, writer) in enumerate(zip(readers, writers, strict=True)):
            read_back[i] += await reader.read(PIECE)
            await writer.write(payload(SIZE, seed=100 + i)[pos : pos + PIECE])
    infos = [await writer.close() for writer in writers]
    for i, info in enumerate(infos):
        assert bytes(read_back[i]) == payload(SIZE, seed=i)
        assert await store.get(info.file_id) == payload(SIZE, seed=100 + i)
    assert await async_db["fs.files"].count_documents({}) == 2 * STREAMS
