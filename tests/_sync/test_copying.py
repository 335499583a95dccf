# Generated from tests/_async/test_copying.py by scripts/unasync.py: do not edit.
"""Copies between buckets and directories: what goes with the bytes, resuming, conflicts,
deleting the source, dry runs, and the refusals that copy nothing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from gridfield._sync import (
    Action,
    BucketSide,
    CopyOptions,
    CopyRefused,
    FileStore,
    copy_files,
)
from gridfield.core.copy_plan import MANIFEST_DIR
from gridfield.core.encryption import Encryption, LocalKeys
from tests.conftest import fresh_db_name
from tests.server_differences import NUL_IN_STRING_ERROR, nul_in_strings_supported


@pytest.fixture
def second_db(sync_client: Any) -> Iterator[Any]:
    """Another fresh database on the same server."""
    name = fresh_db_name()
    try:
        yield sync_client[name]
    finally:
        sync_client.drop_database(name)


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _files_in(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != MANIFEST_DIR
    }


FILES = {
    "top.bin": os.urandom(300_000),
    "empty.txt": b"",
    "photos/2024/a.jpg": b"\xff\xd8\xff" + os.urandom(70_000),
    "photos/notes.txt": b"hello",
}


def _newest(store: FileStore) -> dict[str, bytes]:
    return {name: store.read_by_name(name) for name in store.list()}


def test_directory_to_bucket_and_back(sync_db: Any, tmp_path: Path) -> None:
    source, back = tmp_path / "source", tmp_path / "back"
    _tree(source, FILES)
    store = FileStore(sync_db)
    report = copy_files(str(source), store)
    assert report.ok and report.count(Action.COPY) == len(FILES)
    assert all(outcome.verified for outcome in report.outcomes)
    assert _newest(store) == FILES
    info = store.get_info_by_name("photos/2024/a.jpg")
    assert info.content_type == "image/jpeg"
    assert info.sha256 == hashlib.sha256(FILES["photos/2024/a.jpg"]).hexdigest()

    report = copy_files(store, str(back))
    assert report.ok and report.count(Action.COPY) == len(FILES)
    assert _files_in(back) == FILES
    # the upload date became the modification time
    moment = datetime.fromtimestamp(os.path.getmtime(back / "top.bin"), timezone.utc)
    stored = (store.get_info_by_name("top.bin")).upload_date
    assert stored is not None
    assert abs(moment - stored.replace(tzinfo=timezone.utc)).total_seconds() < 0.01


def test_every_revision_and_metadata_round_trip_through_a_directory(
    sync_db: Any, second_db: Any, tmp_path: Path
) -> None:
    store = FileStore(sync_db)
    when = datetime(2020, 5, 17, 8, 30, tzinfo=timezone.utc)
    store.put(b"first", filename="docs/r.txt", metadata={"by": "ann", "n": 1})
    store.put(
        b"second",
        filename="docs/r.txt",
        content_type="text/x-rst",
        metadata={"by": "bob", "when": when, "ref": ObjectId("5f1d7a3e2b9c4a0012345678")},
    )
    store.put(b"only", filename="one.dat", aliases=["uno"], extra={"owner": "zoe"})
    folder = tmp_path / "out"
    report = copy_files(store, str(folder), CopyOptions(all_revisions=True))
    assert report.ok and report.count(Action.COPY) == 3
    assert (folder / "docs" / "r.txt").read_bytes() == b"second"
    assert (folder / MANIFEST_DIR / "revisions" / "0" / "docs" / "r.txt").read_bytes() == b"first"

    other = FileStore(second_db)
    report = copy_files(str(folder), other, CopyOptions(all_revisions=True))
    assert report.ok and report.count(Action.COPY) == 3
    revisions = [info for info in other.find_by_name("docs/r.txt")]
    assert [other.get(info.file_id) for info in revisions] == [b"first", b"second"]
    newest = revisions[-1]
    assert newest.content_type == "text/x-rst"
    assert newest.metadata["by"] == "bob"
    assert newest.metadata["when"].replace(tzinfo=timezone.utc) == when
    assert newest.metadata["ref"] == ObjectId("5f1d7a3e2b9c4a0012345678")
    one = other.get_info_by_name("one.dat")
    assert one.aliases == ["uno"] and one.extra == {"owner": "zoe"}


def test_bucket_to_second_database_resumes_skips_and_reports_conflicts(
    sync_db: Any, second_db: Any
) -> None:
    source, destination = FileStore(sync_db), FileStore(second_db)
    for name, data in FILES.items():
        source.put(data, filename=name)
    destination.put(b"other bytes", filename="photos/notes.txt")
    destination.put(FILES["top.bin"], filename="top.bin")

    report = copy_files(source, destination)
    assert report.count(Action.SKIP) == 1  # top.bin: the same bytes are there
    assert [o.destination for o in report.conflicts] == ["photos/notes.txt"]
    assert not report.ok and not report.failed
    assert destination.read_by_name("photos/notes.txt") == b"other bytes"

    again = copy_files(source, destination)  # nothing copied twice
    assert again.count(Action.COPY) == 0 and again.count(Action.SKIP) == 3
    # Older revisions at the destination: its newest is what the newest is compared with.
    destination.put(b"older", filename="top.bin")
    destination.put(FILES["top.bin"], filename="top.bin")
    assert (copy_files(source, destination)).count(Action.SKIP) == 3

    replaced = copy_files(source, destination, CopyOptions(overwrite=True))
    assert replaced.count(Action.OVERWRITE) == 1 and replaced.ok
    assert _newest(destination) == FILES
    assert len([i for i in destination.find_by_name("photos/notes.txt")]) == 1


def test_prefixes_dry_run_and_delete_source(sync_db: Any, second_db: Any) -> None:
    source, destination = FileStore(sync_db), FileStore(second_db)
    for name, data in FILES.items():
        source.put(data, filename=name)
    source.put(b"outside", filename="elsewhere.txt")
    photos = BucketSide(source, "photos/")
    archive = BucketSide(destination, "archive/")

    dry = copy_files(photos, archive, CopyOptions(dry_run=True, delete_source=True))
    assert sorted(o.destination for o in dry.outcomes) == [
        "archive/2024/a.jpg",
        "archive/notes.txt",
    ]
    assert destination.list() == [] and len(source.list()) == 5

    done = copy_files(photos, archive, CopyOptions(delete_source=True))
    assert done.ok and all(o.deleted_source for o in done.outcomes)
    assert destination.list() == ["archive/2024/a.jpg", "archive/notes.txt"]
    assert destination.read_by_name("archive/notes.txt") == b"hello"
    assert source.list() == ["elsewhere.txt", "empty.txt", "top.bin"]


def test_stray_chunks_of_a_killed_copy_are_replaced(sync_db: Any, second_db: Any) -> None:
    """A killed upload leaves chunks under the copy's id with no files document: the copy
    run again removes them and stores the file whole (the real SIGKILL is in tests/cli)."""
    source, destination = FileStore(sync_db), FileStore(second_db)
    data = os.urandom(600_000)
    source.put(data, filename="big.bin")
    first = copy_files(source, destination)
    copy_id = (destination.get_info_by_name("big.bin")).file_id
    # What a kill after the chunks and before the files document leaves behind:
    second_db["fs.files"].delete_one({"_id": copy_id})
    second_db["fs.chunks"].delete_many({"files_id": copy_id, "n": {"$gt": 0}})
    assert first.ok and not destination.exists(copy_id)

    report = copy_files(source, destination)
    assert report.ok and report.count(Action.COPY) == 1
    assert destination.get(copy_id) == data
    chunks = second_db["fs.chunks"].count_documents({"files_id": copy_id})
    assert chunks == 3


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../escape.txt", "'.' or '..'"),
        ("a/../../b", "'.' or '..'"),
        ("nul\x00byte", "NUL"),
        ("x" * 300, "over 255 bytes"),
        ("a//b", "empty folder name"),
        (".gridfield/files/x.json", "manifest"),
    ],
)
def test_names_a_path_cannot_hold_copy_nothing(
    sync_db: Any, tmp_path: Path, name: str, why: str, server_backend: str
) -> None:
    store = FileStore(sync_db)
    store.put(b"fine", filename="fine.txt")
    if "\x00" in name and not nul_in_strings_supported(server_backend):
        # FERRETDB_POSTGRESQL_NO_NUL_IN_STRINGS: such a name cannot be in a bucket there,
        # so no copy can meet it; the refusal of the put leaves nothing of it.
        with pytest.raises(OperationFailure, match=NUL_IN_STRING_ERROR):
            store.put(b"bad", filename=name)
        assert len(store.list()) == 1
        return
    store.put(b"bad", filename=name)
    with pytest.raises(CopyRefused, match=why):
        copy_files(store, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    assert len(store.list()) == 2


def test_two_names_for_one_path_copy_nothing(sync_db: Any, tmp_path: Path) -> None:
    store = FileStore(sync_db)
    store.put(b"one", filename="a/b.txt")
    store.put(b"two", filename="/a/b.txt")
    with pytest.raises(CopyRefused, match=re.escape("would both be copied to 'a/b.txt'")):
        copy_files(store, str(tmp_path / "out"))
    store.delete_by_name("/a/b.txt")
    store.put(b"three", filename="a")
    with pytest.raises(CopyRefused, match="'a' would be both a file and a folder"):
        copy_files(store, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_an_unreachable_destination_is_refused(sync_db: Any) -> None:
    store = FileStore(sync_db)
    store.put(b"x", filename="x")
    client: MongoClient[dict[str, Any]] = MongoClient(
        "mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=300
    )
    try:
        with pytest.raises(CopyRefused, match="cannot be reached"):
            copy_files(store, FileStore(client["nowhere"]))
    finally:
        client.close()
    assert store.list() == ["x"]


@contextlib.contextmanager
def _small_disk(folder: Path) -> Any:
    """A folder that fills up at 256 KiB (a tmpfs, as root), else one that refuses writes."""
    folder.mkdir()
    if os.geteuid() == 0:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], check=True
        )
        try:
            yield "No space left on device"
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield "Permission denied"
        finally:
            folder.chmod(0o700)


def test_a_full_disk_loses_nothing(sync_db: Any, tmp_path: Path) -> None:
    store = FileStore(sync_db)
    store.put(os.urandom(100_000), filename="fits.bin")
    store.put(os.urandom(2_000_000), filename="too/big.bin")
    with _small_disk(tmp_path / "small") as why:
        if why == "Permission denied":  # refused before any file: nothing to lose
            with pytest.raises(CopyRefused, match=why):
                copy_files(store, str(tmp_path / "small"), CopyOptions(delete_source=True))
        else:
            # One file at a time: copied together, the big one's partial write could fill
            # the disk while the small one is being written, and which fails is timing.
            report = copy_files(
                store, str(tmp_path / "small"), CopyOptions(delete_source=True, workers=1)
            )
            assert not report.ok
            failed = [o for o in report.outcomes if o.error]
            assert [o.destination for o in failed] == ["too/big.bin"]
            assert why in (failed[0].error or "") and not failed[0].deleted_source
            # nothing half written is visible; what failed is still at the source
            assert not (tmp_path / "small" / "too" / "big.bin").exists()
            assert list((tmp_path / "small" / MANIFEST_DIR / "partial").iterdir()) == []
    assert "too/big.bin" in store.list()


def test_a_damaged_source_file_is_reported_and_not_copied(sync_db: Any, second_db: Any) -> None:
    source, destination = FileStore(sync_db), FileStore(second_db)
    damaged = source.put(os.urandom(600_000), filename="damaged.bin")
    source.put(b"fine", filename="fine.txt")
    sync_db["fs.chunks"].update_one(
        {"files_id": damaged.file_id, "n": 1}, {"$set": {"data": b"short"}}
    )
    report = copy_files(source, destination, CopyOptions(delete_source=True))
    assert [o.destination for o in report.failed] == ["damaged.bin"]
    assert "damaged.bin" not in destination.list()
    assert destination.list() == ["fine.txt"]
    assert source.list() == ["damaged.bin"]  # kept: its copy was never verified


def test_copies_keep_the_source_upload_date_and_still_skip_identical_files(
    sync_db: Any, second_db: Any, tmp_path: Path
) -> None:
    """Between buckets the source's uploadDate is kept; into a folder it becomes the file's
    modification time and comes back from there; a folder's own files bring their mtime."""
    source, destination = FileStore(sync_db), FileStore(second_db)
    when = datetime(2019, 3, 14, 15, 9, 26, 535_000, tzinfo=timezone.utc)
    source.put(b"from 2019", filename="old.txt", upload_date=when)
    source.put(b"from today", filename="new.txt")
    dates = {name: (source.get_info_by_name(name)).upload_date for name in ["old.txt", "new.txt"]}

    report = copy_files(source, destination)
    assert report.ok and report.count(Action.COPY) == 2
    for name, date in dates.items():
        assert (destination.get_info_by_name(name)).upload_date == date
    again = copy_files(source, destination)
    assert again.ok and again.count(Action.SKIP) == 2 and again.count(Action.COPY) == 0

    # Out into a folder and back into another bucket: the date goes by the manifest.
    folder = tmp_path / "out"
    assert (copy_files(source, str(folder))).ok
    assert os.path.getmtime(folder / "old.txt") == when.timestamp()
    back = BucketSide(destination, "back/")
    assert (copy_files(str(folder), back)).ok
    stored = (destination.get_info_by_name("back/old.txt")).upload_date
    assert stored is not None and stored.replace(tzinfo=timezone.utc) == when

    # A folder's own file (no manifest): its modification time, at BSON's milliseconds.
    plain = tmp_path / "plain"
    _tree(plain, {"media/photo.jpg": b"\xff\xd8\xff photo"})
    mtime = datetime(2018, 7, 1, 12, 0, 0, 123_456, tzinfo=timezone.utc).timestamp()
    os.utime(plain / "media" / "photo.jpg", (mtime, mtime))
    media = BucketSide(destination, "media/")
    assert (copy_files(str(plain / "media"), media)).ok
    info = destination.get_info_by_name("media/photo.jpg")
    assert info.upload_date is not None
    assert info.upload_date.replace(tzinfo=timezone.utc) == datetime(
        2018, 7, 1, 12, 0, 0, 123_000, tzinfo=timezone.utc
    )
    skipped = copy_files(str(plain / "media"), media)
    assert skipped.ok and skipped.count(Action.SKIP) == 1


COPY_KEYS = Encryption(LocalKeys({"copy-key": os.urandom(32)}))


def _no_clear_window(stored: bytes, data: bytes) -> None:
    for start in range(0, max(len(data) - 16, 0), 4099):
        assert data[start : start + 16] not in stored


def test_encrypted_files_copy_out_in_clear_and_into_an_encrypting_store(
    sync_db: Any, second_db: Any, tmp_path: Path
) -> None:
    sealed = FileStore(sync_db, encryption=COPY_KEYS)
    for name, data in FILES.items():
        assert (sealed.put(data, filename=name)).encrypted

    # Out of the bucket, into a folder and into a plain bucket: the clear bytes, verified.
    folder = tmp_path / "out"
    report = copy_files(sealed, str(folder))
    assert report.ok and all(o.verified for o in report.outcomes)
    assert _files_in(folder) == FILES
    clear = FileStore(second_db)
    assert (copy_files(sealed, clear)).ok
    info = clear.get_info_by_name("top.bin")
    assert not info.encrypted
    assert info.sha256 == hashlib.sha256(FILES["top.bin"]).hexdigest()
    again = copy_files(sealed, clear)  # the source's digests computed as it is read
    assert again.ok and again.count(Action.SKIP) == len(FILES)

    # Into an encrypting store: encrypted chunks, no SHA-256 stored, read back in clear.
    vault = FileStore(second_db, "vault", encryption=COPY_KEYS)
    report = copy_files(str(folder), vault)
    assert report.ok and all(o.verified for o in report.outcomes)
    assert _newest(vault) == FILES
    top = vault.get_info_by_name("top.bin")
    assert top.encrypted and top.sha256 is None
    chunks = second_db["vault.chunks"].find({"files_id": top.file_id})
    _no_clear_window(b"".join([bytes(doc["data"]) for doc in chunks]), FILES["top.bin"])
    # Run again: each encrypted copy is read back (decrypted, every chunk checked) and
    # found the same; one whose bytes differ is left and reported.
    vault.put(b"other words", filename="photos/notes.txt")
    again = copy_files(str(folder), vault)
    assert again.count(Action.SKIP) == len(FILES) - 1 and again.count(Action.COPY) == 0
    assert [o.destination for o in again.conflicts] == ["photos/notes.txt"]


def test_a_killed_copy_into_an_encrypting_store_is_finished(sync_db: Any, second_db: Any) -> None:
    source = FileStore(sync_db)
    vault = FileStore(second_db, encryption=COPY_KEYS)
    data = os.urandom(600_000)
    source.put(data, filename="big.bin")
    assert (copy_files(source, vault)).ok
    copy_id = (vault.get_info_by_name("big.bin")).file_id
    # What a kill after the chunks and before the files document leaves behind:
    second_db["fs.files"].delete_one({"_id": copy_id})
    second_db["fs.chunks"].delete_many({"files_id": copy_id, "n": {"$gt": 0}})

    report = copy_files(source, vault)
    assert report.ok and report.count(Action.COPY) == 1
    assert (vault.get_info(copy_id)).encrypted
    assert vault.get(copy_id) == data
    assert second_db["fs.chunks"].count_documents({"files_id": copy_id}) == 3


def test_encrypted_files_without_their_key_are_reported_and_kept(
    sync_db: Any, second_db: Any, tmp_path: Path
) -> None:
    sealed = FileStore(sync_db, encryption=COPY_KEYS)
    sealed.put(b"secret", filename="secret.txt")
    keyless = FileStore(sync_db)
    report = copy_files(keyless, str(tmp_path / "out"), CopyOptions(delete_source=True))
    assert not report.ok
    assert [o.destination for o in report.failed] == ["secret.txt"]
    assert "copy-key" in (report.failed[0].error or "")
    assert not report.failed[0].deleted_source
    assert _files_in(tmp_path / "out") == {}
    assert sealed.read_by_name("secret.txt") == b"secret"


def test_revisions_stored_in_one_millisecond_keep_their_order(sync_db: Any, second_db: Any) -> None:
    """Revisions of one name with the same uploadDate are ordered by _id; a copy's id is not
    its source's, so the copies of such revisions go 1 ms apart, in the source's order."""
    source, destination = FileStore(sync_db), FileStore(second_db)
    when = datetime(2021, 6, 1, 9, 0, tzinfo=timezone.utc)
    for n in range(6):
        source.put(f"revision {n}".encode(), filename="tie.txt", upload_date=when)
    source.put(b"later", filename="tie.txt", upload_date=when + timedelta(milliseconds=2))
    expected = [f"revision {n}".encode() for n in range(6)] + [b"later"]
    revisions = [info for info in source.find_by_name("tie.txt")]
    assert [source.get(info.file_id) for info in revisions] == expected

    everything = CopyOptions(all_revisions=True)
    assert (copy_files(source, destination, everything)).ok
    copies = [info for info in destination.find_by_name("tie.txt")]
    assert [destination.get(info.file_id) for info in copies] == expected
    dates = [info.upload_date.replace(tzinfo=timezone.utc) for info in copies if info.upload_date]
    assert dates == [when + timedelta(milliseconds=n) for n in range(7)]
    again = copy_files(source, destination, everything)
    assert again.ok and again.count(Action.SKIP) == 7
