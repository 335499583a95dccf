"""Chunks sealed with a file's data key: round trips over sizes, chunk sizes and ranges; every
tampering a CorruptFile; nonces never repeated; keys wrapped, unwrapped and refused."""

from __future__ import annotations

import os
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from gridfield.core.chunks import ChunkCheck, ChunkCutter, assemble, chunk_span, clamp_range
from gridfield.core.encryption import (
    CHUNK_OVERHEAD,
    Encryption,
    EncryptionRecord,
    FileCipher,
    KeyUnavailable,
    LocalKeys,
    WrappedFileKey,
    WrappedKey,
    new_file_key,
)
from gridfield.core.errors import CorruptFile
from gridfield.core.files_document import FileInfo

FEW = settings(max_examples=60, deadline=None)
ALGORITHM = st.sampled_from(["AES-256-GCM", "ChaCha20-Poly1305"])


def sealed_file(
    data: bytes, chunk_size: int, algorithm: str = "AES-256-GCM", file_id: Any = 7
) -> tuple[FileCipher, FileInfo, list[dict[str, Any]]]:
    """A file of ``data`` cut and sealed as an encrypted upload stores it."""
    cipher = FileCipher(algorithm, new_file_key(), file_id, chunk_size)
    cutter = ChunkCutter(file_id, chunk_size)
    docs = cutter.feed(data)
    last = cutter.finish()
    docs += [] if last is None else [last]
    stored = [{**doc, "data": cipher.seal_chunk(doc["n"], doc["data"])} for doc in docs]
    record = EncryptionRecord(
        algorithm, WrappedKey("local", "k", b"wrapped"), cipher.seal_length(len(data))
    )
    info = FileInfo(file_id, len(data), chunk_size, encryption=record.to_document())
    return cipher, info, stored


def read(
    cipher: FileCipher, info: FileInfo, docs: list[dict[str, Any]], start: int, end: int | None
) -> bytes:
    """The bytes [start, end) as a reader gets them: chunks checked, then opened."""
    begin, stop = clamp_range(start, end, info.length)
    span = chunk_span(begin, stop, info.chunk_size)
    if span is None:
        return b""
    check = ChunkCheck(info, span.first, span.last)
    parts = []
    for doc in docs[span.first : span.last + 1]:
        data = check.accept(doc)
        parts.append(cipher.open_chunk(check.next - 1, data))
    check.finish()
    return assemble(parts, span.skip, span.size)


@FEW
@given(
    data=st.binary(max_size=700),
    chunk_size=st.integers(1, 90),
    bounds=st.tuples(st.integers(0, 800), st.none() | st.integers(0, 800)),
    algorithm=ALGORITHM,
)
def test_any_range_of_a_sealed_file_reads_back_its_plaintext(
    data: bytes, chunk_size: int, bounds: tuple[int, int | None], algorithm: str
) -> None:
    cipher, info, docs = sealed_file(data, chunk_size, algorithm)
    start, end = bounds
    assert read(cipher, info, docs, start, end) == data[start:end]
    plains = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    assert len(plains) == len(docs)
    assert all(
        len(doc["data"]) == len(plain) + CHUNK_OVERHEAD
        for doc, plain in zip(docs, plains, strict=True)
    )
    cipher.check_length(len(data), EncryptionRecord.from_document(info.encryption, 7).seal)


@FEW
@given(data=st.binary(min_size=16, max_size=600), chunk_size=st.integers(16, 80))
def test_no_stored_chunk_holds_a_16_byte_window_of_the_plaintext(
    data: bytes, chunk_size: int
) -> None:
    _, _, docs = sealed_file(data, chunk_size)
    stored = b"".join(doc["data"] for doc in docs)
    windows = {data[i : i + 16] for i in range(0, len(data) - 15)}
    assert not any(window in stored for window in windows)


@FEW
@given(data=st.binary(min_size=2, max_size=400), chunk_size=st.integers(1, 50), flip=st.data())
def test_any_altered_byte_of_a_chunk_is_corrupt(
    data: bytes, chunk_size: int, flip: st.DataObject
) -> None:
    cipher, info, docs = sealed_file(data, chunk_size)
    n = flip.draw(st.integers(0, len(docs) - 1))
    at = flip.draw(st.integers(0, len(docs[n]["data"]) - 1))
    changed = bytearray(docs[n]["data"])
    changed[at] ^= 1 << flip.draw(st.integers(0, 7))
    docs[n] = {**docs[n], "data": bytes(changed)}
    with pytest.raises(CorruptFile, match=f"chunk {n} fails authentication"):
        read(cipher, info, docs, 0, None)


def test_a_chunk_moved_swapped_duplicated_or_cut_short_is_corrupt() -> None:
    data = os.urandom(1000)
    cipher, info, docs = sealed_file(data, 100, file_id=ObjectId())
    # swapped: chunk 3's sealed bytes stored as chunk 4 and the other way round
    swapped = [dict(doc) for doc in docs]
    swapped[3]["data"], swapped[4]["data"] = docs[4]["data"], docs[3]["data"]
    with pytest.raises(CorruptFile, match="chunk 3 fails authentication"):
        read(cipher, info, swapped, 0, None)
    # duplicated in place of another
    duplicated = [dict(doc) for doc in docs]
    duplicated[5]["data"] = docs[2]["data"]
    with pytest.raises(CorruptFile, match="chunk 5 fails authentication"):
        read(cipher, info, duplicated, 450, 560)
    # moved from another file (same chunk size, same n)
    other_cipher, _, other_docs = sealed_file(os.urandom(1000), 100, file_id=ObjectId())
    moved = [dict(doc) for doc in docs]
    moved[0]["data"] = other_docs[0]["data"]
    with pytest.raises(CorruptFile, match="chunk 0 fails authentication"):
        read(cipher, info, moved, 0, 10)
    # the other file's own cipher (its own key) under this file's id fails too
    with pytest.raises(CorruptFile):
        other_cipher.open_chunk(0, docs[0]["data"])
    # cut short: the last chunk, whatever is cut
    for cut in (1, 16, CHUNK_OVERHEAD, 100 + CHUNK_OVERHEAD):
        short = [dict(doc) for doc in docs]
        short[-1]["data"] = docs[-1]["data"][:-cut]
        with pytest.raises(CorruptFile, match="chunk 9"):
            read(cipher, info, short, 0, None)
    # the last chunk gone
    with pytest.raises(CorruptFile, match="chunk 9 is missing"):
        read(cipher, info, docs[:-1], 0, None)


def test_a_files_document_whose_length_or_chunk_size_changed_fails_its_seal() -> None:
    data = os.urandom(1000)
    cipher, info, _ = sealed_file(data, 100)
    seal = EncryptionRecord.from_document(info.encryption, 7).seal
    cipher.check_length(1000, seal)
    # truncating the file to drop its last chunk means a shorter length: refused
    with pytest.raises(CorruptFile, match="length \\(900\\)"):
        cipher.check_length(900, seal)
    other_size = FileCipher("AES-256-GCM", b"\0" * 32, 7, 50)
    with pytest.raises(CorruptFile):
        other_size.check_length(1000, seal)


@FEW
@given(n=st.integers(0, 2**32 - 2), data=st.binary(max_size=40))
def test_nonces_carry_the_chunk_number_and_never_repeat(n: int, data: bytes) -> None:
    cipher = FileCipher("AES-256-GCM", new_file_key(), 1, 64)
    first, again = cipher.seal_chunk(n, data), cipher.seal_chunk(n, data)
    assert first[:4] == n.to_bytes(4, "big")
    assert first[:12] != again[:12]  # the same chunk written again: a fresh nonce
    assert cipher.open_chunk(n, first) == cipher.open_chunk(n, again) == data
    assert cipher.seal_length(3)[:4] == b"\xff\xff\xff\xff"  # a number no chunk has


def test_every_chunk_nonce_of_a_file_differs() -> None:
    _, _, docs = sealed_file(os.urandom(5000), 10)
    nonces = [doc["data"][:12] for doc in docs]
    assert len(set(nonces)) == len(nonces) == 500


def test_a_chunk_number_past_the_format_is_refused() -> None:
    cipher = FileCipher("AES-256-GCM", new_file_key(), 1, 64)
    with pytest.raises(ValueError, match="at most"):
        cipher.seal_chunk(2**32 - 1, b"x")
    with pytest.raises(CorruptFile, match="too short"):
        cipher.open_chunk(0, b"\0" * (CHUNK_OVERHEAD - 1))


def test_local_keys_wrap_unwrap_and_name_the_key_they_lack() -> None:
    old, new = os.urandom(32), os.urandom(32)
    ring = LocalKeys({"2025": old, "2026": new})
    assert ring.current == "2026" and ring.wrapping_key == ("local", "2026")
    data_key = new_file_key()
    wrapped = ring.wrap(data_key)
    assert wrapped.key_id == "2026" and data_key not in wrapped.wrapped
    assert ring.unwrap(wrapped) == data_key
    assert "'2026'" in repr(ring) and new.hex() not in repr(ring) and repr(new) not in repr(ring)
    with pytest.raises(KeyUnavailable, match=r"local key '2026'.*not among"):
        LocalKeys({"2025": old}).unwrap(wrapped)
    with pytest.raises(KeyUnavailable, match="local key '2026' does not unwrap"):
        LocalKeys({"2026": old}).unwrap(wrapped)
    moved = WrappedKey("local", "2025", wrapped.wrapped)  # the id is bound to the wrapping
    with pytest.raises(KeyUnavailable, match="'2025' does not unwrap"):
        ring.unwrap(moved)


def test_bad_keys_and_options_are_refused_when_made() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LocalKeys({"k": b"short"})
    with pytest.raises(ValueError, match="non-empty"):
        LocalKeys({})
    with pytest.raises(ValueError, match="current key id 'x'"):
        LocalKeys({"k": os.urandom(32)}, current="x")
    with pytest.raises(TypeError, match="LocalKeys or KeyVaultKeys"):
        Encryption(os.urandom(32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="AES-256-GCM, ChaCha20-Poly1305"):
        Encryption(LocalKeys({"k": os.urandom(32)}), algorithm="AES-128-CBC")


def test_the_record_round_trips_and_malformed_ones_are_corrupt() -> None:
    record = EncryptionRecord("ChaCha20-Poly1305", WrappedKey("local", "k", b"w"), b"s" * 28)
    doc = record.to_document()
    assert EncryptionRecord.from_document(doc, 1) == record
    assert set(doc) == {"v", "alg", "kek", "keyId", "wrappedKey", "seal"}
    for broken in (
        {**doc, "v": 2},
        {**doc, "alg": "rot13"},
        {**doc, "seal": b"short"},
        {k: v for k, v in doc.items() if k != "keyId"},
        "not a document",
    ):
        with pytest.raises(CorruptFile, match="file 1"):
            EncryptionRecord.from_document(broken, 1)


def test_the_files_document_keeps_the_record_beside_our_other_keys() -> None:
    record = {"v": 1, "alg": "AES-256-GCM"}
    info = FileInfo(1, 10, 4, scope="s", encryption=record)
    doc = info.to_document()
    assert doc["gridfield"] == {"scope": "s", "encryption": record}
    back = FileInfo.from_document(doc)
    assert back.encrypted and back.encryption == record
    assert not FileInfo(1, 10, 4).encrypted


@FEW
@given(
    algorithm=ALGORITHM,
    chunk_size=st.integers(2, 80),
    offset=st.integers(0, 10_000),
    data=st.data(),
)
def test_a_kept_tail_opens_only_for_its_file_and_offset(
    algorithm: str, chunk_size: int, offset: int, data: st.DataObject
) -> None:
    """The partial last chunk a resumable upload keeps between PATCHes: sealed to its file
    and offset, so another upload's tail, or its own from another offset, is corrupt."""
    size = offset % chunk_size or 1
    offset += size - offset % chunk_size if offset % chunk_size == 0 else 0
    tail = data.draw(st.binary(min_size=size, max_size=size))
    key = new_file_key()
    cipher = FileCipher(algorithm, key, "upload-file", chunk_size)
    sealed = cipher.seal_tail(offset, tail)
    assert len(sealed) == len(tail) + CHUNK_OVERHEAD
    assert sealed[:4] == (offset // chunk_size).to_bytes(4, "big")
    assert sealed[:12] != cipher.seal_tail(offset, tail)[:12]  # sealed again: a fresh nonce
    assert cipher.open_tail(offset, sealed) == tail
    for other, where in (
        (FileCipher(algorithm, key, "another-file", chunk_size), offset),
        (FileCipher(algorithm, key, "upload-file", chunk_size + 1), offset),
        (FileCipher(algorithm, new_file_key(), "upload-file", chunk_size), offset),
        (cipher, offset + chunk_size),
    ):
        with pytest.raises(CorruptFile, match="partial chunk kept at offset"):
            other.open_tail(where, sealed)
    flip = data.draw(st.integers(0, len(sealed) - 1))
    altered = bytearray(sealed)
    altered[flip] ^= 1
    with pytest.raises(CorruptFile, match="fails authentication"):
        cipher.open_tail(offset, bytes(altered))
    with pytest.raises(CorruptFile, match="too short"):
        cipher.open_tail(offset, sealed[: CHUNK_OVERHEAD - 1])
    # A tail is never mistaken for the chunk it will become (nor the reverse).
    with pytest.raises(CorruptFile):
        cipher.open_chunk(offset // chunk_size, sealed)
    with pytest.raises(CorruptFile):
        cipher.open_tail(offset, cipher.seal_chunk(offset // chunk_size, tail))


def test_a_wrapped_file_key_round_trips_and_malformed_ones_are_corrupt() -> None:
    key = WrappedFileKey("AES-256-GCM", WrappedKey("local", "k", b"wrapped"))
    doc = key.to_document()
    assert set(doc) == {"v", "alg", "kek", "keyId", "wrappedKey"}
    assert WrappedFileKey.from_document(doc, "upload u") == key
    for broken in (
        {**doc, "v": 2},
        {**doc, "alg": "rot13"},
        {**doc, "wrappedKey": "text"},
        {k: v for k, v in doc.items() if k != "keyId"},
        None,
    ):
        with pytest.raises(CorruptFile, match="upload u"):
            WrappedFileKey.from_document(broken, "upload u")
    # The record a stored file gets is the same key and a seal.
    record = EncryptionRecord(key.algorithm, key.key, b"s" * CHUNK_OVERHEAD).to_document()
    assert {k: v for k, v in record.items() if k != "seal"} == doc
