"""GridFSStorage beyond Django's own tests: names refused before any I/O as FileSystemStorage
refuses them, what is stored (standard GridFS, readable by PyMongo), revisions, races,
guards, modes, times, listing and its cost, the STORAGES setting."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gridfs
import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InvalidStorageError, StorageHandler
from django.test import override_settings
from pymongo import MongoClient

import gridfield.sync
from gridfield.core.errors import ContentTypeRefused, FileTooLarge
from gridfield.django import GridFSStorage

from .conftest import Bucket

# Names FileSystemStorage refuses (or would take outside its folder), and a few it takes.
NAMES = [
    "..",
    "../x.txt",
    "a/../../x.txt",
    "a/b/../../../x.txt",
    "/etc/passwd",
    "/",
    "//server/share",
    "./..",
    "a\0b.txt",
    ".",
    "",
    "a/./b.txt",
    "a//b.txt",
    "ok.txt",
]

CALLS = {
    "save": lambda s, name: s.save(name, ContentFile(b"x")),
    "open": lambda s, name: s.open(name),
    "open-w": lambda s, name: s.open(name, "wb"),
    "exists": lambda s, name: s.exists(name),
    "delete": lambda s, name: s.delete(name),
    "size": lambda s, name: s.size(name),
    "listdir": lambda s, name: s.listdir(name),
    "created": lambda s, name: s.get_created_time(name),
    "modified": lambda s, name: s.get_modified_time(name),
    "available": lambda s, name: s.get_available_name(name),
    "generate": lambda s, name: s.generate_filename(name),
}

REFUSALS = (SuspiciousFileOperation, ValueError, TypeError)


def _outcome(call: Any, storage: Any, name: str) -> BaseException | None:
    try:
        result = call(storage, name)
        if hasattr(result, "close"):
            result.close()
    except BaseException as exc:  # the outcome is the point
        return exc
    return None


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_name_file_system_storage_refuses_is_refused_before_any_io(
    bucket: Bucket, tmp_path: Path, call: str
) -> None:
    theirs = FileSystemStorage(location=tmp_path / "media")
    refused = 0
    for name in NAMES:
        expected = _outcome(CALLS[call], theirs, name)
        if not isinstance(expected, REFUSALS):
            continue
        refused += 1
        bucket.commands.clear()
        got = _outcome(CALLS[call], bucket.storage, name)
        assert isinstance(got, type(expected)), (call, name, expected, got)
        assert bucket.commands.sent == [], (call, name, bucket.commands.sent)
        if isinstance(expected, SuspiciousFileOperation) and "outside" not in str(expected):
            # Django's own name checks (validate_file_name...) ran: the same words
            assert str(got) == str(expected), (call, name)
    assert refused >= 3, call


def test_refusals_say_what_is_wrong(bucket: Bucket) -> None:
    storage = bucket.storage
    with pytest.raises(SuspiciousFileOperation) as outside:
        storage.open("../secret.txt")
    assert str(outside.value) == (
        "the name '../secret.txt' leads outside the storage (FileSystemStorage refuses it too)"
    )
    with pytest.raises(SuspiciousFileOperation, match=r"Detected path traversal attempt in"):
        storage.save("a/../../b.txt", ContentFile(b"x"))
    with pytest.raises(ValueError, match=r"mode 'ab' is not supported"):
        storage.open("x.txt", "ab")
    with pytest.raises(ValueError, match=r"embedded null byte"):
        storage.exists("a\0b")
    with pytest.raises(ValueError, match=r"The name must be given to delete\(\)"):
        storage.delete("")
    assert bucket.commands.sent == []
    assert bucket.db["fs.files"].count_documents({}) == 0


def test_saved_files_are_standard_gridfs_by_name(bucket: Bucket) -> None:
    storage = bucket.storage
    name = storage.save("photos/marmot.txt", ContentFile(b"whistles" * 10_000))
    assert name == "photos/marmot.txt"
    theirs = gridfs.GridFSBucket(bucket.db)
    assert theirs.open_download_stream_by_name(name).read() == b"whistles" * 10_000
    doc = bucket.db["fs.files"].find_one({"filename": name})
    assert doc["length"] == 80_000
    assert doc["metadata"]["contentType"] == "text/plain"  # guessed from the name
    assert storage.size(name) == 80_000
    assert storage.exists("photos") and storage.exists("photos/marmot.txt")
    assert not storage.exists("photo")


def test_a_taken_name_gets_another_and_overwrite_replaces_safely(bucket: Bucket) -> None:
    storage = bucket.storage
    first = storage.save("a.txt", ContentFile(b"one"))
    second = storage.save("a.txt", ContentFile(b"two"))
    assert first == "a.txt" and second.startswith("a_") and second.endswith(".txt")
    over = GridFSStorage(bucket.alias, allow_overwrite=True)
    assert over.save("a.txt", ContentFile(b"three")) == "a.txt"
    assert over.open("a.txt").read() == b"three"
    assert bucket.db["fs.files"].count_documents({"filename": "a.txt"}) == 1
    assert bucket.db["fs.chunks"].count_documents({}) == 2  # a.txt and the other one


def test_a_refused_overwrite_keeps_the_old_file(bucket: Bucket) -> None:
    over = GridFSStorage(bucket.alias, allow_overwrite=True, max_size=4)
    over.save("a.txt", ContentFile(b"keep"))
    with pytest.raises(FileTooLarge, match=r"over the limit of 4 bytes"):
        over.save("a.txt", ContentFile(b"too long"))
    assert over.open("a.txt").read() == b"keep"
    assert bucket.db["fs.files"].count_documents({}) == 1
    assert bucket.db["fs.chunks"].count_documents({}) == 1


def test_content_types_guard(bucket: Bucket) -> None:
    images = GridFSStorage(bucket.alias, content_types=["image/*"])
    with pytest.raises(ContentTypeRefused):
        images.save("notes.txt", ContentFile(b"plain words"))
    assert bucket.db["fs.files"].count_documents({}) == 0
    assert bucket.db["fs.chunks"].count_documents({}) == 0


def test_two_saves_racing_for_a_name_end_with_two_names(bucket: Bucket) -> None:
    storage = bucket.storage
    start = threading.Barrier(2)
    names: list[str] = []

    class Slow(ContentFile):
        def chunks(self, chunk_size: int | None = None) -> Any:
            start.wait(5)  # both have found the name free before either stores
            return super().chunks(chunk_size)

    def save(data: bytes) -> None:
        names.append(storage.save("conflict", Slow(data)))

    threads = [threading.Thread(target=save, args=(d,)) for d in (b"1", b"2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(names)[0] == "conflict" and sorted(names)[1].startswith("conflict_")
    assert {storage.open(n).read() for n in names} == {b"1", b"2"}
    assert bucket.db["fs.files"].count_documents({"filename": "conflict"}) == 1


def test_open_reads_seeks_closes_and_reopens(bucket: Bucket) -> None:
    storage = bucket.storage
    storage.save("n.txt", ContentFile(b"0123456789" * 30_000))
    with storage.open("n.txt") as f:
        f.seek(299_990)
        assert f.read() == b"0123456789"
        assert f.size == 300_000
    assert f.closed
    f.open()
    assert f.read(4) == b"0123"
    f.close()
    with storage.open("n.txt", "r") as text:
        assert text.read(12) == "012345678901"


def test_write_mode_stores_on_close_and_an_error_stores_nothing(bucket: Bucket) -> None:
    storage = bucket.storage
    storage.save("w.txt", ContentFile(b"old"))
    with storage.open("w.txt", "wb") as f:
        f.write(b"new ")
        assert storage.open("w.txt").read() == b"old"  # not stored before close
        f.write(b"bytes")
    assert storage.open("w.txt").read() == b"new bytes"
    assert bucket.db["fs.files"].count_documents({"filename": "w.txt"}) == 1
    with pytest.raises(RuntimeError), storage.open("w.txt", "w") as f:
        f.write("half")
        raise RuntimeError("the writer failed")
    assert storage.open("w.txt").read() == b"new bytes"
    assert bucket.db["fs.chunks"].count_documents({}) == 1


def test_missing_names_raise_file_not_found(bucket: Bucket) -> None:
    storage = bucket.storage
    storage.save("dir/f.txt", ContentFile(b"x"))
    for call in (storage.open, storage.size, storage.get_created_time, storage.get_modified_time):
        with pytest.raises(FileNotFoundError, match=r"no file named 'nope.txt' in fs\.files"):
            call("nope.txt")
    with pytest.raises(IsADirectoryError, match=r"'dir' is a folder"):
        storage.open("dir")
    with pytest.raises(FileNotFoundError, match=r"no folder 'nope'"):
        storage.listdir("nope")
    with pytest.raises(NotADirectoryError):
        storage.listdir("dir/f.txt")
    storage.delete("nope.txt")  # a missing name is no error
    with pytest.raises(NotImplementedError, match="GridFS keeps no access time"):
        storage.get_accessed_time("dir/f.txt")


def test_times_are_the_first_and_newest_revisions(bucket: Bucket) -> None:
    store = gridfield.sync.FileStore(bucket.db)
    store.put(b"1", filename="r.txt")  # revisions, as mongofiles or the CLI leave them
    first = store.get_info_by_name("r.txt", 0).upload_date
    store.put(b"2", filename="r.txt")
    newest = store.get_info_by_name("r.txt", -1).upload_date
    assert first is not None and newest is not None and newest >= first
    storage = bucket.storage
    with override_settings(USE_TZ=True):
        assert storage.get_created_time("r.txt") == first.replace(tzinfo=timezone.utc)
        assert storage.get_modified_time("r.txt") == newest.replace(tzinfo=timezone.utc)
    with override_settings(USE_TZ=False):
        naive = storage.get_created_time("r.txt")
        assert naive.tzinfo is None
        assert naive == datetime.fromtimestamp(first.replace(tzinfo=timezone.utc).timestamp())
    assert storage.open("r.txt").read() == b"2"
    storage.delete("r.txt")  # every revision
    assert bucket.db["fs.files"].count_documents({}) == 0
    assert bucket.db["fs.chunks"].count_documents({}) == 0


def test_listdir_is_one_query_on_an_anchored_escaped_prefix(bucket: Bucket) -> None:
    storage = bucket.storage
    for name in ["a+b/x.txt", "a+b/y.txt", "a+b/sub/z.txt", "a+bc/w.txt", "aab/v.txt", "top.txt"]:
        storage.save(name, ContentFile(b"x"))
    bucket.commands.clear()
    assert storage.listdir("a+b") == (["sub"], ["x.txt", "y.txt"])
    assert [name for name, _ in bucket.commands.sent] == ["distinct"]
    query = bucket.commands.named("distinct")[0]["query"]
    # the anchored, escaped prefix, beside the clause that leaves expired files out
    assert query["$and"][0] == {"filename": {"$regex": "^a\\+b\\/"}}
    assert "gridfield.expireAt" in str(query["$and"][1])
    assert storage.listdir("") == (["a+b", "a+bc", "aab"], ["top.txt"])
    assert storage.listdir(Path("a+b/sub")) == ([], ["z.txt"])


def test_url_points_under_base_url_encoded_as_file_system_storage(bucket: Bucket) -> None:
    storage = GridFSStorage(bucket.alias, base_url="/media")
    theirs = FileSystemStorage(base_url="/media")
    for name in ["a b.txt", "100%41 ü.txt", "dir/#1?.png", "/evil.com", None]:
        assert storage.url(name) == theirs.url(name)
    assert storage.url("dir/a b.txt") == "/media/dir/a%20b.txt"
    with (
        override_settings(MEDIA_URL=None),
        pytest.raises(ValueError, match="not accessible via a URL"),
    ):
        GridFSStorage(bucket.alias).url("a.txt")


def test_configured_through_storages_with_a_uri(mongo_uri: str) -> None:
    name = "gridfield_test_storages_setting"
    handler = StorageHandler(
        {
            "default": {
                "BACKEND": "gridfield.django.GridFSStorage",
                "OPTIONS": {
                    "uri": mongo_uri,
                    "db": name,
                    "bucket": "media",
                    "base_url": "/files/",
                    "max_size": 2**20,
                },
            }
        }
    )
    storage = handler["default"]
    assert isinstance(storage, GridFSStorage)
    try:
        saved = storage.save("s.txt", ContentFile(b"set"))
        assert storage.store.db.name == name and storage.store.collection_name == "media"
        assert storage.url(saved) == "/files/s.txt"
        assert storage.deconstruct()[0] == "gridfield.django.GridFSStorage"
    finally:
        storage.store.db.client.drop_database(name)
    with pytest.raises(InvalidStorageError):
        StorageHandler({"x": {"BACKEND": "gridfield.django.Nope"}})["x"]


def test_constructible_with_no_arguments_on_the_default_connection(mongo_uri: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    gridfield.sync.connect("gridfield_test_default_alias", client=client)
    try:
        storage = GridFSStorage()  # no I/O: the client connects on its first command
        assert storage.deconstruct() == ("gridfield.django.GridFSStorage", (), {})
        assert storage.generate_filename("a b/c d.txt") == "a b/c_d.txt"
        with override_settings(MEDIA_URL="/m/"):
            assert storage.url("x") == "/m/x"
    finally:
        gridfield.sync.disconnect()
        client.close()


def test_a_storage_naming_no_connection_fails_when_made() -> None:
    with pytest.raises(ImproperlyConfigured, match="no database is connected under alias 'nope'"):
        GridFSStorage("nope")
    with pytest.raises(ImproperlyConfigured, match="alias 'default'"):
        GridFSStorage()
    with pytest.raises(ImproperlyConfigured, match="the uri names no database"):
        GridFSStorage(uri="mongodb://127.0.0.1:1/")


def test_a_served_url_gives_the_file_back(bucket: Bucket) -> None:
    from django.test import RequestFactory

    storage = bucket.storage
    name = storage.save("dir/a b.txt", ContentFile(b"served bytes"))
    url = storage.url(name)
    view = storage.view()
    from urllib.parse import unquote

    request = RequestFactory().get(url)
    response = view(request, unquote(url.removeprefix("/media/")))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"served bytes"


def test_a_file_the_upload_handler_stored_is_adopted_not_copied(bucket: Bucket) -> None:
    from gridfield.web.django_uploads import GridFSUploadedFile

    store = bucket.storage.store
    info = store.put(b"uploaded once", filename="upload-in-flight")
    upload = GridFSUploadedFile(
        store,
        info,
        field_name="document",
        content_type="text/plain",
        charset=None,
        content_type_extra=None,
    )
    bucket.commands.clear()
    name = bucket.storage.save("docs/notes.txt", upload)
    assert name == "docs/notes.txt" and upload.kept
    # no chunk copied, no files document written (the name's turn is a document in fs.holds)
    assert {c["insert"] for c in bucket.commands.named("insert")} <= {"fs.holds"}
    assert [doc["_id"] for doc in bucket.db["fs.files"].find()] == [info.file_id]
    assert bucket.storage.open(name).read() == b"uploaded once"


def test_an_encrypting_storage_saves_and_opens_encrypted_files(bucket: Bucket) -> None:
    keys = gridfield.sync.Encryption(gridfield.sync.LocalKeys({"media": os.urandom(32)}))
    storage = GridFSStorage(bucket.alias, encryption=keys)
    data = os.urandom(300_000)
    name = storage.save("scan.bin", ContentFile(data))
    with storage.open(name) as f:
        f.seek(123_456)
        assert f.read(1000) == data[123_456:124_456]
    assert storage.size(name) == len(data)
    doc = bucket.db["fs.files"].find_one({"filename": name})
    assert doc["gridfield"]["encryption"]["keyId"] == "media"
    stored = b"".join(c["data"] for c in bucket.db["fs.chunks"].find({"files_id": doc["_id"]}))
    assert data[:16] not in stored and data[200_000:200_016] not in stored
    with pytest.raises(gridfield.sync.KeyUnavailable, match="'media'"):
        bucket.storage.open(name).read()
    with pytest.raises(ImproperlyConfigured, match="encryption must be an Encryption"):
        GridFSStorage(bucket.alias, encryption="secret")  # type: ignore[arg-type]


def _handler_file(store: Any, data: bytes, content_type: str = "text/plain") -> Any:
    """A file as gridfield's upload handler leaves it in ``store``, before a save."""
    from gridfield.web.django_uploads import GridFSUploadedFile

    info = store.put(data, filename="upload-in-flight", content_type=content_type)
    return GridFSUploadedFile(
        store,
        info,
        field_name="document",
        content_type=content_type,
        charset=None,
        content_type_extra=None,
    )


def test_a_storage_with_its_own_limits_moves_the_upload_when_it_passes(bucket: Bucket) -> None:
    limited = GridFSStorage(bucket.alias, max_size=100, content_types=["text/*"])
    upload = _handler_file(bucket.storage.store, b"small enough")
    bucket.commands.clear()
    name = limited.save("notes.txt", upload)
    assert {c["insert"] for c in bucket.commands.named("insert")} <= {"fs.holds"}
    assert [doc["_id"] for doc in bucket.db["fs.files"].find()] == [upload.file_id]
    assert limited.open(name).read() == b"small enough" and upload.kept


@pytest.mark.parametrize(
    ("data", "kind", "error"),
    [(b"x" * 101, "text/plain", FileTooLarge), (b"<html>", "text/html", ContentTypeRefused)],
)
def test_a_storage_with_its_own_limits_refuses_before_anything_changes(
    bucket: Bucket, data: bytes, kind: str, error: type[Exception]
) -> None:
    limited = GridFSStorage(bucket.alias, max_size=100, content_types=["text/plain"])
    upload = _handler_file(bucket.storage.store, data, kind)
    with pytest.raises(error):
        limited.save("notes.txt", upload)
    # Only the handler's file, under its own name: the request's clean-up removes it.
    assert [doc["filename"] for doc in bucket.db["fs.files"].find()] == ["upload-in-flight"]
    assert not upload.kept


def test_an_upload_in_another_bucket_is_copied_and_the_original_removed(bucket: Bucket) -> None:
    elsewhere = GridFSStorage(bucket.alias, bucket="media")
    upload = _handler_file(bucket.storage.store, b"one file per upload")
    name = elsewhere.save("notes.txt", upload)
    assert elsewhere.open(name).read() == b"one file per upload"
    assert bucket.db["fs.files"].count_documents({}) == 0  # the original is gone
    assert bucket.db["fs.chunks"].count_documents({}) == 0
    assert bucket.db["media.files"].count_documents({}) == 1
