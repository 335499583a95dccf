"""The documentation's FastAPI and Beanie examples of gridfield.pydantic (docs/pydantic.md),
run as written: the app behind uvicorn, the Beanie model on PyMongo's async client."""

from __future__ import annotations

import re
from ast import PyCF_ALLOW_TOP_LEVEL_AWAIT
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from beanie import init_beanie
from bson import ObjectId
from pymongo import AsyncMongoClient, MongoClient

import gridfield
from gridfield import AsyncFileStore, FileField, StringField

from ..conftest import fresh_db_name
from ..web.servers import run_uvicorn

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pydantic.md"


def readme_example(starts: str) -> str:
    """The python block of the page whose first line starts with ``starts``."""
    section = PAGE.read_text(encoding="utf-8")
    for code in re.findall(r"```python\n(.*?)```", section, re.S):
        if code.startswith(starts):
            lines = [line for line in code.splitlines() if line.strip()]
            assert len(lines) < 15, f"the example has {len(lines)} lines"
            return str(code)
    raise AssertionError(f"no example starting {starts!r} in {PAGE.name}")


def run_example(starts: str, scope: dict[str, Any]) -> None:
    """Run the example in ``scope`` as a user's module would, without this file's
    ``from __future__ import annotations`` (which would leave its annotations as strings)."""
    code = compile(readme_example(starts), "docs/pydantic.md", "exec", dont_inherit=True)
    exec(code, scope)


def test_the_fastapi_example(mongo_uri: str) -> None:
    name = fresh_db_name()
    client: Any = AsyncMongoClient(mongo_uri)  # closed on the server's loop when it stops
    scope: dict[str, Any] = {"store": AsyncFileStore(client[name])}
    run_example("from fastapi import", scope)
    check: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        with (
            run_uvicorn(scope["app"], [client]) as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            sent = http.post(
                "/files",
                params={"filename": "marmot.txt"},
                content=b"marmot",
                headers={"content-type": "text/plain"},
            )
            assert sent.status_code == 201, sent.text
            described = sent.json()
            stored = check[name]["fs.files"].find_one()
            assert described["id"] == str(stored["_id"])
            assert (described["length"], described["content_type"]) == (6, "text/plain")
            assert http.get(f"/files/{described['id']}").json() == described
            assert http.get(f"/files/{ObjectId()}").status_code == 500  # NoFile, unhandled
            refused = http.get("/files/marmot.txt")
            assert refused.status_code == 422
            assert refused.json()["detail"][0]["msg"] == (
                "Input should be a file id: an ObjectId or a string of 24 hex digits"
            )
            schema = http.get("/openapi.json").json()["components"]["schemas"]
            assert schema["FileDescription"]["properties"]["id"]["type"] == "string"
    finally:
        check.drop_database(name)
        check.close()


class BeanieHolder(gridfield.Document):
    """The page's advice for the bucket check: a class on the Beanie collection."""

    meta = {"collection": "Animal", "db_alias": "readme-beanie"}
    name = StringField()
    photo = FileField(db_alias="readme-beanie")


async def test_the_beanie_example(mongo_uri: str) -> None:
    scope: dict[str, Any] = {}
    run_example("from beanie import", scope)
    animal_class = scope["Animal"]
    client: Any = AsyncMongoClient(mongo_uri)
    db = client[fresh_db_name()]
    try:
        await init_beanie(database=db, document_models=[animal_class])
        gridfield.connect(db.name, client=client, alias="readme-beanie")
        store = AsyncFileStore(db)
        photo, *gallery, other = [(await store.put(b"%d" % n)).file_id for n in range(4)]
        animal = animal_class(name="marmot", photo=str(photo), gallery=gallery)
        await animal.insert()
        await animal_class(name="beaver", photo=other).insert()
        await animal.delete()
        assert [info.file_id async for info in store.find()] == [other]
        await animal_class.find(animal_class.name == "beaver").delete()  # no event: an orphan
        report = await store.check([BeanieHolder], grace=timedelta(0))
        assert [orphan.file_id for orphan in report.unreferenced_files] == [other]
        # The same, the Beanie collection named as raw holders: within the grace period
        # the sweep keeps the orphan; with none, the holders find it as the class did.
        example: dict[str, Any] = {"store": store}
        code = compile(
            readme_example("holders = ["),
            "docs/pydantic.md",
            "exec",
            flags=PyCF_ALLOW_TOP_LEVEL_AWAIT,
        )
        await eval(code, example)
        assert example["report"].documents_scanned == ["Animal:photo", "Animal:gallery"]
        assert [info.file_id async for info in store.find()] == [other]
        report = await store.check(example["holders"], grace=timedelta(0))
        assert [orphan.file_id for orphan in report.unreferenced_files] == [other]
    finally:
        gridfield.disconnect("readme-beanie")
        await client.drop_database(db.name)
        await client.close()
