"""examples/fastapi_beanie.py through uvicorn and httpx: a FastAPI app on Beanie documents
written with the library alone (no ``.file_id``, no error handler, no hold by hand)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bson import ObjectId
from examples.fastapi_beanie import create_app
from pymongo import MongoClient
from pymongo.database import Database

from ..conftest import fresh_db_name
from ..web.servers import run_uvicorn

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)


@pytest.fixture
def zoo(mongo_uri: str) -> Iterator[tuple[httpx.Client, Database[dict[str, Any]], Any]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    app = create_app(mongo_uri, name)
    try:
        with run_uvicorn(app, lifespan="on") as base, httpx.Client(base_url=base) as http:
            yield http, client[name], app
    finally:
        client.drop_database(name)
        client.close()


def _add(http: httpx.Client, **form: Any) -> httpx.Response:
    data = {k: v for k, v in form.items() if k != "photo"}
    files = {"photo": ("m.png", form["photo"], "image/png")} if "photo" in form else None
    return http.post("/animals", data=data, files=files or {"other": ("x", b"x", "text/plain")})


def test_the_example_app_stores_serves_and_deletes(zoo: Any) -> None:
    http, db, app = zoo
    added = _add(http, name="marmot", photo=PNG)
    assert added.status_code == 201, added.text
    body = added.json()
    photo_id = ObjectId(body["photo"]["id"])
    assert body["photo"]["length"] == len(PNG)
    stored = db["animals"].find_one({"_id": ObjectId(body["id"])})
    assert stored is not None and stored["photo"] == photo_id  # an ObjectId in the database
    assert db["fs.holds"].count_documents({}) == 0  # held for the insert, then let go

    url = f"/animals/{body['id']}/photo"
    part = http.get(url, headers={"Range": "bytes=0-7"})
    assert (part.status_code, part.content) == (206, PNG[:8])
    assert http.head(url).headers["content-length"] == str(len(PNG))
    assert http.get(f"/animals/{ObjectId()}/photo").status_code == 404
    assert http.get(url + "/info").json()["id"] == str(photo_id)

    assert http.delete(f"/animals/{body['id']}").status_code == 204
    assert db["fs.files"].count_documents({"_id": photo_id}) == 0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert url.replace(body["id"], "{pk}") in app.openapi()["paths"]


def test_the_example_app_answers_the_clients_mistakes(zoo: Any) -> None:
    http, db, _ = zoo
    no_name = _add(http, photo=PNG)
    assert (no_name.status_code, "'name'" in no_name.text) == (400, True)
    no_photo = _add(http, name="marmot")
    assert (no_photo.status_code, "'photo'" in no_photo.text) == (400, True)
    assert db["fs.files"].count_documents({}) == 0  # nothing of either stays
    assert db["animals"].count_documents({}) == 0

    added = _add(http, name="marmot", photo=PNG).json()
    db["fs.files"].delete_many({})  # its file removed behind the app's back
    assert http.get(f"/animals/{added['id']}/photo/info").status_code == 404
    assert http.get(f"/animals/{added['id']}/photo").status_code == 404
    assert http.get("/animals/not-an-id/photo").status_code == 422
