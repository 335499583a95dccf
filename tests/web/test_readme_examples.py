"""The documentation's FastAPI and Flask examples (docs/serving.md, docs/intake.md), and its
Django upload settings and view (docs/django.md), run as written behind real servers."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

import gridfield
import gridfield.sync
from gridfield import FileField as AsyncFileField
from gridfield.sync import FileField

from ..conftest import fresh_db_name
from .servers import run_uvicorn, run_waitress

DOCS = Path(__file__).resolve().parents[2] / "docs"


class ReadmeAnimal(gridfield.Document):
    meta = {"collection": "animals", "db_alias": "readme"}
    photo = AsyncFileField(db_alias="readme")


class ReadmeAnimalSync(gridfield.sync.Document):
    meta = {"collection": "animals", "db_alias": "readme"}
    genus = gridfield.sync.StringField()
    photo = FileField(db_alias="readme")


def readme_example(
    title: str, page: str = "serving.md", heading: str = "", max_lines: int = 10
) -> str:
    """The first python block after the line that starts with ``title`` in the documentation
    page ``page``, after ``heading`` when given."""
    text = (DOCS / page).read_text(encoding="utf-8")
    part = text[text.index(heading) :]
    after = part[part.index(title) :]
    code = re.search(r"```python\n(.*?)```", after, re.S)
    assert code is not None
    lines = [line for line in code.group(1).splitlines() if line.strip()]
    assert len(lines) < max_lines, f"the {title} example has {len(lines)} lines"
    return code.group(1)


@pytest.fixture
def stored_photo(mongo_uri: str) -> Iterator[tuple[Any, bytes]]:
    name = fresh_db_name()
    gridfield.sync.connect(name, host=mongo_uri, alias="readme")
    try:
        animal = ReadmeAnimalSync()
        data = b"\xff\xd8\xff" + bytes(range(256)) * 40
        animal.photo.put(data, content_type="image/jpeg")
        animal.save()
        yield animal.pk, data
    finally:
        db = gridfield.sync.get_db("readme")
        db.client.drop_database(name)
        gridfield.sync.disconnect("readme")


def _check(base: str, pk: Any, data: bytes) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.get(f"/animals/{pk}/photo", headers={"Range": "bytes=3-12"})
        assert (response.status_code, response.content) == (206, data[3:13])
        assert response.headers["content-type"] == "image/jpeg"
        etag = response.headers["etag"]
        assert (
            client.get(f"/animals/{pk}/photo", headers={"If-None-Match": etag}).status_code == 304
        )
        head = client.head(f"/animals/{pk}/photo")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(data))
        assert client.get("/animals/5f0000000000000000000000/photo").status_code == 404
        assert client.get("/animals/not-an-id/photo").status_code == 404


def test_the_fastapi_example(stored_photo: tuple[Any, bytes], mongo_uri: str) -> None:
    # The app's own client, closed on the server's loop when it stops.
    client: Any = AsyncMongoClient(mongo_uri)
    gridfield.connect(gridfield.sync.get_db("readme").name, client=client, alias="readme")
    try:
        scope: dict[str, Any] = {"Animal": ReadmeAnimal}
        exec(readme_example("FastAPI or Starlette"), scope)
        with warnings.catch_warnings():
            # FastAPI warns of a duplicate operation id for one route with two methods.
            warnings.simplefilter("error")
            assert "/animals/{pk}/photo" in scope["app"].openapi()["paths"]
        with run_uvicorn(scope["app"], [client]) as base:
            _check(base, *stored_photo)
    finally:
        gridfield.disconnect("readme")


def test_the_flask_example(stored_photo: tuple[Any, bytes]) -> None:
    scope: dict[str, Any] = {"Animal": ReadmeAnimalSync, "__name__": __name__}
    exec(readme_example("Flask"), scope)
    with run_waitress(scope["app"]) as base:
        _check(base, *stored_photo)


UPLOADS = "intake.md"


def _check_upload(base: str, pk: Any, mongo_uri: str) -> None:
    photo = b"\xff\xd8\xff" + os.urandom(300_000)
    with httpx.Client(base_url=base, timeout=60) as client:
        response = client.post(
            f"/animals/{pk}/photo", files={"photo": ("Zoë.jpg", photo, "image/jpeg")}
        )
        assert (response.status_code, response.json()) == (200, {"length": len(photo)})
        too_big = client.post(
            f"/animals/{pk}/photo", files={"photo": ("big.bin", bytes(10 * 2**20 + 1))}
        )
        assert too_big.status_code == 413
        assert "over the limit of 10485760 bytes" in too_big.text
    db = gridfield.sync.get_db("readme")
    animal = db["animals"].find_one({"_id": pk})
    assert animal is not None
    store = gridfield.sync.FileStore(db)
    info = store.get_info(animal["photo"])
    assert (info.filename, info.content_type) == ("Zoë.jpg", "image/jpeg")
    assert store.get(animal["photo"]) == photo
    # The photo the animal held before went at the save; the refused upload left nothing.
    assert db["fs.files"].count_documents({}) == 1
    assert db["fs.chunks"].count_documents({}) == 2


def test_the_fastapi_upload_example(stored_photo: tuple[Any, bytes], mongo_uri: str) -> None:
    client: Any = AsyncMongoClient(mongo_uri)
    gridfield.connect(gridfield.sync.get_db("readme").name, client=client, alias="readme")
    try:
        scope: dict[str, Any] = {"Animal": ReadmeAnimal}
        exec(readme_example("FastAPI (", UPLOADS), scope)
        with run_uvicorn(scope["app"], [client]) as base:
            _check_upload(base, stored_photo[0], mongo_uri)
    finally:
        gridfield.disconnect("readme")


def test_the_flask_upload_example(stored_photo: tuple[Any, bytes], mongo_uri: str) -> None:
    scope: dict[str, Any] = {"Animal": ReadmeAnimalSync, "__name__": __name__}
    exec(readme_example("Flask", UPLOADS), scope)
    with run_waitress(scope["app"]) as base:
        _check_upload(base, stored_photo[0], mongo_uri)


DJANGO_UPLOADS = "## Uploads straight into GridFS"


def test_the_django_upload_settings_name_what_exists() -> None:
    from django.utils.module_loading import import_string

    from gridfield.web import django_uploads

    scope: dict[str, Any] = {}
    exec(readme_example(DJANGO_UPLOADS, "django.md", DJANGO_UPLOADS, max_lines=20), scope)
    assert import_string(scope["FILE_UPLOAD_HANDLERS"][0]) is django_uploads.GridFSUploadHandler
    assert import_string(scope["MIDDLEWARE"][0]) is django_uploads.GridFSUploadMiddleware
    assert set(scope["GRIDFIELD_UPLOADS"]) <= django_uploads._KEYS
    for name in ("NUMBER_FILES", "NUMBER_FIELDS", "MEMORY_SIZE"):
        assert isinstance(scope[f"DATA_UPLOAD_MAX_{name}"], int)


def test_the_django_upload_view(mongo_uri: str) -> None:
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import path

    from . import apps, django_urls
    from .servers import run_django_server

    apps.configure_django()  # the handler and middleware of the page's settings
    name = fresh_db_name()
    gridfield.sync.connect(name, host=mongo_uri, alias="readme")
    gridfield.sync.connect(name, host=mongo_uri, alias=apps.DJANGO_UPLOADS_ALIAS)
    try:
        scope: dict[str, Any] = {"Animal": ReadmeAnimalSync, "__name__": __name__}
        exec(readme_example("takes it by its id", "django.md", DJANGO_UPLOADS), scope)
        django_urls.uploads[:] = [path("animals", scope["new_animal"])]
        django_urls.publish()
        data = b"\xff\xd8\xff" + bytes(range(256)) * 40
        with run_django_server(WSGIHandler()) as base:
            response = httpx.post(
                f"{base}/animals",
                data={"genus": "Marmota"},
                files={"photo": ("marmot.jpg", data, "image/jpeg")},
                timeout=30,
            )
        assert response.status_code == 201, response.text
        animal = ReadmeAnimalSync.objects.get(id=response.json()["id"])
        assert (animal.photo.read(), animal.photo.content_type) == (data, "image/jpeg")
        assert animal.photo.filename == "marmot.jpg"
        db = gridfield.sync.get_db("readme")
        assert (db["fs.files"].count_documents({}), db["fs.chunks"].count_documents({})) == (1, 1)
    finally:
        db = gridfield.sync.get_db("readme")
        db.client.drop_database(name)
        gridfield.sync.disconnect(apps.DJANGO_UPLOADS_ALIAS)
        gridfield.sync.disconnect("readme")
