"""npm's tus-js-client, run by node, uploading through the ASGI tus app on uvicorn: 50 MiB
in four parallel partial uploads joined by concatenation, and a file in 5 MiB PATCHes each
carrying its SHA-256; the stored files are byte-identical and PyMongo reads them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gridfs
import pytest
from pymongo import AsyncMongoClient, MongoClient

import gridfield
from gridfield.web.asgi import TusApp

from ..conftest import fresh_db_name
from .servers import run_uvicorn
from .tus_js import run_upload

MIB = 2**20
CHUNK = 256 * 1024  # a quarter of 50 MiB is a whole number of these chunks


class RequestLog:
    """ASGI middleware noting each request's method and tus headers."""

    def __init__(self, app: Any) -> None:
        self.app, self.seen = app, list[tuple[str, dict[str, str]]]()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.seen.append((scope["method"], headers))
        await self.app(scope, receive, send)


@pytest.fixture
def site(mongo_uri: str) -> Iterator[tuple[str, RequestLog, Any]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    server_client: Any = AsyncMongoClient(mongo_uri)
    log = RequestLog(TusApp(gridfield.AsyncFileStore(server_client[name], chunk_size=CHUNK)))
    try:
        with run_uvicorn(log, [server_client]) as url:
            yield url, log, client[name]
    finally:
        client.drop_database(name)
        client.close()


def _stored(db: Any, name: str, data: bytes) -> dict[str, Any]:
    doc = db["fs.files"].find_one({"filename": name})
    assert doc is not None and doc["length"] == len(data)
    assert doc["gridfield"] == {"sha256": hashlib.sha256(data).hexdigest()}
    stream = gridfs.GridFSBucket(db).open_download_stream(doc["_id"])
    assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(data).digest()
    return dict(doc)


def test_fifty_mib_in_four_parallel_partial_uploads(
    site: tuple[str, RequestLog, Any], tmp_path: Path
) -> None:
    url, log, db = site
    data = os.urandom(50 * MIB)
    source = tmp_path / "parallel.bin"
    source.write_bytes(data)
    upload_url = run_upload(url + "/", source, "parallel=4")
    posts = [h.get("upload-concat", "") for m, h in log.seen if m == "POST"]
    assert posts[:4] == ["partial"] * 4 and posts[4].startswith("final;") and len(posts) == 5
    doc = _stored(db, "parallel.bin", data)
    assert db["fs.chunks"].count_documents({}) == 50 * MIB // CHUNK  # no copy left behind
    assert db["fs.resumable"].count_documents({}) == 1  # the partial uploads are consumed
    assert upload_url.endswith("/" + db["fs.resumable"].find_one()["_id"])
    assert doc["chunkSize"] == CHUNK


def test_five_mib_patches_each_with_its_checksum(
    site: tuple[str, RequestLog, Any], tmp_path: Path
) -> None:
    url, log, db = site
    data = os.urandom(23 * MIB + 12345)
    source = tmp_path / "chunked.bin"
    source.write_bytes(data)
    run_upload(url + "/", source, f"chunk={5 * MIB}", "checksum")
    patches = [h for m, h in log.seen if m == "PATCH"]
    assert len(patches) == 5
    assert all(h["upload-checksum"].startswith("sha256 ") for h in patches)
    assert [int(h["content-length"]) for h in patches] == [5 * MIB] * 4 + [3 * MIB + 12345]
    _stored(db, "chunked.bin", data)
