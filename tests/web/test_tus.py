"""The tus apps (ASGI on uvicorn, WSGI on waitress) through real servers: every protocol
check group over httpx, and the tus-py-client uploading, stopping and resuming."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import gridfs
import httpx
import pytest
from pymongo import AsyncMongoClient, MongoClient

import gridfield
import gridfield.sync
from gridfield.core.tus import FileNaming, TusOptions
from gridfield.web.asgi import TusApp as AsgiTusApp
from gridfield.web.wsgi import TusApp as WsgiTusApp

from .servers import run_uvicorn, run_waitress, run_werkzeug

TUS = {"Tus-Resumable": "1.0.0"}
BYTES = {**TUS, "Content-Type": "application/offset+octet-stream"}
KINDS = ["asgi", "wsgi"]


@contextmanager
def _served(
    kind: str, uri: str, db_name: str, *options: Any, port: int = 0, **shorthands: Any
) -> Iterator[str]:
    """The app of ``kind`` on its server: "asgi" on uvicorn, "wsgi" on waitress, and
    "wsgi-streaming" on werkzeug's server, which hands the app the body as it arrives
    (waitress reads a whole body before it calls the app)."""
    if kind == "wsgi-streaming":
        streaming_client: MongoClient[dict[str, Any]] = MongoClient(uri)
        store = gridfield.sync.FileStore(streaming_client[db_name], chunk_size=1000)
        try:
            with run_werkzeug(WsgiTusApp(store, *options, **shorthands)) as url:
                yield url
        finally:
            streaming_client.close()
        return
    if kind == "asgi":
        client: Any = AsyncMongoClient(uri)
        app = AsgiTusApp(
            gridfield.AsyncFileStore(client[db_name], chunk_size=1000), *options, **shorthands
        )
        with run_uvicorn(app, [client], port) as url:
            yield url
    else:
        sync_client: MongoClient[dict[str, Any]] = MongoClient(uri)
        store = gridfield.sync.FileStore(sync_client[db_name], chunk_size=1000)
        try:
            with run_waitress(WsgiTusApp(store, *options, **shorthands), port) as url:
                yield url
        finally:
            sync_client.close()


def _meta(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


@pytest.mark.parametrize("kind", KINDS)
def test_every_check_group(kind: str, mongo_uri: str, db: Any) -> None:
    data = os.urandom(3500)
    with (
        _served(kind, mongo_uri, db.name, max_size=10_000, content_types=["video/*"]) as url,
        httpx.Client(base_url=url) as http,
    ):
        options = http.options("/")
        assert options.status_code == 204
        assert options.headers["Tus-Version"] == "1.0.0"
        assert options.headers["Tus-Max-Size"] == "10000"
        assert options.headers["Tus-Extension"] == (
            "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,"
            "concatenation"
        )
        assert options.headers["Tus-Checksum-Algorithm"] == "sha1,sha256,md5"
        wrong = http.post("/", headers={"Tus-Resumable": "0.2.0", "Upload-Length": "5"})
        assert (wrong.status_code, wrong.headers["Tus-Version"]) == (412, "1.0.0")
        assert wrong.text == "Tus-Resumable '0.2.0': this server speaks tus 1.0.0"
        big = http.post("/", headers={**TUS, "Upload-Length": "10001"})
        assert big.status_code == 413
        assert big.text == "Upload-Length 10001 is over this server's limit of 10000 bytes"
        png = http.post(
            "/", headers={**TUS, "Upload-Length": "5", "Upload-Metadata": _meta(filename="a.png")}
        )
        assert png.status_code == 415 and "not allowed (allowed: video/*)" in png.text
        meta = _meta(filename="clip.webm", filetype="video/webm")
        made = http.post(
            "/", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta}
        )
        assert made.status_code == 201 and made.headers["Upload-Expires"].endswith(" GMT")
        upload = made.headers["Location"]
        head = http.head(upload, headers=TUS)
        assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
        assert head.headers["Upload-Length"] == str(len(data))
        assert head.headers["Upload-Metadata"] == meta
        assert head.headers["Cache-Control"] == "no-store"
        plain = http.patch(upload, headers={**TUS, "Upload-Offset": "0"}, content=b"x")
        assert plain.status_code == 415
        first = http.patch(upload, headers={**BYTES, "Upload-Offset": "0"}, content=data[:1234])
        assert first.status_code == 204 and first.headers["Upload-Offset"] == "1234"
        stale = http.patch(upload, headers={**BYTES, "Upload-Offset": "0"}, content=data[:10])
        assert stale.status_code == 409
        assert stale.text == "Upload-Offset 0 does not match the upload's offset 1234"
        assert stale.headers["Upload-Offset"] == "1234"
        bad_sum = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
        mismatch = http.patch(
            upload,
            headers={**BYTES, "Upload-Offset": "1234", "Upload-Checksum": f"sha1 {bad_sum}"},
            content=data[1234:2000],
        )
        assert mismatch.status_code == 460 and mismatch.headers["Upload-Offset"] == "1234"
        unknown = http.patch(
            upload,
            headers={**BYTES, "Upload-Offset": "1234", "Upload-Checksum": "crc32 AAAAAA=="},
            content=data[1234:2000],
        )
        assert unknown.status_code == 400 and "algorithm 'crc32' is not supported" in unknown.text
        past = http.patch(upload, headers={**BYTES, "Upload-Offset": "1234"}, content=data + data)
        assert past.status_code == 413
        assert http.head(upload, headers=TUS).headers["Upload-Offset"] == "1234"
        assert db["fs.files"].count_documents({}) == 0  # nothing visible before the end
        good_sum = base64.b64encode(hashlib.sha256(data[1234:]).digest()).decode()
        last = http.patch(
            upload,
            headers={**BYTES, "Upload-Offset": "1234", "Upload-Checksum": f"sha256 {good_sum}"},
            content=data[1234:],
        )
        assert last.status_code == 204 and last.headers["Upload-Offset"] == str(len(data))
        assert last.headers["Upload-Expires"].endswith(" GMT")  # the completing PATCH too
        got = http.get(upload)
        assert got.status_code == 200 and got.content == data
        assert got.headers["Content-Type"] == "video/webm"
        ranged = http.get(upload, headers={"Range": "bytes=10-19"})
        assert ranged.status_code == 206 and ranged.content == data[10:20]
        etag = got.headers["ETag"]
        assert http.get(upload, headers={"If-None-Match": etag}).status_code == 304
        stored = gridfs.GridFSBucket(db).open_download_stream_by_name("clip.webm").read()
        assert stored == data  # PyMongo reads it byte-identical
        # Termination: an unfinished upload leaves nothing.
        doomed = http.post("/", headers={**TUS, "Upload-Length": "3000", "Upload-Metadata": meta})
        doomed_url = doomed.headers["Location"]
        http.patch(doomed_url, headers={**BYTES, "Upload-Offset": "0"}, content=data[:2500])
        assert http.delete(doomed_url, headers=TUS).status_code == 204
        assert http.head(doomed_url, headers=TUS).status_code == 404
        assert db["fs.resumable"].count_documents({"complete": False}) == 0
        assert db["fs.chunks"].count_documents({}) == 4  # the finished file's only
        # Creation with upload, and a deferred length.
        both = http.post(
            "/",
            headers={**BYTES, "Upload-Defer-Length": "1", "Upload-Metadata": meta},
            content=b"hello ",
        )
        assert both.status_code == 201 and both.headers["Upload-Offset"] == "6"
        both_url = both.headers["Location"]
        assert http.head(both_url, headers=TUS).headers["Upload-Defer-Length"] == "1"
        end = http.patch(
            both_url,
            headers={**BYTES, "Upload-Offset": "6", "Upload-Length": "11"},
            content=b"world",
        )
        assert end.status_code == 204
        assert http.get(both_url).content == b"hello world"


@pytest.mark.parametrize("kind", KINDS)
def test_partial_uploads_joined_into_a_final_one(kind: str, mongo_uri: str, db: Any) -> None:
    pieces = [os.urandom(2000), os.urandom(1000), os.urandom(777)]  # chunks of 1000
    with _served(kind, mongo_uri, db.name) as url, httpx.Client(base_url=url) as http:
        urls = []
        for piece in pieces:
            made = http.post(
                "/", headers={**TUS, "Upload-Concat": "partial", "Upload-Length": str(len(piece))}
            )
            assert made.status_code == 201
            part = made.headers["Location"]
            done = http.patch(part, headers={**BYTES, "Upload-Offset": "0"}, content=piece)
            assert done.status_code == 204 and done.headers["Upload-Expires"].endswith(" GMT")
            head = http.head(part, headers=TUS)
            assert head.headers["Upload-Concat"] == "partial"
            assert head.headers["Upload-Offset"] == str(len(piece))
            assert http.get(part).status_code == 404  # a partial upload is no file
            urls.append(part)
        assert db["fs.files"].count_documents({}) == 0
        unfinished = http.post(
            "/", headers={**TUS, "Upload-Concat": "partial", "Upload-Length": "5"}
        ).headers["Location"]
        refused = http.post("/", headers={**TUS, "Upload-Concat": f"final;{urls[0]} {unfinished}"})
        assert refused.status_code == 400
        assert refused.text.endswith("is not complete (0 of 5 bytes)")
        chunk_ids = {d["_id"] for d in db["fs.chunks"].find({}, {"_id": 1})}
        meta = _meta(filename="joined.bin")
        header = "final;" + " ".join(urls[:2]) + " " + urls[2].replace(url, "")  # relative too
        final = http.post("/", headers={**TUS, "Upload-Concat": header, "Upload-Metadata": meta})
        assert final.status_code == 201
        whole = b"".join(pieces)
        head = http.head(final.headers["Location"], headers=TUS)
        assert head.headers["Upload-Concat"] == header
        assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(whole))
        patch = http.patch(
            final.headers["Location"],
            headers={**BYTES, "Upload-Offset": str(len(whole))},
            content=b"x",
        )
        assert patch.status_code == 403
        assert http.get(final.headers["Location"]).content == whole
        doc = db["fs.files"].find_one({"filename": "joined.bin"})
        assert doc is not None and doc["gridfield"] == {"sha256": hashlib.sha256(whole).hexdigest()}
        assert gridfs.GridFSBucket(db).open_download_stream(doc["_id"]).read() == whole
        moved = {d["_id"] for d in db["fs.chunks"].find({"files_id": doc["_id"]}, {"_id": 1})}
        assert moved == chunk_ids  # renumbered in place, not copied
        assert http.head(urls[0], headers=TUS).status_code == 404  # consumed


@contextmanager
def _owned(kind: str, uri: str, db_name: str, **options: Any) -> Iterator[str]:
    """An app whose uploads belong to the ``X-User`` that created them: ``name_file`` writes
    the owner into the upload's metadata, ``authorise`` lets only that user touch it."""
    if kind == "asgi":
        client: Any = AsyncMongoClient(uri)
        store: Any = gridfield.AsyncFileStore(client[db_name], chunk_size=1000)

        async def name_async(metadata: dict[str, bytes], headers: Any) -> FileNaming:
            return FileNaming(metadata=dict(owner=headers.get("X-User")))

        async def authorise_async(method: str, upload_id: str | None, headers: Any) -> bool:
            if upload_id is None:
                return True
            state = await app.uploads.get(upload_id)
            return bool(state.file_metadata.get("owner") == headers.get("X-User"))

        app: Any = AsgiTusApp(
            store, TusOptions(**options), name_file=name_async, authorise=authorise_async
        )
        with run_uvicorn(app, [client]) as url:
            yield url
        return
    sync_client: MongoClient[dict[str, Any]] = MongoClient(uri)

    def name(metadata: dict[str, bytes], headers: Any) -> FileNaming:
        return FileNaming(metadata=dict(owner=headers.get("X-User")))

    def authorise(method: str, upload_id: str | None, headers: Any) -> bool:
        if upload_id is None:
            return True
        state = wsgi_app.uploads.get(upload_id)
        return bool(state.file_metadata.get("owner") == headers.get("X-User"))

    sync_store = gridfield.sync.FileStore(sync_client[db_name], chunk_size=1000)
    wsgi_app = WsgiTusApp(sync_store, TusOptions(**options), name_file=name, authorise=authorise)
    try:
        with run_waitress(wsgi_app) as url:
            yield url
    finally:
        sync_client.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_final_upload_joins_only_parts_its_client_may_patch(
    kind: str, mongo_uri: str, db: Any
) -> None:
    alice, bob = {**TUS, "X-User": "alice"}, {**TUS, "X-User": "bob"}
    secret = b"alice's private bytes"
    with _owned(kind, mongo_uri, db.name) as url, httpx.Client(base_url=url) as http:
        made = http.post(
            "/", headers={**alice, "Upload-Concat": "partial", "Upload-Length": str(len(secret))}
        )
        hers = made.headers["Location"]
        done = http.patch(hers, headers={**alice, **BYTES, "Upload-Offset": "0"}, content=secret)
        assert done.status_code == 204
        assert http.head(hers, headers=bob).status_code == 403
        made = http.post("/", headers={**bob, "Upload-Concat": "partial", "Upload-Length": "3"})
        his = made.headers["Location"]
        http.patch(his, headers={**bob, **BYTES, "Upload-Offset": "0"}, content=b"bob")
        for header in (f"final;{hers}", f"final;{his} {hers}"):
            stolen = http.post("/", headers={**bob, "Upload-Concat": header})
            assert stolen.status_code == 403, stolen.text
            upload_id = hers.rsplit("/", 1)[1]
            assert stolen.text == f"Upload-Concat: partial upload {upload_id} is not yours to join"
        # Nothing was consumed: both parts are whole, no file was made.
        kept = http.head(hers, headers=alice)
        assert (kept.status_code, kept.headers["Upload-Offset"]) == (200, str(len(secret)))
        assert http.head(his, headers=bob).headers["Upload-Offset"] == "3"
        assert db["fs.files"].count_documents({}) == 0
        # Her own final upload joins her part.
        final = http.post("/", headers={**alice, "Upload-Concat": f"final;{hers}"})
        assert final.status_code == 201
        assert http.get(final.headers["Location"], headers=alice).content == secret


@pytest.mark.parametrize("kind", KINDS)
def test_a_final_upload_names_each_part_once_and_few_enough(
    kind: str, mongo_uri: str, db: Any
) -> None:
    with _owned(kind, mongo_uri, db.name, max_parts=3) as url, httpx.Client(base_url=url) as http:
        user = {**TUS, "X-User": "carol"}
        parts = []
        for piece in (b"ab", b"cd", b"ef", b"gh"):
            made = http.post(
                "/", headers={**user, "Upload-Concat": "partial", "Upload-Length": "2"}
            )
            part = made.headers["Location"]
            http.patch(part, headers={**user, **BYTES, "Upload-Offset": "0"}, content=piece)
            parts.append(part)
        twice = http.post(
            "/", headers={**user, "Upload-Concat": f"final;{parts[0]} {parts[1]} {parts[0]}"}
        )
        assert twice.status_code == 400
        upload_id = parts[0].rsplit("/", 1)[1]
        assert twice.text == f"Upload-Concat names partial upload {upload_id} twice"
        many = http.post("/", headers={**user, "Upload-Concat": "final;" + " ".join(parts)})
        assert many.status_code == 400
        assert many.text == "Upload-Concat names 4 partial uploads, over this server's limit of 3"
        assert db["fs.files"].count_documents({}) == 0
        for part in parts:  # nothing consumed
            assert http.head(part, headers=user).headers["Upload-Offset"] == "2"
        joined = http.post("/", headers={**user, "Upload-Concat": "final;" + " ".join(parts[:3])})
        assert joined.status_code == 201
        assert http.get(joined.headers["Location"], headers=user).content == b"abcdef"


@pytest.mark.parametrize("kind", KINDS)
def test_expired_uploads_are_gone(kind: str, mongo_uri: str, db: Any) -> None:
    with (
        _served(
            kind, mongo_uri, db.name, TusOptions(expire_after=timedelta(milliseconds=1))
        ) as url,
        httpx.Client(base_url=url) as http,
    ):
        made = http.post("/", headers={**TUS, "Upload-Length": "10"})
        upload = made.headers["Location"]
        patch = http.patch(upload, headers={**BYTES, "Upload-Offset": "0"}, content=b"12345")
        assert patch.status_code == 410 and "has expired: start a new upload" in patch.text
        assert http.head(upload, headers=TUS).status_code == 410


@pytest.mark.parametrize("kind", KINDS)
def test_tuspy_stops_and_a_new_uploader_resumes(
    kind: str, mongo_uri: str, db: Any, tmp_path: Any
) -> None:
    from tusclient import client as tus_client
    from tusclient.storage import filestorage

    file_storage: Any = filestorage.FileStorage  # tuspy has no type hints

    data = os.urandom(50_000)
    source = tmp_path / "movie.mp4"
    source.write_bytes(data)
    storage = file_storage(str(tmp_path / "urls.json"))
    with _served(kind, mongo_uri, db.name) as url:
        tus = tus_client.TusClient(url + "/")
        first = tus.uploader(
            str(source),
            chunk_size=7_000,
            store_url=True,
            url_storage=storage,
            metadata={"filename": "movie.mp4"},
        )
        first.upload(stop_at=21_000)
        assert first.offset == 21_000
        assert db["fs.files"].count_documents({}) == 0
    storage.close()
    # The server restarted between two PATCHes; a new uploader finds the URL and resumes.
    storage = file_storage(str(tmp_path / "urls.json"))
    port = int(url.rsplit(":", 1)[1])
    with _served(kind, mongo_uri, db.name, port=port) as url:
        tus = tus_client.TusClient(url + "/")
        second = tus.uploader(
            str(source),
            chunk_size=9_000,
            store_url=True,
            url_storage=storage,
            metadata={"filename": "movie.mp4"},
        )
        assert second.url == first.url and second.offset == 21_000
        second.upload()
    storage.close()
    doc = db["fs.files"].find_one({"filename": "movie.mp4"})
    assert doc is not None and doc["gridfield"] == {"sha256": hashlib.sha256(data).hexdigest()}
    assert gridfs.GridFSBucket(db).open_download_stream(doc["_id"]).read() == data


# Under waitress a PATCH cut short never reaches the app (the server waits for the whole body),
# so nothing of it is stored and the offset stays: the servers that stream bodies are tried.
@pytest.mark.parametrize("kind", ["asgi", "wsgi-streaming"])
def test_a_client_gone_mid_patch_leaves_an_exact_offset(kind: str, mongo_uri: str, db: Any) -> None:
    """A PATCH whose client dies half way: the offset counts what reached the server, no
    more and no fewer, and the upload goes on from there to a byte-identical file."""
    data = os.urandom(300_000)
    sent = 123_457  # neither a chunk (1000) nor a batch boundary
    with _served(kind, mongo_uri, db.name) as url, httpx.Client(base_url=url) as http:
        made = http.post("/", headers={**TUS, "Upload-Length": str(len(data))})
        upload = made.headers["Location"]
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            head = (
                f"PATCH {upload} HTTP/1.1\r\nHost: {host}\r\nTus-Resumable: 1.0.0\r\n"
                "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                f"Content-Length: {len(data)}\r\n\r\n"
            )
            raw.sendall(head.encode() + data[:sent])
            raw.shutdown(socket.SHUT_WR)  # the client is gone: no more bytes will come
        offset = -1
        for _ in range(100):  # the server notices the end of the body in its own time
            offset = int(http.head(upload, headers=TUS).headers["Upload-Offset"])
            if offset == sent:
                break
            time.sleep(0.05)
        assert offset == sent
        assert db["fs.files"].count_documents({}) == 0  # nothing visible yet
        rest = http.patch(
            upload, headers={**BYTES, "Upload-Offset": str(sent)}, content=data[sent:]
        )
        assert rest.status_code == 204, rest.text
    (stored,) = db["fs.files"].find()
    assert gridfs.GridFSBucket(db).open_download_stream(stored["_id"]).read() == data
