"""Real tus clients uploading into an encrypting store through the tus apps on real servers:
tus-py-client stopping and a new uploader resuming (ASGI and WSGI), and tus-js-client's two
parallel partial uploads joined; the files read back equal, no stored chunk or registry entry
holds the plaintext, and PyMongo refuses the files."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bson
import gridfs
import httpx
import pytest
from pymongo import AsyncMongoClient, MongoClient

import gridfield
import gridfield.sync
from gridfield.core.encryption import Encryption, LocalKeys
from gridfield.web.asgi import TusApp as AsgiTusApp
from gridfield.web.wsgi import TusApp as WsgiTusApp

from .servers import run_uvicorn, run_waitress
from .tus_js import run_upload

KEYS = Encryption(LocalKeys({"tus": os.urandom(32)}))
CHUNK = 4096


def _windows(data: bytes, size: int = 16) -> set[bytes]:
    return {data[i : i + size] for i in range(len(data) - size + 1)}


def _raw(db: Any) -> bytes:
    docs = [*db["fs.chunks"].find(), *db["fs.resumable"].find()]
    return b"".join(bson.encode(doc) for doc in docs)


@contextmanager
def _served(kind: str, uri: str, db_name: str, port: int = 0) -> Iterator[str]:
    """The tus app of ``kind`` on an encrypting store: "asgi" on uvicorn, "wsgi" on
    waitress."""
    if kind == "asgi":
        client: Any = AsyncMongoClient(uri)
        store = gridfield.AsyncFileStore(client[db_name], chunk_size=CHUNK, encryption=KEYS)
        with run_uvicorn(AsgiTusApp(store), [client], port) as url:
            yield url
        return
    sync_client: MongoClient[dict[str, Any]] = MongoClient(uri)
    sync_store = gridfield.sync.FileStore(sync_client[db_name], chunk_size=CHUNK, encryption=KEYS)
    try:
        with run_waitress(WsgiTusApp(sync_store), port) as url:
            yield url
    finally:
        sync_client.close()


def _read_back(mongo_uri: str, db: Any, file_id: Any) -> bytes:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        return gridfield.sync.FileStore(client[db.name], encryption=KEYS).get(file_id)


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_tuspy_stops_and_a_new_uploader_resumes_into_an_encrypting_store(
    kind: str, mongo_uri: str, db: Any, tmp_path: Path
) -> None:
    from tusclient import client as tus_client
    from tusclient.storage import filestorage

    file_storage: Any = filestorage.FileStorage  # tuspy has no type hints

    data = random.Random(7).randbytes(50_000)
    source = tmp_path / "record.bin"
    source.write_bytes(data)
    storage = file_storage(str(tmp_path / "urls.json"))
    with _served(kind, mongo_uri, db.name) as url:
        tus = tus_client.TusClient(url + "/")
        first = tus.uploader(
            str(source),
            chunk_size=7_000,  # PATCHes that end inside a chunk: a sealed tail between them
            store_url=True,
            url_storage=storage,
            metadata={"filename": "record.bin"},
        )
        first.upload(stop_at=21_000)
        assert first.offset == 21_000
        (entry,) = db["fs.resumable"].find()
        assert len(entry["tail"]) == 21_000 % CHUNK + 28 and entry["file_key"]["keyId"] == "tus"
    storage.close()
    storage = file_storage(str(tmp_path / "urls.json"))
    port = int(url.rsplit(":", 1)[1])
    with _served(kind, mongo_uri, db.name, port) as url:
        tus = tus_client.TusClient(url + "/")
        second = tus.uploader(
            str(source),
            chunk_size=9_000,
            store_url=True,
            url_storage=storage,
            metadata={"filename": "record.bin"},
        )
        assert second.url == first.url and second.offset == 21_000
        second.upload()
        served_back = httpx.get(second.url)  # a completed upload's GET serves its file
    storage.close()
    assert served_back.status_code == 200 and served_back.content == data
    doc = db["fs.files"].find_one({"filename": "record.bin"})
    assert doc is not None and set(doc["gridfield"]) == {"encryption"}  # no SHA-256
    assert _read_back(mongo_uri, db, doc["_id"]) == data
    assert not _windows(_raw(db)) & _windows(data)
    with pytest.raises(gridfs.errors.CorruptGridFile, match="truncated chunk #0"):
        gridfs.GridFSBucket(db).open_download_stream(doc["_id"]).read()


def test_tus_js_client_parallel_uploads_joined_into_an_encrypted_file(
    mongo_uri: str, db: Any, tmp_path: Path
) -> None:
    data = random.Random(8).randbytes(300_001)
    source = tmp_path / "parallel.bin"
    source.write_bytes(data)
    with _served("asgi", mongo_uri, db.name) as url:
        upload_url = run_upload(url + "/", source, "parallel=2", "chunk=65536")
        assert httpx.get(upload_url).content == data
    doc = db["fs.files"].find_one({"filename": "parallel.bin"})
    assert doc is not None and set(doc["gridfield"]) == {"encryption"}
    assert _read_back(mongo_uri, db, doc["_id"]) == data
    assert db["fs.resumable"].count_documents({}) == 1  # the parts are consumed
    assert {c["files_id"] for c in db["fs.chunks"].find()} == {doc["_id"]}  # copied, resealed
    assert not _windows(_raw(db)) & _windows(data)
    with pytest.raises(gridfs.errors.CorruptGridFile):
        gridfs.GridFSBucket(db).open_download_stream(doc["_id"]).read()
