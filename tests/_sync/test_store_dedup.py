# Generated from tests/_async/test_store_dedup.py by scripts/unasync.py: do not edit.
"""Deduplication within a scope: a second upload of stored bytes leaves no new chunk and
returns the stored file; scopes never meet; a shared file outlives all but its last holder;
bad requests write nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import MongoClient

from gridfield._sync import store as store_module
from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.store import FileStore
from gridfield._twins import sleep_seconds
from gridfield.plain_fields import StringField
from tests.commands import Commands
from tests.concurrency import run_in_threads

DATA = b"the same invoice " * 4000
CHUNK = 16 * 1024


class DedupInvoice(Document):
    number = StringField()
    pdf = FileField(dedup_scope="tenant-1")
    meta = {"collection": "dedup_invoices"}


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
    fresh.delete()  # the last holder: the bytes go
    assert count(db) == (0, 0)


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
