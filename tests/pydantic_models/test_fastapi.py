"""FileId and FileDescription in a FastAPI app, served by uvicorn and driven by httpx over a
socket: uploads through ``store.put``, request and response models, the OpenAPI schema, and
FastAPI's 422 for a bad id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from bson import ObjectId
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo import AsyncMongoClient, MongoClient

from gridfield import AsyncFileStore, NoFile
from gridfield.core.file_ids import OBJECT_ID_PATTERN
from gridfield.pydantic import FileDescription, FileId, Files
from gridfield.web.asgi import GridFSResponse

from ..conftest import fresh_db_name
from ..web.servers import run_uvicorn

REFUSAL = "Input should be a file id: an ObjectId or a string of 24 hex digits"


class AnimalIn(BaseModel):
    name: str
    photo: FileId
    thumbnail: FileId | None = None


class AnimalOut(AnimalIn):
    id: FileId  # the document's own id: any ObjectId reads the same way
    photo_file: FileDescription


def make_app(db: Any) -> FastAPI:
    store = AsyncFileStore(db)
    files = Files(store)
    app = FastAPI()

    @app.exception_handler(NoFile)
    async def no_file(request: Request, exc: NoFile) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.post("/files", status_code=201)
    async def upload(request: Request, filename: str) -> FileDescription:
        info = await store.put(
            request.stream(), filename=filename, content_type=request.headers["content-type"]
        )
        return FileDescription.from_info(info)

    @app.get("/files/{file_id}/info")
    async def info(file_id: FileId) -> FileDescription:
        return await files.info(file_id)

    @app.get("/files/{file_id}")
    async def download(file_id: FileId) -> GridFSResponse:
        return GridFSResponse(store, file_id)

    @app.get("/files")
    async def several(ids: Annotated[list[FileId], Query()]) -> list[FileDescription]:
        return [await files.info(file_id) for file_id in ids]

    @app.post("/animals", status_code=201)
    async def create(animal: AnimalIn) -> AnimalOut:
        photo_file = await files.info(animal.photo)  # NoFile (404) for an id no file has
        result = await db.animals.insert_one(animal.model_dump())
        return AnimalOut(id=result.inserted_id, photo_file=photo_file, **animal.model_dump())

    @app.get("/animals/{pk}")
    async def read(pk: FileId) -> AnimalOut:
        doc = await db.animals.find_one({"_id": pk})
        photo_file = await files.info(doc["photo"])
        return AnimalOut(id=doc["_id"], photo_file=photo_file, **doc)

    return app


@pytest.fixture
def served(mongo_uri: str) -> Iterator[tuple[httpx.Client, Any]]:
    """The app behind uvicorn; an httpx client to it and a sync view of its database."""
    name = fresh_db_name()
    client: Any = AsyncMongoClient(mongo_uri)  # closed on the server's loop when it stops
    check: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        with (
            run_uvicorn(make_app(client[name]), [client]) as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            yield http, check[name]
    finally:
        check.drop_database(name)
        check.close()


def _upload(http: httpx.Client, data: bytes, filename: str) -> dict[str, Any]:
    response = http.post(
        "/files", params={"filename": filename}, content=data, headers={"content-type": "image/png"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_upload_returns_the_file_description(served: tuple[httpx.Client, Any]) -> None:
    http, db = served
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 1200  # over one chunk
    described = _upload(http, data, "marmot.png")
    stored = db["fs.files"].find_one()
    assert described == {
        "id": str(stored["_id"]),
        "filename": "marmot.png",
        "length": len(data),
        "content_type": "image/png",
        "upload_date": described["upload_date"],
        "sha256": stored["gridfield"]["sha256"],
    }
    assert described["upload_date"].endswith("Z")
    assert http.get(f"/files/{described['id']}/info").json() == described
    assert http.get(f"/files/{described['id']}").content == data


def test_request_and_response_models_carry_the_id_as_a_string_and_store_an_object_id(
    served: tuple[httpx.Client, Any],
) -> None:
    http, db = served
    photo = _upload(http, b"photo", "p.png")
    created = http.post("/animals", json={"name": "marmot", "photo": photo["id"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["photo"], body["thumbnail"], body["photo_file"]) == (photo["id"], None, photo)
    stored = db.animals.find_one()
    assert stored["photo"] == ObjectId(photo["id"])  # an ObjectId in the database, not a str
    assert body["id"] == str(stored["_id"])
    assert http.get(f"/animals/{body['id']}").json() == body
    both = http.get("/files", params={"ids": [photo["id"], photo["id"]]})
    assert both.json() == [photo, photo]


def test_a_bad_id_is_fastapis_422_naming_where_it_was(served: tuple[httpx.Client, Any]) -> None:
    http, db = served
    photo = _upload(http, b"photo", "p.png")
    cases = [
        (http.get("/files/not-an-id/info"), ["path", "file_id"], "not-an-id"),
        (http.get("/files/65f0c0ffee0000000000abc"), ["path", "file_id"], None),
        (http.get("/files", params={"ids": [photo["id"], "x"]}), ["query", "ids", 1], "x"),
        (
            http.post("/animals", json={"name": "m", "photo": photo["id"], "thumbnail": 7}),
            ["body", "thumbnail"],
            7,
        ),
        (http.post("/animals", json={"name": "m", "photo": "nope"}), ["body", "photo"], "nope"),
    ]
    for response, loc, given in cases:
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert (error["type"], error["loc"], error["msg"]) == ("file_id", loc, REFUSAL)
        if given is not None:
            assert error["input"] == given
    assert db.animals.count_documents({}) == 0
    assert db["fs.files"].count_documents({}) == 1


def test_an_id_no_file_has_is_a_404(served: tuple[httpx.Client, Any]) -> None:
    http, db = served
    missing = str(ObjectId())
    assert http.get(f"/files/{missing}/info").status_code == 404
    assert http.get(f"/files/{missing}").status_code == 404
    created = http.post("/animals", json={"name": "m", "photo": missing})
    assert created.status_code == 404
    assert missing in created.json()["detail"]
    assert db.animals.count_documents({}) == 0


def test_the_openapi_schema_has_the_id_as_a_string_with_its_pattern(
    served: tuple[httpx.Client, Any],
) -> None:
    http, _ = served
    spec = http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def is_file_id(schema: dict[str, Any]) -> bool:
        return schema.get("type") == "string" and schema.get("pattern") == OBJECT_ID_PATTERN

    assert is_file_id(schemas["AnimalIn"]["properties"]["photo"])
    assert any(is_file_id(arm) for arm in schemas["AnimalIn"]["properties"]["thumbnail"]["anyOf"])
    assert is_file_id(schemas["AnimalOut"]["properties"]["id"])
    assert is_file_id(schemas["FileDescription"]["properties"]["id"])
    assert schemas["FileDescription"]["required"] == ["id", "length"]
    (path_param,) = spec["paths"]["/files/{file_id}/info"]["get"]["parameters"]
    assert (path_param["in"], is_file_id(path_param["schema"])) == ("path", True)
    (query_param,) = spec["paths"]["/files"]["get"]["parameters"]
    assert is_file_id(query_param["schema"]["items"])
    upload = spec["paths"]["/files"]["post"]["responses"]["201"]["content"]["application/json"]
    assert upload["schema"] == {"$ref": "#/components/schemas/FileDescription"}
