# Generated from tests/_async/test_store_concurrency.py by scripts/unasync.py: do not edit.
"""Many streams open at once through one client keep their bytes apart."""

from __future__ import annotations

import random
from typing import Any

from gridfield._sync.store import FileStore

STREAMS = 20
PIECE = 700
SIZE = 1400


def payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


def test_twenty_interleaved_uploads_and_downloads(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=1024)
    # Sizes and chunk sizes differ per stream, so the streams fill and flush at different times.
    contents = [payload(150 * i + i % 3, seed=i) for i in range(STREAMS)]
    uploads = [
        store.open_upload(filename=f"f{i}", chunk_size=[1024, 100, 4096][i % 3])
        for i in range(STREAMS)
    ]
    for pos in range(0, max(map(len, contents)), PIECE):
        for upload, data in zip(uploads, contents, strict=True):
            upload.write(data[pos : pos + PIECE])
    for upload in reversed(uploads):
        upload.close()

    downloads = [store.open_download(upload.file_id) for upload in uploads]
    got = [bytearray() for _ in downloads]
    for _ in range(max(map(len, contents)) // 1000 + 1):
        for stream, buffer in zip(downloads, got, strict=True):
            buffer += stream.read(1000)
    assert [bytes(b) for b in got] == contents
    for stream in downloads:
        stream.close()


def test_reads_and_writes_interleaved_on_the_same_files(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=512)
    done = [store.put(payload(SIZE, seed=i), filename=f"old{i}") for i in range(STREAMS)]
    readers = [store.open_download(info.file_id) for info in done]
    writers = [store.open_upload(filename=f"new{i}") for i in range(STREAMS)]
    read_back = [bytearray() for _ in readers]
    for pos in range(0, SIZE, PIECE):
        for i, (reader, writer) in enumerate(zip(readers, writers, strict=True)):
            read_back[i] += reader.read(PIECE)
            writer.write(payload(SIZE, seed=100 + i)[pos : pos + PIECE])
    infos = [writer.close() for writer in writers]
    for i, info in enumerate(infos):
        assert bytes(read_back[i]) == payload(SIZE, seed=i)
        assert store.get(info.file_id) == payload(SIZE, seed=100 + i)
    assert sync_db["fs.files"].count_documents({}) == 2 * STREAMS
