# Generated from tests/_async/test_store_defaults.py by scripts/unasync.py: do not edit.
"""A store's defaults (``StoreDefaults``: expiry, dedup scope, limits) hold for every way a
file comes in: ``put``, ``open_upload``, a field's ``put`` and ``new_file``, an image field,
the intake the web adapters share, a tus completion and a tus concatenation. Expiry and
deduplication are shown with two configurations: a file deduplicates only to one that lives
at least as long as asked."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.image_field import ImageField
from gridfield._sync.intake import receive_multipart, receive_raw
from gridfield._sync.resumable import ResumableStore
from gridfield._sync.store import FileStore
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


def counts(store: FileStore) -> tuple[int, int]:
    return (
        store.files.count_documents({}),
        store.chunks.count_documents({}),
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
        FileStore(object(), defaults=EXPIRING, chunk_size=1024)


@pytest.mark.parametrize("how", ["put", "open_upload"])
def test_store_uploads_honour_the_defaults(sync_db: Any, how: str) -> None:
    expiring = FileStore(sync_db, "expiring", defaults=EXPIRING)
    sharing = FileStore(sync_db, "sharing", defaults=SHARING)
    data = b"same bytes" * 100

    def store_it(store: FileStore, payload: bytes) -> Any:
        if how == "put":
            return store.put(payload, filename="a.bin")
        with store.open_upload(filename="a.bin") as upload:
            upload.write(payload)
        return upload.info

    info = store_it(expiring, data)
    assert expires_as_configured(info) and info.chunk_size == 1024
    first = store_it(sharing, data)
    assert first.scope == SCOPE and first.expire_at is None
    second = store_it(sharing, data)
    assert second.file_id == first.file_id  # deduplicated in the store's scope
    for store in (expiring, sharing):
        with pytest.raises(FileTooLarge):
            store_it(store, b"x" * (LIMIT + 1))
        assert counts(store) == (1, 1)


def test_field_put_and_new_file_honour_the_fields_defaults(db: Any) -> None:
    data = b"cover bytes" * 50
    one = Album(name="one")
    one.cover.put(data, filename="c.bin")
    one.shared.put(data, filename="c.bin")
    one.save()
    two = Album(name="two")
    with two.cover.new_file(filename="c.bin") as upload:
        upload.write(data)
    with two.shared.new_file(filename="c.bin") as upload:
        upload.write(data)
    two.save()
    for album in (one, two):
        assert expires_as_configured(album.cover.load())
    info_one, info_two = one.shared.load(), two.shared.load()
    assert info_one.scope == SCOPE and info_one.expire_at is None
    assert info_two.file_id == info_one.file_id  # put and new_file deduplicate
    three = Album(name="three")
    with pytest.raises(FileTooLarge):
        three.cover.put(b"x" * (LIMIT + 1))
    with pytest.raises(FileTooLarge):
        with three.cover.new_file() as upload:
            upload.write(b"x" * (LIMIT + 1))
    assert db["albums.files"].count_documents({}) == 3


def test_the_image_field_honours_the_fields_defaults(db: Any) -> None:
    one, two = Album(name="one"), Album(name="two")
    one.picture.put(picture_bytes(), filename="p.png")
    assert expires_as_configured(one.picture.load())
    one.shared_picture.put(picture_bytes(), filename="p.png")
    two.shared_picture.put(picture_bytes(), filename="p.png")
    info_one, info_two = one.shared_picture.load(), two.shared_picture.load()
    assert info_one.scope == SCOPE
    assert info_two.file_id == info_one.file_id
    with pytest.raises(FileTooLarge):
        Album(name="three").picture.put(b"\x89PNG" + b"x" * LIMIT)
    assert db["pictures.files"].count_documents({}) == 2


def _body(data: bytes) -> Iterator[bytes]:
    yield data


def _upload(resumable: ResumableStore, data: bytes, *, partial: bool = False) -> Any:
    concat = Concat(partial=True) if partial else None
    state = resumable.create(
        Creation(len(data), {}, None, concat=concat), FileNaming("t.bin", None, {})
    )
    return resumable.patch(state.upload_id, PatchRequest(0, None, None, len(data)), _body(data))


def test_a_tus_completion_honours_the_stores_defaults(sync_db: Any) -> None:
    expiring = ResumableStore(FileStore(sync_db, "expiring", defaults=EXPIRING))
    data = b"tus bytes" * 300
    done = _upload(expiring, data)
    assert expires_as_configured(expiring.store.get_info(done.file_id))
    store = FileStore(sync_db, defaults=SHARING)
    resumable = ResumableStore(store)
    first = _upload(resumable, data)
    assert (store.get_info(first.file_id)).scope == SCOPE
    second = _upload(resumable, data)
    assert second.complete and second.file_id == first.file_id  # deduplicated
    assert (resumable.get(second.upload_id)).file_id == first.file_id
    assert store.get(second.file_id) == data
    assert resumable.options.max_size == LIMIT  # advertised as Tus-Max-Size
    with pytest.raises(TusError) as refused:
        resumable.create(Creation(LIMIT + 1, {}, None), FileNaming("big.bin", None, {}))
    assert refused.value.status == 413
    assert counts(store) == (1, 3)


def test_the_stores_content_types_hold_for_tus_uploads(sync_db: Any) -> None:
    store = FileStore(sync_db, limits=UploadLimits(content_types=("image/*",)))
    resumable = ResumableStore(store)
    with pytest.raises(TusError) as refused:
        resumable.create(Creation(10, {}, None), FileNaming("a.txt", "text/plain", {}))
    assert refused.value.status == 415
    assert resumable.registry.count_documents({}) == 0


def test_a_tus_concatenation_honours_the_stores_defaults(sync_db: Any) -> None:
    store = FileStore(sync_db, defaults=SHARING)
    resumable = ResumableStore(store)
    halves = (b"a" * 1024, b"b" * 1000)
    plain = store.put(b"".join(halves), filename="already.bin")
    parts = [_upload(resumable, half, partial=True) for half in halves]
    ids = tuple(p.upload_id for p in parts)
    header = "final;" + " ".join(f"/files/{i}" for i in ids)
    final = resumable.concatenate(ids, header, FileNaming("joined.bin", None, {}))
    assert final.complete and final.file_id == plain.file_id  # deduplicated to the stored one
    assert counts(store) == (1, 2)  # the joined chunks went
    expiring = ResumableStore(FileStore(sync_db, "expiring", defaults=EXPIRING))
    other = [_upload(expiring, half, partial=True) for half in (b"c" * 1024, b"d")]
    ids = tuple(p.upload_id for p in other)
    header = "final;" + " ".join(f"/files/{i}" for i in ids)
    joined = expiring.concatenate(ids, header, FileNaming("cd.bin", None, {}))
    assert expires_as_configured(expiring.store.get_info(joined.file_id))
    big = [_upload(resumable, b"e" * 3072, partial=True) for _ in range(2)]
    ids = tuple(p.upload_id for p in big)
    with pytest.raises(TusError) as refused:
        resumable.concatenate(ids, "final;x", FileNaming("big.bin", None, {}))
    assert refused.value.status == 413


def _pieces(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 100):
        yield body[start : start + 100]


def test_the_intake_behind_every_web_adapter_honours_the_stores_defaults(
    sync_db: Any,
) -> None:
    expiring = FileStore(sync_db, "expiring", defaults=EXPIRING)
    sharing = FileStore(sync_db, "sharing", defaults=SHARING)
    data = b"intake bytes" * 50
    head = 'Content-Disposition: form-data; name="f"; filename="a.bin"'
    body = b"--b0\r\n" + head.encode() + b"\r\n\r\n" + data + b"\r\n--b0--\r\n"
    received = receive_multipart(
        _pieces(body),
        expiring,
        content_type="multipart/form-data; boundary=b0",
        content_length=str(len(body)),
    )
    assert expires_as_configured(received.file().info)

    def raw(store: FileStore, payload: bytes) -> Any:
        got = receive_raw(
            _pieces(payload), store, filename="r.bin", content_type=None, content_length=None
        )
        return got.file().info

    first, second = raw(sharing, data), raw(sharing, data)
    assert first.scope == SCOPE and second.file_id == first.file_id
    for store in (expiring, sharing):
        with pytest.raises(FileTooLarge):
            raw(store, b"x" * (LIMIT + 1))
        assert counts(store) == (1, 1)
