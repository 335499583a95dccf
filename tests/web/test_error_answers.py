"""The ready error answers of each framework, through a real server: a form missing its field
or its file is a 400 naming it (nothing stays stored), NoFile a 404, an expired file a 410, a
damaged file a bare 500, with no handler written by the app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, MongoClient
from pymongo.database import Database

import gridfield.sync

from ..conftest import fresh_db_name
from . import apps, django_urls, error_apps
from .servers import run_aiohttp, run_uvicorn, run_waitress

FRAMEWORKS = ["fastapi", "aiohttp", "flask", "django"]


@pytest.fixture(scope="module")
def error_site(mongo_uri: str) -> Iterator[tuple[Database[dict[str, Any]], dict[str, str]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    gridfield.sync.connect(name, client=client, alias=apps.DJANGO_UPLOADS_ALIAS)
    try:
        with ExitStack() as stack:
            clients = [AsyncMongoClient(mongo_uri) for _ in range(2)]
            urls = {
                "fastapi": stack.enter_context(
                    run_uvicorn(error_apps.fastapi_app(clients[0], name), clients[:1])
                ),
                "aiohttp": stack.enter_context(
                    run_aiohttp(error_apps.aiohttp_app(clients[1], name), clients[1:])
                ),
                "flask": stack.enter_context(run_waitress(error_apps.flask_app(mongo_uri, name))),
                "django": stack.enter_context(run_waitress(error_apps.django_app(mongo_uri, name))),
            }
            try:
                yield client[name], urls
            finally:
                django_urls.errors.clear()
                django_urls.publish()
    finally:
        gridfield.sync.disconnect(apps.DJANGO_UPLOADS_ALIAS)
        client.drop_database(name)
        client.close()


@pytest.fixture
def site(
    error_site: tuple[Database[dict[str, Any]], dict[str, str]],
) -> tuple[Database[dict[str, Any]], dict[str, str]]:
    db, urls = error_site
    db["fs.files"].delete_many({})
    db["fs.chunks"].delete_many({})
    return db, urls


def census(db: Database[dict[str, Any]]) -> tuple[int, int]:
    return db["fs.files"].count_documents({}), db["fs.chunks"].count_documents({})


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_complete_form_is_stored(site: Any, framework: str) -> None:
    db, urls = site
    answer = httpx.post(
        urls[framework] + "/upload",
        data={"title": "marmot"},
        files={"photo": ("m.png", b"\x89PNG\r\n\x1a\n" + os.urandom(100), "image/png")},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["title"] == "marmot"
    assert census(db)[0] == 1


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_missing_field_is_a_400_and_stores_nothing(site: Any, framework: str) -> None:
    db, urls = site
    answer = httpx.post(
        urls[framework] + "/upload",
        data={"name": "marmot"},
        files={"photo": ("m.png", b"\x89PNG\r\n\x1a\n" + os.urandom(100), "image/png")},
    )
    assert answer.status_code == 400, answer.text
    assert "title" in answer.text
    assert census(db) == (0, 0)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_missing_file_is_a_400_and_stores_nothing(site: Any, framework: str) -> None:
    db, urls = site
    answer = httpx.post(
        urls[framework] + "/upload",
        data={"title": "marmot"},
        files={"picture": ("m.png", b"\x89PNG\r\n\x1a\n" + os.urandom(100), "image/png")},
    )
    assert answer.status_code == 400, answer.text
    assert "photo" in answer.text
    assert census(db) == (0, 0)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_file_is_a_404(site: Any, framework: str) -> None:
    _, urls = site
    answer = httpx.get(f"{urls[framework]}/read/{ObjectId()}")
    assert (answer.status_code, answer.text) == (404, "Not Found: no such file\n")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_expired_file_is_a_410(site: Any, framework: str) -> None:
    db, urls = site
    info = gridfield.sync.FileStore(db).put(b"brief", expire_after=timedelta(hours=1))
    # Its time comes: the expiry moved into the past, as the clock would move it.
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    db["fs.files"].update_one({"_id": info.file_id}, {"$set": {"gridfield.expireAt": past}})
    answer = httpx.get(f"{urls[framework]}/read/{info.file_id}")
    assert (answer.status_code, answer.text) == (410, "Gone: the file has expired\n")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_corrupt_file_is_a_bare_500(site: Any, framework: str) -> None:
    db, urls = site
    data = os.urandom(4 * 1024)
    info = gridfield.sync.FileStore(db).put(data, chunk_size=1024)
    db["fs.chunks"].delete_one({"files_id": info.file_id, "n": 2})
    answer = httpx.get(f"{urls[framework]}/read/{info.file_id}")
    assert answer.status_code == 500
    assert answer.text == "Internal Server Error\n"  # nothing of the file, no details
    assert answer.headers.get("content-length", "22") == "22"
