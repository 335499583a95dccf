# Generated from tests/_async/test_store_roundtrip.py by scripts/unasync.py: do not edit.
"""What goes into the file store comes back out: every source, size, reader and file operation."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient, monitoring

from gridfield._sync.store import FileStore
from gridfield.core.errors import NoFile
from gridfield.core.files_document import DEFAULT_CHUNK_SIZE, FileInfo
from tests.sinks import refused_by_the_sync_api

CHUNK = 1024
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]
DEFAULT_SIZES = [0, 1, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1]
SEVERAL_MIB = 4 * 1024 * 1024 + 3
# Irregular piece sizes, so pieces straddle chunk boundaries in every way.
PIECES = [1, 700, 1500, 3, 4096, 1023]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(50)

HYPOTHESIS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


def lines_payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes with a newline every 40 bytes on average, lines of any length."""
    rng = random.Random(seed)
    return bytes(10 if rng.random() < 1 / 40 else rng.randrange(11, 256) for _ in range(size))


def split(data: bytes) -> list[bytes]:
    """Cut ``data`` into irregular pieces (an empty piece included)."""
    pieces, pos, i = [b""], 0, 0
    while pos < len(data):
        step = PIECES[i % len(PIECES)]
        pieces.append(data[pos : pos + step])
        pos, i = pos + step, i + 1
    return pieces


def layout(size: int, chunk_size: int) -> list[int]:
    """The chunk payload sizes standard GridFS stores for a file of ``size`` bytes."""
    full, rest = divmod(size, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime, whether the driver handed back a naive or an aware one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def stored_chunks(db: Any, file_id: Any, bucket: str = "fs") -> list[dict[str, Any]]:
    cursor = db[f"{bucket}.chunks"].find({"files_id": file_id}).sort("n", 1)
    return cursor.to_list(length=None)


def files_doc(db: Any, file_id: Any, bucket: str = "fs") -> dict[str, Any]:
    doc = db[f"{bucket}.files"].find_one({"_id": file_id})
    assert doc is not None, f"no files document for {file_id!r}"
    return doc


def check_on_disk(db: Any, info: FileInfo, data: bytes, bucket: str = "fs") -> None:
    """The file is stored as standard GridFS: one files document, chunks 0..k-1 of full size."""
    doc = files_doc(db, info.file_id, bucket)
    assert doc["length"] == len(data)
    assert doc["chunkSize"] == info.chunk_size
    assert isinstance(doc["uploadDate"], datetime)
    chunks = stored_chunks(db, info.file_id, bucket)
    assert [c["n"] for c in chunks] == list(range(len(chunks)))
    assert [len(c["data"]) for c in chunks] == layout(len(data), info.chunk_size)
    assert b"".join(bytes(c["data"]) for c in chunks) == data


class Reader:
    """A binary file object whose ``read`` is a coroutine on the async twin."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


SOURCES = [
    "bytes",
    "bytearray",
    "memoryview",
    "bytesio",
    "file",
    "list",
    "generator",
    "async_generator",
    "reader",
    "write",
    "writelines",
    "buffer",
    "async_with",
]


def put_via(kind: str, store: FileStore, data: bytes, tmp_path: Path, **options: Any) -> FileInfo:
    """Store ``data`` through the source or stream method named ``kind``."""
    if kind == "bytes":
        return store.put(data, **options)
    if kind == "bytearray":
        return store.put(bytearray(data), **options)
    if kind == "memoryview":
        return store.put(memoryview(data), **options)
    if kind == "bytesio":
        return store.put(io.BytesIO(data), **options)
    if kind == "file":
        path = tmp_path / f"source-{len(data)}.bin"
        path.write_bytes(data)
        with open(path, "rb") as source:
            return store.put(source, **options)
    if kind == "list":
        return store.put(split(data), **options)
    if kind == "generator":
        return store.put(iter(split(data)), **options)
    if kind == "async_generator":

        def pieces() -> Any:
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        return store.put(pieces(), **options)
    if kind == "reader":
        return store.put(Reader(data), **options)
    if kind == "write":
        upload = store.open_upload(**options)
        for piece in split(data):
            upload.write(piece)
        return upload.close()
    if kind == "writelines":
        upload = store.open_upload(**options)
        upload.writelines(split(data))
        return upload.close()
    if kind == "buffer":
        upload = store.open_upload(**options)
        for piece in split(data):
            upload.buffer(piece)
        return upload.close()
    assert kind == "async_with"
    with store.open_upload(**options) as upload:
        for piece in split(data):
            upload.write(piece)
    assert upload.closed
    assert upload.info is not None
    return upload.info


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", SOURCES)
def test_round_trip_every_source_and_boundary_size(sync_db: Any, tmp_path: Path, kind: str) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    for size in SIZES:
        data = payload(size, seed=size)
        info = put_via(kind, store, data, tmp_path, filename=f"{kind}-{size}.bin")
        assert info.length == size, (kind, size)
        assert info.chunk_size == CHUNK
        assert info.filename == f"{kind}-{size}.bin"
        assert info.chunk_count == len(layout(size, CHUNK))
        assert store.get(info.file_id) == data, (kind, size)
        check_on_disk(sync_db, info, data)
    assert sync_db["fs.files"].count_documents({}) == len(SIZES)


@pytest.mark.parametrize("kind", ["bytes", "file", "write"])
def test_round_trip_default_chunk_size(sync_db: Any, tmp_path: Path, kind: str) -> None:
    store = FileStore(sync_db)
    assert store.chunk_size == DEFAULT_CHUNK_SIZE == 255 * 1024
    for size in DEFAULT_SIZES:
        data = payload(size, seed=size)
        info = put_via(kind, store, data, tmp_path)
        assert info.chunk_size == DEFAULT_CHUNK_SIZE
        assert store.get(info.file_id) == data, (kind, size)
        check_on_disk(sync_db, info, data)


def test_round_trip_several_mib(sync_db: Any, tmp_path: Path) -> None:
    store = FileStore(sync_db)
    data = payload(SEVERAL_MIB)
    info = put_via("file", store, data, tmp_path)
    assert info.length == SEVERAL_MIB
    assert info.chunk_count == 17
    assert store.get(info.file_id) == data
    check_on_disk(sync_db, info, data)


def test_chunk_size_per_file_overrides_the_store(sync_db: Any, tmp_path: Path) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(1000)
    for kind in ["bytes", "write"]:
        info = put_via(kind, store, data, tmp_path, chunk_size=300)
        assert info.chunk_size == 300
        check_on_disk(sync_db, info, data)


def test_other_bucket_name(sync_db: Any) -> None:
    store = FileStore(sync_db, "photos", chunk_size=CHUNK)
    assert store.collection_name == "photos"
    data = payload(2500)
    info = store.put(data)
    check_on_disk(sync_db, info, data, bucket="photos")
    assert sync_db["fs.files"].count_documents({}) == 0
    assert FileStore(sync_db, "photos").get(info.file_id) == data


def test_str_is_encoded(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    text = "héllo wörld ✓ ünïcode\n" * 100
    info = store.put(text)
    assert store.get(info.file_id) == text.encode("utf-8")
    info = store.put(text, encoding="utf-16")
    assert store.get(info.file_id) == text.encode("utf-16")
    assert info.length == len(text.encode("utf-16"))
    info = store.put("café crème", encoding="latin-1")
    assert store.get(info.file_id) == b"caf\xe9 cr\xe8me"
    upload = store.open_upload()
    upload.write("naïve ")
    upload.buffer("façade")
    info = upload.close()
    assert store.get(info.file_id) == "naïve façade".encode()


def test_file_ids_of_any_type(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    for file_id in ["report.pdf", 42, {"owner": "ann", "n": 1}, ObjectId()]:
        data = payload(1500, seed=7)
        info = store.put(data, file_id=file_id)
        assert info.file_id == file_id
        assert store.get(file_id) == data
        assert store.exists(file_id)
        assert (store.get_info(file_id)).length == 1500
        store.delete(file_id)
        assert not store.exists(file_id)
    assert sync_db["fs.chunks"].count_documents({}) == 0


# --------------------------------------------------------------------------- upload streams


def test_upload_stream_file_id_and_state_before_any_io(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload(filename="later.bin")
    assert isinstance(upload.file_id, ObjectId)
    assert upload.closed is False
    assert upload.info is None
    chosen = store.open_upload(file_id="chosen")
    assert chosen.file_id == "chosen"
    upload.buffer(payload(5 * CHUNK))
    # buffer() does no I/O: nothing reaches the server before a write, flush or close.
    assert sync_db["fs.chunks"].count_documents({}) == 0
    info = upload.close()
    assert info.file_id == upload.file_id
    assert upload.closed is True
    assert upload.info == info
    assert store.get(upload.file_id) == payload(5 * CHUNK)


def test_upload_writes_chunks_first_and_the_files_document_last(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(2 * CHUNK + 500)
    upload = store.open_upload(filename="late.bin")
    upload.write(data)
    upload.flush()
    # flush() writes every full chunk, and the file stays invisible until close().
    assert sync_db["fs.chunks"].count_documents({"files_id": upload.file_id}) == 2
    assert sync_db["fs.files"].count_documents({}) == 0
    assert not store.exists(upload.file_id)
    info = upload.close()
    assert sync_db["fs.chunks"].count_documents({"files_id": upload.file_id}) == 3
    assert store.exists(upload.file_id)
    check_on_disk(sync_db, info, data)


def test_upload_close_is_idempotent(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload()
    upload.write(b"once")
    first = upload.close()
    second = upload.close()
    assert second == first
    assert sync_db["fs.files"].count_documents({}) == 1
    assert sync_db["fs.chunks"].count_documents({}) == 1


def test_upload_context_manager_returns_the_stream(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload(filename="ctx.txt", metadata={"owner": "ann"})
    with upload as entered:
        assert entered is upload
        entered.writelines([b"line one\n", b"line two\n"])
    assert upload.info is not None
    assert upload.info.filename == "ctx.txt"
    assert upload.info.metadata["owner"] == "ann"
    assert store.get(upload.file_id) == b"line one\nline two\n"


# --------------------------------------------------------------------------- download streams


def test_download_stream_attributes_and_reads(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(3 * CHUNK + 100)
    info = store.put(data, filename="r.bin")
    stream = store.open_download(info.file_id)
    assert stream.file_id == info.file_id
    assert stream.length == len(data)
    assert stream.info.filename == "r.bin"
    assert stream.closed is False
    assert stream.read(0) == b""
    assert stream.read(10) == data[:10]
    assert stream.read(CHUNK) == data[10 : CHUNK + 10]
    assert stream.tell() == CHUNK + 10
    assert stream.read() == data[CHUNK + 10 :]
    assert stream.read() == b""
    assert stream.read(5) == b""
    stream.close()
    assert stream.closed is True


def test_readchunk_returns_the_rest_of_the_current_chunk(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(3 * CHUNK + 100)
    info = store.put(data)
    stream = store.open_download(info.file_id)
    assert stream.readchunk() == data[:CHUNK]
    assert stream.readchunk() == data[CHUNK : 2 * CHUNK]
    stream.seek(2 * CHUNK + 30)
    assert stream.readchunk() == data[2 * CHUNK + 30 : 3 * CHUNK]
    assert stream.readchunk() == data[3 * CHUNK :]
    assert stream.readchunk() == b""
    stream.seek(5)
    assert stream.read(3) == data[5:8]
    assert stream.readchunk() == data[8:CHUNK]


def test_readline_spans_chunks(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    lines = [b"a" * 10, b"b" * 2000, b"", b"c", b"d" * (CHUNK - 1), b"e" * 3000]
    data = b"\n".join(lines) + b"\nno newline at the end"
    info = store.put(data)
    expected = io.BytesIO(data)
    stream = store.open_download(info.file_id)
    while True:
        line = stream.readline()
        assert line == expected.readline()
        assert stream.tell() == expected.tell()
        if not line:
            break
    stream.seek(5)
    assert stream.readline(3) == data[5:8]
    assert stream.readline(0) == b""
    assert stream.readline(-1) == data[8:11]
    assert stream.readline(1500) == data[11 : 11 + 1500]


def test_seek_and_tell(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(2 * CHUNK + 10)
    info = store.put(data)
    stream = store.open_download(info.file_id)
    assert stream.tell() == 0
    assert stream.seek(1500) == 1500
    assert stream.read(4) == data[1500:1504]
    assert stream.seek(-4, 1) == 1500
    assert stream.seek(100, 1) == 1600
    assert stream.read(2) == data[1600:1602]
    assert stream.seek(-10, 2) == len(data) - 10
    assert stream.read() == data[-10:]
    assert stream.seek(0, 2) == len(data)
    assert stream.read() == b""
    assert stream.seek(len(data) + 50) == len(data) + 50
    assert stream.read(1) == b""
    assert stream.seek(0) == 0
    assert stream.read(CHUNK + 1) == data[: CHUNK + 1]
    stream.seek(7)
    for offset, whence in [(-1, 0), (-8, 1), (-len(data) - 1, 2)]:
        with pytest.raises(ValueError):
            stream.seek(offset, whence)
        assert stream.tell() == 7


def test_iteration_yields_chunks_from_the_position(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(3 * CHUNK + 100)
    info = store.put(data)
    stream = store.open_download(info.file_id)
    pieces = [piece for piece in stream]
    assert pieces == [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    stream = store.open_download(info.file_id)
    stream.seek(1500)
    pieces = [piece for piece in stream]
    assert pieces == [data[1500 : 2 * CHUNK], data[2 * CHUNK : 3 * CHUNK], data[3 * CHUNK :]]


def test_empty_file_reads_as_nothing(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(b"")
    assert sync_db["fs.chunks"].count_documents({}) == 0
    assert store.get(info.file_id) == b""
    assert store.read_range(info.file_id, 0) == b""
    with store.open_download(info.file_id) as stream:
        assert stream.read() == b""
        assert stream.readchunk() == b""
        assert stream.readline() == b""
        assert [piece for piece in stream] == []


def test_download_context_manager_closes(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(b"inside a with block")
    stream = store.open_download(info.file_id)
    with stream as entered:
        assert entered is stream
        assert entered.read(6) == b"inside"
    assert stream.closed is True


# --------------------------------------------------------------------------- properties


@HYPOTHESIS
@given(
    sizes=st.lists(st.integers(0, 700), max_size=8),
    chunk_size=st.sampled_from([16, 100, 1024]),
)
def test_any_sequence_of_writes_reassembles(
    sync_db: Any, sizes: list[int], chunk_size: int
) -> None:
    store = FileStore(sync_db, chunk_size=chunk_size)
    data = payload(sum(sizes), seed=len(sizes))
    upload = store.open_upload()
    pos = 0
    for size in sizes:
        upload.write(data[pos : pos + size])
        pos += size
    info = upload.close()
    assert info.length == len(data)
    assert store.get(info.file_id) == data
    check_on_disk(sync_db, info, data)


READ_OPS = st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 1500)),
    st.tuples(st.just("readchunk"), st.just(0)),
    st.tuples(st.just("readline"), st.integers(-1, 300)),
    st.tuples(st.just("seek"), st.tuples(st.integers(-3500, 3500), st.sampled_from([0, 1, 2]))),
    st.tuples(st.just("tell"), st.just(0)),
)


@HYPOTHESIS
@given(
    size=st.integers(0, 3000),
    chunk_size=st.sampled_from([16, 100, 1024]),
    ops=st.lists(READ_OPS, max_size=12),
)
def test_any_seek_and_read_sequence_matches_slicing(
    sync_db: Any, size: int, chunk_size: int, ops: list[tuple[str, Any]]
) -> None:
    data = lines_payload(size, seed=size)
    store = FileStore(sync_db, chunk_size=chunk_size)
    info = store.put(data)
    model = io.BytesIO(data)
    stream = store.open_download(info.file_id)
    for op, arg in ops:
        where = (op, arg, model.tell())
        if op == "read":
            assert stream.read(arg) == model.read(arg), where
        elif op == "readchunk":
            pos = model.tell()
            rest = model.read(chunk_size - pos % chunk_size) if pos < size else b""
            assert stream.readchunk() == rest, where
        elif op == "readline":
            assert stream.readline(arg) == model.readline(arg), where
        elif op == "seek":
            offset, whence = arg
            target = offset + [0, model.tell(), size][whence]
            if target < 0:
                with pytest.raises(ValueError):
                    stream.seek(offset, whence)
            else:
                assert stream.seek(offset, whence) == model.seek(target), where
        assert stream.tell() == model.tell(), where


@HYPOTHESIS
@given(
    size=st.integers(0, 3000),
    chunk_size=st.sampled_from([16, 100, 1024]),
    start=st.integers(0, 3100),
    span=st.one_of(st.none(), st.integers(0, 3100)),
)
def test_read_range_matches_slicing(
    sync_db: Any, size: int, chunk_size: int, start: int, span: int | None
) -> None:
    data = payload(size, seed=size)
    store = FileStore(sync_db, chunk_size=chunk_size)
    info = store.put(data)
    end = None if span is None else start + span
    assert store.read_range(info.file_id, start, end) == data[start:end]


# --------------------------------------------------------------------------- round trips counted


class Commands(monitoring.CommandListener):
    """Every command a client sends, and the chunk numbers the server hands back."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.chunks_fetched: list[int] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self.sent.append((event.command_name, target if isinstance(target, str) else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        if not str(cursor.get("ns", "")).endswith(".fs.chunks"):
            return
        for doc in cursor.get("firstBatch", []) + cursor.get("nextBatch", []):
            self.chunks_fetched.append(doc.get("n", -1))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.sent.append((event.command_name, "FAILED"))

    def clear(self) -> None:
        self.sent.clear()
        self.chunks_fetched.clear()


def needed(start: int, end: int, chunk_size: int) -> set[int]:
    """The chunk numbers holding bytes [start, end)."""
    return set(range(start // chunk_size, -(-end // chunk_size))) if end > start else set()


def test_ranged_reads_fetch_only_the_chunks_they_need(sync_db: Any, mongo_uri: str) -> None:
    # Counting needs a client with a listener: a PyMongo one on the test's fresh database.
    commands = Commands()
    client = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        store = FileStore(client[sync_db.name], chunk_size=CHUNK)
        data = payload(10 * CHUNK - 100)
        info = store.put(data)
        ranges = [(0, 1), (1500, 2600), (5000, 5001), (2 * CHUNK, 4 * CHUNK), (9000, None)]
        for start, end in ranges:
            commands.clear()
            assert store.read_range(info.file_id, start, end) == data[start:end]
            want = needed(start, len(data) if end is None else end, CHUNK)
            assert set(commands.chunks_fetched) == want, (start, end, commands.chunks_fetched)
            assert len(commands.chunks_fetched) == len(want)
        for start, size in [(1500, 1200), (3 * CHUNK + 1, 10), (7 * CHUNK, CHUNK)]:
            stream = store.open_download(info.file_id)
            commands.clear()
            stream.seek(start)
            assert stream.read(size) == data[start : start + size]
            want = needed(start, start + size, CHUNK)
            assert set(commands.chunks_fetched) <= want, (start, size, commands.chunks_fetched)
            stream.close()
    finally:
        client.close()


def test_ranged_read_never_touches_the_chunks_outside_the_range(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(10 * CHUNK)
    info = store.put(data)
    # A read that fetched chunk 0 or 9 would find them gone and call the file corrupt.
    sync_db["fs.chunks"].delete_many({"files_id": info.file_id, "n": {"$in": [0, 9]}})
    assert store.read_range(info.file_id, CHUNK, 9 * CHUNK) == data[CHUNK : 9 * CHUNK]
    assert store.read_range(info.file_id, 4000, 4100) == data[4000:4100]


def test_small_upload_costs_two_commands_once_indexes_exist(sync_db: Any, mongo_uri: str) -> None:
    commands = Commands()
    client = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        db = client[sync_db.name]
        store = FileStore(db, chunk_size=CHUNK)
        store.ensure_indexes()
        commands.clear()
        store.put(b"small", filename="small.txt")
        assert commands.sent == [("insert", "fs.chunks"), ("insert", "fs.files")]
        # The index check is remembered per client and bucket, not per store object.
        commands.clear()
        FileStore(db, chunk_size=CHUNK).put(b"another")
        assert commands.sent == [("insert", "fs.chunks"), ("insert", "fs.files")]
        commands.clear()
        store.put(b"")
        assert commands.sent == [("insert", "fs.files")]
    finally:
        client.close()


def test_indexes_are_the_standard_ones(sync_db: Any) -> None:
    store = FileStore(sync_db)
    store.put(b"x")
    chunk_indexes = sync_db["fs.chunks"].index_information()
    assert any(
        spec["key"] == [("files_id", 1), ("n", 1)] and spec.get("unique")
        for spec in chunk_indexes.values()
    ), chunk_indexes
    file_indexes = sync_db["fs.files"].index_information()
    assert any(
        spec["key"] == [("filename", 1), ("uploadDate", 1)] for spec in file_indexes.values()
    ), file_indexes


# --------------------------------------------------------------------------- content type


def raw_content_types(db: Any, file_id: Any) -> tuple[Any, Any]:
    doc = files_doc(db, file_id)
    return doc.get("metadata", {}).get("contentType"), doc.get("contentType")


def test_content_type_explicit_guessed_and_sniffed(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    cases: list[tuple[bytes, dict[str, Any], str]] = [
        (PNG, {"filename": "a.png", "content_type": "application/x-ours"}, "application/x-ours"),
        (b"plain words", {"filename": "notes.txt"}, "text/plain"),
        (b"not really a png", {"filename": "photo.png"}, "image/png"),
        (PNG, {}, "image/png"),
        (JPEG, {}, "image/jpeg"),
        (JPEG, {"filename": "no-extension"}, "image/jpeg"),
    ]
    for data, options, want in cases:
        # The GridFS spec writes a top-level contentType only when the caller gives one; a
        # guess goes in metadata.contentType alone, as mongofiles stores it.
        top = want if "content_type" in options else None
        info = store.put(data, **options)
        assert info.content_type == want, options
        assert (store.get_info(info.file_id)).content_type == want
        assert raw_content_types(sync_db, info.file_id) == (want, top)
        upload = store.open_upload(**options)
        upload.write(data)
        info = upload.close()
        assert info.content_type == want, options
        assert raw_content_types(sync_db, info.file_id) == (want, top)


def test_content_type_sits_beside_user_metadata(sync_db: Any) -> None:
    store = FileStore(sync_db)
    info = store.put(b"{}", content_type="application/json", metadata={"owner": "ann"})
    doc = files_doc(sync_db, info.file_id)
    assert doc["metadata"]["owner"] == "ann"
    assert doc["metadata"]["contentType"] == "application/json"
    assert doc["contentType"] == "application/json"
    assert info.metadata["owner"] == "ann"


def test_checksum_is_stored_by_default(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(3000)
    info = store.put(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    doc = files_doc(sync_db, info.file_id)
    assert doc["gridfield"] == {"sha256": info.sha256}  # a key of ours, not the user's metadata
    assert "sha256" not in doc.get("metadata", {})
    assert (store.get_info(info.file_id)).sha256 == info.sha256
    assert (store.put(data, checksum=False)).sha256 is None


# --------------------------------------------------------------------------- file operations


def test_get_info_reports_the_files_document(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    before = datetime.now(timezone.utc)
    put_info = store.put(payload(2500), filename="info.bin", metadata={"k": [1, 2]})
    after = datetime.now(timezone.utc)
    info = store.get_info(put_info.file_id)
    assert isinstance(info, FileInfo)
    assert info.file_id == put_info.file_id
    assert info.length == 2500
    assert info.chunk_size == CHUNK
    assert info.chunk_count == 3
    assert info.filename == "info.bin"
    assert info.metadata["k"] == [1, 2]
    assert info.upload_date is not None and put_info.upload_date is not None
    # BSON keeps milliseconds only.
    slack = timedelta(seconds=1)
    assert before - slack <= utc(info.upload_date) <= after + slack
    assert abs(utc(info.upload_date) - utc(put_info.upload_date)) < timedelta(milliseconds=1)
    doc = files_doc(sync_db, info.file_id)
    assert utc(doc["uploadDate"]) == utc(info.upload_date)


def test_delete_removes_the_file_and_only_that_file(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    keep = store.put(payload(3000, seed=1))
    gone = store.put(payload(3000, seed=2))
    assert store.exists(gone.file_id)
    store.delete(gone.file_id)
    assert not store.exists(gone.file_id)
    assert sync_db["fs.chunks"].count_documents({"files_id": gone.file_id}) == 0
    with pytest.raises(NoFile):
        store.get(gone.file_id)
    with pytest.raises(NoFile):
        store.delete(gone.file_id)
    assert store.get(keep.file_id) == payload(3000, seed=1)


def test_delete_of_a_missing_file_still_removes_orphan_chunks(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    orphan = ObjectId()
    sync_db["fs.chunks"].insert_many(
        [{"files_id": orphan, "n": n, "data": b"x" * CHUNK} for n in range(3)]
    )
    with pytest.raises(NoFile):
        store.delete(orphan)
    assert sync_db["fs.chunks"].count_documents({}) == 0


def test_rename(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(b"renamed", filename="old.txt")
    store.rename(info.file_id, "new.txt")
    assert (store.get_info(info.file_id)).filename == "new.txt"
    assert (files_doc(sync_db, info.file_id))["filename"] == "new.txt"
    assert store.get(info.file_id) == b"renamed"
    with pytest.raises(NoFile):
        store.rename(ObjectId(), "nobody.txt")


def test_find(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    a1 = store.put(payload(10), filename="a.txt")
    a2 = store.put(payload(30), filename="a.txt")
    b = store.put(payload(20), filename="b.txt", content_type="text/x-b")
    found = [info for info in store.find({"filename": "a.txt"})]
    assert {info.file_id for info in found} == {a1.file_id, a2.file_id}
    assert all(isinstance(info, FileInfo) for info in found)
    everything = [info for info in store.find()]
    assert {info.file_id for info in everything} == {a1.file_id, a2.file_id, b.file_id}
    by_length = [info.length for info in store.find(sort=[("length", -1)])]
    assert by_length == [30, 20, 10]
    page = [info.length for info in store.find(sort=[("length", 1)], skip=1, limit=1)]
    assert page == [20]
    (only_b,) = [info for info in store.find({"filename": "b.txt"})]
    assert only_b.content_type == "text/x-b"
    assert only_b.length == 20
    assert [info for info in store.find({"filename": "nobody"})] == []


def test_download_to_stream_into_an_async_write(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(3 * CHUNK + 7)
    file_id = store.upload_from_stream("a.bin", data)
    refused_by_the_sync_api(lambda sink: store.download_to_stream(file_id, sink), data)
    refused_by_the_sync_api(lambda sink: store.download_to_stream_by_name("a.bin", sink), data)
