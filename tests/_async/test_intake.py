"""The intake driver on a real server: a multipart or raw body fed piece by piece, one upload
per file part, form fields as text, and nothing left stored after any failure."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest

from gridfield._async.connection import get_db
from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.intake import AsyncReceived, receive_multipart, receive_raw
from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import (
    ContentTypeRefused,
    FileTooLarge,
    FormTooLarge,
    GridFSError,
    MalformedBody,
)
from gridfield.core.http.intake import IntakeLimits
from gridfield.plain_fields import StringField

BOUNDARY = "b0undary"
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
CHUNK = 255 * 1024


class Marmot(Document):
    name = StringField()
    photo = FileField()
    small = FileField(max_size=100, content_types=["image/*"])
    other = FileField(collection_name="other")


def part(name: str, data: bytes, filename: str | None = None, kind: str | None = None) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"'
    if kind is not None:
        head += f"\r\nContent-Type: {kind}"
    return f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + data + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def receive(
    store: AsyncFileStore, body: bytes, size: int = 65536, **options: Any
) -> AsyncReceived:
    return await receive_multipart(
        pieces(body, size),
        store,
        content_type=options.pop("content_type", FORM_TYPE),
        content_length=options.pop("content_length", str(len(body))),
        **options,
    )


async def census(db: Any, bucket: str = "fs") -> tuple[int, int]:
    files = await db[f"{bucket}.files"].count_documents({})
    chunks = await db[f"{bucket}.chunks"].count_documents({})
    return files, chunks


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected()


@pytest.fixture
def store(db: Any) -> AsyncFileStore:
    return AsyncFileStore(db)


BIG = os.urandom(CHUNK + 1000)
BODY = form(
    part("title", "Zoë".encode()),
    part("photo", BIG, "m.bin", "application/x-marmot"),
    part("note", b"--" + BOUNDARY.encode()[:-1] + b" almost a boundary"),
    part(
        "pic", b"\x89PNG\r\n\x1a\n" + bytes(300), "C:\\fakepath\\p.png", "application/octet-stream"
    ),
)


@pytest.mark.parametrize("size", [1, 7, 4096, len(BODY)])
async def test_the_same_form_whatever_the_pieces(db: Any, store: AsyncFileStore, size: int) -> None:
    body = BODY if size != 1 else form(part("t", b"x"), part("f", b"abc", "a.txt"))
    received = await receive(store, body, size)
    if size == 1:
        assert received.form == {"t": "x"}
        assert await store.get(received.file("f").file_id) == b"abc"
        return
    assert received.form == {"title": "Zoë", "note": "--b0undar almost a boundary"}
    photo, pic = received.file("photo"), received.file("pic")
    assert (photo.filename, photo.content_type, photo.length) == (
        "m.bin",
        "application/x-marmot",
        len(BIG),
    )
    assert (pic.filename, pic.content_type) == ("p.png", "image/png")
    assert await store.get(photo.file_id) == BIG
    assert await census(db) == (2, 3)


async def test_progress_is_told_the_body_read(store: AsyncFileStore) -> None:
    seen: list[tuple[int, int | None]] = []
    await receive(store, BODY, 65536, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(BODY), len(BODY))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_a_file_over_its_limit_leaves_nothing(db: Any, store: AsyncFileStore) -> None:
    body = form(part("a", b"small", "a.txt"), part("b", BIG, "b.bin"))
    with pytest.raises(FileTooLarge, match=f"over the limit of {CHUNK} bytes"):
        await receive(store, body, limits=IntakeLimits(max_size=CHUNK))
    assert await census(db) == (0, 0)


async def test_a_declared_length_over_the_bound_reads_nothing(store: AsyncFileStore) -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""

    limits = IntakeLimits(max_size=10, max_files=1, max_parts=1)
    with pytest.raises(FileTooLarge, match="the request body is 999999999 bytes, over the limit"):
        await receive_multipart(
            never(), store, content_type=FORM_TYPE, content_length="999999999", limits=limits
        )
    with pytest.raises(FileTooLarge, match="the request body is 11 bytes, over the limit of 10"):
        await receive_raw(
            never(),
            store,
            filename="a",
            content_type=None,
            content_length="11",
            limits=IntakeLimits(max_size=10),
        )


async def test_a_refused_type_is_refused_before_any_write(db: Any, store: AsyncFileStore) -> None:
    body = form(part("a", b"\x89PNG\r\n\x1a\n", "a.png"), part("b", b"plain text", "b.txt"))
    with pytest.raises(ContentTypeRefused, match="content type 'text/plain' is not allowed"):
        await receive(store, body, limits=IntakeLimits(content_types=("image/*",)))
    assert await census(db) == (0, 0)


async def test_broken_bodies_are_malformed_and_leave_nothing(
    db: Any, store: AsyncFileStore
) -> None:
    whole = form(part("a", BIG, "a.bin"), part("b", b"x" * 100, "b.bin"))
    with pytest.raises(MalformedBody, match="before its closing boundary"):
        await receive(store, whole[:-30], content_length=None)
    with pytest.raises(MalformedBody, match="ended after 100 of the 200 bytes"):
        await receive(store, whole[:100], content_length="200")
    with pytest.raises(MalformedBody, match="longer than its Content-Length of 10 bytes"):
        await receive(store, whole, content_length="10")
    with pytest.raises(MalformedBody, match="the multipart body is malformed"):
        await receive(store, b"--" + BOUNDARY.encode() + b"XX\r\n")
    with pytest.raises(MalformedBody, match="has no Content-Disposition"):
        await receive(store, f"--{BOUNDARY}\r\nX-A: b\r\n\r\ndata\r\n--{BOUNDARY}--".encode())
    bad = form(part("a", BIG, "a.bin"), part("t", b"\xff\xfe"))
    with pytest.raises(MalformedBody, match="form field 't' is not UTF-8 text"):
        await receive(store, bad)
    assert await census(db) == (0, 0)


async def test_a_failing_source_leaves_nothing(db: Any, store: AsyncFileStore) -> None:
    async def cut() -> AsyncIterator[bytes]:
        yield BODY[: len(BODY) // 2]
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await receive_multipart(cut(), store, content_type=FORM_TYPE, content_length=None)
    assert await census(db) == (0, 0)


async def test_many_parts_and_big_fields_stop_at_their_limit(store: AsyncFileStore) -> None:
    taken = 0

    async def counted(body: Iterable[bytes]) -> AsyncIterator[bytes]:
        nonlocal taken
        for piece in body:
            taken += len(piece)
            yield piece

    empty = part("f", b"")
    with pytest.raises(FormTooLarge, match="more than 1000 parts"):
        await receive_multipart(
            counted([empty * 1000] * 100), store, content_type=FORM_TYPE, content_length=None
        )
    assert taken <= 2 * len(empty) * 1000  # read no further than the piece that went over
    taken = 0
    head = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=t\r\n\r\n".encode()
    with pytest.raises(FormTooLarge, match="form field 't' is over the limit of 1048576 bytes"):
        await receive_multipart(
            counted([head, *([b"a" * 65536] * 16384)]),  # 1 GiB, never made whole
            store,
            content_type=FORM_TYPE,
            content_length=None,
        )
    assert taken <= 2**20 + 2 * 65536
    with pytest.raises(FormTooLarge, match="more than 1 files"):
        await receive(
            store,
            form(part("a", b"1", "a"), part("b", b"2", "b")),
            limits=IntakeLimits(max_files=1),
        )


async def test_a_raw_body(db: Any, store: AsyncFileStore) -> None:
    received = await receive_raw(
        pieces(b"%PDF-1.7 data", 4),
        store,
        filename="r.bin",
        content_type="application/octet-stream",
        content_length="13",
    )
    part_ = received.file()
    assert (part_.field, part_.filename, part_.content_type) == (None, "r.bin", "application/pdf")
    assert await store.get(part_.file_id) == b"%PDF-1.7 data"
    with pytest.raises(FileTooLarge, match="over the limit of 5 bytes"):
        await receive_raw(
            pieces(b"x" * 100, 10),
            store,
            filename="big",
            content_type=None,
            content_length=None,
            limits=IntakeLimits(max_size=5),
        )
    assert await census(db) == (1, 1)


async def test_the_context_removes_the_files_on_an_error_unless_kept(
    db: Any, store: AsyncFileStore
) -> None:
    with pytest.raises(RuntimeError):
        async with await receive(store, BODY) as received:
            assert await census(db) == (2, 3)
            raise RuntimeError("the route fails")
    assert received.files == []
    assert await census(db) == (0, 0)
    with pytest.raises(RuntimeError):
        async with await receive(store, BODY) as received:
            received.keep()
            raise RuntimeError("the route fails, but the files stay")
    assert await census(db) == (2, 3)
    await received.discard()
    await received.discard()  # nothing left: no error
    assert await census(db) == (0, 0)


async def test_lookups_name_what_was_sent(store: AsyncFileStore) -> None:
    received = await receive(store, BODY)
    with pytest.raises(
        KeyError, match=r"no file in form field 'nope' \(files came in: \['photo', 'pic'\]\)"
    ):
        received.file("nope")
    with pytest.raises(KeyError, match="expected one file, the request brought 2"):
        received.file()
    assert "m.bin" in repr(received)
    await received.discard()


async def test_a_received_file_goes_into_a_field(db: Any, store: AsyncFileStore) -> None:
    old = await receive(store, form(part("photo", b"old bytes", "old.txt")))
    marmot = Marmot(name="m")
    marmot.photo = old.file("photo")
    await marmot.save()
    new = await receive(store, BODY)
    marmot.photo = new.file("photo")
    assert marmot.photo.grid_id == new.file("photo").file_id
    assert marmot.photo.length == len(BIG)  # the description comes with it: nothing to load
    await marmot.save()
    loaded = await Marmot.objects(id=marmot.id).first()
    assert await loaded.photo.read() == BIG
    # The file held before goes once the new one is saved; the unused part stays the app's.
    assert await census(db) == (2, 3)


async def test_a_received_file_is_refused_where_it_does_not_fit(
    db: Any, store: AsyncFileStore
) -> None:
    received = await receive(store, BODY)
    marmot = Marmot(name="m")
    with pytest.raises(GridFSError, match=r"Marmot.other stores files in .*\.other; the received"):
        marmot.other = received.file("photo")
    with pytest.raises(FileTooLarge, match=r"Marmot\.small: the file is over the limit of 100"):
        marmot.small = received.file("photo")
    with pytest.raises(TypeError, match="a FileInfo does not say which bucket"):
        marmot.photo = received.file("photo").info
    elsewhere = await receive(AsyncFileStore(get_db().client["elsewhere_" + db.name[-8:]]), BODY)
    try:
        with pytest.raises(GridFSError, match="stores files in"):
            marmot.photo = elsewhere.file("photo")
    finally:
        await elsewhere.store.db.client.drop_database(elsewhere.store.db.name)
    assert not marmot.photo and not marmot.other and not marmot.small
    await received.discard()
    assert await census(db) == (0, 0)
