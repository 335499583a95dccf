# Generated from tests/_async/test_store_by_name.py by scripts/unasync.py: do not edit.
"""Files by name and revision, find with filters, drop, download_to_stream and the spec's
upload options: what they do, and the clear error (with nothing changed) on bad input."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from bson import ObjectId

from gridfield._sync.store import FileStore
from gridfield.core.errors import NoFile

CHUNK = 4


def counts(db: Any) -> tuple[int, int]:
    """How many files documents and chunks the default bucket holds."""
    return (
        db["fs.files"].count_documents({}),
        db["fs.chunks"].count_documents({}),
    )


def three_revisions(store: FileStore, name: str = "notes.txt") -> list[Any]:
    """Store revisions b"rev0", b"rev1", b"rev2" of ``name``, oldest first; return their ids."""
    return [(store.put(f"rev{i}".encode(), filename=name)).file_id for i in range(3)]


# --------------------------------------------------------------------------- revisions


def test_revisions_count_from_the_original_and_from_the_newest(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    ids = three_revisions(store)
    store.put(b"other", filename="other.txt")
    for revision, want in [(0, 0), (1, 1), (2, 2), (-1, 2), (-2, 1), (-3, 0)]:
        assert store.read_by_name("notes.txt", revision) == f"rev{want}".encode()
        info = store.get_info_by_name("notes.txt", revision)
        assert info.file_id == ids[want]
    assert store.read_by_name("notes.txt") == b"rev2"
    stream = store.open_download_by_name("notes.txt", 0)
    with stream:
        assert stream.file_id == ids[0]
        assert stream.read(2) == b"re"


def test_revisions_uploaded_in_the_same_millisecond_follow_their_ids(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    ids = sorted(ObjectId() for _ in range(3))
    same = (store.put(b"x", filename="n")).upload_date
    sync_db["fs.files"].delete_many({})
    # Inserted newest id first, all with one date: the order comes from the ids.
    for i in reversed(range(3)):
        store.put(f"r{i}".encode(), filename="same", file_id=ids[i])
    sync_db["fs.files"].update_many({}, {"$set": {"uploadDate": same}})
    assert [store.read_by_name("same", r) for r in (0, 1, 2, -1)] == [
        b"r0",
        b"r1",
        b"r2",
        b"r2",
    ]


def test_missing_name_or_revision_is_no_file_naming_both(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    three_revisions(store)
    with pytest.raises(NoFile, match=r"no file named 'absent\.txt'"):
        store.read_by_name("absent.txt")
    for revision in (3, -4, 99):
        with pytest.raises(NoFile, match=rf"revision {revision}\b.*'notes\.txt'"):
            store.open_download_by_name("notes.txt", revision)
    with pytest.raises(NoFile, match="absent"):
        store.download_to_stream_by_name("absent", io.BytesIO())


BAD_NAMES: list[tuple[Any, type[Exception], str]] = [
    ("", ValueError, "filename must not be empty"),
    (None, TypeError, "filename must be a str, not NoneType"),
    (b"notes.txt", TypeError, "filename must be a str, not bytes"),
    ({"$ne": None}, TypeError, "filename must be a str, not dict"),
]


@pytest.mark.parametrize(("name", "error", "message"), BAD_NAMES)
def test_bad_names_are_refused_before_any_change(
    sync_db: Any, name: Any, error: type[Exception], message: str
) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    three_revisions(store)
    before = counts(sync_db)
    with pytest.raises(error, match=re.escape(message)):
        store.read_by_name(name)
    with pytest.raises(error, match=re.escape(message)):
        store.open_download_by_name(name, 0)
    with pytest.raises(error, match=re.escape(message)):
        store.delete_by_name(name)
    with pytest.raises(error, match=re.escape(message)):
        store.rename_by_name(name, "new")
    with pytest.raises(error, match=re.escape(message.replace("filename", "new_filename"))):
        store.rename_by_name("notes.txt", name)
    if name is not None:  # find(filename=None) means any name
        with pytest.raises(error, match=re.escape(message)):
            store.find(filename=name)
    assert counts(sync_db) == before
    names = {info.filename for info in store.find()}
    assert names == {"notes.txt"}


@pytest.mark.parametrize("revision", [1.0, "1", None, True])
def test_a_revision_must_be_an_int(sync_db: Any, revision: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    three_revisions(store)
    with pytest.raises(TypeError, match="revision must be an int"):
        store.read_by_name("notes.txt", revision)


# --------------------------------------------------------------------------- delete, rename


def test_delete_by_name_takes_every_revision_and_only_those(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    three_revisions(store)
    kept = store.put(b"keep me", filename="notes.txt.bak")
    assert store.delete_by_name("notes.txt") == 3
    assert counts(sync_db) == (1, 2)
    assert store.get(kept.file_id) == b"keep me"
    with pytest.raises(NoFile, match=r"no file named 'notes\.txt'"):
        store.delete_by_name("notes.txt")
    assert counts(sync_db) == (1, 2)


def test_delete_other_revisions_keeps_only_the_one_given(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    ids = three_revisions(store)
    store.put(b"other", filename="other.txt")
    assert store.delete_other_revisions("notes.txt", ids[2]) == 2
    assert [info.file_id for info in store.find_by_name("notes.txt")] == [ids[2]]
    assert store.read_by_name("notes.txt") == b"rev2"
    assert store.read_by_name("other.txt") == b"other"
    assert counts(sync_db) == (2, 3)  # rev2's chunk, other's two
    assert store.delete_other_revisions("notes.txt", ids[2]) == 0
    with pytest.raises(TypeError):
        store.delete_other_revisions("notes.txt", {"$ne": None})
    assert counts(sync_db) == (2, 3)


def test_names_under_a_prefix_are_matched_literally(sync_db: Any) -> None:
    store = FileStore(sync_db)
    names = ["a.b/1", "a.b/2", "a.b/sub/3", "aXb/4", "a.bc", "(x)*/5", "^$/6", "top"]
    for name in names:
        store.put(b"x", filename=name)
    store.put(b"y", filename="a.b/1")  # a revision: listed once
    assert store.list("a.b/") == ["a.b/1", "a.b/2", "a.b/sub/3"]
    assert store.list("(x)*/") == ["(x)*/5"]
    assert store.list("^$") == ["^$/6"]
    assert store.list() == sorted(names)
    assert store.exists_by_name("a.b", or_prefix="a.b/")
    assert not store.exists_by_name("a.b")
    assert not store.exists_by_name("a", or_prefix="a/")
    assert store.exists_by_name("top")


def test_rename_by_name_renames_every_revision(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    ids = three_revisions(store)
    assert store.rename_by_name("notes.txt", "journal.txt") == 3
    assert [info.file_id for info in store.find(filename="journal.txt")] == ids
    with pytest.raises(NoFile, match=r"no file named 'notes\.txt'"):
        store.rename_by_name("notes.txt", "x")
    assert store.read_by_name("journal.txt", 1) == b"rev1"


# --------------------------------------------------------------------------- find, drop


def test_find_takes_pymongo_filters_and_a_filename(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    ids = three_revisions(store)
    store.put(b"a longer file", filename="big.bin")
    assert [i.file_id for i in store.find(filename="notes.txt")] == ids
    newest_first = [i.file_id for i in store.find(filename="notes.txt", sort=[("_id", -1)])]
    assert newest_first == ids[::-1]
    big = [i.filename for i in store.find({"length": {"$gt": 4}})]
    assert big == ["big.bin"]
    both = store.find({"length": {"$lt": 5}}, filename="notes.txt", skip=1, limit=1)
    assert [i.file_id for i in both] == ids[1:2]
    assert [i for i in store.find(filename="none")] == []
    by_name = [i.file_id for i in store.find_by_name("notes.txt")]
    assert by_name == ids
    with pytest.raises(TypeError, match="filter must be a mapping, not list"):
        store.find([("filename", "notes.txt")])  # type: ignore[arg-type]


def test_drop_removes_the_bucket_and_a_later_upload_recreates_its_indexes(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db, "photos", chunk_size=CHUNK)
    other = FileStore(sync_db, chunk_size=CHUNK)
    three_revisions(store)
    kept = other.put(b"other bucket")
    store.drop()
    names = set(sync_db.list_collection_names())
    assert "photos.files" not in names
    assert "photos.chunks" not in names
    assert other.get(kept.file_id) == b"other bucket"
    store.put(b"again", filename="again")
    indexes = sync_db["photos.chunks"].index_information()
    assert any(spec.get("unique") for spec in indexes.values()), indexes
    store.drop()
    store.drop()  # dropping a bucket that is gone is fine


# --------------------------------------------------------------------------- streams


class CoroutineSink:
    """A destination whose write() is a coroutine, as an async file object's is."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)


def test_download_to_stream_writes_every_byte(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    data = bytes(range(256)) * 3
    info = store.put(data, filename="bytes.bin")
    sink = io.BytesIO()
    assert store.download_to_stream(info.file_id, sink) == len(data)
    assert sink.getvalue() == data
    sink = io.BytesIO()
    assert store.download_to_stream_by_name("bytes.bin", sink) == len(data)
    assert sink.getvalue() == data
    coroutine_sink = CoroutineSink()
    assert store.download_to_stream(info.file_id, coroutine_sink) == len(data)
    assert b"".join(coroutine_sink.parts) == data


def test_download_to_stream_refuses_a_destination_without_write(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(b"data")
    with pytest.raises(TypeError, match="destination must have a write"):
        store.download_to_stream(info.file_id, b"not a stream")
    with pytest.raises(NoFile):
        store.download_to_stream(ObjectId(), io.BytesIO())


# --------------------------------------------------------------------------- upload options


def test_upload_from_stream_takes_the_spec_options(sync_db: Any) -> None:
    store = FileStore(sync_db)
    file_id = store.upload_from_stream(
        "a.dat",
        io.BytesIO(b"12345"),
        chunk_size_bytes=2,
        metadata={"owner": "ann"},
        aliases=["b.dat"],
    )
    doc = sync_db["fs.files"].find_one({"_id": file_id})
    assert doc["chunkSize"] == 2
    assert doc["metadata"] == {"owner": "ann"}
    assert doc["aliases"] == ["b.dat"]
    assert "contentType" not in doc  # none given, none guessable from ".dat"
    assert sync_db["fs.chunks"].count_documents({"files_id": file_id}) == 3
    given = store.upload_from_stream("c", b"x", content_type="text/x-given")
    doc = sync_db["fs.files"].find_one({"_id": given})
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
def test_bad_upload_options_are_refused_before_any_write(
    sync_db: Any, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    store = FileStore(sync_db)
    with pytest.raises(error, match=re.escape(message)):
        store.upload_from_stream("a.dat", b"12345", **options)
    with pytest.raises(TypeError, match="filename must be a str, not int"):
        store.upload_from_stream(1, b"12345")  # type: ignore[arg-type]
    assert counts(sync_db) == (0, 0)
