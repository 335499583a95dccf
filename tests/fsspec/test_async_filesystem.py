"""The async filesystem awaited inside a running event loop (``asynchronous=True``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from gridfield.core.errors import FileTooLarge
from gridfield.fsspec import AsyncGridFSFileSystem
from tests.conftest import fresh_db_name
from tests.fsspec.chunk_counter import ChunkCounter

CHUNK = 255 * 1024


@pytest.fixture
async def afs(mongo_uri: str, chunks: ChunkCounter) -> AsyncIterator[Any]:
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[chunks])
    name = fresh_db_name()
    try:
        yield AsyncGridFSFileSystem(
            client=client, database=name, asynchronous=True, skip_instance_cache=True
        )
    finally:
        await client.drop_database(name)
        await client.close()


async def test_the_async_methods_list_read_and_change(afs: Any) -> None:
    await afs._pipe_file("a/one.txt", b"1")
    await afs._pipe_file("a/b/two.txt", b"22")
    assert await afs._ls("a", detail=False) == ["a/b", "a/one.txt"]
    assert await afs._find("a") == ["a/b/two.txt", "a/one.txt"]
    assert await afs._cat_file("a/b/two.txt", start=1) == b"2"
    assert (await afs._info("a/b"))["type"] == "directory"
    assert await afs._cat_ranges(["a/one.txt", "a/b/two.txt"], [0, 0], [1, 1]) == [b"1", b"2"]
    await afs._mv("a/one.txt", "c/one.txt")
    assert await afs._exists("c/one.txt") and not await afs._exists("a/one.txt")
    await afs._rm("a", recursive=True)
    assert await afs._find("") == ["c/one.txt"]
    with pytest.raises(FileNotFoundError):
        await afs._cat_file("a/b/two.txt")


async def test_open_async_reads_in_place_and_streams_writes(afs: Any, chunks: ChunkCounter) -> None:
    data = bytes(range(256)) * (6 * CHUNK // 256)
    async with await afs.open_async("w/data.bin", "wb", block_size=CHUNK) as f:
        for start in range(0, len(data), 100_000):
            await f.write(data[start : start + 100_000])
        assert not await afs._exists("w/data.bin")
    assert await afs._cat_file("w/data.bin") == data
    chunks.clear()
    async with await afs.open_async("w/data.bin", "rb") as f:
        f.seek(4 * CHUNK + 7)
        assert await f.read(10) == data[4 * CHUNK + 7 : 4 * CHUNK + 17]
        assert chunks.fetched == [4]
        assert await f.read() == data[4 * CHUNK + 17 :]
    with pytest.raises(RuntimeError, match="stop"):
        async with await afs.open_async("w/broken.bin", "wb", block_size=CHUNK) as f:
            await f.write(b"x" * (3 * CHUNK))
            raise RuntimeError("stop")
    assert not await afs._exists("w/broken.bin")
    with pytest.raises(FileExistsError):
        await afs.open_async("w/data.bin", "xb")
    with pytest.raises(ValueError, match="binary"):
        await afs.open_async("w/data.bin", "r")


async def test_the_stores_limits_apply_to_async_writes(mongo_uri: str) -> None:
    client: Any = AsyncMongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        afs = AsyncGridFSFileSystem(
            client=client, database=name, asynchronous=True, skip_instance_cache=True,
            max_size=10,
        )  # fmt: skip
        with pytest.raises(FileTooLarge):
            await afs._pipe_file("big.txt", b"x" * 11)
        assert await afs._find("") == []
    finally:
        await client.drop_database(name)
        await client.close()
