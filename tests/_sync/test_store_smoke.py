# Generated from tests/_async/test_store_smoke.py by scripts/unasync.py: do not edit.
"""A quick end-to-end pass over the file store against the real server."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient, monitoring

from gridfield._sync.store import FileStore
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
def store(sync_db: Any) -> FileStore:
    return FileStore(sync_db, chunk_size=CHUNK)


def counts(store: FileStore) -> tuple[int, int]:
    return (
        store.files.count_documents({}),
        store.chunks.count_documents({}),
    )


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3])
def test_put_get_round_trip(store: FileStore, size: int) -> None:
    data = bytes(range(256))[:size] * 1
    info = store.put(data, filename="f.bin", metadata={"k": 1}, checksum=True)
    assert info.length == size
    assert info.chunk_count == -(-size // CHUNK)
    assert store.get(info.file_id) == data
    assert store.get_info(info.file_id) == info
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.metadata["k"] == 1
    assert counts(store) == (1, info.chunk_count)


def test_sources(store: FileStore) -> None:
    data = b"0123456789" * 5

    def pieces() -> Iterator[bytes]:
        yield data[:7]
        yield data[7:]

    class ChunkReader:
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)
            self.sizes: list[int] = []

        def read(self, size: int = -1) -> bytes:
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
        info = store.put(source)
        assert store.get(info.file_id) == data, type(source)
    assert set(reader.sizes) == {CHUNK}
    info = store.put("héllo", encoding="latin-1")
    assert store.get(info.file_id) == "héllo".encode("latin-1")


class TextReader:
    """An (async) file object opened in text mode."""

    def read(self, size: int = -1) -> str:
        return "text"


@pytest.mark.parametrize(
    "bad",
    [1, None, 1.5, {"a": b"x"}, {b"x"}, io.StringIO("text"), [b"ok", 2], TextReader()],
)
def test_bad_sources_write_nothing(store: FileStore, bad: Any) -> None:
    with pytest.raises(TypeError):
        store.put(bad)
    assert counts(store) == (0, 0)


def test_unknown_encoding(store: FileStore) -> None:
    with pytest.raises(LookupError):
        store.put("text", encoding="no-such-codec")
    assert counts(store) == (0, 0)


def test_a_failing_source_leaves_nothing(store: FileStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * (CHUNK * 3)
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        store.put(broken())
    assert counts(store) == (0, 0)


def test_cancellation_leaves_nothing(store: FileStore) -> None:
    def cancelled() -> Iterator[bytes]:
        yield b"x" * (CHUNK * 3)
        raise asyncio.CancelledError

    stream = store.open_upload(filename="c")

    def upload() -> None:
        with stream:
            for piece in cancelled():
                stream.write(piece)
                stream.flush()

    with pytest.raises(asyncio.CancelledError):
        upload()
    assert counts(store) == (0, 0)
    assert stream.closed


def test_existing_id_is_kept_intact(store: FileStore) -> None:
    first = store.put(b"original content", file_id="same")
    with pytest.raises(FileExists):
        store.put(b"intruder content", file_id="same")
    assert store.get(first.file_id) == b"original content"
    empty = store.put(b"", file_id="empty")
    with pytest.raises(FileExists):
        store.put(b"more bytes than zero", file_id=empty.file_id)
    assert store.get("empty") == b""
    assert counts(store) == (2, 2)


def test_small_put_costs_two_commands(sync_db: Any, mongo_uri: str) -> None:
    listener = Commands()
    client: Any = MongoClient(mongo_uri, event_listeners=[listener])
    try:
        store = FileStore(client[sync_db.name])
        store.put(b"first")
        listener.sent.clear()
        store.put(b"second", filename="s.txt")
        assert listener.names() == ["insert", "insert"]
        info = store.put(b"x" * (3 * 255 * 1024 + 1))
        listener.sent.clear()
        assert store.read_range(info.file_id, 255 * 1024 + 5, 255 * 1024 + 9) == b"xxxx"
        (find_files, _), (find_chunks, chunks_body) = listener.sent
        assert (find_files, find_chunks) == ("find", "find")
        assert chunks_body["filter"]["n"] == {"$gte": 1, "$lte": 1}
    finally:
        client.close()


def test_streams(store: FileStore) -> None:
    data = b"line one\nline two is longer\n\nlast"
    with store.open_upload(filename="t.txt") as up:
        up.buffer(data[:5])
        up.write(data[5:20])
        up.writelines([data[20:30], data[30:]])
    assert up.info is not None and up.info.content_type == "text/plain"
    stream = store.open_download(up.file_id)
    assert [stream.readline() for _ in range(5)] == [*io.BytesIO(data).readlines(), b""]
    stream.seek(3)
    assert stream.read(4) == data[3:7]
    assert stream.readchunk() == data[7:CHUNK]
    assert stream.seek(-4, 2) == len(data) - 4
    assert stream.read() == b"last"
    stream.seek(10)
    assert b"".join([piece for piece in stream]) == data[10:]
    with pytest.raises(ValueError):
        stream.seek(-1)
    stream.close()
    with pytest.raises(ValueError):
        stream.read()


def test_corruption_is_named(store: FileStore) -> None:
    info = store.put(b"a" * (CHUNK * 3), checksum=True)
    store.chunks.update_one({"files_id": info.file_id, "n": 1}, {"$set": {"data": b"b" * CHUNK}})
    with pytest.raises(CorruptFile, match="SHA-256"):
        store.get(info.file_id)
    store.chunks.delete_one({"files_id": info.file_id, "n": 1})
    with pytest.raises(CorruptFile, match="chunk 1 is missing"):
        store.get(info.file_id)
    assert store.read_range(info.file_id, 0, CHUNK) == b"a" * CHUNK


def test_delete_rename_find(store: FileStore) -> None:
    a = store.put(b"aaa", filename="a")
    b = store.put(b"bbb", filename="b")
    store.rename(a.file_id, "z")
    names = [info.filename for info in store.find(sort=[("filename", 1)])]
    assert names == ["b", "z"]
    assert [i.file_id for i in store.find({"filename": "b"})] == [b.file_id]
    store.delete(a.file_id)
    assert not store.exists(a.file_id)
    assert store.exists(b.file_id)
    with pytest.raises(NoFile):
        store.delete(a.file_id)
    with pytest.raises(NoFile):
        store.get(ObjectId())
    with pytest.raises(NoFile):
        store.rename(ObjectId(), "x")
    with pytest.raises(TypeError):
        store.delete({"$ne": None})
    assert counts(store) == (1, 1)


class LostReply:
    """A collection whose insert_one reaches the server, then fails as if the reply was lost."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    def insert_one(self, doc: Any) -> None:
        self.collection.insert_one(doc)
        raise asyncio.CancelledError


def test_lost_files_insert_leaves_nothing(store: FileStore) -> None:
    store.files = LostReply(store.files)
    with pytest.raises(asyncio.CancelledError):
        store.put(b"x" * (CHUNK * 2 + 1), file_id="lost")
    assert counts(store) == (0, 0)
