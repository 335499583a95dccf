# Generated from tests/_async/test_store_errors.py by scripts/unasync.py: do not edit.
"""Bad input, failing sources, damaged files and hostile ids: a clear error, and nothing lost."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from gridfield._sync.store import FileStore
from gridfield.core.errors import CorruptFile, FileExists, GridFSError, NoFile, WrongStage
from gridfield.core.upload_stage import UploadStage

CHUNK = 1024


def payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


def counts(db: Any) -> tuple[int, int]:
    """How many files documents and chunks the default bucket holds."""
    return (
        db["fs.files"].count_documents({}),
        db["fs.chunks"].count_documents({}),
    )


class SourceFailed(Exception):
    """What a broken source raises."""


# --------------------------------------------------------------------------- bad input


class NotAFile:
    """Something with no read() and no iteration."""


UNUSABLE = [
    (1, "int"),
    (None, "None"),
    ({"a": b"x"}, "dict"),
    (1.5, "float"),
    (NotAFile(), "NotAFile"),
]


def test_unusable_data_is_a_type_error_naming_the_type(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    for bad, named in UNUSABLE:
        with pytest.raises(TypeError, match=named):
            store.put(bad, filename="bad")
    assert counts(sync_db) == (0, 0)


def test_text_mode_file_is_refused(sync_db: Any, tmp_path: Path) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    path = tmp_path / "words.txt"
    path.write_text("words " * 1000, encoding="utf-8")
    with open(path, encoding="utf-8") as text_file, pytest.raises(TypeError) as caught:
        store.put(text_file)
    assert re.search(r"(?i)text|binary|str", str(caught.value)), caught.value
    with pytest.raises(TypeError):
        store.put(io.StringIO("words"))
    assert counts(sync_db) == (0, 0)


def test_iterable_of_non_bytes_is_refused(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    with pytest.raises(TypeError, match="int"):
        store.put([b"x" * 3000, 7, b"y"])
    assert counts(sync_db) == (0, 0)


def test_writing_a_non_bytes_value_is_refused(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    with pytest.raises(TypeError, match="int"):
        with store.open_upload() as upload:
            upload.write(b"x" * 3000)
            upload.write(5)
    with pytest.raises(TypeError, match="int"):
        store.open_upload().buffer(5)
    assert counts(sync_db) == (0, 0)


def test_unknown_encoding(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    with pytest.raises((LookupError, ValueError), match="no-such-codec"):
        store.put("some text", encoding="no-such-codec")
    with pytest.raises(UnicodeEncodeError):
        store.put("price: 5 €", encoding="ascii")
    assert counts(sync_db) == (0, 0)


BAD_METADATA = [
    ({"$x": 1}, "$x"),
    ({"a.b": 1}, "a.b"),
    ({"outer": {"$inner": 1}}, "$inner"),
    ({"outer": {"deep": {"x.y": 1}}}, "x.y"),
    ({"listed": [{"$in_list": 1}]}, "$in_list"),
]


def test_bad_metadata_keys_are_refused(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    for metadata, key in BAD_METADATA:
        with pytest.raises((TypeError, ValueError), match=re.escape(key)):
            store.put(b"x" * 3000, metadata=metadata)
        with pytest.raises((TypeError, ValueError), match=re.escape(key)):
            with store.open_upload(metadata=metadata) as upload:
                upload.write(b"x" * 3000)
    assert counts(sync_db) == (0, 0)


def test_metadata_must_be_a_mapping(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    with pytest.raises(TypeError, match="list"):
        store.put(b"x", metadata=["not", "a", "mapping"])
    assert counts(sync_db) == (0, 0)


def test_chunk_size_must_be_a_positive_int(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    for size, error in [(0, ValueError), (-1, ValueError), ("1024", TypeError), (1.5, TypeError)]:
        with pytest.raises(error, match=r"(?i)chunk"):
            FileStore(sync_db, chunk_size=size)
        with pytest.raises(error, match=r"(?i)chunk"):
            store.put(b"x" * 3000, chunk_size=size)
        with pytest.raises(error, match=r"(?i)chunk"):
            with store.open_upload(chunk_size=size) as upload:
                upload.write(b"x" * 3000)
    assert counts(sync_db) == (0, 0)


# --------------------------------------------------------------------------- failing sources


class BrokenReader:
    """A binary file object that serves three chunks, then fails."""

    def __init__(self) -> None:
        self._left = 3 * CHUNK

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0 or size < 0:
            raise SourceFailed("disk went away")
        piece = b"r" * min(size, self._left)
        self._left -= len(piece)
        return piece


class BrokenAsyncReader:
    """The same, with a coroutine read() on the async twin."""

    def __init__(self) -> None:
        self._inner = BrokenReader()

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


def broken_generator() -> Any:
    yield b"g" * (3 * CHUNK)
    yield b"g" * 10
    raise SourceFailed("generator gave up")


def broken_async_generator() -> Any:
    yield b"a" * (3 * CHUNK)
    raise SourceFailed("async generator gave up")


def test_a_source_failing_midway_leaves_nothing(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    for make in [BrokenReader, BrokenAsyncReader, broken_generator, broken_async_generator]:
        with pytest.raises(SourceFailed):
            store.put(make(), filename="broken")
        assert counts(sync_db) == (0, 0), make
    assert counts(sync_db) == (0, 0)


def test_a_source_failing_after_chunks_reached_the_server_leaves_nothing(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    piece = b"s" * (64 * CHUNK)
    seen = []

    def source() -> Any:
        for _ in range(100):
            yield piece
            seen.append(sync_db["fs.chunks"].count_documents({}))
            if seen[-1]:
                break
        raise SourceFailed("source failed after a flush")

    with pytest.raises(SourceFailed):
        store.put(source())
    # The source saw chunks on the server before it failed, so the clean-up really ran.
    assert seen[-1] > 0, seen
    assert counts(sync_db) == (0, 0)


def test_an_error_inside_the_upload_block_leaves_nothing(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload(filename="doomed")
    with pytest.raises(SourceFailed):
        with upload:
            upload.write(payload(5 * CHUNK))
            upload.flush()
            assert counts(sync_db) == (0, 5)
            raise SourceFailed("the caller changed its mind")
    assert upload.closed
    assert counts(sync_db) == (0, 0)


def test_abort_removes_what_was_written(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload()
    upload.write(payload(4 * CHUNK + 5))
    upload.flush()
    assert counts(sync_db) == (0, 4)
    upload.abort()
    assert counts(sync_db) == (0, 0)
    upload.abort()
    assert counts(sync_db) == (0, 0)
    assert upload.closed
    assert not store.exists(upload.file_id)


def test_writing_to_a_closed_upload_is_an_error(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload()
    upload.write(b"done")
    upload.close()
    with pytest.raises((ValueError, GridFSError)):
        upload.write(b"too late")
    assert store.get(upload.file_id) == b"done"


def test_an_upload_refuses_what_its_stage_does_not_allow_naming_the_stage(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    upload = store.open_upload()
    assert upload.stage is UploadStage.OPEN
    upload.write(b"kept")
    assert upload.stage is UploadStage.WRITING and not upload.closed
    info = upload.close()
    assert upload.stage is UploadStage.CLOSED and upload.closed
    with pytest.raises(WrongStage, match="is closed: it cannot write") as refused:
        upload.write(b"too late")
    assert (refused.value.stage, refused.value.event) == ("closed", "write")
    with pytest.raises(WrongStage, match="is closed: it cannot flush"):
        upload.flush()
    assert upload.close() == info  # closing again answers the same file
    upload.abort()  # a no-op once closed
    assert upload.stage is UploadStage.CLOSED

    aborted = store.open_upload()
    aborted.write(payload(2 * CHUNK))
    aborted.flush()
    aborted.abort()
    assert aborted.stage is UploadStage.ABORTED and aborted.closed
    with pytest.raises(WrongStage, match="is aborted: it cannot close"):
        aborted.close()
    with pytest.raises(ValueError, match="is aborted: it cannot write"):
        aborted.buffer(b"more")
    aborted.abort()
    assert aborted.stage is UploadStage.ABORTED
    assert counts(sync_db) == (1, 1)
    assert store.get(upload.file_id) == b"kept"


def test_reading_a_closed_download_is_an_error(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(b"read me once")
    stream = store.open_download(info.file_id)
    stream.close()
    with pytest.raises((ValueError, GridFSError)):
        stream.read()


# --------------------------------------------------------------------------- existing ids


def test_put_with_an_existing_id_keeps_the_original(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    original = payload(2 * CHUNK + 100, seed=1)
    store.put(original, file_id="report", filename="original.bin")
    for size in [0, 10, 3 * CHUNK + 1]:
        with pytest.raises(FileExists, match="report"):
            store.put(payload(size, seed=2), file_id="report", filename="intruder.bin")
        with pytest.raises(FileExists, match="report"):
            with store.open_upload(file_id="report") as upload:
                upload.write(payload(size, seed=3))
        assert store.get("report") == original, size
        assert (store.get_info("report")).filename == "original.bin"
        assert counts(sync_db) == (1, 3), size


# --------------------------------------------------------------------------- ids are values


HOSTILE_IDS = [{"$ne": None}, {"$gt": ""}, {"$exists": True}]


def test_an_operator_as_file_id_matches_no_other_file(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    first = store.put(payload(3000, seed=1))
    second = store.put(payload(10, seed=2), file_id="plain")
    for hostile in HOSTILE_IDS:
        with pytest.raises((TypeError, NoFile)):
            store.delete(hostile)
        with pytest.raises((TypeError, NoFile)):
            store.get_info(hostile)
        with pytest.raises((TypeError, NoFile)):
            store.get(hostile)
        with pytest.raises((TypeError, NoFile)):
            store.open_download(hostile)
        with pytest.raises((TypeError, NoFile)):
            store.read_range(hostile, 0, 10)
        with pytest.raises((TypeError, NoFile)):
            store.rename(hostile, "everything.txt")
        try:
            assert store.exists(hostile) is False
        except TypeError:
            pass
        with pytest.raises(TypeError):
            store.put(b"x", file_id=hostile)
        assert counts(sync_db) == (2, 4), hostile
    assert store.get(first.file_id) == payload(3000, seed=1)
    assert store.get(second.file_id) == payload(10, seed=2)
    assert {info.filename for info in store.find()} == {None}


# --------------------------------------------------------------------------- missing files


def test_a_missing_file_is_no_file_naming_the_id(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    missing = ObjectId()
    name = re.escape(str(missing))
    with pytest.raises(NoFile, match=name):
        store.get(missing)
    with pytest.raises(NoFile, match=name):
        store.open_download(missing)
    with pytest.raises(NoFile, match=name):
        store.get_info(missing)
    with pytest.raises(NoFile, match=name):
        store.read_range(missing, 0, 1)
    with pytest.raises(NoFile, match=name):
        store.delete(missing)
    with pytest.raises(NoFile, match=name):
        store.rename(missing, "x")
    assert store.exists(missing) is False
    assert isinstance(NoFile("x"), GridFSError)


def test_chunks_without_a_files_document_are_no_file(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(payload(3000))
    sync_db["fs.files"].delete_one({"_id": info.file_id})
    with pytest.raises(NoFile):
        store.get(info.file_id)
    assert store.exists(info.file_id) is False


# --------------------------------------------------------------------------- damaged files

# A file of four chunks: 0, 1 and 2 full, 3 holding the last 500 bytes.
DAMAGED_SIZE = 3 * CHUNK + 500


def names_chunk(error: BaseException, file_id: Any, n: int) -> bool:
    """Whether the message names the file and chunk ``n``."""
    message = str(error)
    rest = message.replace(str(file_id), " ")
    return (
        str(file_id) in message and "chunk" in rest.lower() and bool(re.search(rf"\b{n}\b", rest))
    )


def damage(db: Any, file_id: Any, how: str) -> int:
    """Damage the stored file; return the number of the chunk the reader must name."""
    chunks = db["fs.chunks"]
    if how == "missing":
        chunks.delete_one({"files_id": file_id, "n": 1})
        return 1
    if how == "missing_last":
        chunks.delete_one({"files_id": file_id, "n": 3})
        return 3
    if how == "shortened":
        chunks.update_one({"files_id": file_id, "n": 1}, {"$set": {"data": b"short"}})
        return 1
    if how == "lengthened":
        chunks.update_one({"files_id": file_id, "n": 3}, {"$set": {"data": b"l" * 900}})
        return 3
    if how == "extra":
        chunks.insert_one({"files_id": file_id, "n": 4, "data": b"extra"})
        return 4
    assert how == "duplicated"
    # The unique (files_id, n) index refuses a duplicate, as it should; drop it to damage the file.
    chunks.drop_indexes()
    chunks.insert_one({"files_id": file_id, "n": 2, "data": b"d" * CHUNK})
    return 2


DAMAGES = ["missing", "missing_last", "shortened", "lengthened", "extra", "duplicated"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_file_is_corrupt_naming_file_and_chunk(sync_db: Any, how: str) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(DAMAGED_SIZE)
    info = store.put(data)
    n = damage(sync_db, info.file_id, how)
    with pytest.raises(CorruptFile) as caught:
        store.get(info.file_id)
    assert names_chunk(caught.value, info.file_id, n), str(caught.value)
    assert isinstance(caught.value, GridFSError)
    with pytest.raises(CorruptFile):
        stream = store.open_download(info.file_id)
        stream.read()
    with pytest.raises(CorruptFile):
        stream = store.open_download(info.file_id)
        for _ in stream:
            pass
    # The chunks before the damage still read fine.
    assert store.read_range(info.file_id, 0, CHUNK) == data[:CHUNK]


def test_a_range_over_a_damaged_chunk_is_corrupt(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(payload(DAMAGED_SIZE))
    damage(sync_db, info.file_id, "shortened")
    with pytest.raises(CorruptFile) as caught:
        store.read_range(info.file_id, CHUNK - 10, CHUNK + 10)
    assert names_chunk(caught.value, info.file_id, 1), str(caught.value)
    stream = store.open_download(info.file_id)
    stream.seek(CHUNK + 5)
    with pytest.raises(CorruptFile):
        stream.read(10)


def test_a_files_document_claiming_more_bytes_is_corrupt(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(payload(DAMAGED_SIZE))
    sync_db["fs.files"].update_one(
        {"_id": info.file_id}, {"$set": {"length": DAMAGED_SIZE + CHUNK}}
    )
    with pytest.raises(CorruptFile) as caught:
        store.get(info.file_id)
    assert str(info.file_id) in str(caught.value)


# --------------------------------------------------------------------------- odd but valid input


def test_a_strided_memoryview_is_stored_as_the_bytes_it_shows(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = payload(5 * CHUNK + 3)
    info = store.put(memoryview(data)[::2])
    assert store.get(info.file_id) == data[::2]
    with store.open_upload(file_id="written") as upload:
        upload.write(memoryview(bytearray(data))[::-3])
        upload.write(memoryview(data)[1::2])
    assert store.get("written") == data[::-3] + data[1::2]


@pytest.mark.parametrize("size", ["5", 1.5, b"5"])
def test_a_read_size_that_is_not_an_int_is_named(sync_db: Any, size: Any) -> None:
    store = FileStore(sync_db)
    store.put(b"line\nline\n", file_id="f")
    stream = store.open_download("f")
    with pytest.raises(TypeError, match=r"^read\(\): size must be an int, not "):
        stream.read(size)
    with pytest.raises(TypeError, match=r"^readline\(\): size must be an int, not "):
        stream.readline(size)
    with pytest.raises(TypeError, match=r"^seek\(\): pos must be an int, not "):
        stream.seek(size)
    assert stream.read() == b"line\nline\n"  # nothing moved
