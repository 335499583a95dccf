"""The same upload app in each framework, on each adapter's receiving calls.

Routes: ``POST /form`` (files up to LIMIT bytes each; ``/big``: BIG; ``/spooled``: the
framework's own form parser, for contrast), ``POST /images``
(image types only), ``POST /explode`` (stores the form, then the route raises),
``PUT /raw/<name>`` (a raw body up to LIMIT bytes), ``PUT /put/<name>`` (the route calls
``store.put`` on the body stream with a tiny limit: its FileTooLarge must be a 413, not a
500); limits given as a value: ``POST /one`` (ONE_FILE, with the ``max_size`` shorthand),
``PUT /tiny/<name>`` (TINY_BODY). Each answers JSON:
``{"files": [{field, filename, content_type, length, id}], "form": {...}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pymongo import MongoClient

import gridfield
import gridfield.sync
from gridfield import IntakeLimits

LIMIT = 300 * 1024
"""Bytes per file on /form and /raw: more than one 255 KiB chunk."""
PUT_LIMIT = 1000
"""The limit of the route that stores the body itself."""
BIG = 2**30
"""Bytes per file on /big (FastAPI and Flask apps), for the memory bound."""
ONE_FILE = IntakeLimits(max_files=1, max_size=5)
"""The limits of /one, whose route's ``max_size=LIMIT`` shorthand takes over the 5 bytes."""
TINY_BODY = IntakeLimits(max_body=10)
"""The limits of /tiny: a raw body of at most 10 bytes."""


def described(received: Any) -> dict[str, Any]:
    return {
        "files": [
            {
                "field": part.field,
                "filename": part.filename,
                "content_type": part.content_type,
                "length": part.length,
                "id": str(part.file_id),
            }
            for part in received.files
        ],
        "form": received.form,
    }


def fastapi_app(client: Any, db_name: str) -> Any:
    from fastapi import FastAPI

    from gridfield.web.asgi import UPLOAD_ERROR_HANDLERS, receive_body, receive_files

    # FastAPI reads the routes' annotations: Request is imported at the top of this module.
    store = gridfield.AsyncFileStore(client[db_name])
    app = FastAPI(exception_handlers=UPLOAD_ERROR_HANDLERS)

    @app.post("/form")
    async def form(request: Request) -> Any:
        return described(await receive_files(request, store, max_size=LIMIT))

    @app.post("/big")
    async def big(request: Request) -> Any:
        return described(await receive_files(request, store, max_size=BIG))

    @app.post("/spooled")
    async def spooled(request: Request) -> Any:
        # Starlette's own parser, for contrast: it spools each file to a temporary file.
        form = await request.form()
        upload: Any = form["f"]
        return {"length": upload.size}

    @app.post("/images")
    async def images(request: Request) -> Any:
        return described(await receive_files(request, store, content_types=["image/*"]))

    @app.post("/explode")
    async def explode(request: Request) -> Any:
        async with receive_files(request, store) as received:
            raise RuntimeError(f"the route fails after storing {len(received.files)} files")

    @app.put("/raw/{name}")
    async def raw(name: str, request: Request) -> Any:
        return described(await receive_body(request, store, max_size=LIMIT))

    @app.post("/one")
    async def one(request: Request) -> Any:
        return described(await receive_files(request, store, ONE_FILE, max_size=LIMIT))

    @app.put("/tiny/{name}")
    async def tiny(name: str, request: Request) -> Any:
        return described(await receive_body(request, store, limits=TINY_BODY))

    @app.put("/put/{name}")
    async def put(name: str, request: Request) -> Any:
        info = await store.put(request.stream(), filename=name, max_size=PUT_LIMIT)
        return {"id": str(info.file_id)}

    return app


def aiohttp_app(client: Any, db_name: str) -> Any:
    from aiohttp import web

    from gridfield.web.aiohttp import receive_body, receive_files, upload_errors

    async def make() -> web.Application:
        store = gridfield.AsyncFileStore(client[db_name])

        async def form(request: web.Request) -> web.Response:
            return web.json_response(described(await receive_files(request, store, max_size=LIMIT)))

        async def images(request: web.Request) -> web.Response:
            received = await receive_files(request, store, content_types=["image/*"])
            return web.json_response(described(received))

        async def explode(request: web.Request) -> web.Response:
            async with receive_files(request, store) as received:
                raise RuntimeError(f"the route fails after storing {len(received.files)} files")

        async def raw(request: web.Request) -> web.Response:
            return web.json_response(described(await receive_body(request, store, max_size=LIMIT)))

        async def one(request: web.Request) -> web.Response:
            received = await receive_files(request, store, ONE_FILE, max_size=LIMIT)
            return web.json_response(described(received))

        async def tiny(request: web.Request) -> web.Response:
            return web.json_response(described(await receive_body(request, store, TINY_BODY)))

        async def put(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            info = await store.put(request.content, filename=name, max_size=PUT_LIMIT)
            return web.json_response({"id": str(info.file_id)})

        app = web.Application(middlewares=[upload_errors])
        app.router.add_post("/form", form)
        app.router.add_post("/images", images)
        app.router.add_post("/explode", explode)
        app.router.add_put("/raw/{name}", raw)
        app.router.add_post("/one", one)
        app.router.add_put("/tiny/{name}", tiny)
        app.router.add_put("/put/{name}", put)
        return app

    return make


def flask_app(uri: str, db_name: str) -> Any:
    from flask import Flask, request

    from gridfield.web.wsgi import receive_body, receive_files, register_error_handlers

    store = gridfield.sync.FileStore(MongoClient(uri)[db_name])
    app = Flask(__name__)
    register_error_handlers(app)

    @app.post("/form")
    def form() -> Any:
        return described(receive_files(request, store, max_size=LIMIT))

    @app.post("/big")
    def big() -> Any:
        return described(receive_files(request, store, max_size=BIG))

    @app.post("/spooled")
    def spooled() -> Any:
        # werkzeug's own parser, for contrast: it spools a big file to a temporary file.
        return {"length": len(request.files["f"].read())}

    @app.post("/images")
    def images() -> Any:
        return described(receive_files(request, store, content_types=["image/*"]))

    @app.post("/explode")
    def explode() -> Any:
        with receive_files(request, store) as received:
            raise RuntimeError(f"the route fails after storing {len(received.files)} files")

    @app.put("/raw/<name>")
    def raw(name: str) -> Any:
        return described(receive_body(request, store, max_size=LIMIT))

    @app.post("/one")
    def one() -> Any:
        return described(receive_files(request, store, ONE_FILE, max_size=LIMIT))

    @app.put("/tiny/<name>")
    def tiny(name: str) -> Any:
        return described(receive_body(request, store, limits=TINY_BODY))

    @app.put("/put/<name>")
    def put(name: str) -> Any:
        info = store.put(request.stream, filename=name, max_size=PUT_LIMIT)
        return {"id": str(info.file_id)}

    return app
