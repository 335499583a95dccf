"""Files by name and revision, find with filters, drop, download_to_stream and the spec's
upload options: what they do, and the clear error (with nothing changed) on bad input."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from bson import ObjectId

from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import NoFile

CHUNK = 4


async def counts(db: Any) -> tuple[int, int]:
    """How many files documents and chunks the default bucket holds."""
    return (
        await db["fs.files"].count_documents({}),
        await db["fs.chunks"].count_documents({}),
    )


async def three_revisions(store: AsyncFileStore, name: str = "notes.txt") -> list[Any]:
    """Store revisions b"rev0", b"rev1", b"rev2" of ``name``, oldest first; return their ids."""
    return [(await store.put(f"rev{i}".encode(), filename=name)).file_id for i in range(3)]


# --------------------------------------------------------------------------- revisions


async def test_revisions_count_from_the_original_and_from_the_newest(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    ids = await three_revisions(store)
    await store.put(b"other", filename="other.txt")
    for revision, want in [(0, 0), (1, 1), (2, 2), (-1, 2), (-2, 1), (-3, 0)]:
        assert await store.read_by_name("notes.txt", revision) == f"rev{want}".encode()
        info = await store.get_info_by_name("notes.txt", revision)
        assert info.file_id == ids[want]
    assert await store.read_by_name("notes.txt") == b"rev2"
    stream = await store.open_download_by_name("notes.txt", 0)
    async with stream:
        assert stream.file_id == ids[0]
        assert await stream.read(2) == b"re"


async def test_revisions_uploaded_in_the_same_millisecond_follow_their_ids(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    ids = sorted(ObjectId() for _ in range(3))
    same = (await store.put(b"x", filename="n")).upload_date
    await async_db["fs.files"].delete_many({})
    # Inserted newest id first, all with one date: the order comes from the ids.
    for i in reversed(range(3)):
        await store.put(f"r{i}".encode(), filename="same", file_id=ids[i])
    await async_db["fs.files"].update_many({}, {"$set": {"uploadDate": same}})
    assert [await store.read_by_name("same", r) for r in (0, 1, 2, -1)] == [
        b"r0",
        b"r1",
        b"r2",
        b"r2",
    ]


async def test_missing_name_or_revision_is_no_file_naming_both(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    await three_revisions(store)
    with pytest.raises(NoFile, match=r"no file named 'absent\.txt'"):
        await store.read_by_name("absent.txt")
    for revision in (3, -4, 99):
        with pytest.raises(NoFile, match=rf"revision {revision}\b.*'notes\.txt'"):
            await store.open_download_by_name("notes.txt", revision)
    with pytest.raises(NoFile, match="absent"):
        await store.download_to_stream_by_name("absent", io.BytesIO())


BAD_NAMES: list[tuple[Any, type[Exception], str]] = [
    ("", ValueError, "filename must not be empty"),
    (None, TypeError, "filename must be a str, not NoneType"),
    (b"notes.txt", TypeError, "filename must be a str, not bytes"),
    ({"$ne": None}, TypeError, "filename must be a str, not dict"),
]


@pytest.mark.parametrize(("name", "error", "message"), BAD_NAMES)
async def test_bad_names_are_refused_before_any_change(
    async_db: Any, name: Any, error: type[Exception], message: str
) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    await three_revisions(store)
    before = await counts(async_db)
    with pytest.raises(error, match=re.escape(message)):
        await store.read_by_name(name)
    with pytest.raises(error, match=re.escape(message)):
        await store.open_download_by_name(name, 0)
    with pytest.raises(error, match=re.escape(message)):
        await store.delete_by_name(name)
    with pytest.raises(error, match=re.escape(message)):
        await store.rename_by_name(name, "new")
    with pytest.raises(error, match=re.escape(message.replace("filename", "new_filename"))):
        await store.rename_by_name("notes.txt", name)
    if name is not None:  # find(filename=None) means any name
        with pytest.raises(error, match=re.escape(message)):
            store.find(filename=name)
    assert await counts(async_db) == before
    names = {info.filename async for info in store.find()}
    assert names == {"notes.txt"}


@pytest.mark.parametrize("revision", [1.0, "1", None, True])
async def test_a_revision_must_be_an_int(async_db: Any, revision: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    await three_revisions(store)
    with pytest.raises(TypeError, match="revision must be an int"):
        await store.read_by_name("notes.txt", revision)


# --------------------------------------------------------------------------- delete, rename


async def test_delete_by_name_takes_every_revision_and_only_those(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    await three_revisions(store)
    kept = await store.put(b"keep me", filename="notes.txt.bak")
    assert await store.delete_by_name("notes.txt") == 3
    assert await counts(async_db) == (1, 2)
    assert await store.get(kept.file_id) == b"keep me"
    with pytest.raises(NoFile, match=r"no file named 'notes\.txt'"):
        await store.delete_by_name("notes.txt")
    assert await counts(async_db) == (1, 2)


async def test_delete_other_revisions_keeps_only_the_one_given(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    ids = await three_revisions(store)
    await store.put(b"other", filename="other.txt")
    assert await store.delete_other_revisions("notes.txt", ids[2]) == 2
    assert [info.file_id async for info in store.find_by_name("notes.txt")] == [ids[2]]
    assert await store.read_by_name("notes.txt") == b"rev2"
    assert await store.read_by_name("other.txt") == b"other"
    assert await counts(async_db) == (2, 3)  # rev2's chunk, other's two
    assert await store.delete_other_revisions("notes.txt", ids[2]) == 0
    with pytest.raises(TypeError):
        await store.delete_other_revisions("notes.txt", {"$ne": None})
    assert await counts(async_db) == (2, 3)


async def test_names_under_a_prefix_are_matched_literally(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    names = ["a.b/1", "a.b/2", "a.b/sub/3", "aXb/4", "a.bc", "(x)*/5", "^$/6", "top"]
    for name in names:
        await store.put(b"x", filename=name)
    await store.put(b"y", filename="a.b/1")  # a revision: listed once
    assert await store.list("a.b/") == ["a.b/1", "a.b/2", "a.b/sub/3"]
    assert await store.list("(x)*/") == ["(x)*/5"]
    assert await store.list("^$") == ["^$/6"]
    assert await store.list() == sorted(names)
    assert await store.exists_by_name("a.b", or_prefix="a.b/")
    assert not await store.exists_by_name("a.b")
    assert not await store.exists_by_name("a", or_prefix="a/")
    assert await store.exists_by_name("top")


async def test_rename_by_name_renames_every_revision(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    ids = await three_revisions(store)
    assert await store.rename_by_name("notes.txt", "journal.txt") == 3
    assert [info.file_id async for info in store.find(filename="journal.txt")] == ids
    with pytest.raises(NoFile, match=r"no file named 'notes\.txt'"):
        await store.rename_by_name("notes.txt", "x")
    assert await store.read_by_name("journal.txt", 1) == b"rev1"


# --------------------------------------------------------------------------- find, drop


async def test_find_takes_pymongo_filters_and_a_filename(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    ids = await three_revisions(store)
    await store.put(b"a longer file", filename="big.bin")
    assert [i.file_id async for i in store.find(filename="notes.txt")] == ids
    newest_first = [i.file_id async for i in store.find(filename="notes.txt", sort=[("_id", -1)])]
    assert newest_first == ids[::-1]
    big = [i.filename async for i in store.find({"length": {"$gt": 4}})]
    assert big == ["big.bin"]
    both = store.find({"length": {"$lt": 5}}, filename="notes.txt", skip=1, limit=1)
    assert [i.file_id async for i in both] == ids[1:2]
    assert [i async for i in store.find(filename="none")] == []
    by_name = [i.file_id async for i in store.find_by_name("notes.txt")]
    assert by_name == ids
    with pytest.raises(TypeError, match="filter must be a mapping, not list"):
        store.find([("filename", "notes.txt")])  # type: ignore[arg-type]


async def test_drop_removes_the_bucket_and_a_later_upload_recreates_its_indexes(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db, "photos", chunk_size=CHUNK)
    other = AsyncFileStore(async_db, chunk_size=CHUNK)
    await three_revisions(store)
    kept = await other.put(b"other bucket")
    await store.drop()
    names = set(await async_db.list_collection_names())
    assert "photos.files" not in names
    assert "photos.chunks" not in names
    assert await other.get(kept.file_id) == b"other bucket"
    await store.put(b"again", filename="again")
    indexes = await async_db["photos.chunks"].index_information()
    assert any(spec.get("unique") for spec in indexes.values()), indexes
    await store.drop()
    await store.drop()  # dropping a bucket that is gone is fine


# --------------------------------------------------------------------------- streams


class CoroutineSink:
    """A destination whose write() is a coroutine, as an async file object's is."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    async def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)


async def test_download_to_stream_writes_every_byte(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    data = bytes(range(256)) * 3
    info = await store.put(data, filename="bytes.bin")
    sink = io.BytesIO()
    assert await store.download_to_stream(info.file_id, sink) == len(data)
    assert sink.getvalue() == data
    sink = io.BytesIO()
    assert await store.download_to_stream_by_name("bytes.bin", sink) == len(data)
    assert sink.getvalue() == data
    coroutine_sink = CoroutineSink()
    assert await store.download_to_stream(info.file_id, coroutine_sink) == len(data)
    assert b"".join(coroutine_sink.parts) == data


async def test_download_to_stream_refuses_a_destination_without_write(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(b"data")
    with pytest.raises(TypeError, match="destination must have a write"):
        await store.download_to_stream(info.file_id, b"not a stream")
    with pytest.raises(NoFile):
        await store.download_to_stream(ObjectId(), io.BytesIO())


# --------------------------------------------------------------------------- upload options


async def test_upload_from_stream_takes_the_spec_options(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    file_id = await store.upload_from_stream(
        "a.dat",
        io.BytesIO(b"12345"),
        chunk_size_bytes=2,
        metadata={"owner": "ann"},
        aliases=["b.dat"],
    )
    doc = await async_db["fs.files"].find_one({"_id": file_id})
    assert doc["chunkSize"] == 2
    assert doc["metadata"] == {"owner": "ann"}
    assert doc["aliases"] == ["b.dat"]
    assert "contentType" not in doc  # none given, none guessable from ".dat"
    assert await async_db["fs.chunks"].count_documents({"files_id": file_id}) == 3
    given = await store.upload_from_stream("c", b"x", content_type="text/x-given")
    doc = await async_db["fs.files"].find_one({"_id": given})
    assert doc["contentType"] == "text/x-given"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"aliases": "b.dat"}, TypeError, "aliases must be a list of str, not str"),
        ({"aliases": ["b", 1]}, TypeError, "aliases[1] must be a str, not int"),
        ({"chunk_size_bytes": 0}, ValueError, "chunk_size must be between 1"),
        ({"metadata": {"$x": 1}}, ValueError, "metadata.$x"),
    ],
)
async def test_bad_upload_options_are_refused_before_any_write(
    async_db: Any, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    store = AsyncFileStore(async_db)
    with pytest.raises(error, match=re.escape(message)):
        await store.upload_from_stream("a.dat", b"12345", **options)
    with pytest.raises(TypeError, match="filename must be a str, not int"):
        await store.upload_from_stream(1, b"12345")  # type: ignore[arg-type]
    assert await counts(async_db) == (0, 0)
