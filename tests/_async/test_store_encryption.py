"""Files encrypted on the client: every way of reading gives the clear copy's bytes, no stored
chunk holds plaintext, other readers refuse, every tampering is a CorruptFile, a missing or
wrong key names its id, and key rotation rewrites no chunk."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from typing import Any

import gridfs
import pytest
from bson.binary import STANDARD
from bson.codec_options import CodecOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient
from pymongo.encryption import ClientEncryption

from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield._async.intake import receive_raw
from gridfield._async.serving import Served, serve, stream_body
from gridfield._async.store import AsyncFileStore
from gridfield.core.encryption import CHUNK_OVERHEAD, Encryption, KeyUnavailable, LocalKeys
from gridfield.core.errors import CorruptFile
from gridfield.core.http import ServeOptions, entity_tag
from gridfield.key_vault import KeyVaultKeys
from gridfield.plain_fields import StringField

CHUNK = 1000
KEK = os.urandom(32)
KEYS = Encryption(LocalKeys({"k1": KEK}))
HYPOTHESIS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def windows(data: bytes, size: int = 16) -> set[bytes]:
    return {data[i : i + size] for i in range(len(data) - size + 1)}


async def stored_chunks(db: Any, file_id: Any) -> list[dict[str, Any]]:
    return [doc async for doc in db["fs.chunks"].find({"files_id": file_id}).sort("n", 1)]


@pytest.fixture
def stores(async_db: Any) -> tuple[AsyncFileStore, AsyncFileStore]:
    """An encrypting store and a plain one over the same bucket."""
    return AsyncFileStore(async_db, chunk_size=CHUNK, encryption=KEYS), AsyncFileStore(
        async_db, chunk_size=CHUNK
    )


async def test_every_read_of_an_encrypted_file_gives_the_clear_copys_bytes(
    stores: tuple[AsyncFileStore, AsyncFileStore],
) -> None:
    secret, plain = stores
    data = b"".join(b"line %d of the record\n" % i for i in range(400))  # 9 chunks and a bit
    sealed = await secret.put(data, filename="r.txt")
    clear = await plain.put(data, filename="r.txt")
    assert sealed.encrypted and not clear.encrypted
    assert sealed.length == clear.length == len(data) and sealed.sha256 is None
    assert await secret.get(sealed.file_id) == await plain.get(clear.file_id) == data
    for start, end in ((0, 1), (999, 1001), (1500, 4321), (8999, None), (len(data) - 3, None)):
        assert await secret.read_range(sealed.file_id, start, end) == data[start:end]
    async with await secret.open_download(sealed.file_id) as stream:
        stream.seek(2500)
        assert await stream.read(1000) == data[2500:3500]
        assert await stream.readline() == data[3500 : data.index(b"\n", 3500) + 1]
        assert b"".join([p async for p in stream.iter_range(10, 5010)]) == data[10:5010]
        stream.seek(0)
        assert b"".join([piece async for piece in stream]) == data
    async with await secret.open_download(sealed.file_id, eager=True) as stream:
        assert await stream.read() == data


async def test_no_stored_chunk_holds_a_16_byte_window_of_the_plaintext(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, _ = stores
    data = payload(20 * CHUNK + 17, seed=3)
    info = await secret.put(data, metadata={"owner": "ann"})
    chunks = await stored_chunks(async_db, info.file_id)
    assert [len(c["data"]) for c in chunks] == [CHUNK + CHUNK_OVERHEAD] * 20 + [17 + CHUNK_OVERHEAD]
    stored = windows(b"".join(c["data"] for c in chunks))
    assert not stored & windows(data)
    doc = await async_db["fs.files"].find_one({"_id": info.file_id})
    assert (doc["length"], doc["chunkSize"], doc["metadata"]) == (
        len(data),
        CHUNK,
        {"owner": "ann"},
    )
    record = doc["gridfield"]["encryption"]
    assert "sha256" not in doc["gridfield"]  # no digest of the plaintext in clear
    assert set(record) == {"v", "alg", "kek", "keyId", "wrappedKey", "seal"}
    assert (record["alg"], record["kek"], record["keyId"]) == ("AES-256-GCM", "local", "k1")
    assert KEK not in bytes(record["wrappedKey"])


async def test_pymongo_gridfs_refuses_an_encrypted_file_rather_than_hand_out_ciphertext(
    async_db: Any, mongo_uri: str, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, _ = stores
    info = await secret.put(payload(3 * CHUNK + 5), filename="x.bin")
    small = await secret.put(b"tiny")
    empty = await secret.put(b"")
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        bucket = gridfs.GridFSBucket(client[async_db.name])
        for file_id in (info.file_id, small.file_id):
            with pytest.raises(gridfs.errors.CorruptGridFile, match="truncated chunk #0"):
                bucket.open_download_stream(file_id).read()
            grid_out = bucket.open_download_stream(file_id)
            grid_out.seek(2)
            with pytest.raises(gridfs.errors.CorruptGridFile):
                grid_out.read(1)
        # An empty file has no chunk: read as empty, which is what it holds.
        assert bucket.open_download_stream(empty.file_id).read() == b""
    assert await secret.get(empty.file_id) == b""


async def tamper(db: Any, file_id: Any, n: int, **changes: Any) -> None:
    await db["fs.chunks"].update_one({"files_id": file_id, "n": n}, {"$set": changes})


async def test_every_tampering_is_a_corrupt_file_never_other_bytes(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, _ = stores
    data = payload(5 * CHUNK + 300, seed=5)

    async def fresh() -> tuple[Any, list[dict[str, Any]]]:
        info = await secret.put(data)
        return info.file_id, await stored_chunks(async_db, info.file_id)

    # swapped: chunks 1 and 2 trade places
    file_id, chunks = await fresh()
    await tamper(async_db, file_id, 1, data=chunks[2]["data"])
    await tamper(async_db, file_id, 2, data=chunks[1]["data"])
    with pytest.raises(CorruptFile, match="chunk 1 fails authentication"):
        await secret.get(file_id)
    with pytest.raises(CorruptFile, match="chunk 2 fails authentication"):
        await secret.read_range(file_id, 2 * CHUNK + 5, 2 * CHUNK + 9)
    # duplicated: chunk 3 stored again in place of chunk 4
    file_id, chunks = await fresh()
    await tamper(async_db, file_id, 4, data=chunks[3]["data"])
    with pytest.raises(CorruptFile, match="chunk 4 fails authentication"):
        await secret.read_range(file_id, 4 * CHUNK, 4 * CHUNK + 10)
    # moved: chunk 0 of another encrypted file, the same size, the same n
    _, other_chunks = await fresh()
    file_id, chunks = await fresh()
    await tamper(async_db, file_id, 0, data=other_chunks[0]["data"])
    with pytest.raises(CorruptFile, match="chunk 0 fails authentication"):
        await secret.read_range(file_id, 0, 10)
    # truncated: the last chunk cut short, by a byte or by its whole plaintext
    for cut in (1, 300):
        file_id, chunks = await fresh()
        await tamper(async_db, file_id, 5, data=chunks[5]["data"][:-cut])
        with pytest.raises(CorruptFile, match="chunk 5"):
            await secret.get(file_id)
    # truncated: the last chunk removed and the length made to agree
    file_id, _ = await fresh()
    await async_db["fs.chunks"].delete_one({"files_id": file_id, "n": 5})
    await async_db["fs.files"].update_one({"_id": file_id}, {"$set": {"length": 5 * CHUNK}})
    with pytest.raises(CorruptFile, match="files document was altered"):
        await secret.get(file_id)
    with pytest.raises(CorruptFile, match="files document was altered"):
        await secret.read_range(file_id, 0, 10)
    # a bit flipped anywhere in a chunk
    file_id, chunks = await fresh()
    flipped = bytearray(chunks[2]["data"])
    flipped[500] ^= 0x40
    await tamper(async_db, file_id, 2, data=bytes(flipped))
    with pytest.raises(CorruptFile, match="chunk 2 fails authentication"):
        await secret.get(file_id)
    # the record stripped: the chunk sizes no longer fit a plain file either
    file_id, _ = await fresh()
    await async_db["fs.files"].update_one({"_id": file_id}, {"$unset": {"gridfield": ""}})
    with pytest.raises(CorruptFile, match="chunk 0 is 1028 bytes, expected 1000"):
        await secret.get(file_id)


async def test_the_bucket_check_takes_encrypted_chunks_and_finds_a_cut_one(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, plain = stores
    sound = await secret.put(payload(3 * CHUNK + 7, seed=23))
    cut = await secret.put(payload(2 * CHUNK + 7, seed=29))
    report = await plain.check()  # sizes only: no key needed
    assert report.clean and report.files_checked == 2
    last = (await stored_chunks(async_db, cut.file_id))[-1]
    await tamper(async_db, cut.file_id, 2, data=last["data"][:-1])
    report = await plain.check()
    assert [d.file_id for d in report.damaged_files] == [cut.file_id]
    assert sound.file_id not in [d.file_id for d in report.damaged_files]


async def test_a_missing_or_wrong_key_is_an_error_naming_the_key_id(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, plain = stores
    info = await secret.put(b"health record " * 100)
    with pytest.raises(KeyUnavailable, match=r"local key 'k1'.*this store has no keys"):
        await plain.get(info.file_id)
    elsewhere = AsyncFileStore(async_db, encryption=Encryption(LocalKeys({"k2": os.urandom(32)})))
    with pytest.raises(KeyUnavailable, match=r"local key 'k1', which is not among.*'k2'"):
        await elsewhere.read_range(info.file_id, 0, 5)
    impostor = AsyncFileStore(async_db, encryption=Encryption(LocalKeys({"k1": os.urandom(32)})))
    with pytest.raises(KeyUnavailable, match="local key 'k1' does not unwrap"):
        await impostor.get(info.file_id)
    assert (await plain.get_info(info.file_id)).encrypted  # the description stays readable


async def test_rotation_rewraps_data_keys_and_rewrites_no_chunk(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, plain = stores
    data = payload(2500, seed=9)
    ids = [(await secret.put(data)).file_id for _ in range(3)]
    clear = await plain.put(data)
    before = [await stored_chunks(async_db, i) for i in ids]
    new_kek = os.urandom(32)
    both = AsyncFileStore(
        async_db, encryption=Encryption(LocalKeys({"k1": KEK, "k2": new_kek}, current="k2"))
    )
    assert await both.rewrap_keys() == 3
    assert await both.rewrap_keys() == 0  # done: nothing left under k1
    assert [await stored_chunks(async_db, i) for i in ids] == before
    only_new = AsyncFileStore(async_db, encryption=Encryption(LocalKeys({"k2": new_kek})))
    for file_id in ids:
        assert await only_new.get(file_id) == data
    assert await only_new.get(clear.file_id) == data  # a clear file reads as ever
    with pytest.raises(KeyUnavailable, match="'k2'"):
        await secret.get(ids[0])
    with pytest.raises(ValueError, match="needs a store with encryption"):
        await plain.rewrap_keys()


async def test_encryption_options_and_their_refusals(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, plain = stores
    assert not (await secret.put(b"public", encrypt=False)).encrypted
    assert (await secret.put(b"a", encrypt=True)).encrypted
    with pytest.raises(ValueError, match="encrypt=True needs a store with keys"):
        await plain.put(b"x", encrypt=True)
    with pytest.raises(ValueError, match="never deduplicated"):
        await secret.put(b"x", dedup=True, scope="t")
    # A store deduplicating by default stores each encrypted file on its own.
    both = AsyncFileStore(async_db, encryption=KEYS, dedup_scope="tenant")
    first, second = await both.put(b"same bytes"), await both.put(b"same bytes")
    assert first.file_id != second.file_id and first.sha256 is None
    counts = (
        await async_db["fs.files"].count_documents({}),
        await async_db["fs.chunks"].count_documents({}),
    )
    with pytest.raises(ValueError, match="never deduplicated"):
        await both.put(b"same bytes", dedup=True)
    assert counts == (
        await async_db["fs.files"].count_documents({}),
        await async_db["fs.chunks"].count_documents({}),
    )


async def test_a_streamed_upload_is_encrypted_as_a_put_is(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, _ = stores
    data = payload(7 * CHUNK, seed=11)  # whole chunks: the last one is known only at close
    upload = secret.open_upload(filename="s.bin")
    for start in range(0, len(data), 333):
        await upload.write(data[start : start + 333])
    info = await upload.close()
    assert info.encrypted and await secret.get(info.file_id) == data
    stored = b"".join(c["data"] for c in await stored_chunks(async_db, info.file_id))
    assert not windows(stored) & windows(data)
    # aborted: nothing of it stays
    upload = secret.open_upload()
    await upload.write(data)
    await upload.abort()
    assert await async_db["fs.chunks"].count_documents({"files_id": upload.file_id}) == 0


async def body_of(served: Served) -> bytes:
    return b"".join([piece async for piece in stream_body(served)])


async def test_serving_an_encrypted_file_answers_ranges_304_and_etags(
    stores: tuple[AsyncFileStore, AsyncFileStore],
) -> None:
    secret, plain = stores
    data = payload(12 * CHUNK + 11, seed=13)
    info = await secret.put(data, content_type="video/mp4")
    clear = await plain.put(data, content_type="video/mp4")
    options = ServeOptions()
    served = await serve(secret, info.file_id, "GET", {}, options)
    assert (served.plan.status, await body_of(served)) == (200, data)
    for asked in ("bytes=0-0", "bytes=999-2500", "bytes=-700", "bytes=11990-"):
        ours = await serve(secret, info.file_id, "GET", {"range": asked}, options)
        theirs = await serve(plain, clear.file_id, "GET", {"range": asked}, options)
        assert ours.plan.status == theirs.plan.status == 206
        assert await body_of(ours) == await body_of(theirs)
    tag = entity_tag(info)
    again = await serve(secret, info.file_id, "GET", {"if-none-match": tag}, options)
    assert (again.plan.status, await body_of(again)) == (304, b"")
    assert entity_tag(info) != entity_tag(await secret.get_info(clear.file_id))
    # Every other kind of request: the same answer as the clear copy's, its validators aside.
    cases: list[tuple[str, dict[str, str]]] = [
        ("HEAD", {}),
        ("HEAD", {"range": "bytes=5-9"}),
        ("GET", {"range": "bytes=0-9,5000-5099,-3"}),  # multipart/byteranges
        ("GET", {"range": "bytes=999999-"}),  # 416
        ("GET", {"range": "bytes=10-20", "if-range": "VALIDATOR"}),
        ("GET", {"range": "bytes=10-20", "if-range": '"other"'}),  # the whole file
        ("GET", {"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"}),
        ("GET", {"if-match": '"other"'}),  # 412
        ("GET", {"if-none-match": "*"}),
    ]
    clear_tag = entity_tag(await plain.get_info(clear.file_id))
    for method, headers in cases:
        ours = await serve(
            secret,
            info.file_id,
            method,
            {k: tag if v == "VALIDATOR" else v for k, v in headers.items()},
            options,
        )
        theirs = await serve(
            plain,
            clear.file_id,
            method,
            {k: clear_tag if v == "VALIDATOR" else v for k, v in headers.items()},
            options,
        )
        assert ours.plan.status == theirs.plan.status, (method, headers)
        mine, other = await body_of(ours), await body_of(theirs)
        kind, other_kind = ours.plan.header("content-type"), theirs.plan.header("content-type")
        if kind and other_kind and kind.startswith("multipart/byteranges"):
            boundary = kind.split("boundary=")[1].encode()
            other = other.replace(other_kind.split("boundary=")[1].encode(), boundary)
        assert mine == other, (method, headers)


async def body(data: bytes, piece: int = 70_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


async def test_a_received_upload_into_an_encrypting_store_is_encrypted(
    async_db: Any, stores: tuple[AsyncFileStore, AsyncFileStore]
) -> None:
    secret, _ = stores
    data = payload(250_000, seed=19)
    received = await receive_raw(
        body(data),
        secret,
        filename="scan.png",
        content_type="image/png",
        content_length=str(len(data)),
    )
    (file,) = received.files
    assert file.info.encrypted
    assert await secret.get(file.info.file_id) == data
    stored = b"".join(c["data"] for c in await stored_chunks(async_db, file.info.file_id))
    assert not windows(stored) & windows(data)


class Record(Document):
    name = StringField()
    scan = FileField(encryption=KEYS, chunk_size=CHUNK)
    meta = {"collection": "encrypted_records"}


async def test_a_file_field_with_encryption_stores_and_reads_encrypted(
    async_db: Any, connected: Any
) -> None:
    connected()
    record = Record(name="ann")
    data = payload(3 * CHUNK + 1, seed=17)
    await record.scan.put(data, content_type="image/png")
    await record.save()
    loaded = await Record.objects(name="ann").first()
    assert loaded is not None and await loaded.scan.read() == data
    raw = await async_db["fs.files"].find_one({"_id": record.scan.grid_id})
    assert raw["gridfield"]["encryption"]["keyId"] == "k1"


@HYPOTHESIS
@given(
    size=st.integers(0, 3000),
    chunk_size=st.sampled_from([1, 16, 100, 1024]),
    ranges=st.lists(st.tuples(st.integers(0, 3100), st.none() | st.integers(0, 3100)), max_size=4),
    algorithm=st.sampled_from(["AES-256-GCM", "ChaCha20-Poly1305"]),
)
async def test_any_range_of_an_encrypted_file_equals_the_clear_bytes(
    async_db: Any,
    size: int,
    chunk_size: int,
    ranges: list[tuple[int, int | None]],
    algorithm: str,
) -> None:
    data = payload(size, seed=size)
    store = AsyncFileStore(
        async_db, chunk_size=chunk_size, encryption=Encryption(KEYS.keys, algorithm)
    )
    info = await store.put(data)
    for start, end in ranges:
        assert await store.read_range(info.file_id, start, end) == data[start:end]
    assert await store.get(info.file_id) == data


async def test_data_keys_wrapped_through_a_key_vault(
    async_db: Any, mongo_uri: str, key_vault: tuple[ClientEncryption[Any], Any]
) -> None:
    vault, key_id = key_vault
    db_name = async_db.name
    store = AsyncFileStore(async_db, encryption=Encryption(KeyVaultKeys(vault, key_id)))
    data = payload(5000, seed=21)
    info = await store.put(data)
    raw = await async_db["fs.files"].find_one({"_id": info.file_id})
    assert (raw["gridfield"]["encryption"]["kek"], raw["gridfield"]["encryption"]["keyId"]) == (
        "keyVault",
        key_id,
    )
    assert await store.read_range(info.file_id, 100, 4000) == data[100:4000]
    by_name = AsyncFileStore(
        async_db, encryption=Encryption(KeyVaultKeys(vault, key_alt_name="files"))
    )
    assert await by_name.get(info.file_id) == data
    # The master key rotated in the vault: the files are untouched and still open.
    vault.rewrap_many_data_key({}, provider="local")
    assert await store.get(info.file_id) == data
    # Another vault's master key cannot unwrap: the error names the key.
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        stranger = ClientEncryption(
            {"local": {"key": os.urandom(96)}},
            f"{db_name}.keyvault",
            client,
            CodecOptions(uuid_representation=STANDARD),
        )
        lost = AsyncFileStore(async_db, encryption=Encryption(KeyVaultKeys(stranger, key_id)))
        with pytest.raises(KeyUnavailable, match=r"key vault key .* does not unwrap"):
            await lost.get(info.file_id)
        stranger.close()


async def test_key_vault_keys_refuse_what_is_not_a_key_choice(
    key_vault: tuple[ClientEncryption[Any], Any],
) -> None:
    vault, key_id = key_vault
    with pytest.raises(ValueError, match="key_id or key_alt_name"):
        KeyVaultKeys(vault)
    with pytest.raises(ValueError, match="key_id or key_alt_name"):
        KeyVaultKeys(vault, key_id, key_alt_name="files")
    with pytest.raises(TypeError, match="ClientEncryption"):
        KeyVaultKeys(object(), key_id)
