"""Sample files in a fresh database, and every adapter served by a real server over sockets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gridfs
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, MongoClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

import gridfield.sync
from gridfield.core.encryption import Encryption, LocalKeys
from gridfield.core.http import entity_tag, format_http_date, last_modified

from ..conftest import fresh_db_name, installed
from . import apps, intake_apps
from .intake_matrix import Target
from .servers import run_aiohttp, run_uvicorn, run_waitress, run_werkzeug

INTAKE_ADAPTERS = ["fastapi", "aiohttp", "flask-waitress", "flask-werkzeug"]
"""The receiving adapters under test: FastAPI on uvicorn, aiohttp's own server, Flask on
waitress (which reads a body whole before the app runs) and on werkzeug's server."""


@dataclass(frozen=True)
class Sample:
    """A stored file and what the server should say about it."""

    file_id: ObjectId
    data: bytes
    etag: str
    last_modified: str


@dataclass(frozen=True)
class Samples:
    """The files every adapter serves (one database for the whole session)."""

    db_name: str
    clip: Sample  # 100 KB, 16 KiB chunks, video/webm, SHA-256 stored
    legacy: Sample  # written by PyMongo's gridfs: no hash, metadata.content_type
    unicode: Sample  # a non-ASCII filename
    untyped: Sample  # no type, no filename: sniffed (PNG)
    empty: Sample
    corrupt: Sample  # chunk 2 of 5 is gone
    named_old: Sample  # two revisions of notes.txt
    named_new: Sample
    odd_name: Sample  # a filename with "%41", a space, "+" and non-ASCII: ODD_NAME
    tie_old: Sample  # two revisions of tie.txt stored in the same millisecond
    tie_new: Sample  # the one with the greater _id: the newest
    active: Sample  # an SVG carrying a script: active content


ACTIVE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>fetch(\'/ran\')</script><rect width="10" height="10"/></svg>'
)
"""An SVG whose script, if a browser runs it, asks the server for ``/ran``."""


ODD_NAME = "100%41 a+b ü.txt"


def _sample(store: gridfield.sync.FileStore, file_id: ObjectId, data: bytes) -> Sample:
    info = store.get_info(file_id)
    modified = last_modified(info)
    assert modified is not None
    return Sample(file_id, data, entity_tag(info), format_http_date(modified))


SEALING_KEYS = Encryption(LocalKeys({"web-tests": bytes(range(32))}))
"""The keys of the encrypting store the matrix is run over a second time."""

STORES = ["clear", "encrypted"]
"""The stores every adapter's matrix is run over: a plain one, and one encrypting every
file it writes (SEALING_KEYS)."""


def _make_samples(store: gridfield.sync.FileStore, db: Any, name: str) -> Samples:
    """The sample files, written by ``store`` (PyMongo's gridfs writes the legacy one)."""
    clip = os.urandom(100_000)
    clip_info = store.put(clip, filename="clip.webm", content_type="video/webm", chunk_size=16384)
    legacy = os.urandom(5000)
    legacy_id = gridfs.GridFS(db).put(
        legacy, filename="legacy-photo", metadata={"content_type": "image/jpeg"}
    )
    unicode = b"%PDF-1.4 " + os.urandom(3000)
    unicode_info = store.put(unicode, filename="Zoë résumé.pdf", content_type="application/pdf")
    untyped = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
    untyped_info = store.put(untyped)
    empty_info = store.put(b"", filename="empty.txt", content_type="text/plain")
    corrupt = os.urandom(5 * 4096)
    corrupt_info = store.put(
        corrupt, filename="broken.bin", content_type="application/octet-stream", chunk_size=4096
    )
    db["fs.chunks"].delete_one({"files_id": corrupt_info.file_id, "n": 2})
    old = store.put(b"first revision\n", filename="notes.txt", content_type="text/plain")
    new = store.put(b"second revision\n", filename="notes.txt", content_type="text/plain")
    odd = store.put(b"an odd name\n", filename=ODD_NAME, content_type="text/plain")
    # Same uploadDate: the greater _id is the newer revision (stored last, so a sort on
    # uploadDate alone would likely return the other one).
    tie_old = store.put(b"tie: older\n", filename="tie.txt", file_id=ObjectId())
    tie_new = store.put(b"tie: newer\n", filename="tie.txt", file_id=ObjectId())
    db["fs.files"].update_many(
        {"filename": "tie.txt"}, {"$set": {"uploadDate": tie_old.upload_date}}
    )
    active = store.put(ACTIVE_SVG, filename="drawing.svg", content_type="image/svg+xml")
    return Samples(
        db_name=name,
        clip=_sample(store, clip_info.file_id, clip),
        legacy=_sample(store, legacy_id, legacy),
        unicode=_sample(store, unicode_info.file_id, unicode),
        untyped=_sample(store, untyped_info.file_id, untyped),
        empty=_sample(store, empty_info.file_id, b""),
        corrupt=_sample(store, corrupt_info.file_id, corrupt),
        named_old=_sample(store, old.file_id, b"first revision\n"),
        named_new=_sample(store, new.file_id, b"second revision\n"),
        odd_name=_sample(store, odd.file_id, b"an odd name\n"),
        tie_old=_sample(store, tie_old.file_id, b"tie: older\n"),
        tie_new=_sample(store, tie_new.file_id, b"tie: newer\n"),
        active=_sample(store, active.file_id, ACTIVE_SVG),
    )


@contextmanager
def _samples_in_fresh_db(mongo_uri: str, encryption: Encryption | None) -> Iterator[Samples]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    db = client[name]
    try:
        yield _make_samples(gridfield.sync.FileStore(db, encryption=encryption), db, name)
    finally:
        client.drop_database(name)
        client.close()


@contextmanager
def _serving(uri: str, name: str, encryption: Encryption | None) -> Iterator[dict[str, str]]:
    """The base URL of every adapter in apps.TARGETS, each behind its real server, serving
    the database ``name`` through a store with ``encryption``."""
    with ExitStack() as stack:
        # One async client per server: each binds to its server's loop, and closes there.
        clients = [AsyncMongoClient(uri) for _ in range(3)]
        starlette = stack.enter_context(
            run_uvicorn(apps.starlette_app(clients[0], name, encryption), clients[:1])
        )
        fastapi = stack.enter_context(
            run_uvicorn(apps.fastapi_app(clients[1], name, encryption), clients[1:2])
        )
        aiohttp = stack.enter_context(
            run_aiohttp(apps.aiohttp_app(clients[2], name, encryption), clients[2:])
        )
        flask = stack.enter_context(run_waitress(apps.flask_app(uri, name, encryption)))
        # Django has one URL configuration per process: the encrypted app's routes sit
        # beside the clear one's, under sealed/.
        prefix = "" if encryption is None else "sealed/"
        django = stack.enter_context(run_waitress(apps.django_app(uri, name, encryption, prefix)))
        django = f"{django}/{prefix}".rstrip("/")
        yield {
            "starlette": starlette,
            "fastapi": fastapi,
            "asgi-app": starlette,
            "aiohttp": aiohttp,
            "aiohttp-handler": aiohttp,
            "flask": flask,
            "wsgi-app": flask,
            "django": django,
            "django-view": django,
        }


@pytest.fixture(scope="session")
def samples(mongo_uri: str) -> Iterator[Samples]:
    """The sample files, stored in clear."""
    with _samples_in_fresh_db(mongo_uri, None) as made:
        yield made


@pytest.fixture(scope="session")
def servers(mongo_uri: str, samples: Samples) -> Iterator[dict[str, str]]:
    """The base URL of every adapter in apps.TARGETS, each behind its real server."""
    with _serving(mongo_uri, samples.db_name, None) as urls:
        yield urls


@pytest.fixture(scope="session")
def encrypted_samples(mongo_uri: str) -> Iterator[Samples]:
    """The sample files, stored by an encrypting store (but the legacy one, which PyMongo's
    gridfs writes in clear)."""
    with _samples_in_fresh_db(mongo_uri, SEALING_KEYS) as made:
        yield made


@pytest.fixture(scope="session")
def encrypted_servers(mongo_uri: str, encrypted_samples: Samples) -> Iterator[dict[str, str]]:
    """Every adapter as in ``servers``, over an encrypting store of the encrypted samples."""
    with _serving(mongo_uri, encrypted_samples.db_name, SEALING_KEYS) as urls:
        yield urls


@pytest.fixture(params=STORES)
def served(request: pytest.FixtureRequest) -> tuple[dict[str, str], Samples]:
    """The servers and their samples, over each store of STORES in turn."""
    if request.param == "clear":
        return request.getfixturevalue("servers"), request.getfixturevalue("samples")
    return (
        request.getfixturevalue("encrypted_servers"),
        request.getfixturevalue("encrypted_samples"),
    )


@pytest.fixture(scope="session")
def intake_servers(mongo_uri: str) -> Iterator[tuple[Any, dict[str, tuple[str, bool]]]]:
    """Every adapter's upload app behind its server, all writing to one database."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        with ExitStack() as stack:
            clients = [AsyncMongoClient(mongo_uri) for _ in range(2)]
            fastapi = stack.enter_context(
                run_uvicorn(intake_apps.fastapi_app(clients[0], name), clients[:1])
            )
            aiohttp = stack.enter_context(
                run_aiohttp(intake_apps.aiohttp_app(clients[1], name), clients[1:])
            )
            flask = intake_apps.flask_app(mongo_uri, name)
            waitress = stack.enter_context(run_waitress(flask))
            werkzeug = stack.enter_context(run_werkzeug(flask))
            yield (
                client[name],
                {
                    "fastapi": (fastapi, False),
                    "aiohttp": (aiohttp, False),
                    "flask-waitress": (waitress, True),
                    "flask-werkzeug": (werkzeug, False),
                },
            )
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture(params=INTAKE_ADAPTERS)
def target(
    request: pytest.FixtureRequest,
    intake_servers: tuple[Any, dict[str, tuple[str, bool]]],
) -> Target:
    db, servers = intake_servers
    base, buffers = servers[request.param]
    # One bucket for every server: emptied before each case, so the census is exact.
    db["fs.files"].delete_many({})
    db["fs.chunks"].delete_many({})
    return Target(request.param, base, db, buffers)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Debian's headless Chromium under Selenium, with a profile of its own."""
    chromium, chromedriver = installed("chromium"), installed("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def db(mongo_uri: str) -> Iterator[Any]:
    """A fresh database of the test's own (a sync client's), dropped after it."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    yield client[name]
    client.drop_database(name)
    client.close()
