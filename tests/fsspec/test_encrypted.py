"""Encrypted files through ``gridfs://``: the ``encryption`` storage option writes encrypted
chunks, and every way of reading (whole, ranges, seek, a local copy, pandas) gives the
clear bytes; without the key, a clear error."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pymongo import MongoClient

import fsspec
from gridfield import Encryption, KeyUnavailable, LocalKeys
from gridfield.sync import FileStore
from tests.conftest import fresh_db_name
from tests.fsspec.conftest import KINDS, close_fs, make_fs

KEYS = Encryption(LocalKeys({"fs-key": os.urandom(32)}))
CHUNK = 4096
DATA = os.urandom(10 * CHUNK + 123)


@pytest.fixture(params=KINDS)
def sealed(request: pytest.FixtureRequest, mongo_uri: str) -> Iterator[Any]:
    """Each filesystem over a fresh database, with the encryption storage option."""
    fs = make_fs(request.param, mongo_uri, fresh_db_name(), encryption=KEYS, chunk_size=CHUNK)
    try:
        yield fs
    finally:
        close_fs(fs)


def _raw(mongo_uri: str, fs: Any) -> tuple[list[dict[str, Any]], bytes]:
    """The files documents and every chunk's stored bytes, read past gridfield."""
    with MongoClient(mongo_uri) as client:
        db = client[fs.files.store.db.name]
        files = list(db["fs.files"].find())
        chunks = b"".join(bytes(doc["data"]) for doc in db["fs.chunks"].find())
    return files, chunks


def _no_clear_window(stored: bytes, data: bytes) -> None:
    for start in range(0, len(data) - 16, 509):
        assert data[start : start + 16] not in stored


def test_writes_store_encrypted_chunks_and_reads_give_the_clear_bytes(
    sealed: Any, mongo_uri: str, tmp_path: Path
) -> None:
    sealed.pipe_file("a/piped.bin", DATA)
    with sealed.open("a/streamed.bin", "wb") as f:
        for start in range(0, len(DATA), 1000):
            f.write(DATA[start : start + 1000])
    local = tmp_path / "local.bin"
    local.write_bytes(DATA)
    sealed.put_file(str(local), "a/put.bin")
    sealed.cp_file("a/put.bin", "b/copied.bin")

    files, chunks = _raw(mongo_uri, sealed)
    assert len(files) == 4
    assert all(doc["gridfield"]["encryption"] for doc in files)
    assert all("sha256" not in doc["gridfield"] for doc in files)
    _no_clear_window(chunks, DATA)

    for name in ["a/piped.bin", "a/streamed.bin", "a/put.bin", "b/copied.bin"]:
        assert sealed.info(name)["size"] == len(DATA)
        assert sealed.cat_file(name) == DATA
    assert (
        sealed.cat_file("a/piped.bin", CHUNK - 5, 3 * CHUNK + 7) == DATA[CHUNK - 5 : 3 * CHUNK + 7]
    )
    assert sealed.cat_file("a/piped.bin", -100) == DATA[-100:]
    assert sealed.cat_ranges(["a/put.bin", "a/put.bin"], [0, 7 * CHUNK], [10, 8 * CHUNK + 1]) == [
        DATA[:10],
        DATA[7 * CHUNK : 8 * CHUNK + 1],
    ]
    with sealed.open("a/streamed.bin", "rb") as f:
        f.seek(5 * CHUNK + 17)
        assert f.read(CHUNK) == DATA[5 * CHUNK + 17 : 6 * CHUNK + 17]
        f.seek(3)
        assert f.read(20) == DATA[3:23]
        f.seek(-50, io.SEEK_END)
        assert f.read() == DATA[-50:]
    sealed.get_file("b/copied.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == DATA
    # fsspec's checksum and ukey change with the revision (no SHA-256 to take them from).
    first = sealed.ukey("a/piped.bin")
    sealed.pipe_file("a/piped.bin", b"other")
    assert sealed.ukey("a/piped.bin") != first


def test_without_the_key_reads_fail_naming_it(sealed: Any, mongo_uri: str) -> None:
    sealed.pipe_file("secret.txt", b"not for everyone")
    name = sealed.files.store.db.name
    with MongoClient(mongo_uri) as client:
        keyless = fsspec.filesystem(
            "gridfs", client=client, database=name, skip_instance_cache=True
        )
        assert keyless.info("secret.txt")["size"] == 16  # the description stays readable
        with pytest.raises(KeyUnavailable, match="fs-key"):
            keyless.cat_file("secret.txt")
        with pytest.raises(KeyUnavailable, match="fs-key"), keyless.open("secret.txt") as f:
            f.read()


def test_pandas_reads_and_writes_an_encrypted_csv(mongo_uri: str) -> None:
    name = fresh_db_name()
    options = {"uri": mongo_uri, "database": name, "encryption": KEYS}
    frame = pd.DataFrame({"patient": ["marmot", "beaver"], "weight": [71.5, 64.0]})
    try:
        frame.to_csv("gridfs://records/weights.csv", index=False, storage_options=options)
        back = pd.read_csv("gridfs://records/weights.csv", storage_options=options)
        pd.testing.assert_frame_equal(back, frame)
        with MongoClient(mongo_uri) as client:
            doc = client[name]["fs.files"].find_one({"filename": "records/weights.csv"})
            assert doc is not None and doc["gridfield"]["encryption"]
            stored = bytes(client[name]["fs.chunks"].find_one({"files_id": doc["_id"]})["data"])
            assert b"marmot" not in stored and b"patient" not in stored
    finally:
        with MongoClient(mongo_uri) as client:
            client.drop_database(name)


def test_the_instance_cache_tells_key_rings_apart(mongo_uri: str) -> None:
    """Rings that print alike (same key ids, other keys) get filesystems of their own; the
    same ring given again gets the cached one."""
    name = fresh_db_name()
    impostor = Encryption(LocalKeys({"fs-key": os.urandom(32)}))
    made = []
    try:
        first = fsspec.filesystem("gridfs", uri=mongo_uri, database=name, encryption=KEYS)
        made.append(first)
        assert fsspec.filesystem("gridfs", uri=mongo_uri, database=name, encryption=KEYS) is first
        other = fsspec.filesystem("gridfs", uri=mongo_uri, database=name, encryption=impostor)
        made.append(other)
        assert other is not first
        first.pipe_file("x.bin", b"sealed by the first ring")
        with pytest.raises(KeyUnavailable, match="'fs-key' does not unwrap"):
            other.cat_file("x.bin")
    finally:
        for fs in made:
            type(fs).clear_instance_cache()
        close_fs(made[0])
        if len(made) > 1:
            made[1].files.store.db.client.close()


def test_encryption_and_a_ready_store_together_are_refused(mongo_uri: str) -> None:
    with MongoClient(mongo_uri) as client:
        store = FileStore(client[fresh_db_name()])
        with pytest.raises(ValueError, match="give encryption= to the store"):
            fsspec.filesystem("gridfs", store=store, encryption=KEYS, skip_instance_cache=True)
        with pytest.raises(TypeError, match="must be a gridfield Encryption"):
            fsspec.filesystem(
                "gridfs", client=client, database="x", encryption="key", skip_instance_cache=True
            )
