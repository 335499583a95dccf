# Generated from tests/_async/test_resumable_encryption.py by scripts/unasync.py: do not edit.
"""Resumable (tus) uploads into a store with encryption, on a real server: the data key made
at creation and kept wrapped in the registry, chunks and the kept tail sealed across PATCHes
and processes, a resumed upload after a cut or a dead writer, joins that re-seal each part,
and every tampering refused."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import bson
import gridfs
import pytest
from pymongo import MongoClient
from pymongo.encryption import ClientEncryption

from gridfield._sync.resumable import ResumableStore
from gridfield._sync.store import FileStore
from gridfield.core.encryption import CHUNK_OVERHEAD, Encryption, KeyUnavailable, LocalKeys
from gridfield.core.errors import CorruptFile
from gridfield.core.sweeping import SweepTiming
from gridfield.core.tus import (
    BodyCut,
    Concat,
    Creation,
    FileNaming,
    PatchRequest,
    TusError,
    TusOptions,
)
from gridfield.key_vault import KeyVaultKeys
from tests.otel_memory import SPANS, install

CHUNK = 1000
KEK = os.urandom(32)
KEYS = Encryption(LocalKeys({"k1": KEK}))
NAMING = FileNaming("scan.bin", "application/octet-stream", {"k": "v"})


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def windows(data: bytes, size: int = 16) -> set[bytes]:
    return {data[i : i + size] for i in range(len(data) - size + 1)}


def _body(*pieces: bytes, cut: bool = False) -> Iterator[bytes]:
    for piece in pieces:
        yield piece
    if cut:
        raise BodyCut


def _sized(offset: int, data: bytes) -> PatchRequest:
    return PatchRequest(offset, None, None, len(data))


def _new(resumable: ResumableStore, length: int | None, partial: bool = False) -> Any:
    concat = Concat(partial=True) if partial else None
    return resumable.create(Creation(length, {}, None, concat=concat), NAMING)


def _raw(sync_db: Any) -> bytes:
    """Every stored chunk and registry document, encoded as the server holds them."""
    docs = [doc for doc in sync_db["fs.chunks"].find()]
    docs += [doc for doc in sync_db["fs.resumable"].find()]
    return b"".join(bson.encode(doc) for doc in docs)


def _pymongo_read(mongo_uri: str, db_name: str, file_id: Any) -> bytes:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        return gridfs.GridFSBucket(client[db_name]).open_download_stream(file_id).read()


@pytest.fixture
def secret(sync_db: Any) -> FileStore:
    return FileStore(sync_db, chunk_size=CHUNK, encryption=KEYS)


def test_an_encrypted_upload_in_several_patches_reads_back_equal(
    sync_db: Any, mongo_uri: str, secret: FileStore
) -> None:
    resumable = ResumableStore(secret)
    data = payload(5321, seed=1)
    state = _new(resumable, len(data))
    entry = resumable.registry.find_one({"_id": state.upload_id})
    key = entry["file_key"]
    assert (key["alg"], key["kek"], key["keyId"]) == ("AES-256-GCM", "local", "k1")
    assert KEK not in bytes(key["wrappedKey"])
    offset = 0
    seen = b""
    for size in (1, 998, 1, 1500, 333):  # boundaries off the chunk size on purpose
        piece = data[offset : offset + size]
        # Each PATCH served by a store of its own, as by another process: the key comes from
        # the registry, the running SHA-256 from nowhere.
        state = ResumableStore(secret).patch(state.upload_id, _sized(offset, piece), _body(piece))
        offset += size
        assert state.offset == offset and not state.complete
        entry = resumable.registry.find_one({"_id": state.upload_id})
        kept = offset % CHUNK
        assert len(entry["tail"]) == (kept + CHUNK_OVERHEAD if kept else 0)
        assert secret.files.count_documents({}) == 0  # nothing visible yet
        assert secret.chunks.count_documents({}) == offset // CHUNK
        seen += _raw(sync_db)
    rest = data[offset:]
    state = resumable.patch(state.upload_id, _sized(offset, rest), _body(rest[:7], rest[7:]))
    assert state.complete
    seen += _raw(sync_db)
    assert not windows(seen) & windows(data)  # neither a chunk nor a registry entry

    info = secret.get_info(state.file_id)
    assert info.encrypted and info.sha256 is None and info.length == len(data)
    assert info.filename == "scan.bin" and info.metadata["k"] == "v"
    doc = secret.files.find_one({"_id": state.file_id})
    assert "sha256" not in doc["gridfield"]
    assert set(doc["gridfield"]["encryption"]) == {"v", "alg", "kek", "keyId", "wrappedKey", "seal"}
    assert doc["gridfield"]["encryption"]["wrappedKey"] == key["wrappedKey"]
    assert secret.get(state.file_id) == data
    assert secret.read_range(state.file_id, 990, 2010) == data[990:2010]
    report = secret.check()
    assert report.clean and report.files_checked == 1, report
    with pytest.raises(gridfs.errors.CorruptGridFile, match="truncated chunk #0"):
        _pymongo_read(mongo_uri, sync_db.name, state.file_id)
    # Key rotation re-wraps it as any encrypted file, rewriting no chunk.
    new_kek = os.urandom(32)
    rotating = FileStore(sync_db, encryption=Encryption(LocalKeys({"k1": KEK, "k2": new_kek})))
    assert rotating.rewrap_keys() == 1
    after = FileStore(sync_db, encryption=Encryption(LocalKeys({"k2": new_kek})))
    assert after.get(state.file_id) == data


def test_a_cut_patch_resumes_under_the_same_key(sync_db: Any, secret: FileStore) -> None:
    resumable = ResumableStore(secret)
    data = payload(4000, seed=2)
    state = _new(resumable, len(data))
    state = resumable.patch(
        state.upload_id, _sized(0, data), _body(data[:1500], data[1500:2345], cut=True)
    )
    assert state.offset == 2345
    entry = resumable.registry.find_one({"_id": state.upload_id})
    assert len(entry["tail"]) == 345 + CHUNK_OVERHEAD
    assert not windows(_raw(sync_db)) & windows(data)
    rest = data[2345:]
    state = ResumableStore(secret).patch(state.upload_id, _sized(2345, rest), _body(rest))
    assert state.complete and secret.get(state.file_id) == data


def test_chunks_written_again_after_a_dead_writer_get_fresh_nonces(
    sync_db: Any, secret: FileStore
) -> None:
    resumable = ResumableStore(secret, TusOptions(lease=timedelta(seconds=30)))
    data = payload(3500, seed=3)
    state = _new(resumable, len(data))
    first = resumable.patch(state.upload_id, _sized(0, data[:2500]), _body(data[:2500]))
    before = {doc["n"]: doc["data"] for doc in secret.chunks.find()}
    assert sorted(before) == [0, 1]
    # What a writer that died mid-PATCH leaves: chunks its recorded offset does not count,
    # and a lease that ran out. The next PATCH removes them and writes those chunks again.
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    resumable.registry.update_one(
        {"_id": state.upload_id},
        {"$set": {"offset": 0, "tail": b"", "lease": {"token": 1, "until": past}}},
    )
    state = resumable.patch(state.upload_id, _sized(0, data), _body(data))
    assert state.complete and first.offset == 2500
    again = {doc["n"]: doc["data"] for doc in secret.chunks.find()}
    for n in (0, 1):
        # The same bytes at the same place, under the same key: never the same nonce.
        assert again[n][:4] == before[n][:4] == n.to_bytes(4, "big")
        assert again[n][:12] != before[n][:12] and again[n] != before[n]
    assert secret.get(state.file_id) == data


def test_a_tampered_tail_or_chunk_is_refused(sync_db: Any, secret: FileStore) -> None:
    resumable = ResumableStore(secret)
    data = payload(2500, seed=4)
    state = _new(resumable, len(data))
    other = _new(resumable, len(data))
    state = resumable.patch(state.upload_id, _sized(0, data[:1500]), _body(data[:1500]))
    other = resumable.patch(other.upload_id, _sized(0, data[:1500]), _body(data[:1500]))
    entry = resumable.registry.find_one({"_id": state.upload_id})
    theirs = resumable.registry.find_one({"_id": other.upload_id})
    tail = bytes(entry["tail"])
    altered = tail[:-1] + bytes([tail[-1] ^ 1])
    rest = data[1500:]
    # An altered tail, the tail of another upload at the same offset, or its own tail moved
    # to another offset: a 500 caused by CorruptFile, and the upload as it was.
    for stored, offset in ((altered, 1500), (bytes(theirs["tail"]), 1500), (tail, 500)):
        resumable.registry.update_one(
            {"_id": state.upload_id}, {"$set": {"tail": stored, "offset": offset}}
        )
        piece = data[offset:]
        with pytest.raises(TusError, match="partial chunk kept at offset") as err:
            resumable.patch(state.upload_id, _sized(offset, piece), _body(piece))
        assert err.value.status == 500 and isinstance(err.value.__cause__, CorruptFile)
        after = resumable.registry.find_one({"_id": state.upload_id})
        assert (after["offset"], after["tail"], after.get("lease")) == (offset, stored, None)
        assert secret.chunks.count_documents({"files_id": state.file_id}) == 1
    resumable.registry.update_one(
        {"_id": state.upload_id}, {"$set": {"tail": tail, "offset": 1500}}
    )
    state = resumable.patch(state.upload_id, _sized(1500, rest), _body(rest))
    assert secret.get(state.file_id) == data
    # A stored chunk altered, or swapped with another encrypted upload's: CorruptFile.
    chunk = secret.chunks.find_one({"files_id": state.file_id, "n": 1})
    flipped = bytes(chunk["data"][:-1]) + bytes([chunk["data"][-1] ^ 1])
    secret.chunks.update_one({"_id": chunk["_id"]}, {"$set": {"data": flipped}})
    with pytest.raises(CorruptFile, match="chunk 1 fails authentication"):
        secret.get(state.file_id)
    secret.chunks.update_one({"_id": chunk["_id"]}, {"$set": {"data": chunk["data"]}})
    foreign = secret.chunks.find_one({"files_id": other.file_id, "n": 0})
    secret.chunks.update_one(
        {"files_id": state.file_id, "n": 0}, {"$set": {"data": foreign["data"]}}
    )
    with pytest.raises(CorruptFile, match="chunk 0 fails authentication"):
        secret.get(state.file_id)


def test_a_store_without_the_key_refuses_to_go_on_and_changes_nothing(
    sync_db: Any, secret: FileStore
) -> None:
    data = payload(1800, seed=5)
    state = _new(ResumableStore(secret), len(data))
    state = ResumableStore(secret).patch(
        state.upload_id, _sized(0, data[:1200]), _body(data[:1200])
    )
    for keys in (None, Encryption(LocalKeys({"k9": os.urandom(32)}))):
        elsewhere = ResumableStore(FileStore(sync_db, chunk_size=CHUNK, encryption=keys))
        assert (elsewhere.get(state.upload_id)).offset == 1200  # a HEAD needs no key
        with pytest.raises(TusError, match="local key 'k1'") as err:
            elsewhere.patch(state.upload_id, _sized(1200, data[1200:]), _body(data[1200:]))
        assert err.value.status == 500 and isinstance(err.value.__cause__, KeyUnavailable)
        entry = elsewhere.registry.find_one({"_id": state.upload_id})
        assert entry["offset"] == 1200 and entry.get("lease") is None  # let go at once
    assert secret.chunks.count_documents({}) == 1
    state = ResumableStore(secret).patch(
        state.upload_id, _sized(1200, data[1200:]), _body(data[1200:])
    )
    assert secret.get(state.file_id) == data


def test_an_empty_upload_is_an_encrypted_file_at_once(secret: FileStore) -> None:
    state = _new(ResumableStore(secret), 0)
    assert state.complete
    info = secret.get_info(state.file_id)
    assert info.encrypted and info.sha256 is None and secret.get(state.file_id) == b""


def _partial(resumable: ResumableStore, data: bytes) -> Any:
    state = _new(resumable, len(data), partial=True)
    if data:
        state = resumable.patch(state.upload_id, _sized(0, data), _body(data))
    assert state.complete and state.is_partial
    return state


@pytest.mark.parametrize("sizes", [(2000, 3000, 123), (1500, 70, 1500)])
def test_encrypted_parts_are_joined_by_sealing_them_again(
    sync_db: Any, mongo_uri: str, secret: FileStore, sizes: tuple[int, ...]
) -> None:
    """Whole-chunk parts (which a clear store renumbers in place) and misaligned ones alike:
    each part opened with its own key, its bytes sealed with the final file's."""
    resumable = ResumableStore(secret)
    pieces = [payload(size, seed=10 + i) for i, size in enumerate(sizes)]
    parts = [_partial(resumable, piece) for piece in pieces]
    keys = [(resumable.registry.find_one({"_id": p.upload_id}))["file_key"] for p in parts]
    assert len({bytes(k["wrappedKey"]) for k in keys}) == len(parts)  # a data key each
    before = {doc["_id"] for doc in secret.chunks.find({}, {"_id": 1})}
    ids = tuple(p.upload_id for p in parts)
    final = resumable.concatenate(ids, "final;/a /b /c", NAMING)
    whole = b"".join(pieces)
    assert final.complete and final.length == len(whole)
    after = [doc for doc in secret.chunks.find()]
    assert not before & {doc["_id"] for doc in after}  # new chunks, none moved
    assert {doc["files_id"] for doc in after} == {final.file_id}
    assert len(after) == -(-len(whole) // CHUNK)
    assert not windows(_raw(sync_db)) & windows(whole)
    info = secret.get_info(final.file_id)
    assert info.encrypted and info.sha256 is None and info.filename == "scan.bin"
    assert secret.get(final.file_id) == whole
    assert secret.read_range(final.file_id, 1999, 2001) == whole[1999:2001]
    with pytest.raises(gridfs.errors.CorruptGridFile):
        _pymongo_read(mongo_uri, sync_db.name, final.file_id)
    assert resumable.registry.count_documents({}) == 1  # the parts are consumed


def test_a_mixed_join(sync_db: Any, secret: FileStore) -> None:
    """Clear parts (from a store without keys) and encrypted ones: an encrypting store joins
    them into an encrypted file; a store without keys refuses, changing nothing."""
    plain = ResumableStore(FileStore(sync_db, chunk_size=CHUNK))
    resumable = ResumableStore(secret)
    pieces = [payload(1000, seed=20), payload(2000, seed=21), payload(999, seed=22)]
    parts = [
        _partial(plain, pieces[0]),
        _partial(resumable, pieces[1]),
        _partial(plain, pieces[2]),
    ]
    ids = tuple(p.upload_id for p in parts)
    registry_before = [doc for doc in resumable.registry.find().sort("_id")]
    chunks_before = secret.chunks.count_documents({})
    with pytest.raises(TusError, match=f"partial upload {ids[1]} is encrypted") as err:
        plain.concatenate(ids, "final;x", NAMING)
    assert err.value.status == 500
    assert [doc for doc in resumable.registry.find().sort("_id")] == registry_before
    assert secret.chunks.count_documents({}) == chunks_before
    assert secret.files.count_documents({}) == 0
    # A store whose keys lack the part's: refused too, before anything changes.
    other_keys = Encryption(LocalKeys({"k9": os.urandom(32)}))
    elsewhere = ResumableStore(FileStore(sync_db, chunk_size=CHUNK, encryption=other_keys))
    with pytest.raises(TusError, match="local key 'k1'") as err:
        elsewhere.concatenate(ids, "final;x", NAMING)
    assert err.value.status == 500 and isinstance(err.value.__cause__, KeyUnavailable)
    assert [doc for doc in resumable.registry.find().sort("_id")] == registry_before
    assert secret.chunks.count_documents({}) == chunks_before
    final = resumable.concatenate(ids, "final;x", NAMING)
    whole = b"".join(pieces)
    info = secret.get_info(final.file_id)
    assert info.encrypted and secret.get(final.file_id) == whole
    assert not windows(_raw(sync_db)) & windows(whole)


def test_a_join_resumed_after_its_writer_died_uses_the_key_it_recorded(
    sync_db: Any, secret: FileStore
) -> None:
    resumable = ResumableStore(secret, TusOptions(lease=timedelta(seconds=30)))
    pieces = [payload(1300, seed=30), payload(700, seed=31)]
    parts = [_partial(resumable, piece) for piece in pieces]
    ids = tuple(p.upload_id for p in parts)
    final = resumable.concatenate(ids, "final;x", NAMING)
    # Undo its end as a crash before the files document would have: the final upload
    # unfinished with a lapsed lease, its parts still claimed, half its chunks written.
    entry = resumable.registry.find_one({"_id": final.upload_id})
    secret.files.delete_one({"_id": final.file_id})
    secret.chunks.delete_many({"files_id": final.file_id, "n": {"$gte": 1}})
    for part, piece in zip(parts, pieces, strict=True):
        restored = _partial(ResumableStore(secret), piece)
        doc = resumable.registry.find_one({"_id": restored.upload_id})
        resumable.registry.delete_one({"_id": restored.upload_id})
        doc.update(_id=part.upload_id, joined_into=final.upload_id)
        resumable.registry.insert_one(doc)
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    resumable.registry.update_one(
        {"_id": final.upload_id},
        {"$set": {"complete": False, "offset": 0, "lease": {"token": 1, "until": past}}},
    )
    again = resumable.concatenate(ids, "final;x", NAMING)
    assert again.upload_id == final.upload_id and again.complete
    stored = secret.files.find_one({"_id": final.file_id})
    assert stored["gridfield"]["encryption"]["wrappedKey"] == entry["file_key"]["wrappedKey"]
    assert secret.get(final.file_id) == b"".join(pieces)


def test_key_rotation_re_wraps_the_keys_of_unfinished_uploads(
    sync_db: Any, secret: FileStore
) -> None:
    data, piece = payload(3000, seed=40), payload(1200, seed=41)
    state = _new(ResumableStore(secret), len(data))
    state = ResumableStore(secret).patch(
        state.upload_id, _sized(0, data[:1700]), _body(data[:1700])
    )
    part = _partial(ResumableStore(secret), piece)
    done = _new(ResumableStore(secret), 10)  # stored as a file: only that counts
    done = ResumableStore(secret).patch(done.upload_id, _sized(0, b"0" * 10), _body(b"0" * 10))
    new_kek = os.urandom(32)
    rotating = FileStore(sync_db, encryption=Encryption(LocalKeys({"k1": KEK, "k2": new_kek})))
    assert rotating.rewrap_keys() == 3  # the unfinished upload, the part, the file
    assert rotating.rewrap_keys() == 0
    only_new = FileStore(
        sync_db, chunk_size=CHUNK, encryption=Encryption(LocalKeys({"k2": new_kek}))
    )
    resumable = ResumableStore(only_new)
    state = resumable.patch(state.upload_id, _sized(1700, data[1700:]), _body(data[1700:]))
    assert only_new.get(state.file_id) == data
    final = resumable.concatenate((part.upload_id,), "final;x", NAMING)
    assert only_new.get(final.file_id) == piece
    assert only_new.get(done.file_id) == b"0" * 10


def test_the_completion_span_says_the_file_is_encrypted(secret: FileStore) -> None:
    install()
    SPANS.clear()
    resumable = ResumableStore(secret)
    state = _new(resumable, 1500)
    state = resumable.patch(state.upload_id, _sized(0, b"x" * 1500), _body(b"x" * 1500))
    (span,) = [s for s in SPANS.get_finished_spans() if s.name == "gridfield.tus.complete"]
    assert span.attributes is not None
    assert (span.attributes["gridfield.encrypted"], span.attributes["gridfield.length"]) == (
        True,
        1500,
    )
    SPANS.clear()


def test_an_upload_whose_key_a_key_vault_wraps(
    sync_db: Any, key_vault: tuple[ClientEncryption[Any], Any]
) -> None:
    vault, key_id = key_vault
    store = FileStore(sync_db, chunk_size=CHUNK, encryption=Encryption(KeyVaultKeys(vault, key_id)))
    data = payload(2600, seed=50)
    state = _new(ResumableStore(store), len(data))
    entry = sync_db["fs.resumable"].find_one({"_id": state.upload_id})
    assert (entry["file_key"]["kek"], entry["file_key"]["keyId"]) == ("keyVault", key_id)
    state = ResumableStore(store).patch(state.upload_id, _sized(0, data[:1300]), _body(data[:1300]))
    state = ResumableStore(store).patch(
        state.upload_id, _sized(1300, data[1300:]), _body(data[1300:])
    )
    assert state.complete and store.get(state.file_id) == data
    assert not windows(_raw(sync_db)) & windows(data)


def test_an_upload_created_in_clear_stays_in_clear(sync_db: Any, secret: FileStore) -> None:
    """Whether an upload is encrypted is decided when it is created, as for a put."""
    plain = ResumableStore(FileStore(sync_db, chunk_size=CHUNK))
    data = payload(1500, seed=60)
    state = _new(plain, len(data))
    state = plain.patch(state.upload_id, _sized(0, data[:700]), _body(data[:700]))
    state = ResumableStore(secret).patch(
        state.upload_id, _sized(700, data[700:]), _body(data[700:])
    )
    info = secret.get_info(state.file_id)
    assert not info.encrypted and info.sha256 == hashlib.sha256(data).hexdigest()
    assert secret.get(state.file_id) == data


def test_a_sweep_of_an_encrypting_store_spares_open_uploads_and_removes_expired_ones(
    sync_db: Any,
) -> None:
    store = FileStore(
        sync_db,
        chunk_size=CHUNK,
        encryption=KEYS,
        sweep_timing=SweepTiming(min_grace=timedelta()),
    )
    resumable = ResumableStore(store, TusOptions(expire_after=timedelta(hours=1)))
    data = payload(2500, seed=70)
    abandoned = _new(resumable, len(data))
    resumable.patch(abandoned.upload_id, _sized(0, data[:1700]), _body(data[:1700]))
    report = store.sweep(delete=True, grace=timedelta())
    assert report.removed_chunks == 0 and report.removed_resumable == 0  # open: spared
    state = resumable.patch(
        abandoned.upload_id, _sized(1700, data[1700:1800]), _body(data[1700:1800])
    )
    assert state.offset == 1800
    resumable.registry.update_one(
        {"_id": abandoned.upload_id},
        {"$set": {"expires": datetime.now(timezone.utc) - timedelta(hours=1)}},
    )
    report = store.sweep(delete=True, grace=timedelta())
    assert report.removed_resumable == 1
    assert resumable.registry.count_documents({}) == 0
    assert store.chunks.count_documents({}) == 0
