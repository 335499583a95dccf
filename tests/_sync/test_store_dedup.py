# Generated from tests/_async/test_store_dedup.py by scripts/unasync.py: do not edit.
"""Deduplication within a scope: a second upload of stored bytes leaves no new chunk and
returns the stored file; scopes never meet; a shared file outlives all but its last holder;
bad requests write nothing. The lookup is a claim on a digest key (``<bucket>.digests``):
one insert for new bytes, taken over when it names a file that is gone, given once to the
files stored before claims existed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient

from gridfield._sync import store as store_module
from gridfield._sync.chunk_writer import ChunkWriter
from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.resumable import ResumableStore
from gridfield._sync.store import FileStore
from gridfield._twins import sleep_seconds
from gridfield.core.dedup import BACKFILL_MARK, digest_key
from gridfield.core.encryption import Encryption, LocalKeys
from gridfield.core.sweeping import SweepTiming
from gridfield.core.tus import Concat, Creation, FileNaming, PatchRequest
from gridfield.plain_fields import StringField
from tests.commands import Commands
from tests.concurrency import run_in_threads

DATA = b"the same invoice " * 4000
CHUNK = 16 * 1024


class DedupInvoice(Document):
    number = StringField()
    pdf = FileField(dedup_scope="tenant-1")
    meta = {"collection": "dedup_invoices"}


def claims(db: Any, bucket: str = "fs") -> dict[str, Any]:
    """The claims of a bucket: digest key -> the file it names."""
    found = db[f"{bucket}.digests"].find({"_id": {"$ne": BACKFILL_MARK}})
    return {doc["_id"]: doc["file_id"] for doc in found}


def key_of(info: Any, scope: str) -> str:
    return digest_key(scope, info.sha256, info.length)


def sent(commands: Commands) -> list[tuple[str, Any]]:
    """(command, collection) of what a client sent."""
    return [(name, command.get(name)) for name, command in commands.sent]


def count(db: Any) -> tuple[int, int]:
    return (
        db["fs.files"].count_documents({}),
        db["fs.chunks"].count_documents({}),
    )


def test_a_dedup_put_of_stored_bytes_leaves_no_new_chunk(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    first = store.put(DATA, filename="a.pdf", metadata={"by": "ann"}, dedup=True, scope="t1")
    before = count(sync_db)
    again = store.put(DATA, filename="b.pdf", metadata={"by": "bob"}, dedup=True, scope="t1")
    assert count(sync_db) == before
    assert again.file_id == first.file_id
    assert (again.filename, again.metadata["by"]) == ("a.pdf", "ann")  # the stored one, as is
    raw = sync_db["fs.files"].find_one({"_id": first.file_id})
    # The lookup marks the file it answered with (so a deletion racing it leaves it).
    assert raw["gridfield"].pop("matched") is not None
    assert raw["gridfield"] == {"sha256": first.sha256, "scope": "t1"}
    # Another scope, other bytes, or no dedup: a file of its own.
    other = store.put(DATA, dedup=True, scope="t2")
    plain = store.put(DATA)
    assert len({first.file_id, other.file_id, plain.file_id}) == 3
    streamed = store.open_upload(dedup=True, scope="t1")
    streamed.write(DATA)
    assert (streamed.close()).file_id == first.file_id
    assert count(sync_db) == (3, 3 * before[1])


def test_a_file_expiring_sooner_is_not_shared_with_one_that_must_live_longer(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db)
    brief = store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=5))
    lasting = store.put(DATA, dedup=True, scope="s")
    assert lasting.file_id != brief.file_id and lasting.expire_at is None
    shorter = store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=1))
    assert shorter.file_id in (brief.file_id, lasting.file_id)


def test_a_store_scope_makes_every_upload_dedup(sync_db: Any) -> None:
    store = FileStore(sync_db, dedup_scope="tenant-9")
    first = store.put(DATA)
    assert (store.put(DATA)).file_id == first.file_id
    assert (store.put(DATA, dedup=False)).file_id != first.file_id


def test_a_declared_hash_skips_the_upload_when_the_scope_has_the_file(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db)
    first = store.put(DATA, dedup=True, scope="s")
    assert first.sha256 is not None

    def unread() -> Iterator[bytes]:
        raise AssertionError("the source was read")
        yield b""  # pragma: no cover

    found = store.put(unread(), dedup=True, scope="s", sha256=first.sha256, length=len(DATA))
    assert found.file_id == first.file_id
    # Declared but not stored in this scope: the bytes are stored, and must be as declared.
    elsewhere = store.put(DATA, dedup=True, scope="t", sha256=first.sha256, length=len(DATA))
    assert elsewhere.file_id != first.file_id
    before = count(sync_db)
    with pytest.raises(ValueError, match="the bytes are not those declared"):
        store.put(b"other", dedup=True, scope="u", sha256=first.sha256, length=5)
    assert count(sync_db) == before


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
        ({"dedup": True, "scope": 7}, TypeError, "scope must be a str naming who may share"),
        ({"dedup": True, "scope": b"t"}, TypeError, "scope must be a str naming who may share"),
        ({"dedup": True}, ValueError, "dedup=True needs a scope"),
        ({"dedup": "yes", "scope": "t"}, TypeError, "dedup must be True or False"),
        ({"dedup": True, "scope": "t", "checksum": False}, ValueError, "needs checksum=True"),
        ({"dedup": True, "scope": "t", "file_id": "mine"}, ValueError, "takes no file_id"),
        ({"sha256": "a" * 64, "length": 3}, ValueError, "give dedup=True and a scope"),
        ({"dedup": True, "scope": "t", "sha256": "a" * 64}, ValueError, "together"),
    ],
)
def test_bad_dedup_requests_are_refused_before_any_write(
    heard: tuple[Commands, Any], keywords: dict[str, Any], error: type[Exception], text: str
) -> None:
    commands, db = heard
    store = FileStore(db)
    with pytest.raises(error, match=text):
        store.put(DATA, **keywords)
    with pytest.raises(error, match=text):
        store.open_upload(**keywords)
    assert commands.named("insert", "find", "createIndexes", "delete") == []
    assert count(db) == (0, 0)
    with pytest.raises(TypeError, match="dedup_scope must be a str"):
        FileStore(db, dedup_scope=1)  # type: ignore[arg-type]


def test_deleting_one_of_two_holders_keeps_the_bytes_readable(
    connected: Callable[..., Any],
) -> None:
    db = connected()
    one, two = DedupInvoice(number="1"), DedupInvoice(number="2")
    one.pdf.put(DATA, filename="invoice.pdf")
    one.save()
    two.pdf.put(DATA, filename="copy.pdf")
    two.save()
    assert one.pdf.grid_id == two.pdf.grid_id
    assert count(db) == (1, 1)  # one file, one 255 KiB chunk
    one.delete()
    fresh = DedupInvoice.objects(number="2").first()
    assert fresh.pdf.read() == DATA
    assert list((claims(db)).values()) == [fresh.pdf.grid_id]
    fresh.delete()  # the last holder: the bytes go, and their claim
    assert count(db) == (0, 0)
    assert claims(db) == {}


def test_replacing_a_shared_file_on_one_holder_keeps_it_for_the_other(
    connected: Callable[..., Any],
) -> None:
    db = connected()
    one, two = DedupInvoice(number="1"), DedupInvoice(number="2")
    one.pdf.put(DATA)
    one.save()
    two.pdf.put(DATA)
    two.save()
    shared = one.pdf.grid_id
    one.pdf.replace(b"a corrected invoice")
    one.save()
    assert db["fs.files"].count_documents({"_id": shared}) == 1
    two.pdf.replace(b"another correction")
    two.save()  # no holder is left: the shared file goes
    assert db["fs.files"].count_documents({"_id": shared}) == 0


def test_a_dedup_put_racing_the_last_holders_delete_returns_a_file_that_stays(
    connected: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Forced, every round: the put matches the file its last holder is deleting, and the
    # deletion decides once the put has returned, before the new holder's document is in.
    connected()
    returned: list[Any] = []
    deleted: list[Any] = []
    decide = store_module.held_by_others

    def once_the_put_returned(*args: Any, **kwargs: Any) -> bool:
        deadline = time.monotonic() + 10
        while not returned and time.monotonic() < deadline:
            sleep_seconds(0.002)
        return decide(*args, **kwargs)

    monkeypatch.setattr(store_module, "held_by_others", once_the_put_returned)
    for round_ in range(50):
        data = f"round {round_} ".encode() * 100
        one = DedupInvoice(number=f"one-{round_}")
        one.pdf.put(data)
        one.save()
        two = DedupInvoice(number=f"two-{round_}")
        returned.clear()
        deleted.clear()

        def delete_the_last_holder(one: Any = one) -> None:
            one.delete()
            deleted.append(True)

        def put_then_save(two: Any = two, data: bytes = data) -> Any:
            file_id = two.pdf.put(data)
            returned.append(file_id)
            deadline = time.monotonic() + 10
            while not deleted and time.monotonic() < deadline:
                sleep_seconds(0.002)
            two.save()
            return file_id

        _, file_id = run_in_threads(delete_the_last_holder, put_then_save)
        fresh = DedupInvoice.objects(number=f"two-{round_}").first()
        assert fresh.pdf.grid_id == file_id
        assert fresh.pdf.read() == data, f"round {round_}"


def test_new_bytes_take_a_claim_that_later_uploads_of_them_find(sync_db: Any) -> None:
    store = FileStore(sync_db)
    first = store.put(DATA, dedup=True, scope="t1")
    assert claims(sync_db) == {key_of(first, "t1"): first.file_id}
    again = store.put(DATA, dedup=True, scope="t1")
    assert again.file_id == first.file_id and again.matched is not None
    # A declared digest finds the file through the same claim, without taking one.
    declared = store.find_copy(first.sha256, len(DATA), "t1", None)
    assert declared is not None and declared.file_id == first.file_id
    assert store.find_copy(first.sha256, len(DATA), "t2", None) is None
    assert claims(sync_db) == {key_of(first, "t1"): first.file_id}
    # Without deduplication no claim is taken; deduplication needs no index of its own.
    store.put(b"plain bytes")
    assert len(claims(sync_db)) == 1
    indexes = sync_db["fs.files"].index_information()
    assert not [spec for spec in indexes.values() if ("gridfield.sha256", 1) in spec["key"]]


def test_a_new_file_costs_one_insert_more_and_a_stored_one_writes_no_chunk(
    heard: tuple[Commands, Any],
) -> None:
    commands, db = heard
    store = FileStore(db)
    store.put(b"warm-up", dedup=True, scope="s")  # indexes made, backfill looked for
    commands.clear()
    new = store.put(DATA, dedup=True, scope="s")
    assert sent(commands) == [
        ("insert", "fs.digests"),
        ("insert", "fs.chunks"),
        ("insert", "fs.files"),
    ]
    commands.clear()
    found = store.put(DATA, dedup=True, scope="s")
    assert found.file_id == new.file_id
    # The claim refused, read by _id, its file checked and marked by _id: no chunk at all.
    assert sent(commands) == [
        ("insert", "fs.digests"),
        ("find", "fs.digests"),
        ("findAndModify", "fs.files"),
    ]


def test_scopes_never_meet_even_through_a_claim_naming_another_scopes_file(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db)
    ours = store.put(DATA, dedup=True, scope="ours")
    theirs = store.put(DATA, dedup=True, scope="theirs")
    assert ours.file_id != theirs.file_id
    assert len(claims(sync_db)) == 2
    # A claim of one scope made to name a file of another: the file is checked, never taken.
    sync_db["fs.digests"].update_one(
        {"_id": key_of(theirs, "theirs")}, {"$set": {"file_id": ours.file_id}}
    )
    assert store.find_copy(theirs.sha256, len(DATA), "theirs", None) is None
    third = store.put(DATA, dedup=True, scope="theirs")
    assert third.file_id not in (ours.file_id, theirs.file_id) and third.scope == "theirs"
    assert (claims(sync_db))[key_of(theirs, "theirs")] == third.file_id
    # A scope that reads like the end of another key is a key of its own.
    odd = store.put(DATA, dedup=True, scope=f"{len(DATA)}:ours")
    assert odd.file_id not in (ours.file_id, theirs.file_id, third.file_id)


def test_a_claim_naming_a_file_that_is_gone_is_taken_over(sync_db: Any) -> None:
    store = FileStore(sync_db, sweep_timing=SweepTiming(claim_lapse=timedelta(seconds=0.2)))
    first = store.put(DATA, dedup=True, scope="s")
    key = key_of(first, "s")
    # Deleted by delete() (the GridFS commands, by _id): the claim stays, naming nothing,
    # and is taken over (once its lapse is past: the file was that young).
    store.delete(first.file_id)
    assert claims(sync_db) == {key: first.file_id}
    second = store.put(DATA, dedup=True, scope="s")
    assert second.file_id != first.file_id
    assert claims(sync_db) == {key: second.file_id}
    # Deleted behind the store's back, long after: taken over at once.
    sync_db["fs.files"].delete_one({"_id": second.file_id})
    sync_db["fs.chunks"].delete_many({"files_id": second.file_id})
    sync_db["fs.digests"].update_one(
        {"_id": key}, {"$set": {"at": datetime.now(timezone.utc) - timedelta(hours=1)}}
    )
    third = store.put(DATA, dedup=True, scope="s")
    assert third.file_id != second.file_id
    assert claims(sync_db) == {key: third.file_id}
    # Left by an upload that died before its files document went in: left to it for the
    # claim's lapse (its file might be on its way), then taken over.
    sync_db["fs.files"].delete_one({"_id": third.file_id})
    sync_db["fs.chunks"].delete_many({"files_id": third.file_id})
    died = ObjectId()
    sync_db["fs.digests"].replace_one(
        {"_id": key}, {"file_id": died, "at": datetime.now(timezone.utc)}
    )
    fourth = store.put(DATA, dedup=True, scope="s")
    assert fourth.file_id not in (died, third.file_id)
    assert claims(sync_db) == {key: fourth.file_id}
    assert count(sync_db) == (1, 1)


def test_a_claim_moves_to_a_file_that_lives_longer(sync_db: Any) -> None:
    store = FileStore(sync_db)
    brief = store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=5))
    assert claims(sync_db) == {key_of(brief, "s"): brief.file_id}
    lasting = store.put(DATA, dedup=True, scope="s")
    assert claims(sync_db) == {key_of(brief, "s"): lasting.file_id}
    shorter = store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=1))
    assert shorter.file_id == lasting.file_id


def test_concurrent_uploads_of_the_same_new_bytes_end_with_one_file(
    sync_db: Any,
) -> None:
    store = FileStore(sync_db)
    store.put(b"warm-up", dedup=True, scope="s")
    for round_ in range(8):
        data = f"round {round_} ".encode() * 600

        def upload(data: bytes = data) -> Any:
            return store.put(data, dedup=True, scope="s")

        infos = run_in_threads(upload, upload, upload)
        assert len({info.file_id for info in infos}) == 1, f"round {round_}"
        sha256 = infos[0].sha256
        stored = sync_db["fs.files"].count_documents({"gridfield.sha256": sha256})
        assert stored == 1, f"round {round_}"
        assert store.get(infos[0].file_id) == data
    assert count(sync_db) == (9, 9)  # one chunk each: every loser's went


def test_files_stored_before_claims_existed_get_theirs_once(mongo_uri: str, sync_db: Any) -> None:
    store = FileStore(sync_db)
    old = store.put(DATA, dedup=True, scope="s")
    other = store.put(b"other bytes", dedup=True, scope="s")
    elsewhere = store.put(DATA, dedup=True, scope="t")
    store.put(b"no scope")
    store.put(b"expired", dedup=True, scope="s", expire_after=timedelta(milliseconds=300))
    # The bucket as a version without claims left it.
    sync_db["fs.digests"].drop()
    sleep_seconds(0.4)
    commands = Commands()
    client: Any = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        later = FileStore(client[sync_db.name])  # a new client trusts no memory
        again = later.put(DATA, dedup=True, scope="s")
        assert again.file_id == old.file_id
        assert claims(sync_db) == {
            key_of(old, "s"): old.file_id,
            key_of(other, "s"): other.file_id,
            key_of(elsewhere, "t"): elsewhere.file_id,
        }
        assert sync_db["fs.digests"].find_one({"_id": BACKFILL_MARK}) is not None
        scans = [c for c in commands.named("find") if c["find"] == "fs.files"]
        assert len(scans) == 1  # the files of a scope read once
    finally:
        client.close()
    # Recorded: another client looks for the mark and reads no file.
    commands = Commands()
    client = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        third = FileStore(client[sync_db.name])
        assert (third.put(b"other bytes", dedup=True, scope="s")).file_id == other.file_id
        assert [c for c in commands.named("find") if c["find"] == "fs.files"] == []
        assert {"_id": BACKFILL_MARK} in [c["filter"] for c in commands.named("find")]
    finally:
        client.close()


def test_a_sweep_removes_the_claims_of_files_that_are_gone(sync_db: Any) -> None:
    quick = SweepTiming(min_grace=timedelta(0), claim_lapse=timedelta(0))
    store = FileStore(sync_db, sweep_timing=quick)
    kept = store.put(DATA, dedup=True, scope="s")
    gone = store.put(b"gone", dedup=True, scope="s")
    sync_db["fs.files"].delete_one({"_id": gone.file_id})  # behind the store's back
    report = store.sweep(delete=True, grace=timedelta(0))
    assert report.removed_claims == 1
    assert "1 deduplication claims on files that are gone" in report.summary()
    assert claims(sync_db) == {key_of(kept, "s"): kept.file_id}
    assert (store.sweep(delete=True, grace=timedelta(0))).removed_claims == 0
    store.drop()
    assert "fs.digests" not in sync_db.list_collection_names()


def test_an_encrypted_file_takes_no_claim(sync_db: Any) -> None:
    keys = Encryption(LocalKeys({"k1": os.urandom(32)}))
    store = FileStore(sync_db, encryption=keys, dedup_scope="tenant")
    first, second = store.put(b"same bytes"), store.put(b"same bytes")
    assert first.file_id != second.file_id
    assert claims(sync_db) == {}


def _tus(resumable: ResumableStore, data: bytes, *, partial: bool = False) -> Any:
    """One tus upload of ``data`` in one PATCH; its state once complete."""

    def body() -> Iterator[bytes]:
        yield data

    concat = Concat(partial=True) if partial else None
    state = resumable.create(
        Creation(len(data), {}, None, concat=concat), FileNaming("t.bin", None, {})
    )
    return resumable.patch(state.upload_id, PatchRequest(0, None, None, len(data)), body())


def test_tus_completions_and_joins_take_and_find_the_same_claims(sync_db: Any) -> None:
    store = FileStore(sync_db, dedup_scope="s")
    resumable = ResumableStore(store)
    data = b"resumable bytes " * 200
    first = _tus(resumable, data)
    info = store.get_info(first.file_id)
    assert claims(sync_db) == {key_of(info, "s"): first.file_id}
    assert (store.put(data)).file_id == first.file_id  # a put finds the tus file
    # A completion run again (its process died before recording it): the same file.
    assert (resumable.store_file(first, info.sha256)).file_id == first.file_id
    assert (_tus(resumable, data)).file_id == first.file_id  # a second upload hits
    # A join of two partial uploads into the same bytes: the stored file, and no new claim.
    half = len(data) // 2
    parts = [_tus(resumable, piece, partial=True) for piece in (data[:half], data[half:])]
    ids = tuple(part.upload_id for part in parts)
    header = "final;" + " ".join(f"/files/{i}" for i in ids)
    joined = resumable.concatenate(ids, header, FileNaming("joined.bin", None, {}))
    assert joined.complete and joined.file_id == first.file_id
    assert claims(sync_db) == {key_of(info, "s"): first.file_id}
    assert count(sync_db) == (1, 1)


def test_an_upload_failing_after_it_took_its_claim_lets_go_of_it(
    sync_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(sync_db)

    def refused(self: Any, info: Any) -> Any:
        raise OSError("the files document could not be written")

    monkeypatch.setattr(ChunkWriter, "insert_file", refused)
    with pytest.raises(OSError, match="could not be written"):
        store.put(DATA, dedup=True, scope="s")
    assert claims(sync_db) == {}  # nothing partial: no claim, no chunk, no file
    assert count(sync_db) == (0, 0)
    monkeypatch.undo()
    stored = store.put(DATA, dedup=True, scope="s")  # new bytes at once
    assert claims(sync_db) == {key_of(stored, "s"): stored.file_id}
