# Generated from tests/_async/test_filefield.py by scripts/unasync.py: do not edit.
"""FileField and its proxy beyond the chapter's examples: errors, replace, reading, deletion."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson import ObjectId
from mongoengine.errors import NotUniqueError

from gridfield._sync.connection import connect, disconnect
from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.proxy import GridFSProxy
from gridfield.core.errors import FileNotLoaded, FileTooLarge, GridFSError, NoFile
from gridfield.core.files_document import MAX_CHUNK_SIZE, check_chunk_size
from gridfield.plain_fields import (
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    StringField,
)

DATA = bytes(range(256)) * 40  # 10 KiB


class Caption(EmbeddedDocument):
    text = StringField()
    scan = FileField(chunk_size=1024)


class Album(Document):
    title = StringField()
    cover = FileField(chunk_size=1024)
    pages = ListField(FileField())
    caption = EmbeddedDocumentField(Caption)
    shared = FileField(delete_with_owner=False)
    thumbs = FileField(collection_name="thumbs")


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected()


def count(db: Any, bucket: str = "fs") -> tuple[int, int]:
    files = db[f"{bucket}.files"].count_documents({})
    chunks = db[f"{bucket}.chunks"].count_documents({})
    return files, chunks


# -- putting ---------------------------------------------------------------------------------


def test_put_on_a_field_holding_a_file_is_refused_and_writes_nothing(db: Any) -> None:
    album = Album(title="a")
    album.cover.put(DATA)
    before = count(db)
    with pytest.raises(GridFSError, match=r"Album\.cover already holds a file.*replace"):
        album.cover.put(b"other")
    with pytest.raises(GridFSError, match="already holds a file"):
        album.cover.new_file()
    assert count(db) == before
    assert album.cover.read() == DATA


def test_put_takes_metadata_and_filename(db: Any) -> None:
    album = Album()
    album.cover.put(
        io.BytesIO(DATA), filename="cover.bin", content_type="application/x-demo", owner="ann"
    )
    assert album.cover.filename == "cover.bin"
    assert album.cover.length == len(DATA)
    # the stored metadata (GridFS's contentType included), and content_type for the seed's reads
    assert album.cover.metadata == {
        "contentType": "application/x-demo",
        "content_type": "application/x-demo",
    }
    # extra keywords are top-level, as MongoEngine and PyMongo store them, read as attributes
    assert album.cover.owner == "ann"
    raw = db["fs.files"].find_one({"_id": album.cover.grid_id})
    assert raw["owner"] == "ann"
    assert raw["chunkSize"] == 1024  # the field's chunk size


def test_metadata_stays_the_gridfs_subdocument(db: Any) -> None:
    album = Album()
    album.cover.put(DATA, metadata={"owner": "bob"}, tag="x")
    raw = db["fs.files"].find_one({"_id": album.cover.grid_id})
    assert raw["metadata"]["owner"] == "bob" and raw["tag"] == "x"
    assert album.cover.metadata["owner"] == "bob"
    with pytest.raises(AttributeError, match="no attribute 'owner'"):
        _ = album.cover.owner


def test_extra_keywords_may_not_take_gridfs_or_gridfield_names(db: Any) -> None:
    album = Album()
    for key in ("gridfield", "uploadDate"):
        with pytest.raises(ValueError, match=f"put\\(\\) keyword '{key}'"):
            album.cover.put(DATA, **{key: 1})
    # length= (with sha256=) declares the bytes of a deduplicated upload: an option.
    with pytest.raises(ValueError, match="give sha256 and length together"):
        album.cover.put(DATA, length=1)
    assert count(db) == (0, 0)
    assert not album.cover


def test_bad_metadata_is_refused_and_writes_nothing(db: Any) -> None:
    album = Album()
    with pytest.raises(ValueError, match=r"\$where"):
        album.cover.put(DATA, metadata={"$where": 1})
    assert count(db) == (0, 0)
    assert not album.cover


def test_bad_data_is_refused_and_writes_nothing(db: Any) -> None:
    album = Album()
    for bad in (42, None, {"a": 1}, 1.5):
        with pytest.raises(TypeError):
            album.cover.put(bad)
    assert count(db) == (0, 0)
    assert not album.cover


@pytest.mark.parametrize("kind", ["bytes", "str", "file"])
def test_assigned_data_is_stored_at_save_files_first(db: Any, kind: str) -> None:
    value: Any = {"bytes": b"bytes", "str": "text", "file": io.BytesIO(b"file object")}[kind]
    expected = value.getvalue() if isinstance(value, io.BytesIO) else value
    expected = expected.encode() if isinstance(expected, str) else expected
    album = Album(title="a", cover=value)
    assert album.cover  # holds a file to be
    assert count(db) == (0, 0)  # nothing stored before the save
    with pytest.raises(GridFSError, match=r"Album\.cover: the assigned file is stored when"):
        album.cover.read()
    album.save()
    raw = db["album"].find_one({"_id": album.id})
    assert raw["cover"] == album.cover.grid_id
    assert album.cover.read() == expected
    assert (Album.objects(id=album.id).first()).cover.grid_id == album.cover.grid_id
    # Assigning anew: the old file goes once the document names the new one.
    album.cover = b"second"
    assert count(db) == (1, 1)
    album.save()
    assert count(db) == (1, 1)
    fetched = Album.objects(id=album.id).first()
    assert fetched.cover.read() == b"second"


def test_assigned_data_of_a_document_never_saved_stores_nothing(db: Any) -> None:
    album = Album(title="never saved")
    album.cover = b"bytes"
    album.cover = b"other bytes"
    del album
    assert count(db) == (0, 0)


def test_a_failed_save_leaves_no_file_and_keeps_the_old_one(db: Any) -> None:
    first = Album(title="first")
    first.save()
    album = Album(title="a")
    album.cover.put(DATA)
    album.save()
    old = album.cover.grid_id
    before = count(db)
    album.cover = io.BytesIO(b"new")
    album.id = first.id  # now a new document with a taken id: the insert fails
    album._created = True
    with pytest.raises(Exception, match="duplicate"):
        album.save(force_insert=True)
    assert count(db) == before  # the old file only: the new one was removed again
    assert album.cover.grid_id == old
    assert db["fs.files"].find_one({"_id": old}) is not None


def test_assigning_something_else_is_a_type_error(db: Any) -> None:
    album = Album()
    with pytest.raises(TypeError, match="not int"):
        album.cover = 7
    assert not album.cover
    assert count(db) == (0, 0)


def test_assigning_an_id_or_a_proxy_references_that_file(db: Any) -> None:
    first = Album()
    first.cover.put(DATA)
    first.save()
    second = Album(cover=first.cover.grid_id)
    second.save()
    third = Album()
    third.cover = first.cover
    again = Album.objects(id=second.id).first()
    assert again.cover.read() == DATA
    assert third.cover.grid_id == first.cover.grid_id


# -- attributes and reading ------------------------------------------------------------------


def test_attributes_after_load(db: Any) -> None:
    album = Album()
    album.cover.put(DATA, content_type="image/png")
    album.save()
    fetched = Album.objects(id=album.id).first()
    assert fetched.cover  # holds a file
    info = fetched.cover.load()
    assert info is not None
    assert fetched.cover.length == len(DATA)
    assert fetched.cover.content_type == "image/png"
    assert fetched.cover.upload_date is not None


def test_empty_field(db: Any) -> None:
    album = Album()
    assert not album.cover
    assert album.cover.read() is None
    assert album.cover.load() is None
    album.cover.delete()  # nothing to do
    with pytest.raises(FileNotLoaded, match="holds no file"):
        _ = album.cover.length
    chunks = [piece for piece in album.cover]
    assert chunks == []


def test_read_of_a_file_that_is_gone_raises_nofile(db: Any) -> None:
    album = Album()
    album.cover.put(DATA)
    album.save()
    db["fs.files"].delete_many({})
    fetched = Album.objects(id=album.id).first()
    with pytest.raises(NoFile):
        fetched.cover.read()


def test_seek_tell_read_readline_readchunk(db: Any) -> None:
    text = b"".join(b"line %d\n" % i for i in range(600))
    album = Album()
    album.cover.put(text)
    assert album.cover.read(10) == text[:10]
    assert album.cover.tell() == 10
    album.cover.seek(2000)
    assert album.cover.read(100) == text[2000:2100]
    album.cover.seek(-50, 1)
    assert album.cover.read(50) == text[2050:2100]
    album.cover.seek(-7, 2)
    assert album.cover.read() == text[-7:]
    album.cover.seek(0)
    assert album.cover.readline() == b"line 0\n"
    album.cover.seek(1020)  # a line across the 1024-byte chunk boundary
    start = text.rfind(b"\n", 0, 1020) + 1
    end = text.index(b"\n", 1020) + 1
    assert album.cover.readline() == text[1020:end]
    assert start < 1020
    album.cover.seek(1000)
    assert album.cover.readchunk() == text[1000:1024]
    with pytest.raises(ValueError, match="negative"):
        album.cover.seek(-1)


def test_seek_and_read_refuse_what_is_not_an_int_and_keep_the_position(db: Any) -> None:
    album = Album()
    album.cover.put(DATA)
    album.cover.read(10)
    stream = album.cover.store.open_download(album.cover.grid_id)
    for reader in (album.cover, stream):
        for bad in (1.5, "5", True, None):
            with pytest.raises(TypeError, match=r"seek\(\): pos must be an int"):
                reader.seek(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="whence"):
            reader.seek(0, 3)
        with pytest.raises(TypeError, match=r"read\(\): size must be an int, not str"):
            reader.read("5")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"readline\(\): size must be an int, not float"):
            reader.readline(2.0)  # type: ignore[arg-type]
    assert album.cover.tell() == 10 and stream.tell() == 0
    assert album.cover.read(5) == DATA[10:15]


def test_the_proxy_and_its_stream_share_one_position(db: Any) -> None:
    album = Album()
    album.cover.put(DATA)
    album.cover.seek(3000)
    assert album.cover.read(4) == DATA[3000:3004]
    reader = album.cover._reader
    assert reader is not None and reader.tell() == album.cover.tell() == 3004
    reader.seek(100)
    assert album.cover.tell() == 100
    album.cover.seek(-4, 2)
    assert reader.tell() == len(DATA) - 4
    assert [piece for piece in album.cover] == [DATA[-4:]]
    assert album.cover.tell() == len(DATA)


def test_iteration_yields_chunks(db: Any) -> None:
    album = Album()
    album.cover.put(DATA)
    pieces = [piece for piece in album.cover]
    assert b"".join(pieces) == DATA
    assert [len(p) for p in pieces] == [1024] * 10


# -- streaming -------------------------------------------------------------------------------


def test_error_inside_new_file_block_leaves_nothing(db: Any) -> None:
    album = Album()
    with pytest.raises(RuntimeError, match="boom"):
        with album.cover.new_file():
            album.cover.write(DATA)
            album.cover.write(DATA)  # full chunks reach the server here
            raise RuntimeError("boom")
    assert count(db) == (0, 0)
    assert not album.cover


def test_write_starts_a_file_and_writelines(db: Any) -> None:
    album = Album()
    album.cover.write(b"head,")
    album.cover.writelines([b"a,", "b,", b"c"])
    album.cover.close()
    assert album.cover.read() == b"head,a,b,c"


# -- replace ---------------------------------------------------------------------------------


def test_replace_on_a_never_saved_document_deletes_the_old_file_at_once(db: Any) -> None:
    album = Album()
    album.cover.put(DATA)
    old = album.cover.grid_id
    album.cover.replace(b"new")
    assert db["fs.files"].count_documents({"_id": old}) == 0
    assert album.cover.read() == b"new"


def test_failed_replace_keeps_the_old_file(db: Any) -> None:
    album = Album()
    album.cover.put(DATA)
    album.save()

    def broken() -> Iterator[bytes]:
        yield b"x" * 5000
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        album.cover.replace(broken())
    assert count(db) == (1, 10)  # the old file, whole, and nothing of the new
    assert album.cover.read() == DATA
    fetched = Album.objects(id=album.id).first()
    assert fetched.cover.read() == DATA


# -- options ---------------------------------------------------------------------------------


def test_collection_name_and_db_alias(db: Any, sync_client: Any) -> None:
    album = Album()
    album.thumbs.put(b"thumb")
    assert count(db, "thumbs") == (1, 1)
    assert count(db) == (0, 0)

    other = sync_client[db.name + "_other"]
    connect(db=other.name, client=sync_client, alias="elsewhere")
    try:

        class Elsewhere(Document):
            photo = FileField(db_alias="elsewhere")

        doc = Elsewhere()
        doc.photo.put(b"far away")
        assert other["fs.files"].count_documents({}) == 1
        assert count(db) == (0, 0)
    finally:
        disconnect("elsewhere")
        sync_client.drop_database(other.name)


@pytest.mark.parametrize(
    ("chunk_size", "error"),
    [
        (0, ValueError),
        (-5, ValueError),
        (32 * 1024 * 1024, ValueError),  # over a chunk's BSON limit: refused here, not at put
        (MAX_CHUNK_SIZE + 1, ValueError),
        ("1024", TypeError),
        (1.5, TypeError),
        (True, TypeError),
    ],
)
def test_chunk_size_follows_the_stores_rule(chunk_size: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as by_store:
        check_chunk_size(chunk_size)
    with pytest.raises(error, match=re.escape(str(by_store.value))):
        FileField(chunk_size=chunk_size)
    with pytest.raises(error, match=re.escape(str(by_store.value))):
        GridFSProxy(chunk_size=chunk_size)


def test_the_largest_chunk_size_is_accepted(db: Any) -> None:
    class Huge(Document):
        scan = FileField(chunk_size=MAX_CHUNK_SIZE)
        meta = {"collection": "huge_chunks"}

    doc = Huge()
    doc.scan.put(b"small")
    assert (db["fs.files"].find_one({"_id": doc.scan.grid_id}))["chunkSize"] == (MAX_CHUNK_SIZE)


# -- deleting documents deletes their files ---------------------------------------------------


def filled_album(title: str) -> Album:
    album = Album(title=title, caption=Caption(text="c"))
    album.cover.put(b"cover " + title.encode())
    album.caption.scan.put(b"scan")
    for i in range(2):
        page = FileField().get_proxy_obj()
        page.put(b"page %d" % i)
        album.pages.append(page)
    album.shared.put(b"shared")
    album.save()
    return album


def test_document_delete_deletes_its_files_but_not_opted_out_ones(db: Any) -> None:
    album = filled_album("one")
    shared = album.shared.grid_id
    assert db["fs.files"].count_documents({}) == 5
    album.delete()
    assert db["album"].count_documents({}) == 0
    remaining = [doc["_id"] for doc in db["fs.files"].find({})]
    assert remaining == [shared]
    assert db["fs.chunks"].count_documents({"files_id": {"$ne": shared}}) == 0


def test_queryset_delete_deletes_the_files(db: Any) -> None:
    filled_album("one")
    keep = filled_album("two")
    assert Album.objects(title="one").delete() == 1
    left = {doc["_id"] for doc in db["fs.files"].find({})}
    assert keep.cover.grid_id in left
    assert keep.caption.scan.grid_id in left
    assert len(left) == 5 + 1  # the kept album's five, and the other's opted-out one


def test_a_fetched_document_deletes_its_files_too(db: Any) -> None:
    album = filled_album("one")
    fetched = Album.objects(id=album.id).first()
    fetched.delete()
    assert db["fs.files"].count_documents({}) == 1  # the opted-out one
    assert db["fs.chunks"].count_documents({}) == 1


def test_field_values_are_object_ids() -> None:
    album = Album()
    oid = ObjectId()
    album.cover = oid
    assert album.to_mongo()["cover"] == oid


def test_replace_in_an_embedded_document_waits_for_the_owners_save(db: Any) -> None:
    album = filled_album("embedded")
    old = album.caption.scan.grid_id
    album.caption.scan.replace(b"new scan")
    assert db["fs.files"].count_documents({"_id": old}) == 1  # still named by the stored doc
    album.save()
    assert db["fs.files"].count_documents({"_id": old}) == 0
    fetched = Album.objects(id=album.id).first()
    assert fetched.caption.scan.read() == b"new scan"


# -- upload options through the field: each has its effect, none is stored as a field ----------

OPTION_CASES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any], Any], None]]] = {
    "filename": ({"filename": "a.bin"}, lambda doc, seen: doc["filename"] == "a.bin"),
    "content_type": (
        {"content_type": "application/x-demo"},
        lambda doc, seen: doc["contentType"] == "application/x-demo",
    ),
    "metadata": ({"metadata": {"k": 1}}, lambda doc, seen: doc["metadata"]["k"] == 1),
    "file_id": ({"file_id": "cover-1"}, lambda doc, seen: doc["_id"] == "cover-1"),
    "chunk_size": ({"chunk_size": 512}, lambda doc, seen: doc["chunkSize"] == 512),
    "chunk_size_bytes": ({"chunk_size_bytes": 512}, lambda doc, seen: doc["chunkSize"] == 512),
    "checksum": ({"checksum": False}, lambda doc, seen: "gridfield" not in doc),
    "encoding": ({"encoding": "utf-16"}, lambda doc, seen: doc["length"] == 2 * len(DATA) + 2),
    "aliases": ({"aliases": ["front"]}, lambda doc, seen: doc["aliases"] == ["front"]),
    "max_size": ({"max_size": 10**6}, lambda doc, seen: doc["length"] == len(DATA)),
    "content_types": (
        {"content_types": ["application/*"], "content_type": "application/x-demo"},
        lambda doc, seen: doc["contentType"] == "application/x-demo",
    ),
    "on_progress": (
        {"on_progress": "record"},
        lambda doc, seen: seen[-1] == (len(DATA), len(DATA)),
    ),
    "total": (
        {"on_progress": "record", "total": 7},
        lambda doc, seen: seen[-1] == (len(DATA), 7),
    ),
}


@pytest.mark.parametrize("option", list(OPTION_CASES))
def test_every_upload_option_of_put_has_its_effect_and_is_not_stored_as_a_field(
    db: Any, option: str
) -> None:
    given, effect = OPTION_CASES[option]
    seen: list[tuple[int, int | None]] = []
    keywords = {
        k: (lambda d, t: seen.append((d, t))) if v == "record" else v for k, v in given.items()
    }
    data: Any = DATA.decode("latin-1") if option == "encoding" else DATA
    album = Album()
    file_id = album.cover.put(data, author="ann", **keywords)
    doc = db["fs.files"].find_one({"_id": file_id})
    assert effect(doc, seen), doc
    assert doc["author"] == "ann"  # an extra keyword is a top-level field, as MongoEngine's
    options = set(given) - {"filename", "aliases", "metadata"}  # GridFS fields of that name
    assert not options & set(doc), f"{option} was stored as a field: {doc}"
    stored = (db["fs.files"].find_one({"_id": file_id}, {"gridfield": 1})) or {}
    assert ("gridfield" in stored) == (option != "checksum")


@pytest.mark.parametrize("how", ["put", "replace", "new_file"])
def test_options_of_replace_and_new_file_are_options_too(db: Any, how: str) -> None:
    album = Album()
    if how == "put":
        album.cover.put(DATA, checksum=False, chunk_size=512, author="ann")
    elif how == "replace":
        album.cover.put(b"old")
        album.cover.replace(DATA, checksum=False, chunk_size=512, author="ann")
    else:
        with album.cover.new_file(checksum=False, chunk_size=512, author="ann"):
            album.cover.write(DATA)
    doc = db["fs.files"].find_one({"_id": album.cover.grid_id})
    assert (doc["chunkSize"], doc["author"], doc["length"]) == (512, "ann", len(DATA))
    assert not {"checksum", "chunk_size", "gridfield"} & set(doc)


def test_a_bad_option_of_put_is_refused_before_anything_is_stored(db: Any) -> None:
    album = Album()
    with pytest.raises(TypeError, match=r"^checksum must be True or False, not 'no'$"):
        album.cover.put(DATA, checksum="no")
    with pytest.raises(TypeError, match=r"^chunk_size given twice \(as 'chunk_size_bytes' too\)$"):
        album.cover.put(DATA, chunk_size=512, chunk_size_bytes=512)
    with pytest.raises(FileTooLarge, match=r"Album\.cover: the file is over the limit of 10"):
        album.cover.put(DATA, max_size=10)
    assert count(db) == (0, 0)
    assert not album.cover


# -- a save that fails, and whose clean-up fails too ------------------------------------------


class BrittleProxy(GridFSProxy):
    """A proxy whose clean-up after a failed save fails, once it has done its part."""

    def owner_save_failed(self) -> None:
        super().owner_save_failed()
        raise RuntimeError("the clean-up failed as well")


class BrittleFileField(FileField):
    proxy_class = BrittleProxy


class UniqueCover(Document):
    code = StringField(unique=True)
    cover = BrittleFileField()
    meta = {"collection": "unique_covers"}


def test_a_failed_save_raises_its_own_error_with_the_failed_clean_up_noted(db: Any) -> None:
    UniqueCover(code="x").save()
    twin = UniqueCover(code="x", cover=DATA)
    with pytest.raises(NotUniqueError, match="duplicate") as failed:
        twin.save()
    notes = getattr(failed.value, "__notes__", [])
    assert any("the clean-up failed as well" in note for note in notes), notes
    assert count(db) == (0, 0)  # the file stored for the save was removed all the same
    assert db.unique_covers.count_documents({}) == 1
