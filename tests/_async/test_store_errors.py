"""Bad input, failing sources, damaged files and hostile ids: a clear error, and nothing lost."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import CorruptFile, FileExists, GridFSError, NoFile, WrongStage
from gridfield.core.upload_stage import UploadStage

CHUNK = 1024


def payload(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that differ from chunk to chunk."""
    return random.Random(seed).randbytes(size)


async def counts(db: Any) -> tuple[int, int]:
    """How many files documents and chunks the default bucket holds."""
    return (
        await db["fs.files"].count_documents({}),
        await db["fs.chunks"].count_documents({}),
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


async def test_unusable_data_is_a_type_error_naming_the_type(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    for bad, named in UNUSABLE:
        with pytest.raises(TypeError, match=named):
            await store.put(bad, filename="bad")
    assert await counts(async_db) == (0, 0)


async def test_text_mode_file_is_refused(async_db: Any, tmp_path: Path) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    path = tmp_path / "words.txt"
    path.write_text("words " * 1000, encoding="utf-8")
    with open(path, encoding="utf-8") as text_file, pytest.raises(TypeError) as caught:
        await store.put(text_file)
    assert re.search(r"(?i)text|binary|str", str(caught.value)), caught.value
    with pytest.raises(TypeError):
        await store.put(io.StringIO("words"))
    assert await counts(async_db) == (0, 0)


async def test_iterable_of_non_bytes_is_refused(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    with pytest.raises(TypeError, match="int"):
        await store.put([b"x" * 3000, 7, b"y"])
    assert await counts(async_db) == (0, 0)


async def test_writing_a_non_bytes_value_is_refused(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    with pytest.raises(TypeError, match="int"):
        async with store.open_upload() as upload:
            await upload.write(b"x" * 3000)
            await upload.write(5)
    with pytest.raises(TypeError, match="int"):
        store.open_upload().buffer(5)
    assert await counts(async_db) == (0, 0)


async def test_unknown_encoding(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    with pytest.raises((LookupError, ValueError), match="no-such-codec"):
        await store.put("some text", encoding="no-such-codec")
    with pytest.raises(UnicodeEncodeError):
        await store.put("price: 5 €", encoding="ascii")
    assert await counts(async_db) == (0, 0)


BAD_METADATA = [
    ({"$x": 1}, "$x"),
    ({"a.b": 1}, "a.b"),
    ({"outer": {"$inner": 1}}, "$inner"),
    ({"outer": {"deep": {"x.y": 1}}}, "x.y"),
    ({"listed": [{"$in_list": 1}]}, "$in_list"),
]


async def test_bad_metadata_keys_are_refused(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    for metadata, key in BAD_METADATA:
        with pytest.raises((TypeError, ValueError), match=re.escape(key)):
            await store.put(b"x" * 3000, metadata=metadata)
        with pytest.raises((TypeError, ValueError), match=re.escape(key)):
            async with store.open_upload(metadata=metadata) as upload:
                await upload.write(b"x" * 3000)
    assert await counts(async_db) == (0, 0)


async def test_metadata_must_be_a_mapping(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    with pytest.raises(TypeError, match="list"):
        await store.put(b"x", metadata=["not", "a", "mapping"])
    assert await counts(async_db) == (0, 0)


async def test_chunk_size_must_be_a_positive_int(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    for size, error in [(0, ValueError), (-1, ValueError), ("1024", TypeError), (1.5, TypeError)]:
        with pytest.raises(error, match=r"(?i)chunk"):
            AsyncFileStore(async_db, chunk_size=size)
        with pytest.raises(error, match=r"(?i)chunk"):
            await store.put(b"x" * 3000, chunk_size=size)
        with pytest.raises(error, match=r"(?i)chunk"):
            async with store.open_upload(chunk_size=size) as upload:
                await upload.write(b"x" * 3000)
    assert await counts(async_db) == (0, 0)


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

    async def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


def broken_generator() -> Any:
    yield b"g" * (3 * CHUNK)
    yield b"g" * 10
    raise SourceFailed("generator gave up")


async def broken_async_generator() -> Any:
    yield b"a" * (3 * CHUNK)
    raise SourceFailed("async generator gave up")


async def test_a_source_failing_midway_leaves_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    for make in [BrokenReader, BrokenAsyncReader, broken_generator, broken_async_generator]:
        with pytest.raises(SourceFailed):
            await store.put(make(), filename="broken")
        assert await counts(async_db) == (0, 0), make
    assert await counts(async_db) == (0, 0)


async def test_a_source_failing_after_chunks_reached_the_server_leaves_nothing(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    piece = b"s" * (64 * CHUNK)
    seen = []

    async def source() -> Any:
        for _ in range(100):
            yield piece
            seen.append(await async_db["fs.chunks"].count_documents({}))
            if seen[-1]:
                break
        raise SourceFailed("source failed after a flush")

    with pytest.raises(SourceFailed):
        await store.put(source())
    # The source saw chunks on the server before it failed, so the clean-up really ran.
    assert seen[-1] > 0, seen
    assert await counts(async_db) == (0, 0)


async def test_an_error_inside_the_upload_block_leaves_nothing(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    upload = store.open_upload(filename="doomed")
    with pytest.raises(SourceFailed):
        async with upload:
            await upload.write(payload(5 * CHUNK))
            await upload.flush()
            assert await counts(async_db) == (0, 5)
            raise SourceFailed("the caller changed its mind")
    assert upload.closed
    assert await counts(async_db) == (0, 0)


async def test_abort_removes_what_was_written(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    upload = store.open_upload()
    await upload.write(payload(4 * CHUNK + 5))
    await upload.flush()
    assert await counts(async_db) == (0, 4)
    await upload.abort()
    assert await counts(async_db) == (0, 0)
    await upload.abort()
    assert await counts(async_db) == (0, 0)
    assert upload.closed
    assert not await store.exists(upload.file_id)


async def test_writing_to_a_closed_upload_is_an_error(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    upload = store.open_upload()
    await upload.write(b"done")
    await upload.close()
    with pytest.raises((ValueError, GridFSError)):
        await upload.write(b"too late")
    assert await store.get(upload.file_id) == b"done"


async def test_an_upload_refuses_what_its_stage_does_not_allow_naming_the_stage(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    upload = store.open_upload()
    assert upload.stage is UploadStage.OPEN
    await upload.write(b"kept")
    assert upload.stage is UploadStage.WRITING and not upload.closed
    info = await upload.close()
    assert upload.stage is UploadStage.CLOSED and upload.closed
    with pytest.raises(WrongStage, match="is closed: it cannot write") as refused:
        await upload.write(b"too late")
    assert (refused.value.stage, refused.value.event) == ("closed", "write")
    with pytest.raises(WrongStage, match="is closed: it cannot flush"):
        await upload.flush()
    assert await upload.close() == info  # closing again answers the same file
    await upload.abort()  # a no-op once closed
    assert upload.stage is UploadStage.CLOSED

    aborted = store.open_upload()
    await aborted.write(payload(2 * CHUNK))
    await aborted.flush()
    await aborted.abort()
    assert aborted.stage is UploadStage.ABORTED and aborted.closed
    with pytest.raises(WrongStage, match="is aborted: it cannot close"):
        await aborted.close()
    with pytest.raises(ValueError, match="is aborted: it cannot write"):
        aborted.buffer(b"more")
    await aborted.abort()
    assert aborted.stage is UploadStage.ABORTED
    assert await counts(async_db) == (1, 1)
    assert await store.get(upload.file_id) == b"kept"


async def test_reading_a_closed_download_is_an_error(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(b"read me once")
    stream = await store.open_download(info.file_id)
    await stream.close()
    with pytest.raises((ValueError, GridFSError)):
        await stream.read()


# --------------------------------------------------------------------------- existing ids


async def test_put_with_an_existing_id_keeps_the_original(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    original = payload(2 * CHUNK + 100, seed=1)
    await store.put(original, file_id="report", filename="original.bin")
    for size in [0, 10, 3 * CHUNK + 1]:
        with pytest.raises(FileExists, match="report"):
            await store.put(payload(size, seed=2), file_id="report", filename="intruder.bin")
        with pytest.raises(FileExists, match="report"):
            async with store.open_upload(file_id="report") as upload:
                await upload.write(payload(size, seed=3))
        assert await store.get("report") == original, size
        assert (await store.get_info("report")).filename == "original.bin"
        assert await counts(async_db) == (1, 3), size


# --------------------------------------------------------------------------- ids are values


HOSTILE_IDS = [{"$ne": None}, {"$gt": ""}, {"$exists": True}]


async def test_an_operator_as_file_id_matches_no_other_file(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    first = await store.put(payload(3000, seed=1))
    second = await store.put(payload(10, seed=2), file_id="plain")
    for hostile in HOSTILE_IDS:
        with pytest.raises((TypeError, NoFile)):
            await store.delete(hostile)
        with pytest.raises((TypeError, NoFile)):
            await store.get_info(hostile)
        with pytest.raises((TypeError, NoFile)):
            await store.get(hostile)
        with pytest.raises((TypeError, NoFile)):
            await store.open_download(hostile)
        with pytest.raises((TypeError, NoFile)):
            await store.read_range(hostile, 0, 10)
        with pytest.raises((TypeError, NoFile)):
            await store.rename(hostile, "everything.txt")
        try:
            assert await store.exists(hostile) is False
        except TypeError:
            pass
        with pytest.raises(TypeError):
            await store.put(b"x", file_id=hostile)
        assert await counts(async_db) == (2, 4), hostile
    assert await store.get(first.file_id) == payload(3000, seed=1)
    assert await store.get(second.file_id) == payload(10, seed=2)
    assert {info.filename async for info in store.find()} == {None}


# --------------------------------------------------------------------------- missing files


async def test_a_missing_file_is_no_file_naming_the_id(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    missing = ObjectId()
    name = re.escape(str(missing))
    with pytest.raises(NoFile, match=name):
        await store.get(missing)
    with pytest.raises(NoFile, match=name):
        await store.open_download(missing)
    with pytest.raises(NoFile, match=name):
        await store.get_info(missing)
    with pytest.raises(NoFile, match=name):
        await store.read_range(missing, 0, 1)
    with pytest.raises(NoFile, match=name):
        await store.delete(missing)
    with pytest.raises(NoFile, match=name):
        await store.rename(missing, "x")
    assert await store.exists(missing) is False
    assert isinstance(NoFile("x"), GridFSError)


async def test_chunks_without_a_files_document_are_no_file(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(payload(3000))
    await async_db["fs.files"].delete_one({"_id": info.file_id})
    with pytest.raises(NoFile):
        await store.get(info.file_id)
    assert await store.exists(info.file_id) is False


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


async def damage(db: Any, file_id: Any, how: str) -> int:
    """Damage the stored file; return the number of the chunk the reader must name."""
    chunks = db["fs.chunks"]
    if how == "missing":
        await chunks.delete_one({"files_id": file_id, "n": 1})
        return 1
    if how == "missing_last":
        await chunks.delete_one({"files_id": file_id, "n": 3})
        return 3
    if how == "shortened":
        await chunks.update_one({"files_id": file_id, "n": 1}, {"$set": {"data": b"short"}})
        return 1
    if how == "lengthened":
        await chunks.update_one({"files_id": file_id, "n": 3}, {"$set": {"data": b"l" * 900}})
        return 3
    if how == "extra":
        await chunks.insert_one({"files_id": file_id, "n": 4, "data": b"extra"})
        return 4
    assert how == "duplicated"
    # The unique (files_id, n) index refuses a duplicate, as it should; drop it to damage the file.
    await chunks.drop_indexes()
    await chunks.insert_one({"files_id": file_id, "n": 2, "data": b"d" * CHUNK})
    return 2


DAMAGES = ["missing", "missing_last", "shortened", "lengthened", "extra", "duplicated"]


@pytest.mark.parametrize("how", DAMAGES)
async def test_a_damaged_file_is_corrupt_naming_file_and_chunk(async_db: Any, how: str) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    data = payload(DAMAGED_SIZE)
    info = await store.put(data)
    n = await damage(async_db, info.file_id, how)
    with pytest.raises(CorruptFile) as caught:
        await store.get(info.file_id)
    assert names_chunk(caught.value, info.file_id, n), str(caught.value)
    assert isinstance(caught.value, GridFSError)
    with pytest.raises(CorruptFile):
        stream = await store.open_download(info.file_id)
        await stream.read()
    with pytest.raises(CorruptFile):
        stream = await store.open_download(info.file_id)
        async for _ in stream:
            pass
    # The chunks before the damage still read fine.
    assert await store.read_range(info.file_id, 0, CHUNK) == data[:CHUNK]


async def test_a_range_over_a_damaged_chunk_is_corrupt(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(payload(DAMAGED_SIZE))
    await damage(async_db, info.file_id, "shortened")
    with pytest.raises(CorruptFile) as caught:
        await store.read_range(info.file_id, CHUNK - 10, CHUNK + 10)
    assert names_chunk(caught.value, info.file_id, 1), str(caught.value)
    stream = await store.open_download(info.file_id)
    stream.seek(CHUNK + 5)
    with pytest.raises(CorruptFile):
        await stream.read(10)


async def test_a_files_document_claiming_more_bytes_is_corrupt(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(payload(DAMAGED_SIZE))
    await async_db["fs.files"].update_one(
        {"_id": info.file_id}, {"$set": {"length": DAMAGED_SIZE + CHUNK}}
    )
    with pytest.raises(CorruptFile) as caught:
        await store.get(info.file_id)
    assert str(info.file_id) in str(caught.value)


# --------------------------------------------------------------------------- odd but valid input


async def test_a_strided_memoryview_is_stored_as_the_bytes_it_shows(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    data = payload(5 * CHUNK + 3)
    info = await store.put(memoryview(data)[::2])
    assert await store.get(info.file_id) == data[::2]
    async with store.open_upload(file_id="written") as upload:
        await upload.write(memoryview(bytearray(data))[::-3])
        await upload.write(memoryview(data)[1::2])
    assert await store.get("written") == data[::-3] + data[1::2]


@pytest.mark.parametrize("size", ["5", 1.5, b"5"])
async def test_a_read_size_that_is_not_an_int_is_named(async_db: Any, size: Any) -> None:
    store = AsyncFileStore(async_db)
    await store.put(b"line\nline\n", file_id="f")
    stream = await store.open_download("f")
    with pytest.raises(TypeError, match=r"^read\(\): size must be an int, not "):
        await stream.read(size)
    with pytest.raises(TypeError, match=r"^readline\(\): size must be an int, not "):
        await stream.readline(size)
    with pytest.raises(TypeError, match=r"^seek\(\): pos must be an int, not "):
        stream.seek(size)
    assert await stream.read() == b"line\nline\n"  # nothing moved
