"""Django uploads into GridFS through gridfield's upload handler, behind real servers (Django's
own, which streams the body to the app, and waitress, which receives it whole first), driven
by httpx, curl and raw sockets. After each request, a census of the bucket."""

from __future__ import annotations

import hashlib
import math
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo import MongoClient
from pymongo.database import Database

import gridfield.sync
from gridfield.core.files_document import DEFAULT_CHUNK_SIZE
from gridfield.core.http import object_id_or_none

from ..conftest import installed
from . import apps
from .django_upload_app import django_upload_app
from .intake_matrix import NOT_MEDIA_TYPES
from .servers import run_django_server, run_waitress

LIMIT = apps.DJANGO_UPLOAD_LIMIT
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
SERVERS = ["django", "waitress"]
TOO_LARGE = re.compile(
    r"f \(big\.bin\): the file is over the limit of 4194304 bytes \((\d+) bytes seen\)"
)


@pytest.fixture(scope="module")
def upload_servers() -> Iterator[dict[str, str]]:
    app = django_upload_app()
    with (
        run_django_server(app) as django,
        run_waitress(app) as waitress,
        run_django_server(django_upload_app(csrf=True)) as csrf,
    ):
        yield {"django": django, "waitress": waitress, "csrf": csrf}


@pytest.fixture
def db(
    sync_client: MongoClient[dict[str, Any]], sync_db: Database[dict[str, Any]]
) -> Iterator[Database[dict[str, Any]]]:
    """The fresh database the app's upload handler stores into for this test."""
    gridfield.sync.connect(sync_db.name, client=sync_client, alias=apps.DJANGO_UPLOADS_ALIAS)
    try:
        yield sync_db
    finally:
        gridfield.sync.disconnect(apps.DJANGO_UPLOADS_ALIAS)


def census(db: Database[dict[str, Any]]) -> tuple[int, int]:
    """(files documents, chunks) in the bucket."""
    return db["fs.files"].count_documents({}), db["fs.chunks"].count_documents({})


def chunks_of(*sizes: int) -> int:
    """The chunks of files of these (non-zero) sizes."""
    return sum(math.ceil(size / DEFAULT_CHUNK_SIZE) for size in sizes)


def post(base: str, path: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=120) as client:
        return client.post(path, **kwargs)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def multipart(boundary: str, parts: list[tuple[str, bytes]]) -> bytes:
    """A multipart/form-data body from (headers of the part, its content)."""
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


# -- what is stored ----------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_one_file_is_stored_as_it_streams_and_read_back(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    data = os.urandom(LIMIT - 1000)
    response = post(
        upload_servers[server], "/up/echo", files={"f": ("big.bin", data, "video/webm")}
    )
    assert response.status_code == 200, response.text
    [got] = response.json()["files"]["f"]
    assert got["class"] == "GridFSUploadedFile"
    assert (got["name"], got["size"], got["content_type"]) == ("big.bin", len(data), "video/webm")
    assert got["sha256"] == sha(data)  # chunks() read it back from GridFS
    store = gridfield.sync.FileStore(db)
    info = store.get_info(object_id_or_none(got["id"]))
    assert (info.filename, info.content_type, info.length) == ("big.bin", "video/webm", len(data))
    assert store.get(info.file_id) == data
    assert census(db) == (1, chunks_of(len(data)))


@pytest.mark.parametrize("server", SERVERS)
def test_several_files_and_fields(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    files = [
        ("photo", ("a.png", PNG, "image/png")),
        ("photo", ("b.png", PNG[::-1], "image/png")),
        ("doc", ("notes.txt", b"some notes\n", "text/plain")),
    ]
    response = post(
        upload_servers[server],
        "/up/echo",
        files=files,
        data={"title": "Marmots", "tags": ["a", "b"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fields"] == {"title": ["Marmots"], "tags": ["a", "b"]}
    assert [f["name"] for f in body["files"]["photo"]] == ["a.png", "b.png"]
    assert [f["sha256"] for f in body["files"]["photo"]] == [sha(PNG), sha(PNG[::-1])]
    assert body["files"]["doc"][0]["sha256"] == sha(b"some notes\n")
    assert census(db) == (3, 3)


@pytest.mark.parametrize("server", SERVERS)
def test_non_ascii_filenames_encoded_and_raw(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    boundary = "gridfield-boundary"
    body = multipart(
        boundary,
        [
            (
                'Content-Disposition: form-data; name="a"; filename="fallback.pdf";'
                " filename*=UTF-8''Zo%C3%AB%20r%C3%A9sum%C3%A9.pdf\r\n"
                "Content-Type: application/pdf",
                b"%PDF-1.4 one",
            ),
            (
                'Content-Disposition: form-data; name="b"; filename="Мармот 🐿.txt"\r\n'
                "Content-Type: text/plain",
                b"two",
            ),
        ],
    )
    response = post(
        upload_servers[server],
        "/up/echo",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 200, response.text
    files = response.json()["files"]
    assert files["a"][0]["name"] == "Zoë résumé.pdf"
    assert files["b"][0]["name"] == "Мармот 🐿.txt"
    names = sorted(doc["filename"] for doc in db["fs.files"].find())
    assert names == sorted(["Zoë résumé.pdf", "Мармот 🐿.txt"])
    assert census(db) == (2, 2)


@pytest.mark.parametrize("server", SERVERS)
def test_an_empty_file(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    response = post(
        upload_servers[server], "/up/echo", files={"f": ("empty.txt", b"", "text/plain")}
    )
    assert response.status_code == 200, response.text
    [got] = response.json()["files"]["f"]
    assert (got["size"], got["sha256"]) == (0, sha(b""))
    [doc] = db["fs.files"].find()
    assert (doc["filename"], doc["length"]) == ("empty.txt", 0)
    # What the store writes for an empty file, and nothing more.
    gridfield.sync.FileStore(db, "control").put(b"")
    assert census(db) == (1, db["control.chunks"].count_documents({}))


def test_curl_sends_a_file_and_a_field(
    upload_servers: dict[str, str], db: Database[dict[str, Any]], tmp_path: Path
) -> None:
    source = tmp_path / "marmot.png"
    source.write_bytes(PNG)
    for server in SERVERS:
        out = subprocess.run(
            [
                installed("curl"),
                "--silent",
                "--show-error",
                "--max-time",
                "60",
                "-F",
                f"f=@{source};type=image/png",
                "-F",
                "title=Marmot",
                f"{upload_servers[server]}/up/echo",
            ],
            check=True,
            capture_output=True,
        )
        assert f'"sha256": "{sha(PNG)}"' in out.stdout.decode(), out.stdout
    assert census(db) == (2, 2)


def test_curl_over_the_limit_gets_413_and_the_reason(
    upload_servers: dict[str, str], db: Database[dict[str, Any]], tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"\0" * (LIMIT + 100_000))
    for server in SERVERS:
        out = subprocess.run(
            [
                installed("curl"),
                "--silent",
                "--show-error",
                "--max-time",
                "60",
                "--write-out",
                "\n%{http_code}",
                "-F",
                f"f=@{source}",
                f"{upload_servers[server]}/up/echo",
            ],
            check=True,
            capture_output=True,
        )
        text, _, status = out.stdout.decode().rpartition("\n")
        assert status == "413", (server, out.stdout)
        assert TOO_LARGE.fullmatch(text), (server, text)
        assert census(db) == (0, 0)


def test_django_forms_and_validators_read_the_stored_file(
    upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    from PIL import Image

    image = Path(tempfile.mkdtemp()) / "dot.png"
    Image.new("RGB", (7, 3), "red").save(image)
    data = image.read_bytes()
    base = upload_servers["django"]
    response = post(base, "/up/form", data={"title": "dot"}, files={"photo": ("dot.png", data)})
    assert response.status_code == 200, response.text
    assert (response.json()["width"], response.json()["photo"]["sha256"]) == (7, sha(data))
    assert census(db) == (1, 1)
    # Not an image: the form says so (400), and the middleware removes what was stored.
    response = post(base, "/up/form", data={"title": "x"}, files={"photo": ("x.png", b"not one")})
    assert response.status_code == 400
    assert "photo" in response.json()["errors"]
    assert census(db) == (1, 1)


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_over_the_limit_by_content_length_is_413_and_leaves_nothing(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    # A small file first: stored, then removed with the request.
    files = [("g", ("small.txt", b"small", "text/plain")), ("f", ("big.bin", b"\0" * (LIMIT + 1)))]
    response = post(upload_servers[server], "/up/echo", files=files)
    assert response.status_code == 413
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    seen = TOO_LARGE.fullmatch(response.text)
    assert seen is not None, response.text
    assert LIMIT < int(seen.group(1)) <= LIMIT + 256 * 1024
    assert census(db) == (0, 0)


def test_a_part_that_declares_a_length_over_the_limit_is_refused_before_its_bytes(
    upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    boundary = "gridfield-boundary"
    body = multipart(
        boundary,
        [
            (
                'Content-Disposition: form-data; name="f"; filename="big.bin"\r\n'
                f"Content-Length: {LIMIT + 1}",
                b"only a few bytes",
            )
        ],
    )
    response = post(
        upload_servers["django"],
        "/up/echo",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert (response.status_code, response.text) == (
        413,
        "f (big.bin): the file is over the limit of 4194304 bytes (4194305 bytes seen)",
    )
    assert census(db) == (0, 0)


def test_over_the_limit_streamed_without_content_length_is_413(
    upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    # Chunked transfer encoding: waitress decodes it (Django's own server takes no chunked
    # request body). The body is made as it is sent.
    boundary = "gridfield-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
        "Content-Type: application/x-big\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(LIMIT // 65536 + 4):
            yield b"\1" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = post(
        upload_servers["waitress"],
        "/up/echo",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert TOO_LARGE.fullmatch(response.text), response.text
    assert census(db) == (0, 0)


@pytest.mark.parametrize("server", SERVERS)
def test_a_refused_type_is_415_before_anything_is_stored(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    base = upload_servers[server]
    ok = post(base, "/up/images", files={"f": ("dot.png", PNG, "image/png")})
    assert ok.status_code == 200, ok.text
    # No useful claim: sniffed from the first bytes (PNG's signature), and taken.
    sniffed = post(base, "/up/images", files={"f": ("upload", PNG, "application/octet-stream")})
    assert sniffed.status_code == 200, sniffed.text
    assert census(db) == (2, 2)
    db["fs.chunks"].delete_many({})
    db["fs.files"].delete_many({})

    claimed = post(base, "/up/images", files={"f": ("a.txt", b"text", "text/plain")})
    assert claimed.status_code == 415
    assert claimed.text == "f (a.txt): content type 'text/plain' is not allowed (allowed: image/*)"
    unknown = post(base, "/up/images", files={"f": ("upload", os.urandom(300_000))})
    assert unknown.status_code == 415
    assert unknown.text == "f (upload): an unknown content type is not allowed (allowed: image/*)"
    assert census(db) == (0, 0)


@pytest.mark.parametrize("server", SERVERS)
def test_a_part_type_that_is_no_media_type_is_400_naming_the_part(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    base = upload_servers[server]
    boundary = "gridfield-no-media-type"
    for kind in NOT_MEDIA_TYPES:
        for path in ("/up/echo", "/up/images"):  # without and with a list of allowed types
            body = multipart(
                boundary,
                [
                    ('Content-Disposition: form-data; name="ok"; filename="first.png"', PNG),
                    (
                        'Content-Disposition: form-data; name="f"; filename="a.png"\r\n'
                        f"Content-Type: {kind}",
                        PNG,
                    ),
                ],
            )
            got = post(
                base,
                path,
                content=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            assert got.status_code == 400, (kind, path, got.status_code, got.text[:300])
            assert got.text.startswith("f (a.png): Content-Type"), got.text
            assert "is not a media type" in got.text
    assert census(db) == (0, 0)


@pytest.mark.parametrize(
    ("what", "files", "data"),
    [
        ("too many files", [("f", (f"{i}.txt", b"x", "text/plain")) for i in range(6)], {}),
        (
            "too many fields",
            [("f", ("1.txt", b"x", "text/plain"))],
            {f"k{i}": "v" for i in range(30)},
        ),
        ("a field too large", [("f", ("1.txt", b"x", "text/plain"))], {"z": "v" * 70_000}),
    ],
)
def test_djangos_own_limits_are_400_and_leave_nothing(
    what: str,
    files: list[Any],
    data: dict[str, str],
    upload_servers: dict[str, str],
    db: Database[dict[str, Any]],
) -> None:
    # Files first, so that some are stored before Django's limit is met.
    boundary = "gridfield-boundary"
    parts = [
        (
            f'Content-Disposition: form-data; name="{name}"; filename="{file[0]}"\r\n'
            f"Content-Type: {file[2]}",
            file[1],
        )
        for name, file in files
    ]
    parts += [(f'Content-Disposition: form-data; name="{k}"', v.encode()) for k, v in data.items()]
    response = post(
        upload_servers["django"],
        "/up/echo",
        content=multipart(boundary, parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400, what
    assert census(db) == (0, 0), what


def test_a_refusal_met_while_the_csrf_middleware_reads_the_body_is_413(
    upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    # CsrfViewMiddleware reads request.POST (for the token) before the view: Django answers
    # the handler's refusal there as a parse error (400), which the middleware before it
    # makes a 413.
    secret = "a" * 32  # the cookie's secret; the form's token may be the secret itself
    token = {"csrfmiddlewaretoken": secret}
    files = [("g", ("small.txt", b"small", "text/plain")), ("f", ("big.bin", b"\0" * (LIMIT + 1)))]
    with httpx.Client(base_url=upload_servers["csrf"], cookies={"csrftoken": secret}) as client:
        response = client.post("/up/echo", data=token, files=files, timeout=60)
        assert response.status_code == 413
        assert TOO_LARGE.fullmatch(response.text), response.text
        assert census(db) == (0, 0)
        response = client.post("/up/echo", data=token, files=files[:1], timeout=60)
        assert response.status_code == 200, response.text
        assert census(db) == (1, 1)


# -- failures ----------------------------------------------------------------------------------


def test_a_view_raising_file_too_large_is_413(
    upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    response = post(upload_servers["django"], "/up/view-too-large", data={"a": "b"})
    assert response.status_code == 413
    assert response.text == "fs: the file is over the limit of 5 bytes (10 bytes seen)"
    assert census(db) == (0, 0)


@pytest.mark.parametrize("server", SERVERS)
def test_an_exception_in_the_view_after_storing_leaves_nothing(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    files = [("a", ("1.bin", os.urandom(300_000))), ("b", ("2.bin", os.urandom(10)))]
    response = post(upload_servers[server], "/up/fail", files=files)
    assert response.status_code == 500
    assert census(db) == (0, 0)


@pytest.mark.parametrize("server", SERVERS)
def test_a_truncated_body_is_400_and_leaves_nothing(
    server: str, upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    boundary = "gridfield-boundary"
    whole = multipart(
        boundary,
        [
            ('Content-Disposition: form-data; name="a"; filename="1.txt"', b"complete"),
            ('Content-Disposition: form-data; name="b"; filename="2.bin"', os.urandom(600_000)),
        ],
    )
    cut = whole[:-300_000]  # inside the second file: no closing boundary
    response = post(
        upload_servers[server],
        "/up/echo",
        content=cut,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert (response.status_code, response.text) == (
        400,
        "the request body ended inside a file: nothing of it was kept",
    )
    assert census(db) == (0, 0)


def _wait_for(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def test_a_client_that_disconnects_mid_body_leaves_nothing(
    upload_servers: dict[str, str], db: Database[dict[str, Any]]
) -> None:
    # Django's own server hands the app the body as it arrives: the handler has stored one
    # file and the chunks of the next when the client goes away.
    url = urlsplit(upload_servers["django"])
    boundary = "gridfield-boundary"
    first = multipart(
        boundary, [('Content-Disposition: form-data; name="a"; filename="1.txt"', b"complete")]
    )[: -len(f"--{boundary}--\r\n")]
    second = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="b"; filename="2.bin"\r\n\r\n'
    ).encode()
    declared = len(first) + len(second) + 64 * 2**20
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            (
                f"POST /up/big HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {declared}\r\n\r\n"
            ).encode()
            + first
            + second
        )
        sent = 0
        while db["fs.chunks"].count_documents({}) < 2:  # the first file and a batch of the next
            sock.sendall(os.urandom(2**20))
            sent += 2**20
            assert sent < 40 * 2**20, "nothing of the second file was stored"
            time.sleep(0.01)
        assert db["fs.files"].count_documents({}) == 1
    _wait_for(lambda: census(db) == (0, 0), "the stored parts removed")
    time.sleep(0.5)
    assert census(db) == (0, 0)


# -- no temporary files ------------------------------------------------------------------------


class _TempWatch:
    """Every name that appears in a folder while it runs (polled: temporary upload files
    live as long as their request)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen.update(os.listdir(self.folder))
            time.sleep(0.005)

    def __enter__(self) -> _TempWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.seen.update(os.listdir(self.folder))


def test_a_56_mib_upload_makes_no_temporary_file(
    upload_servers: dict[str, str],
    db: Database[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the server is in this process
    size = 56 * 2**20
    data = os.urandom(size)
    base = upload_servers["django"]
    with _TempWatch(tmp_path) as watch:
        response = post(base, "/up/big", files={"f": ("big.bin", data)})
    assert response.status_code == 200, response.text
    assert response.json()["files"]["f"][0]["sha256"] == sha(data)
    assert watch.seen == set()
    assert census(db) == (1, chunks_of(size))
    # The control: Django's own handlers put the same kind of upload in a temporary file.
    with _TempWatch(tmp_path) as watch:
        response = post(base, "/up/default", files={"f": ("copy.bin", data[: 8 * 2**20])})
    assert response.status_code == 200, response.text
    assert response.json()["class"] == "TemporaryUploadedFile"
    assert len(watch.seen) == 1, watch.seen


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"alias": "x", "maxsize": 1},
            "GRIDFIELD_UPLOADS: unknown key(s) 'maxsize'"
            " (known: alias, bucket, content_types, db, max_size, uri)",
        ),
        (
            {"alias": "x", "uri": "mongodb://h"},
            "GRIDFIELD_UPLOADS: give 'uri' or 'alias', not both",
        ),
        (["alias"], "GRIDFIELD_UPLOADS must be a dict, not list"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(config: Any, message: str) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from gridfield.web.django_uploads import GridFSUploadHandler

    apps.configure_django()
    with override_settings(GRIDFIELD_UPLOADS=config), pytest.raises(ImproperlyConfigured) as err:
        GridFSUploadHandler(None)
    assert str(err.value) == message


def test_the_settings_name_a_store_by_uri_db_and_bucket_and_limits(mongo_uri: str) -> None:
    from django.test import override_settings

    from gridfield.web.django_uploads import GridFSUploadHandler

    apps.configure_django()
    config = {"uri": mongo_uri, "db": "zoo", "bucket": "photos", "content_types": ["image/*"]}
    with override_settings(GRIDFIELD_UPLOADS=config):
        handler = GridFSUploadHandler(None)
        again = GridFSUploadHandler(None, max_size=10)
    assert (handler.store.db.name, handler.store.collection_name) == ("zoo", "photos")
    assert handler.store.db.client is again.store.db.client  # one client per URI
    assert (handler.limits.max_size, handler.limits.content_types) == (None, ("image/*",))
    assert (again.limits.max_size, again.limits.content_types) == (10, ("image/*",))
    with pytest.raises(TypeError) as err:
        GridFSUploadHandler(None, store=object())  # type: ignore[arg-type]
    assert str(err.value) == "store must be a gridfield.sync.FileStore, not object"
