"""A quick end-to-end pass over the file store against the real server."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, monitoring

from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import CorruptFile, FileExists, NoFile

CHUNK = 8


class Commands(monitoring.CommandListener):
    """Names and bodies of the commands a client sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]


@pytest.fixture
def store(async_db: Any) -> AsyncFileStore:
    return AsyncFileStore(async_db, chunk_size=CHUNK)


async def counts(store: AsyncFileStore) -> tuple[int, int]:
    return (
        await store.files.count_documents({}),
        await store.chunks.count_documents({}),
    )


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3])
async def test_put_get_round_trip(store: AsyncFileStore, size: int) -> None:
    data = bytes(range(256))[:size] * 1
    info = await store.put(data, filename="f.bin", metadata={"k": 1}, checksum=True)
    assert info.length == size
    assert info.chunk_count == -(-size // CHUNK)
    assert await store.get(info.file_id) == data
    assert await store.get_info(info.file_id) == info
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.metadata["k"] == 1
    assert await counts(store) == (1, info.chunk_count)


async def test_sources(store: AsyncFileStore) -> None:
    data = b"0123456789" * 5

    async def pieces() -> AsyncIterator[bytes]:
        yield data[:7]
        yield data[7:]

    class ChunkReader:
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)
            self.sizes: list[int] = []

        async def read(self, size: int = -1) -> bytes:
            self.sizes.append(size)
            return self.inner.read(size)

    reader = ChunkReader()
    sources: list[Any] = [
        data,
        bytearray(data),
        memoryview(data),
        io.BytesIO(data),
        [data[:3], data[3:]],
        iter([data]),
        pieces(),
        reader,
    ]
    for source in sources:
        info = await store.put(source)
        assert await store.get(info.file_id) == data, type(source)
    assert set(reader.sizes) == {CHUNK}
    info = await store.put("héllo", encoding="latin-1")
    assert await store.get(info.file_id) == "héllo".encode("latin-1")


class TextReader:
    """An (async) file object opened in text mode."""

    async def read(self, size: int = -1) -> str:
        return "text"


@pytest.mark.parametrize(
    "bad",
    [1, None, 1.5, {"a": b"x"}, {b"x"}, io.StringIO("text"), [b"ok", 2], TextReader()],
)
async def test_bad_sources_write_nothing(store: AsyncFileStore, bad: Any) -> None:
    with pytest.raises(TypeError):
        await store.put(bad)
    assert await counts(store) == (0, 0)


async def test_unknown_encoding(store: AsyncFileStore) -> None:
    with pytest.raises(LookupError):
        await store.put("text", encoding="no-such-codec")
    assert await counts(store) == (0, 0)


async def test_a_failing_source_leaves_nothing(store: AsyncFileStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * (CHUNK * 3)
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        await store.put(broken())
    assert await counts(store) == (0, 0)


async def test_cancellation_leaves_nothing(store: AsyncFileStore) -> None:
    def cancelled() -> Iterator[bytes]:
        yield b"x" * (CHUNK * 3)
        raise asyncio.CancelledError

    stream = store.open_upload(filename="c")

    async def upload() -> None:
        async with stream:
            for piece in cancelled():
                await stream.write(piece)
                await stream.flush()

    with pytest.raises(asyncio.CancelledError):
        await upload()
    assert await counts(store) == (0, 0)
    assert stream.closed


async def test_existing_id_is_kept_intact(store: AsyncFileStore) -> None:
    first = await store.put(b"original content", file_id="same")
    with pytest.raises(FileExists):
        await store.put(b"intruder content", file_id="same")
    assert await store.get(first.file_id) == b"original content"
    empty = await store.put(b"", file_id="empty")
    with pytest.raises(FileExists):
        await store.put(b"more bytes than zero", file_id=empty.file_id)
    assert await store.get("empty") == b""
    assert await counts(store) == (2, 2)


async def test_small_put_costs_two_commands(async_db: Any, mongo_uri: str) -> None:
    listener = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[listener])
    try:
        store = AsyncFileStore(client[async_db.name])
        await store.put(b"first")
        listener.sent.clear()
        await store.put(b"second", filename="s.txt")
        assert listener.names() == ["insert", "insert"]
        info = await store.put(b"x" * (3 * 255 * 1024 + 1))
        listener.sent.clear()
        assert await store.read_range(info.file_id, 255 * 1024 + 5, 255 * 1024 + 9) == b"xxxx"
        (find_files, _), (find_chunks, chunks_body) = listener.sent
        assert (find_files, find_chunks) == ("find", "find")
        assert chunks_body["filter"]["n"] == {"$gte": 1, "$lte": 1}
    finally:
        await client.close()


async def test_streams(store: AsyncFileStore) -> None:
    data = b"line one\nline two is longer\n\nlast"
    async with store.open_upload(filename="t.txt") as up:
        up.buffer(data[:5])
        await up.write(data[5:20])
        await up.writelines([data[20:30], data[30:]])
    assert up.info is not None and up.info.content_type == "text/plain"
    stream = await store.open_download(up.file_id)
    assert [await stream.readline() for _ in range(5)] == [*io.BytesIO(data).readlines(), b""]
    stream.seek(3)
    assert await stream.read(4) == data[3:7]
    assert await stream.readchunk() == data[7:CHUNK]
    assert stream.seek(-4, 2) == len(data) - 4
    assert await stream.read() == b"last"
    stream.seek(10)
    assert b"".join([piece async for piece in stream]) == data[10:]
    with pytest.raises(ValueError):
        stream.seek(-1)
    await stream.close()
    with pytest.raises(ValueError):
        await stream.read()


async def test_corruption_is_named(store: AsyncFileStore) -> None:
    info = await store.put(b"a" * (CHUNK * 3), checksum=True)
    await store.chunks.update_one(
        {"files_id": info.file_id, "n": 1}, {"$set": {"data": b"b" * CHUNK}}
    )
    with pytest.raises(CorruptFile, match="SHA-256"):
        await store.get(info.file_id)
    await store.chunks.delete_one({"files_id": info.file_id, "n": 1})
    with pytest.raises(CorruptFile, match="chunk 1 is missing"):
        await store.get(info.file_id)
    assert await store.read_range(info.file_id, 0, CHUNK) == b"a" * CHUNK


async def test_delete_rename_find(store: AsyncFileStore) -> None:
    a = await store.put(b"aaa", filename="a")
    b = await store.put(b"bbb", filename="b")
    await store.rename(a.file_id, "z")
    names = [info.filename async for info in store.find(sort=[("filename", 1)])]
    assert names == ["b", "z"]
    assert [i.file_id async for i in store.find({"filename": "b"})] == [b.file_id]
    await store.delete(a.file_id)
    assert not await store.exists(a.file_id)
    assert await store.exists(b.file_id)
    with pytest.raises(NoFile):
        await store.delete(a.file_id)
    with pytest.raises(NoFile):
        await store.get(ObjectId())
    with pytest.raises(NoFile):
        await store.rename(ObjectId(), "x")
    with pytest.raises(TypeError):
        await store.delete({"$ne": None})
    assert await counts(store) == (1, 1)


class LostReply:
    """A collection whose insert_one reaches the server, then fails as if the reply was lost."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    async def insert_one(self, doc: Any) -> None:
        await self.collection.insert_one(doc)
        raise asyncio.CancelledError


async def test_lost_files_insert_leaves_nothing(store: AsyncFileStore) -> None:
    store.files = LostReply(store.files)
    with pytest.raises(asyncio.CancelledError):
        await store.put(b"x" * (CHUNK * 2 + 1), file_id="lost")
    assert await counts(store) == (0, 0)
