"""Deduplication within a scope: a second upload of stored bytes leaves no new chunk and
returns the stored file; scopes never meet; a shared file outlives all but its last holder;
bad requests write nothing. The lookup is a claim on a digest key (``<bucket>.digests``):
one insert for new bytes, taken over when it names a file that is gone, given once to the
files stored before claims existed."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from gridfield._async import store as store_module
from gridfield._async.chunk_writer import AsyncChunkWriter
from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.resumable import AsyncResumableStore
from gridfield._async.store import AsyncFileStore
from gridfield._twins import wait_seconds
from gridfield.core.dedup import BACKFILL_MARK, digest_key
from gridfield.core.encryption import Encryption, LocalKeys
from gridfield.core.sweeping import SweepTiming
from gridfield.core.tus import Concat, Creation, FileNaming, PatchRequest
from gridfield.plain_fields import StringField
from tests.commands import Commands
from tests.concurrency import run_together

DATA = b"the same invoice " * 4000
CHUNK = 16 * 1024


class DedupInvoice(Document):
    number = StringField()
    pdf = FileField(dedup_scope="tenant-1")
    meta = {"collection": "dedup_invoices"}


async def claims(db: Any, bucket: str = "fs") -> dict[str, Any]:
    """The claims of a bucket: digest key -> the file it names."""
    found = db[f"{bucket}.digests"].find({"_id": {"$ne": BACKFILL_MARK}})
    return {doc["_id"]: doc["file_id"] async for doc in found}


def key_of(info: Any, scope: str) -> str:
    return digest_key(scope, info.sha256, info.length)


def sent(commands: Commands) -> list[tuple[str, Any]]:
    """(command, collection) of what a client sent."""
    return [(name, command.get(name)) for name, command in commands.sent]


async def count(db: Any) -> tuple[int, int]:
    return (
        await db["fs.files"].count_documents({}),
        await db["fs.chunks"].count_documents({}),
    )


async def test_a_dedup_put_of_stored_bytes_leaves_no_new_chunk(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    first = await store.put(DATA, filename="a.pdf", metadata={"by": "ann"}, dedup=True, scope="t1")
    before = await count(async_db)
    again = await store.put(DATA, filename="b.pdf", metadata={"by": "bob"}, dedup=True, scope="t1")
    assert await count(async_db) == before
    assert again.file_id == first.file_id
    assert (again.filename, again.metadata["by"]) == ("a.pdf", "ann")  # the stored one, as is
    raw = await async_db["fs.files"].find_one({"_id": first.file_id})
    # The lookup marks the file it answered with (so a deletion racing it leaves it).
    assert raw["gridfield"].pop("matched") is not None
    assert raw["gridfield"] == {"sha256": first.sha256, "scope": "t1"}
    # Another scope, other bytes, or no dedup: a file of its own.
    other = await store.put(DATA, dedup=True, scope="t2")
    plain = await store.put(DATA)
    assert len({first.file_id, other.file_id, plain.file_id}) == 3
    streamed = store.open_upload(dedup=True, scope="t1")
    await streamed.write(DATA)
    assert (await streamed.close()).file_id == first.file_id
    assert await count(async_db) == (3, 3 * before[1])


async def test_a_file_expiring_sooner_is_not_shared_with_one_that_must_live_longer(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db)
    brief = await store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=5))
    lasting = await store.put(DATA, dedup=True, scope="s")
    assert lasting.file_id != brief.file_id and lasting.expire_at is None
    shorter = await store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=1))
    assert shorter.file_id in (brief.file_id, lasting.file_id)


async def test_a_store_scope_makes_every_upload_dedup(async_db: Any) -> None:
    store = AsyncFileStore(async_db, dedup_scope="tenant-9")
    first = await store.put(DATA)
    assert (await store.put(DATA)).file_id == first.file_id
    assert (await store.put(DATA, dedup=False)).file_id != first.file_id


async def test_a_declared_hash_skips_the_upload_when_the_scope_has_the_file(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db)
    first = await store.put(DATA, dedup=True, scope="s")
    assert first.sha256 is not None

    def unread() -> Iterator[bytes]:
        raise AssertionError("the source was read")
        yield b""  # pragma: no cover

    found = await store.put(unread(), dedup=True, scope="s", sha256=first.sha256, length=len(DATA))
    assert found.file_id == first.file_id
    # Declared but not stored in this scope: the bytes are stored, and must be as declared.
    elsewhere = await store.put(DATA, dedup=True, scope="t", sha256=first.sha256, length=len(DATA))
    assert elsewhere.file_id != first.file_id
    before = await count(async_db)
    with pytest.raises(ValueError, match="the bytes are not those declared"):
        await store.put(b"other", dedup=True, scope="u", sha256=first.sha256, length=5)
    assert await count(async_db) == before


@pytest.fixture
async def heard(mongo_uri: str, async_db: Any) -> AsyncIterator[tuple[Commands, Any]]:
    commands = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[commands])
    try:
        yield commands, client[async_db.name]
    finally:
        await client.close()


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
async def test_bad_dedup_requests_are_refused_before_any_write(
    heard: tuple[Commands, Any], keywords: dict[str, Any], error: type[Exception], text: str
) -> None:
    commands, db = heard
    store = AsyncFileStore(db)
    with pytest.raises(error, match=text):
        await store.put(DATA, **keywords)
    with pytest.raises(error, match=text):
        store.open_upload(**keywords)
    assert commands.named("insert", "find", "createIndexes", "delete") == []
    assert await count(db) == (0, 0)
    with pytest.raises(TypeError, match="dedup_scope must be a str"):
        AsyncFileStore(db, dedup_scope=1)  # type: ignore[arg-type]


async def test_deleting_one_of_two_holders_keeps_the_bytes_readable(
    connected: Callable[..., Any],
) -> None:
    db = connected()
    one, two = DedupInvoice(number="1"), DedupInvoice(number="2")
    await one.pdf.put(DATA, filename="invoice.pdf")
    await one.save()
    await two.pdf.put(DATA, filename="copy.pdf")
    await two.save()
    assert one.pdf.grid_id == two.pdf.grid_id
    assert await count(db) == (1, 1)  # one file, one 255 KiB chunk
    await one.delete()
    fresh = await DedupInvoice.objects(number="2").first()
    assert await fresh.pdf.read() == DATA
    assert list((await claims(db)).values()) == [fresh.pdf.grid_id]
    await fresh.delete()  # the last holder: the bytes go, and their claim
    assert await count(db) == (0, 0)
    assert await claims(db) == {}


async def test_replacing_a_shared_file_on_one_holder_keeps_it_for_the_other(
    connected: Callable[..., Any],
) -> None:
    db = connected()
    one, two = DedupInvoice(number="1"), DedupInvoice(number="2")
    await one.pdf.put(DATA)
    await one.save()
    await two.pdf.put(DATA)
    await two.save()
    shared = one.pdf.grid_id
    await one.pdf.replace(b"a corrected invoice")
    await one.save()
    assert await db["fs.files"].count_documents({"_id": shared}) == 1
    await two.pdf.replace(b"another correction")
    await two.save()  # no holder is left: the shared file goes
    assert await db["fs.files"].count_documents({"_id": shared}) == 0


async def test_a_dedup_put_racing_the_last_holders_delete_returns_a_file_that_stays(
    connected: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Forced, every round: the put matches the file its last holder is deleting, and the
    # deletion decides once the put has returned, before the new holder's document is in.
    connected()
    returned: list[Any] = []
    deleted: list[Any] = []
    decide = store_module.held_by_others

    async def once_the_put_returned(*args: Any, **kwargs: Any) -> bool:
        deadline = time.monotonic() + 10
        while not returned and time.monotonic() < deadline:
            await wait_seconds(0.002)
        return await decide(*args, **kwargs)

    monkeypatch.setattr(store_module, "held_by_others", once_the_put_returned)
    for round_ in range(50):
        data = f"round {round_} ".encode() * 100
        one = DedupInvoice(number=f"one-{round_}")
        await one.pdf.put(data)
        await one.save()
        two = DedupInvoice(number=f"two-{round_}")
        returned.clear()
        deleted.clear()

        async def delete_the_last_holder(one: Any = one) -> None:
            await one.delete()
            deleted.append(True)

        async def put_then_save(two: Any = two, data: bytes = data) -> Any:
            file_id = await two.pdf.put(data)
            returned.append(file_id)
            deadline = time.monotonic() + 10
            while not deleted and time.monotonic() < deadline:
                await wait_seconds(0.002)
            await two.save()
            return file_id

        _, file_id = await run_together(delete_the_last_holder, put_then_save)
        fresh = await DedupInvoice.objects(number=f"two-{round_}").first()
        assert fresh.pdf.grid_id == file_id
        assert await fresh.pdf.read() == data, f"round {round_}"


async def test_new_bytes_take_a_claim_that_later_uploads_of_them_find(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    first = await store.put(DATA, dedup=True, scope="t1")
    assert await claims(async_db) == {key_of(first, "t1"): first.file_id}
    again = await store.put(DATA, dedup=True, scope="t1")
    assert again.file_id == first.file_id and again.matched is not None
    # A declared digest finds the file through the same claim, without taking one.
    declared = await store.find_copy(first.sha256, len(DATA), "t1", None)
    assert declared is not None and declared.file_id == first.file_id
    assert await store.find_copy(first.sha256, len(DATA), "t2", None) is None
    assert await claims(async_db) == {key_of(first, "t1"): first.file_id}
    # Without deduplication no claim is taken; deduplication needs no index of its own.
    await store.put(b"plain bytes")
    assert len(await claims(async_db)) == 1
    indexes = await async_db["fs.files"].index_information()
    assert not [spec for spec in indexes.values() if ("gridfield.sha256", 1) in spec["key"]]


async def test_a_new_file_costs_one_insert_more_and_a_stored_one_writes_no_chunk(
    heard: tuple[Commands, Any],
) -> None:
    commands, db = heard
    store = AsyncFileStore(db)
    await store.put(b"warm-up", dedup=True, scope="s")  # indexes made, backfill looked for
    commands.clear()
    new = await store.put(DATA, dedup=True, scope="s")
    assert sent(commands) == [
        ("insert", "fs.digests"),
        ("insert", "fs.chunks"),
        ("insert", "fs.files"),
    ]
    commands.clear()
    found = await store.put(DATA, dedup=True, scope="s")
    assert found.file_id == new.file_id
    # The claim refused, read by _id, its file checked and marked by _id: no chunk at all.
    assert sent(commands) == [
        ("insert", "fs.digests"),
        ("find", "fs.digests"),
        ("findAndModify", "fs.files"),
    ]


async def test_scopes_never_meet_even_through_a_claim_naming_another_scopes_file(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db)
    ours = await store.put(DATA, dedup=True, scope="ours")
    theirs = await store.put(DATA, dedup=True, scope="theirs")
    assert ours.file_id != theirs.file_id
    assert len(await claims(async_db)) == 2
    # A claim of one scope made to name a file of another: the file is checked, never taken.
    await async_db["fs.digests"].update_one(
        {"_id": key_of(theirs, "theirs")}, {"$set": {"file_id": ours.file_id}}
    )
    assert await store.find_copy(theirs.sha256, len(DATA), "theirs", None) is None
    third = await store.put(DATA, dedup=True, scope="theirs")
    assert third.file_id not in (ours.file_id, theirs.file_id) and third.scope == "theirs"
    assert (await claims(async_db))[key_of(theirs, "theirs")] == third.file_id
    # A scope that reads like the end of another key is a key of its own.
    odd = await store.put(DATA, dedup=True, scope=f"{len(DATA)}:ours")
    assert odd.file_id not in (ours.file_id, theirs.file_id, third.file_id)


async def test_a_claim_naming_a_file_that_is_gone_is_taken_over(async_db: Any) -> None:
    store = AsyncFileStore(async_db, sweep_timing=SweepTiming(claim_lapse=timedelta(seconds=0.2)))
    first = await store.put(DATA, dedup=True, scope="s")
    key = key_of(first, "s")
    # Deleted by delete() (the GridFS commands, by _id): the claim stays, naming nothing,
    # and is taken over (once its lapse is past: the file was that young).
    await store.delete(first.file_id)
    assert await claims(async_db) == {key: first.file_id}
    second = await store.put(DATA, dedup=True, scope="s")
    assert second.file_id != first.file_id
    assert await claims(async_db) == {key: second.file_id}
    # Deleted behind the store's back, long after: taken over at once.
    await async_db["fs.files"].delete_one({"_id": second.file_id})
    await async_db["fs.chunks"].delete_many({"files_id": second.file_id})
    await async_db["fs.digests"].update_one(
        {"_id": key}, {"$set": {"at": datetime.now(timezone.utc) - timedelta(hours=1)}}
    )
    third = await store.put(DATA, dedup=True, scope="s")
    assert third.file_id != second.file_id
    assert await claims(async_db) == {key: third.file_id}
    # Left by an upload that died before its files document went in: left to it for the
    # claim's lapse (its file might be on its way), then taken over.
    await async_db["fs.files"].delete_one({"_id": third.file_id})
    await async_db["fs.chunks"].delete_many({"files_id": third.file_id})
    died = ObjectId()
    await async_db["fs.digests"].replace_one(
        {"_id": key}, {"file_id": died, "at": datetime.now(timezone.utc)}
    )
    fourth = await store.put(DATA, dedup=True, scope="s")
    assert fourth.file_id not in (died, third.file_id)
    assert await claims(async_db) == {key: fourth.file_id}
    assert await count(async_db) == (1, 1)


async def test_a_claim_moves_to_a_file_that_lives_longer(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    brief = await store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=5))
    assert await claims(async_db) == {key_of(brief, "s"): brief.file_id}
    lasting = await store.put(DATA, dedup=True, scope="s")
    assert await claims(async_db) == {key_of(brief, "s"): lasting.file_id}
    shorter = await store.put(DATA, dedup=True, scope="s", expire_after=timedelta(minutes=1))
    assert shorter.file_id == lasting.file_id


async def test_concurrent_uploads_of_the_same_new_bytes_end_with_one_file(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db)
    await store.put(b"warm-up", dedup=True, scope="s")
    for round_ in range(8):
        data = f"round {round_} ".encode() * 600

        async def upload(data: bytes = data) -> Any:
            return await store.put(data, dedup=True, scope="s")

        infos = await run_together(upload, upload, upload)
        assert len({info.file_id for info in infos}) == 1, f"round {round_}"
        sha256 = infos[0].sha256
        stored = await async_db["fs.files"].count_documents({"gridfield.sha256": sha256})
        assert stored == 1, f"round {round_}"
        assert await store.get(infos[0].file_id) == data
    assert await count(async_db) == (9, 9)  # one chunk each: every loser's went


async def test_files_stored_before_claims_existed_get_theirs_once(
    mongo_uri: str, async_db: Any
) -> None:
    store = AsyncFileStore(async_db)
    old = await store.put(DATA, dedup=True, scope="s")
    other = await store.put(b"other bytes", dedup=True, scope="s")
    elsewhere = await store.put(DATA, dedup=True, scope="t")
    await store.put(b"no scope")
    await store.put(b"expired", dedup=True, scope="s", expire_after=timedelta(milliseconds=300))
    # The bucket as a version without claims left it.
    await async_db["fs.digests"].drop()
    await wait_seconds(0.4)
    commands = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[commands])
    try:
        later = AsyncFileStore(client[async_db.name])  # a new client trusts no memory
        again = await later.put(DATA, dedup=True, scope="s")
        assert again.file_id == old.file_id
        assert await claims(async_db) == {
            key_of(old, "s"): old.file_id,
            key_of(other, "s"): other.file_id,
            key_of(elsewhere, "t"): elsewhere.file_id,
        }
        assert await async_db["fs.digests"].find_one({"_id": BACKFILL_MARK}) is not None
        scans = [c for c in commands.named("find") if c["find"] == "fs.files"]
        assert len(scans) == 1  # the files of a scope read once
    finally:
        await client.close()
    # Recorded: another client looks for the mark and reads no file.
    commands = Commands()
    client = AsyncMongoClient(mongo_uri, event_listeners=[commands])
    try:
        third = AsyncFileStore(client[async_db.name])
        assert (await third.put(b"other bytes", dedup=True, scope="s")).file_id == other.file_id
        assert [c for c in commands.named("find") if c["find"] == "fs.files"] == []
        assert {"_id": BACKFILL_MARK} in [c["filter"] for c in commands.named("find")]
    finally:
        await client.close()


async def test_a_sweep_removes_the_claims_of_files_that_are_gone(async_db: Any) -> None:
    quick = SweepTiming(min_grace=timedelta(0), claim_lapse=timedelta(0))
    store = AsyncFileStore(async_db, sweep_timing=quick)
    kept = await store.put(DATA, dedup=True, scope="s")
    gone = await store.put(b"gone", dedup=True, scope="s")
    await async_db["fs.files"].delete_one({"_id": gone.file_id})  # behind the store's back
    report = await store.sweep(delete=True, grace=timedelta(0))
    assert report.removed_claims == 1
    assert "1 deduplication claims on files that are gone" in report.summary()
    assert await claims(async_db) == {key_of(kept, "s"): kept.file_id}
    assert (await store.sweep(delete=True, grace=timedelta(0))).removed_claims == 0
    await store.drop()
    assert "fs.digests" not in await async_db.list_collection_names()


async def test_an_encrypted_file_takes_no_claim(async_db: Any) -> None:
    keys = Encryption(LocalKeys({"k1": os.urandom(32)}))
    store = AsyncFileStore(async_db, encryption=keys, dedup_scope="tenant")
    first, second = await store.put(b"same bytes"), await store.put(b"same bytes")
    assert first.file_id != second.file_id
    assert await claims(async_db) == {}


async def _tus(resumable: AsyncResumableStore, data: bytes, *, partial: bool = False) -> Any:
    """One tus upload of ``data`` in one PATCH; its state once complete."""

    async def body() -> AsyncIterator[bytes]:
        yield data

    concat = Concat(partial=True) if partial else None
    state = await resumable.create(
        Creation(len(data), {}, None, concat=concat), FileNaming("t.bin", None, {})
    )
    return await resumable.patch(state.upload_id, PatchRequest(0, None, None, len(data)), body())


async def test_tus_completions_and_joins_take_and_find_the_same_claims(async_db: Any) -> None:
    store = AsyncFileStore(async_db, dedup_scope="s")
    resumable = AsyncResumableStore(store)
    data = b"resumable bytes " * 200
    first = await _tus(resumable, data)
    info = await store.get_info(first.file_id)
    assert await claims(async_db) == {key_of(info, "s"): first.file_id}
    assert (await store.put(data)).file_id == first.file_id  # a put finds the tus file
    # A completion run again (its process died before recording it): the same file.
    assert (await resumable.store_file(first, info.sha256)).file_id == first.file_id
    assert (await _tus(resumable, data)).file_id == first.file_id  # a second upload hits
    # A join of two partial uploads into the same bytes: the stored file, and no new claim.
    half = len(data) // 2
    parts = [await _tus(resumable, piece, partial=True) for piece in (data[:half], data[half:])]
    ids = tuple(part.upload_id for part in parts)
    header = "final;" + " ".join(f"/files/{i}" for i in ids)
    joined = await resumable.concatenate(ids, header, FileNaming("joined.bin", None, {}))
    assert joined.complete and joined.file_id == first.file_id
    assert await claims(async_db) == {key_of(info, "s"): first.file_id}
    assert await count(async_db) == (1, 1)


async def test_an_upload_failing_after_it_took_its_claim_lets_go_of_it(
    async_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AsyncFileStore(async_db)

    async def refused(self: Any, info: Any) -> Any:
        raise OSError("the files document could not be written")

    monkeypatch.setattr(AsyncChunkWriter, "insert_file", refused)
    with pytest.raises(OSError, match="could not be written"):
        await store.put(DATA, dedup=True, scope="s")
    assert await claims(async_db) == {}  # nothing partial: no claim, no chunk, no file
    assert await count(async_db) == (0, 0)
    monkeypatch.undo()
    stored = await store.put(DATA, dedup=True, scope="s")  # new bytes at once
    assert await claims(async_db) == {key_of(stored, "s"): stored.file_id}
