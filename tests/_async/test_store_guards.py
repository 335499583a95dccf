"""Upload guards (max_size, content_types) and progress callbacks, on the store and on
FileField: a clear error, nothing left stored, a refused type costs no server command."""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import ContentTypeRefused, FileTooLarge, GridFSError
from gridfield.core.guards import UploadLimits

CHUNK = 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(50)


class CommandLog(CommandListener):
    """The names of the commands a client starts."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def close(client: Any) -> None:
    done = client.close()
    if inspect.isawaitable(done):  # PyMongo's async client; Motor's close() is plain
        done = await done


async def counts(db: Any) -> tuple[int, int]:
    return (
        await db["fs.files"].count_documents({}),
        await db["fs.chunks"].count_documents({}),
    )


class CountingReader:
    """A binary source that counts the bytes read from it."""

    def __init__(self, size: int) -> None:
        self._data = io.BytesIO(bytes(size))
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        block = self._data.read(n)
        self.read_bytes += len(block)
        return block


# --------------------------------------------------------------------------- max_size


async def test_max_size_refuses_and_reads_no_further_than_one_chunk_past(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    source = CountingReader(100 * CHUNK)
    with pytest.raises(FileTooLarge) as caught:
        await store.put(source, filename="big.bin", max_size=10 * CHUNK + 5)
    message = str(caught.value)
    assert "over the limit of 10245 bytes" in message
    assert "(11264 bytes seen)" in message
    assert (caught.value.limit, caught.value.seen) == (10 * CHUNK + 5, 11 * CHUNK)
    assert source.read_bytes <= 10 * CHUNK + 5 + CHUNK
    assert await counts(async_db) == (0, 0)
    assert isinstance(caught.value, GridFSError)
    assert isinstance(caught.value, ValueError)


async def test_chunks_sent_before_the_limit_was_crossed_are_removed(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK, limits=UploadLimits(max_size=5 * CHUNK))
    upload = store.open_upload(filename="grows")
    for _ in range(5):
        await upload.write(bytes(CHUNK))
        await upload.flush()
    assert (await counts(async_db))[1] == 5
    with pytest.raises(FileTooLarge, match=re.escape("upload: the file is over the limit of 5120")):
        await upload.write(b"one byte too many")
    assert await counts(async_db) == (0, 0)
    assert upload.closed


async def test_a_file_at_the_limit_is_stored(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(bytes(3 * CHUNK), max_size=3 * CHUNK)
    assert info.length == 3 * CHUNK
    empty = await store.put(b"", max_size=0)
    assert empty.length == 0


# --------------------------------------------------------------------------- content_types


async def test_a_refused_type_costs_no_server_command(
    async_client: Any, async_db: Any, mongo_uri: str
) -> None:
    log = CommandLog()
    client = type(async_client)(mongo_uri, event_listeners=[log])
    try:
        store = AsyncFileStore(client[async_db.name], chunk_size=CHUNK)
        cases: list[tuple[Any, dict[str, Any], str]] = [
            (PNG * 100, {}, "content type 'image/png' is not allowed"),  # sniffed
            (b"%PDF-1.7", {"filename": "x.png"}, "content type 'image/png'"),  # by name
            (b"plain", {}, "an unknown content type is not allowed"),
            (io.BytesIO(PNG * 100), {}, "'image/png'"),
        ]
        for data, options, message in cases:
            with pytest.raises(ContentTypeRefused, match=re.escape(message)):
                await store.put(data, content_types=["image/jpeg", "application/pdf"], **options)
        with pytest.raises(ContentTypeRefused, match="'text/plain' is not allowed"):
            store.open_upload(content_type="text/plain", content_types=["image/*"])
        assert log.names == []
        info = await store.put(JPEG, content_types=["image/*"])
        assert info.content_type == "image/jpeg"
        assert "insert" in log.names
    finally:
        await close(client)
    assert await counts(async_db) == (1, 1)


async def test_bad_guards_are_refused_before_any_io(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    with pytest.raises(ValueError, match="max_size must not be negative"):
        await store.put(b"x", max_size=-1)
    with pytest.raises(TypeError, match="max_size must be an int, not float"):
        await store.put(b"x", max_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="content_types must be a list of str"):
        await store.put(b"x", content_types="image/png")
    with pytest.raises(ValueError, match="'png' is not a content type"):
        await store.put(b"x", content_types=["png"])
    with pytest.raises(TypeError, match="on_progress must be callable, not int"):
        await store.put(b"x", on_progress=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="limits must be an UploadLimits, not dict"):
        AsyncFileStore(async_db, limits={"max_size": 3})  # type: ignore[arg-type]
    assert await counts(async_db) == (0, 0)


# --------------------------------------------------------------------------- content_type

# Types no HTTP header can carry as they are: each was once stored and broke serving.
BAD_TYPES = [
    ("image/\U0001f600", "non-ASCII"),
    ("text/plain\r\nX-Injected: 1", "a line break"),
    ("text/plain\x00", "a NUL"),
    ("", "empty"),
    ("textplain", "no slash"),
    ("text/" + "a" * 300, "over-long"),
    ("text/plain; charset", "a parameter without a value"),
    ('text/plain; title="caf\xe9"', "Latin-1 outside ASCII"),
    ("text /plain", "a space in the type"),
]


@pytest.mark.parametrize("bad", [b for b, _ in BAD_TYPES], ids=[w for _, w in BAD_TYPES])
async def test_a_content_type_no_header_can_carry_is_refused_before_any_io(
    async_client: Any, async_db: Any, mongo_uri: str, bad: str
) -> None:
    log = CommandLog()
    client = type(async_client)(mongo_uri, event_listeners=[log])
    try:
        store = AsyncFileStore(client[async_db.name])
        message = re.escape(f"content_type {bad[:80]!r}"[:60]) + ".*is not a media type like"
        with pytest.raises(ValueError, match=message):
            store.open_upload(content_type=bad)
        with pytest.raises(ValueError, match=message):
            await store.put(b"data", content_type=bad)
        with pytest.raises(ValueError, match=message):
            await store.upload_from_stream("x.txt", io.BytesIO(b"data"), content_type=bad)
        with pytest.raises(ValueError, match=r"metadata\.contentType .*is not a media type"):
            await store.put(b"data", metadata={"contentType": bad})
        assert log.names == []
    finally:
        await close(client)
    assert await counts(async_db) == (0, 0)


async def test_a_field_refuses_a_bad_content_type_and_stores_nothing(
    connected: Callable[..., Any],
) -> None:
    db = connected()
    marmot = GuardedAnimal()
    with pytest.raises(ValueError, match=r"content_type 'image/png\\r\\nX-A: 1' is not a media"):
        await marmot.photo.put(PNG, content_type="image/png\r\nX-A: 1")
    with pytest.raises(ValueError, match="is not a media type"):
        marmot.photo.new_file(content_type="image/\U0001f600")
    assert not marmot.photo
    assert await counts(db) == (0, 0)


async def test_media_types_with_parameters_are_stored_as_given(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    kinds = [
        "text/plain; charset=utf-8",
        'text/plain;charset="utf-8"',
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "multipart/form-data; boundary=----x",
        "text/plain;",
        'text/x; a="q \\" t"',
    ]
    for kind in kinds:
        info = await store.put(b"x", content_type=kind)
        assert (await store.get_info(info.file_id)).content_type == kind
    with pytest.raises(TypeError, match="content_type must be a str, not bytes"):
        await store.put(b"x", content_type=b"text/plain")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- on FileField


class GuardedAnimal(Document):
    photo = FileField(chunk_size=CHUNK, max_size=4 * CHUNK, content_types=["image/*"])
    meta = {"collection": "guarded_animals"}


async def test_file_field_guards_name_the_field(connected: Callable[..., Any]) -> None:
    db = connected()
    marmot = GuardedAnimal()
    with pytest.raises(FileTooLarge, match=re.escape("GuardedAnimal.photo: the file is over")):
        await marmot.photo.put(JPEG + bytes(5 * CHUNK))
    with pytest.raises(
        ContentTypeRefused, match=re.escape("GuardedAnimal.photo: content type 'app")
    ):
        await marmot.photo.put(b"%PDF-1.7 not an image")
    assert not marmot.photo
    assert await counts(db) == (0, 0)
    await marmot.photo.put(PNG)
    await marmot.save()
    assert await counts(db) == (1, 1)


# --------------------------------------------------------------------------- progress


def recorder() -> tuple[list[tuple[int, int | None]], Callable[[int, int | None], None]]:
    calls: list[tuple[int, int | None]] = []
    return calls, lambda done, total: calls.append((done, total))


def assert_monotonic(calls: list[tuple[int, int | None]], end: int) -> None:
    dones = [done for done, _ in calls]
    assert dones == sorted(dones), dones
    assert dones[-1] == end


async def test_upload_progress_is_monotonic_and_ends_at_the_length(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    data = bytes(3000 * CHUNK)  # 3 insert batches of at most 1000 chunks
    calls, on_progress = recorder()
    await store.put(data, on_progress=on_progress)
    assert_monotonic(calls, len(data))
    assert len(calls) >= 3
    assert {total for _, total in calls} == {len(data)}
    calls, on_progress = recorder()
    await store.put(iter([bytes(CHUNK)] * 1500), on_progress=on_progress)  # size unknown
    assert_monotonic(calls, 1500 * CHUNK)
    assert {total for _, total in calls} == {None}
    calls, on_progress = recorder()
    await store.put(b"", on_progress=on_progress)
    assert calls == [(0, 0)]


async def test_download_progress_is_monotonic_and_ends_at_the_length(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    data = bytes(range(256)) * 40
    info = await store.put(data, filename="p.bin")
    calls, on_progress = recorder()
    sink = io.BytesIO()
    await store.download_to_stream(info.file_id, sink, on_progress=on_progress)
    assert sink.getvalue() == data
    assert_monotonic(calls, len(data))
    assert len(calls) == info.chunk_count
    assert {total for _, total in calls} == {len(data)}
    calls, on_progress = recorder()
    stream = await store.open_download_by_name("p.bin", on_progress=on_progress)
    async with stream:
        stream.seek(5 * CHUNK)
        await stream.read(CHUNK)
        stream.seek(0)
        await stream.read(CHUNK)  # going back does not make the progress go back
    assert [done for done, _ in calls] == [6 * CHUNK]
    empty = await store.put(b"")
    calls, on_progress = recorder()
    await store.download_to_stream(empty.file_id, io.BytesIO(), on_progress=on_progress)
    assert calls == [(0, 0)]
