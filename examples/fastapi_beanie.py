"""A FastAPI app on Beanie documents holding stored files: uploads stream into GridFS, the
photo is served with ranges, and errors are answered by gridfield's ready handlers.

Run it: MONGODB_URI=mongodb://localhost:27017/zoo uvicorn --factory examples.fastapi_beanie:main
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from beanie import PydanticObjectId, init_beanie
from fastapi import FastAPI, HTTPException, Request
from pymongo import AsyncMongoClient

from gridfield import AsyncFileStore
from gridfield.beanie import FileHoldingDocument
from gridfield.pydantic import FileDescription, FileId, Files
from gridfield.web.asgi import ERROR_HANDLERS, GridFSResponse, receive_files


class Animal(FileHoldingDocument):
    name: str
    photo: FileId  # saves hold it against a deleting sweep; delete() deletes it

    class Settings:
        name = "animals"


def create_app(uri: str, db_name: str | None = None) -> FastAPI:
    """The app on the database ``db_name``, else the one ``uri`` names."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    db = client[db_name] if db_name else client.get_default_database()
    store, files = AsyncFileStore(db), Files(AsyncFileStore(db))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await init_beanie(database=db, document_models=[Animal])
        yield
        await client.close()

    # 400 for a missing form field or file, 413/415 for refused uploads, 404, 410, 500.
    app = FastAPI(lifespan=lifespan, exception_handlers=ERROR_HANDLERS)

    @app.post("/animals", status_code=201)
    async def add(request: Request) -> dict[str, object]:
        async with receive_files(request, store, max_size=10 * 2**20) as received:
            animal = Animal(name=received.form["name"], photo=received.file("photo"))
            await animal.insert()
        return {"id": str(animal.id), "photo": await files.info(animal.photo)}

    @app.get("/animals/{pk}/photo")
    @app.head("/animals/{pk}/photo")
    async def photo(pk: PydanticObjectId) -> GridFSResponse:
        animal = await Animal.get(pk)
        return GridFSResponse(store, animal and animal.photo)  # no animal, no photo: 404

    @app.get("/animals/{pk}/photo/info")
    async def photo_info(pk: PydanticObjectId) -> FileDescription:
        animal = await Animal.get(pk)
        if animal is None:
            raise HTTPException(404, "no such animal")
        return await files.info(animal.photo)  # its file gone: NoFile, answered 404

    @app.delete("/animals/{pk}", status_code=204)
    async def remove(pk: PydanticObjectId) -> None:
        animal = await Animal.get(pk)
        if animal is not None:
            await animal.delete()  # the document, then its photo

    return app


def main() -> FastAPI:
    """The app on the database of ``$MONGODB_URI``."""
    return create_app(os.environ.get("MONGODB_URI", "mongodb://localhost:27017/zoo"))
