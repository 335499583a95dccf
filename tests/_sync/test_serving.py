# Generated from tests/_async/test_serving.py by scripts/unasync.py: do not edit.
"""What serving a stored file costs and checks: the commands each request sends, and the
download stream's eager cursor that a plain GET's body continues."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient

from gridfield._sync.serving import Served, serve, serve_path, stream_body
from gridfield._sync.store import FileStore
from gridfield.core.chunks import READ_BATCH_BYTES, STREAM_BATCH_BYTES
from gridfield.core.errors import CorruptFile, NoFile
from gridfield.core.http import ServeOptions, entity_tag

from ..commands import Commands

CHUNK = 16 * 1024
OPTIONS = ServeOptions()
# What to remove from a files document for a file stored without a content type.
UNTYPED = {"contentType": 1, "metadata.contentType": 1}


@pytest.fixture
def counted(sync_db: Any, mongo_uri: str) -> Iterator[tuple[FileStore, Commands]]:
    """A store on a client whose commands are recorded, over the fresh database."""
    listener = Commands()
    client: Any = MongoClient(mongo_uri, event_listeners=[listener])
    try:
        yield FileStore(client[sync_db.name], chunk_size=CHUNK), listener
    finally:
        client.close()


def body_of(served: Served) -> bytes:
    return b"".join([piece for piece in stream_body(served)])


def chunk_finds(listener: Commands, store: FileStore) -> list[dict[str, Any]]:
    return [c for c in listener.named("find") if c["find"] == store.chunks.name]


def files_finds(listener: Commands, store: FileStore) -> list[dict[str, Any]]:
    return [c for c in listener.named("find") if c["find"] == store.files.name]


def test_plain_get_costs_the_files_query_and_one_chunk_cursor(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    data = os.urandom(40 * CHUNK + 5)  # more than one batch of chunks
    info = store.put(data, content_type="video/mp4")
    listener.clear()
    served = serve(store, info.file_id, "GET", {}, OPTIONS)
    assert served.plan.status == 200
    assert body_of(served) == data
    assert len(files_finds(listener, store)) == 1
    (chunks,) = chunk_finds(listener, store)
    assert chunks["filter"] == {"files_id": {"$eq": info.file_id}}
    others = {name for name, _ in listener.sent} - {"find", "getMore", "killCursors"}
    assert not others, others


@pytest.mark.parametrize(
    ("method", "headers"),
    [("HEAD", {}), ("GET", {"if-none-match": "ETAG"}), ("HEAD", {"if-none-match": "ETAG"})],
    ids=["HEAD", "304", "HEAD 304"],
)
def test_head_and_304_cost_one_command(
    counted: tuple[FileStore, Commands], method: str, headers: dict[str, str]
) -> None:
    store, listener = counted
    info = store.put(os.urandom(3 * CHUNK), content_type="image/png")
    headers = {k: entity_tag(info) if v == "ETAG" else v for k, v in headers.items()}
    listener.clear()
    served = serve(store, info.file_id, method, headers, OPTIONS)
    assert served.plan.status == (304 if headers else 200)
    assert body_of(served) == b""
    assert [name for name, _ in listener.sent] == ["find"]


def test_a_64_kib_range_costs_two_commands(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    data = os.urandom(64 * CHUNK)
    info = store.put(data, content_type="video/mp4")
    listener.clear()
    start = 10 * CHUNK + 100
    headers = {"range": f"bytes={start}-{start + 64 * 1024 - 1}"}
    served = serve(store, info.file_id, "GET", headers, OPTIONS)
    assert served.plan.status == 206
    assert body_of(served) == data[start : start + 64 * 1024]
    assert [name for name, _ in listener.sent] == ["find", "find"]


def test_a_range_to_the_end_costs_one_chunk_cursor(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    data = os.urandom(5 * CHUNK + 7)
    info = store.put(data, content_type="video/mp4")
    for asked, expected in (("bytes=-500", data[-500:]), ("bytes=20000-", data[20000:])):
        listener.clear()
        served = serve(store, info.file_id, "GET", {"range": asked}, OPTIONS)
        assert body_of(served) == expected
        assert [name for name, _ in listener.sent] == ["find", "find"]


def test_by_filename_serves_the_newest_of_two_revisions_of_one_millisecond(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    older = store.put(b"older", filename="same.txt", file_id=ObjectId())
    newer = store.put(b"newer", filename="same.txt", file_id=ObjectId())
    stamp = older.upload_date
    store.files.update_many({"filename": "same.txt"}, {"$set": {"uploadDate": stamp}})
    listener.clear()
    served = serve_path(store, "filename", "same.txt", "GET", {}, OPTIONS)
    assert body_of(served) == b"newer"
    assert [name for name, _ in listener.sent] == ["find", "find"]
    assert served.plan.header("ETag") == entity_tag(store.get_info(newer.file_id))


def test_sniffing_a_plain_get_reads_no_chunk_twice(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * CHUNK)
    info = store.put(data, checksum=True)
    store.files.update_one({"_id": info.file_id}, {"$unset": UNTYPED})
    listener.clear()
    served = serve(store, info.file_id, "GET", {}, OPTIONS)
    assert served.plan.header("Content-Type") == "image/png"
    assert body_of(served) == data
    assert len(chunk_finds(listener, store)) == 1


@pytest.mark.parametrize(
    "asked",
    ["bytes=0-99", "bytes=100-", f"bytes={CHUNK + 5}-{3 * CHUNK}", "bytes=-10", "bytes=0-"],
    ids=["in chunk 0", "from chunk 0 to the end", "further on", "suffix", "all of it"],
)
def test_a_range_of_an_untyped_file_costs_the_files_query_and_one_chunk_cursor(
    counted: tuple[FileStore, Commands], asked: str
) -> None:
    store, listener = counted
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(5 * CHUNK)
    info = store.put(data, checksum=True)
    store.files.update_one({"_id": info.file_id}, {"$unset": UNTYPED})
    listener.clear()
    served = serve(store, info.file_id, "GET", {"range": asked}, OPTIONS)
    assert served.plan.status == 206
    assert served.plan.header("Content-Type") == "image/png"
    start_text, _, end_text = asked.removeprefix("bytes=").partition("-")
    if not start_text:
        start, end = len(data) - int(end_text), len(data)
    else:
        start = int(start_text)
        end = int(end_text) + 1 if end_text else len(data)
    assert body_of(served) == data[start:end]
    assert len(files_finds(listener, store)) == 1
    assert len(chunk_finds(listener, store)) == 1
    assert {name for name, _ in listener.sent} <= {"find", "getMore", "killCursors"}


def test_a_range_of_an_untyped_file_checks_the_chunk_it_sniffs(
    counted: tuple[FileStore, Commands],
) -> None:
    store, _ = counted
    info = store.put(os.urandom(4 * CHUNK), checksum=False)
    store.files.update_one({"_id": info.file_id}, {"$unset": UNTYPED})
    store.chunks.update_one({"files_id": info.file_id, "n": 0}, {"$set": {"data": b"x"}})
    asked = {"range": f"bytes={2 * CHUNK}-{2 * CHUNK + 9}"}
    with pytest.raises(CorruptFile, match="chunk 0 is 1 bytes"):
        serve(store, info.file_id, "GET", asked, OPTIONS)
    store.chunks.delete_one({"files_id": info.file_id, "n": 0})
    with pytest.raises(CorruptFile, match="chunk 0 is missing"):
        serve(store, info.file_id, "GET", asked, OPTIONS)


@pytest.mark.parametrize(
    "headers",
    [{}, {"range": f"bytes={CHUNK}-"}, {"range": "bytes=100-199"}, {"if-none-match": "x"}],
)
def test_a_served_body_asks_for_small_batches(
    counted: tuple[FileStore, Commands], headers: dict[str, str]
) -> None:
    """A client that stops reading holds about one streaming batch on either side, not the
    large batch of a whole read."""
    store, listener = counted
    info = store.put(os.urandom(300 * CHUNK + 1), content_type="video/mp4")
    listener.clear()
    served = serve(store, info.file_id, "GET", headers, OPTIONS)
    body_of(served)
    (chunks,) = chunk_finds(listener, store)
    assert chunks.get("batchSize", 0) * CHUNK <= STREAM_BATCH_BYTES
    for more in listener.named("getMore"):
        assert more.get("batchSize", 0) * CHUNK <= STREAM_BATCH_BYTES


def test_a_whole_read_asks_for_even_batches_of_at_most_read_batch_bytes(
    counted: tuple[FileStore, Commands],
) -> None:
    """Replies small enough for the client to reuse their memory, split evenly: no small
    reply after the rest."""
    store, listener = counted
    data = os.urandom(300 * CHUNK + 1)  # 301 chunks
    info = store.put(data)
    listener.clear()
    assert store.get(info.file_id) == data
    (chunks,) = chunk_finds(listener, store)
    per_batch = chunks["batchSize"]
    assert per_batch * CHUNK <= READ_BATCH_BYTES
    more = listener.named("getMore")
    assert all(m["batchSize"] == per_batch for m in more)
    assert len(more) == -(-301 // per_batch) - 1  # the last reply ends the cursor


def test_unknown_file_is_a_404(counted: tuple[FileStore, Commands]) -> None:
    store, _ = counted
    served = serve(store, ObjectId(), "GET", {}, OPTIONS)
    assert served.plan.status == 404
    assert body_of(served) == b"Not Found"
    served = serve_path(store, "filename", "no-such.txt", "GET", {}, OPTIONS)
    assert served.plan.status == 404


# -- the eager cursor of open_download ---------------------------------------------------------


def test_eager_download_reads_the_whole_file_from_the_cursor_it_sent(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    data = os.urandom(3 * CHUNK + 1)
    info = store.put(data)
    listener.clear()
    stream = store.open_download(info.file_id, eager=True)
    assert len(chunk_finds(listener, store)) == 1
    assert stream.read() == data
    assert len(chunk_finds(listener, store)) == 1
    stream.close()


def test_eager_download_of_a_missing_file_is_nofile(
    counted: tuple[FileStore, Commands],
) -> None:
    store, _ = counted
    with pytest.raises(NoFile, match="no file with id"):
        store.open_download(ObjectId(), eager=True)


def test_eager_cursor_unused_by_a_ranged_read(
    counted: tuple[FileStore, Commands],
) -> None:
    store, _ = counted
    data = os.urandom(4 * CHUNK)
    info = store.put(data)
    stream = store.open_download(info.file_id, eager=True)
    assert stream.read_range(CHUNK, CHUNK + 10) == data[CHUNK : CHUNK + 10]
    assert [p for p in stream.iter_range(0)] == [
        data[i : i + CHUNK] for i in range(0, len(data), CHUNK)
    ]
    stream.close()
    with pytest.raises(ValueError, match="is closed"):
        stream.read()


def test_eager_download_checks_the_sha256(
    counted: tuple[FileStore, Commands],
) -> None:
    store, _ = counted
    data = os.urandom(2 * CHUNK)
    info = store.put(data, content_type="application/octet-stream")
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    flipped = bytes([data[5] ^ 1])
    store.chunks.update_one(
        {"files_id": info.file_id, "n": 0}, {"$set": {"data": data[:5] + flipped + data[6:CHUNK]}}
    )
    served = serve(store, info.file_id, "GET", {}, OPTIONS)
    received = bytearray()
    with pytest.raises(CorruptFile, match="SHA-256"):
        for piece in stream_body(served):
            received += piece
    assert len(received) < len(data)  # the last chunk is never handed out


def test_eager_download_reports_a_missing_and_an_extra_chunk(
    counted: tuple[FileStore, Commands],
) -> None:
    store, _ = counted
    missing = store.put(os.urandom(3 * CHUNK), checksum=False)
    store.chunks.delete_one({"files_id": missing.file_id, "n": 1})
    stream = store.open_download(missing.file_id, eager=True)
    with pytest.raises(CorruptFile, match="chunk 1"):
        stream.read()
    stream.close()
    extra = store.put(os.urandom(CHUNK), checksum=False)
    store.chunks.insert_one({"files_id": extra.file_id, "n": 1, "data": b"x"})
    stream = store.open_download(extra.file_id, eager=True)
    with pytest.raises(CorruptFile, match="extra chunk 1"):
        stream.read()
    stream.close()


def test_eager_download_of_an_empty_file_sees_a_stray_chunk(
    counted: tuple[FileStore, Commands],
) -> None:
    store, listener = counted
    sound = store.put(b"")
    listener.clear()
    stream = store.open_download(sound.file_id, eager=True)
    assert stream.read() == b""
    assert len(chunk_finds(listener, store)) == 1
    empty = store.put(b"")
    store.chunks.insert_one({"files_id": empty.file_id, "n": 0, "data": b"junk"})
    stream = store.open_download(empty.file_id, eager=True)
    with pytest.raises(CorruptFile, match="extra chunk 0"):
        stream.read()
