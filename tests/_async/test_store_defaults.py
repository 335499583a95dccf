"""A store's defaults (``StoreDefaults``: expiry, dedup scope, limits) hold for every way a
file comes in: ``put``, ``open_upload``, a field's ``put`` and ``new_file``, an image field,
the intake the web adapters share, a tus completion and a tus concatenation. Expiry and
deduplication are shown with two configurations: a file deduplicates only to one that lives
at least as long as asked."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.image_field import ImageField
from gridfield._async.intake import receive_multipart, receive_raw
from gridfield._async.resumable import AsyncResumableStore
from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import FileTooLarge
from gridfield.core.guards import UploadLimits
from gridfield.core.store_defaults import StoreDefaults
from gridfield.core.tus import Concat, Creation, FileNaming, PatchRequest, TusError
from gridfield.plain_fields import StringField

LIVES = timedelta(hours=3)
SCOPE = "tenant-a"
LIMIT = 5000
EXPIRING = StoreDefaults(chunk_size=1024, limits=UploadLimits(max_size=LIMIT), expire_after=LIVES)
SHARING = StoreDefaults(chunk_size=1024, limits=UploadLimits(max_size=LIMIT), dedup_scope=SCOPE)


class Album(Document):
    name = StringField()
    cover = FileField(collection_name="albums", chunk_size=1024, max_size=LIMIT, expire_after=LIVES)
    shared = FileField(collection_name="albums", chunk_size=1024, dedup_scope=SCOPE)
    picture = ImageField(collection_name="pictures", max_size=LIMIT, expire_after=LIVES)
    shared_picture = ImageField(collection_name="pictures", dedup_scope=SCOPE)


def picture_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "olive").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected()


def expires_as_configured(info: Any) -> bool:
    assert info.expire_at is not None and info.upload_date is not None
    lived = info.expire_at.replace(tzinfo=None) - info.upload_date.replace(tzinfo=None)
    return abs(lived - LIVES) < timedelta(seconds=1)


async def counts(store: AsyncFileStore) -> tuple[int, int]:
    return (
        await store.files.count_documents({}),
        await store.chunks.count_documents({}),
    )


def test_the_defaults_are_one_checked_value() -> None:
    with pytest.raises(ValueError):
        StoreDefaults(chunk_size=0)
    with pytest.raises(TypeError):
        StoreDefaults(limits=5000)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        StoreDefaults(expire_after=timedelta(0))
    with pytest.raises(TypeError):
        StoreDefaults(dedup_scope=3)  # type: ignore[arg-type]
    assert Album.cover.defaults == EXPIRING
    with pytest.raises(TypeError):
        AsyncFileStore(object(), defaults=EXPIRING, chunk_size=1024)


@pytest.mark.parametrize("how", ["put", "open_upload"])
async def test_store_uploads_honour_the_defaults(async_db: Any, how: str) -> None:
    expiring = AsyncFileStore(async_db, "expiring", defaults=EXPIRING)
    sharing = AsyncFileStore(async_db, "sharing", defaults=SHARING)
    data = b"same bytes" * 100

    async def store_it(store: AsyncFileStore, payload: bytes) -> Any:
        if how == "put":
            return await store.put(payload, filename="a.bin")
        async with store.open_upload(filename="a.bin") as upload:
            await upload.write(payload)
        return upload.info

    info = await store_it(expiring, data)
    assert expires_as_configured(info) and info.chunk_size == 1024
    first = await store_it(sharing, data)
    assert first.scope == SCOPE and first.expire_at is None
    second = await store_it(sharing, data)
    assert second.file_id == first.file_id  # deduplicated in the store's scope
    for store in (expiring, sharing):
        with pytest.raises(FileTooLarge):
            await store_it(store, b"x" * (LIMIT + 1))
        assert await counts(store) == (1, 1)


async def test_field_put_and_new_file_honour_the_fields_defaults(db: Any) -> None:
    data = b"cover bytes" * 50
    one = Album(name="one")
    await one.cover.put(data, filename="c.bin")
    await one.shared.put(data, filename="c.bin")
    await one.save()
    two = Album(name="two")
    async with two.cover.new_file(filename="c.bin") as upload:
        await upload.write(data)
    async with two.shared.new_file(filename="c.bin") as upload:
        await upload.write(data)
    await two.save()
    for album in (one, two):
        assert expires_as_configured(await album.cover.load())
    info_one, info_two = await one.shared.load(), await two.shared.load()
    assert info_one.scope == SCOPE and info_one.expire_at is None
    assert info_two.file_id == info_one.file_id  # put and new_file deduplicate
    three = Album(name="three")
    with pytest.raises(FileTooLarge):
        await three.cover.put(b"x" * (LIMIT + 1))
    with pytest.raises(FileTooLarge):
        async with three.cover.new_file() as upload:
            await upload.write(b"x" * (LIMIT + 1))
    assert await db["albums.files"].count_documents({}) == 3


async def test_the_image_field_honours_the_fields_defaults(db: Any) -> None:
    one, two = Album(name="one"), Album(name="two")
    await one.picture.put(picture_bytes(), filename="p.png")
    assert expires_as_configured(await one.picture.load())
    await one.shared_picture.put(picture_bytes(), filename="p.png")
    await two.shared_picture.put(picture_bytes(), filename="p.png")
    info_one, info_two = await one.shared_picture.load(), await two.shared_picture.load()
    assert info_one.scope == SCOPE
    assert info_two.file_id == info_one.file_id
    with pytest.raises(FileTooLarge):
        await Album(name="three").picture.put(b"\x89PNG" + b"x" * LIMIT)
    assert await db["pictures.files"].count_documents({}) == 2


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(resumable: AsyncResumableStore, data: bytes, *, partial: bool = False) -> Any:
    concat = Concat(partial=True) if partial else None
    state = await resumable.create(
        Creation(len(data), {}, None, concat=concat), FileNaming("t.bin", None, {})
    )
    return await resumable.patch(
        state.upload_id, PatchRequest(0, None, None, len(data)), _body(data)
    )


async def test_a_tus_completion_honours_the_stores_defaults(async_db: Any) -> None:
    expiring = AsyncResumableStore(AsyncFileStore(async_db, "expiring", defaults=EXPIRING))
    data = b"tus bytes" * 300
    done = await _upload(expiring, data)
    assert expires_as_configured(await expiring.store.get_info(done.file_id))
    store = AsyncFileStore(async_db, defaults=SHARING)
    resumable = AsyncResumableStore(store)
    first = await _upload(resumable, data)
    assert (await store.get_info(first.file_id)).scope == SCOPE
    second = await _upload(resumable, data)
    assert second.complete and second.file_id == first.file_id  # deduplicated
    assert (await resumable.get(second.upload_id)).file_id == first.file_id
    assert await store.get(second.file_id) == data
    assert resumable.options.max_size == LIMIT  # advertised as Tus-Max-Size
    with pytest.raises(TusError) as refused:
        await resumable.create(Creation(LIMIT + 1, {}, None), FileNaming("big.bin", None, {}))
    assert refused.value.status == 413
    assert await counts(store) == (1, 3)


async def test_the_stores_content_types_hold_for_tus_uploads(async_db: Any) -> None:
    store = AsyncFileStore(async_db, limits=UploadLimits(content_types=("image/*",)))
    resumable = AsyncResumableStore(store)
    with pytest.raises(TusError) as refused:
        await resumable.create(Creation(10, {}, None), FileNaming("a.txt", "text/plain", {}))
    assert refused.value.status == 415
    assert await resumable.registry.count_documents({}) == 0


async def test_a_tus_concatenation_honours_the_stores_defaults(async_db: Any) -> None:
    store = AsyncFileStore(async_db, defaults=SHARING)
    resumable = AsyncResumableStore(store)
    halves = (b"a" * 1024, b"b" * 1000)
    plain = await store.put(b"".join(halves), filename="already.bin")
    parts = [await _upload(resumable, half, partial=True) for half in halves]
    ids = tuple(p.upload_id for p in parts)
    header = "final;" + " ".join(f"/files/{i}" for i in ids)
    final = await resumable.concatenate(ids, header, FileNaming("joined.bin", None, {}))
    assert final.complete and final.file_id == plain.file_id  # deduplicated to the stored one
    assert await counts(store) == (1, 2)  # the joined chunks went
    expiring = AsyncResumableStore(AsyncFileStore(async_db, "expiring", defaults=EXPIRING))
    other = [await _upload(expiring, half, partial=True) for half in (b"c" * 1024, b"d")]
    ids = tuple(p.upload_id for p in other)
    header = "final;" + " ".join(f"/files/{i}" for i in ids)
    joined = await expiring.concatenate(ids, header, FileNaming("cd.bin", None, {}))
    assert expires_as_configured(await expiring.store.get_info(joined.file_id))
    big = [await _upload(resumable, b"e" * 3072, partial=True) for _ in range(2)]
    ids = tuple(p.upload_id for p in big)
    with pytest.raises(TusError) as refused:
        await resumable.concatenate(ids, "final;x", FileNaming("big.bin", None, {}))
    assert refused.value.status == 413


async def _pieces(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 100):
        yield body[start : start + 100]


async def test_the_intake_behind_every_web_adapter_honours_the_stores_defaults(
    async_db: Any,
) -> None:
    expiring = AsyncFileStore(async_db, "expiring", defaults=EXPIRING)
    sharing = AsyncFileStore(async_db, "sharing", defaults=SHARING)
    data = b"intake bytes" * 50
    head = 'Content-Disposition: form-data; name="f"; filename="a.bin"'
    body = b"--b0\r\n" + head.encode() + b"\r\n\r\n" + data + b"\r\n--b0--\r\n"
    received = await receive_multipart(
        _pieces(body),
        expiring,
        content_type="multipart/form-data; boundary=b0",
        content_length=str(len(body)),
    )
    assert expires_as_configured(received.file().info)

    async def raw(store: AsyncFileStore, payload: bytes) -> Any:
        got = await receive_raw(
            _pieces(payload), store, filename="r.bin", content_type=None, content_length=None
        )
        return got.file().info

    first, second = await raw(sharing, data), await raw(sharing, data)
    assert first.scope == SCOPE and second.file_id == first.file_id
    for store in (expiring, sharing):
        with pytest.raises(FileTooLarge):
            await raw(store, b"x" * (LIMIT + 1))
        assert await counts(store) == (1, 1)
