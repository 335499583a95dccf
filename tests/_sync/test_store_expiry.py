# Generated from tests/_async/test_store_expiry.py by scripts/unasync.py: do not edit.
"""Expiry: the moment is stored under our key, reads refuse an expired file at once, one
sweep leaves nothing of it, the TTL index where the server has one, and bad requests write
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pymongo import MongoClient

from gridfield._sync.bucket_check import sweep_bucket
from gridfield._sync.serving import serve
from gridfield._sync.store import FileStore
from gridfield.core.errors import FileExpired, NoFile
from gridfield.core.http.options import ServeOptions
from tests.commands import Commands
from tests.server_differences import ttl_indexes_supported

DATA = b"temporary export " * 3000  # several 16 KiB chunks
CHUNK = 16 * 1024


def backdate(db: Any, file_id: Any, seconds: float = 1) -> None:
    """Move a file's expiry into the past, as the clock would."""
    past = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    db["fs.files"].update_one({"_id": file_id}, {"$set": {"gridfield.expireAt": past}})


def count(db: Any) -> tuple[int, int]:
    return (
        db["fs.files"].count_documents({}),
        db["fs.chunks"].count_documents({}),
    )


def test_expiry_is_stored_under_our_key_as_a_date(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(DATA, filename="export.csv", expire_after=timedelta(hours=1))
    raw = sync_db["fs.files"].find_one({"_id": info.file_id})
    stored = raw["gridfield"]["expireAt"]
    assert isinstance(stored, datetime)
    assert stored - raw["uploadDate"] == timedelta(hours=1)
    assert set(raw["gridfield"]) == {"sha256", "expireAt"}
    assert store.get(info.file_id) == DATA  # not expired yet
    at = datetime.now(timezone.utc) + timedelta(days=2)
    later = store.put(b"x", expire_at=at)
    assert later.expire_at == at.replace(microsecond=at.microsecond // 1000 * 1000)


def test_an_expired_file_is_unreadable_at_once_and_gone_after_one_sweep(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    kept = store.put(b"kept", filename="report.csv")
    info = store.put(DATA, filename="report.csv", expire_after=timedelta(minutes=5))
    backdate(sync_db, info.file_id)
    for read in (store.get_info, store.open_download, store.get):
        with pytest.raises(NoFile, match=r"file ObjectId\('.*'\) in fs.files expired at 20"):
            read(info.file_id)
    assert not store.exists(info.file_id)
    # By name, the expired revision no longer counts: the one before is the newest.
    assert (store.get_info_by_name("report.csv")).file_id == kept.file_id
    assert [i.file_id for i in store.find()] == [kept.file_id]
    listed = [i.file_id for i in store.find(expired=True)]
    assert sorted(map(str, listed)) == sorted([str(kept.file_id), str(info.file_id)])
    served = serve(store, info.file_id, "GET", {}, ServeOptions())
    assert served.plan.status == 404
    assert count(sync_db) == (2, 1 + len(DATA) // CHUNK + 1)

    report = store.sweep(delete=True)  # the default grace: expiry needs none
    assert [e.file_id for e in report.expired_files] == [info.file_id]
    assert report.removed_files == 1
    assert count(sync_db) == (1, 1)
    assert store.get(kept.file_id) == b"kept"  # no key: never touched


def test_by_name_says_when_the_only_revision_expired(sync_db: Any) -> None:
    store = FileStore(sync_db)
    info = store.put(b"x", filename="tmp.bin", expire_after=timedelta(minutes=1))
    backdate(sync_db, info.file_id)
    with pytest.raises(NoFile, match=r"the file named 'tmp.bin' in fs.files expired at 20"):
        store.read_by_name("tmp.bin")
    assert store.list() == []


def test_an_expired_file_is_told_apart_from_a_missing_one(sync_db: Any) -> None:
    store = FileStore(sync_db)
    info = store.put(b"brief", filename="brief.txt", expire_after=timedelta(hours=1))
    backdate(sync_db, info.file_id)
    for reading in (
        lambda: store.get_info(info.file_id),
        lambda: store.get_info_by_name("brief.txt"),
    ):
        with pytest.raises(FileExpired) as caught:
            reading()
        assert caught.value.expire_at is not None
        assert isinstance(caught.value, NoFile)  # what catches NoFile catches it
    with pytest.raises(NoFile) as missing:
        store.get_info("no such id")
    assert not isinstance(missing.value, FileExpired)


def test_chunks_left_by_the_ttl_monitor_go_at_the_first_sweep_past_the_grace(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    info = store.put(DATA, expire_after=timedelta(minutes=1))
    # What the TTL monitor does: the files document goes, the chunks stay.
    sync_db["fs.files"].delete_one({"_id": info.file_id})
    early = sweep_bucket(store, delete=True)
    assert early.in_flight == 1 and early.removed_chunks == 0  # younger than the grace
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    report = sweep_bucket(store, delete=True, grace=timedelta(hours=1), now=later)
    assert report.removed_chunks == len(DATA) // CHUNK + 1
    assert count(sync_db) == (0, 0)


def test_ttl_index_where_the_server_has_them(sync_db: Any, server_kind: str) -> None:
    store = FileStore(sync_db)
    store.ensure_indexes()
    indexes = sync_db["fs.files"].index_information()
    ttl = [spec for spec in indexes.values() if spec["key"] == [("gridfield.expireAt", 1)]]
    # Deduplication finds its claims by _id (<bucket>.digests): no index on the files.
    dedup = [("gridfield.sha256", 1), ("length", 1), ("gridfield.scope", 1)]
    assert not any(spec["key"] == dedup for spec in indexes.values())
    if ttl_indexes_supported(server_kind):
        assert store.ttl_index is True
        assert ttl[0]["expireAfterSeconds"] == 0
    else:
        # FerretDB: see FERRETDB_NO_TTL_INDEX. Remembered: the store asks no more.
        assert store.ttl_index is False and ttl == []
        store.ensure_indexes()
        assert store.ttl_index is False


@pytest.fixture
def heard(mongo_uri: str, sync_db: Any) -> Iterator[tuple[Commands, Any]]:
    commands = Commands()
    client: Any = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        yield commands, client[sync_db.name]
    finally:
        client.close()


@pytest.mark.parametrize(
    ("keywords", "error", "text"),
    [
        (
            {"expire_at": datetime.now(timezone.utc) - timedelta(seconds=1)},
            ValueError,
            "is not in the future",
        ),
        (
            {"expire_at": datetime(2999, 1, 1, tzinfo=timezone.utc), "expire_after": timedelta(1)},
            ValueError,
            "give expire_at or expire_after, not both",
        ),
        ({"expire_at": datetime(2999, 1, 1)}, ValueError, "has no time zone"),
        ({"expire_after": 3600}, TypeError, r"expire_after must be a datetime\.timedelta, not int"),
        ({"expire_after": timedelta(seconds=-1)}, ValueError, "must be more than zero"),
    ],
)
def test_bad_expiry_is_refused_before_any_write(
    heard: tuple[Commands, Any], keywords: dict[str, Any], error: type[Exception], text: str
) -> None:
    commands, db = heard
    store = FileStore(db)
    with pytest.raises(error, match=text):
        store.put(DATA, **keywords)
    with pytest.raises(error, match=text):
        store.open_upload(**keywords)
    assert commands.named("insert", "createIndexes", "delete") == []
    assert count(db) == (0, 0)


def test_a_store_default_expiry_and_a_calls_own(sync_db: Any) -> None:
    store = FileStore(sync_db, expire_after=timedelta(minutes=10))
    default = store.put(b"a")
    own = store.put(b"b", expire_after=timedelta(days=1))
    assert default.expire_at is not None and own.expire_at is not None
    assert own.expire_at - default.expire_at > timedelta(hours=23)
    upload = store.open_upload(filename="stream.bin")
    upload.write(b"streamed")
    assert (upload.close()).expire_at is not None
    with pytest.raises(TypeError, match=r"expire_after must be a datetime\.timedelta"):
        FileStore(sync_db, expire_after=60)  # type: ignore[arg-type]
