"""Deduplication within a scope: a second upload of stored bytes leaves no new chunk and
returns the stored file; scopes never meet; a shared file outlives all but its last holder;
bad requests write nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from gridfield._async import store as store_module
from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.store import AsyncFileStore
from gridfield._twins import wait_seconds
from gridfield.plain_fields import StringField
from tests.commands import Commands
from tests.concurrency import run_together

DATA = b"the same invoice " * 4000
CHUNK = 16 * 1024


class DedupInvoice(Document):
    number = StringField()
    pdf = FileField(dedup_scope="tenant-1")
    meta = {"collection": "dedup_invoices"}


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
    await fresh.delete()  # the last holder: the bytes go
    assert await count(db) == (0, 0)


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
