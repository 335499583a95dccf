"""The same small app in each framework: ``/files/<id>`` through the framework's route and
the adapter's response (``?download=1`` for an attachment), and for the adapters that have
one, the bucket app: ``/bucket/<id>`` and ``/byname/<filename>``."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient

import gridfield
import gridfield.sync
from gridfield.core.encryption import Encryption
from gridfield.core.http import object_id_or_none

# Every adapter under test: the name used in test ids, and the path prefix it serves.
INLINE_TARGETS = {
    "asgi-app": "/inline/",
    "aiohttp-handler": "/inline/",
    "wsgi-app": "/inline/",
    "django-view": "/inline/",
}
"""The bucket apps made with ServeOptions(inline_active=True), by the target they share a
server with."""

TARGETS = {
    "starlette": "/files/",
    "fastapi": "/files/",
    "asgi-app": "/bucket/",
    "aiohttp": "/files/",
    "aiohttp-handler": "/bucket/",
    "flask": "/files/",
    "wsgi-app": "/bucket/",
    "django": "/files/",
    "django-view": "/bucket/",
}


def starlette_app(client: Any, db_name: str, encryption: Encryption | None = None) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Mount, Route

    from gridfield.web.asgi import GridFSApp, GridFSResponse, ServeOptions

    store = gridfield.AsyncFileStore(client[db_name], encryption=encryption)

    async def one_file(request: Request) -> GridFSResponse:
        file_id = object_id_or_none(request.path_params["file_id"])
        download = request.query_params.get("download") == "1"
        return GridFSResponse(store, file_id, download=download)

    return Starlette(
        routes=[
            Route("/files/{file_id}", one_file, methods=["GET", "HEAD"]),
            Mount("/bucket", GridFSApp(store)),
            Mount("/byname", GridFSApp(store, lookup="filename")),
            Mount("/inline", GridFSApp(store, ServeOptions(inline_active=True))),
        ]
    )


def fastapi_app(client: Any, db_name: str, encryption: Encryption | None = None) -> Any:
    from fastapi import FastAPI

    from gridfield.web.asgi import GridFSResponse

    store = gridfield.AsyncFileStore(client[db_name], encryption=encryption)
    app = FastAPI()

    @app.api_route("/files/{file_id}", methods=["GET", "HEAD"])
    async def one_file(file_id: str, download: str = "") -> GridFSResponse:
        return GridFSResponse(store, object_id_or_none(file_id), download=download == "1")

    return app


def aiohttp_app(client: Any, db_name: str, encryption: Encryption | None = None) -> Any:
    from aiohttp import web

    from gridfield.web.aiohttp import ServeOptions, gridfs_handler, gridfs_response

    async def make() -> web.Application:
        store = gridfield.AsyncFileStore(client[db_name], encryption=encryption)

        async def one_file(request: web.Request) -> web.StreamResponse:
            file_id = object_id_or_none(request.match_info["file_id"])
            download = request.query.get("download") == "1"
            return await gridfs_response(request, store, file_id, download=download)

        app = web.Application()
        app.router.add_get("/files/{file_id}", one_file)
        app.router.add_get("/bucket/{name}", gridfs_handler(store))
        app.router.add_get("/byname/{name:.+}", gridfs_handler(store, lookup="filename"))
        inline = gridfs_handler(store, ServeOptions(inline_active=True))
        app.router.add_get("/inline/{name}", inline)
        return app

    return make


def flask_app(uri: str, db_name: str, encryption: Encryption | None = None) -> Any:
    from flask import Flask, request
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from gridfield.web.wsgi import GridFSApp, GridFSResponse, ServeOptions

    store = gridfield.sync.FileStore(MongoClient(uri)[db_name], encryption=encryption)
    app = Flask(__name__)

    @app.get("/files/<file_id>")
    def one_file(file_id: str) -> Any:
        download = request.args.get("download") == "1"
        return GridFSResponse(store, object_id_or_none(file_id), download=download)

    return DispatcherMiddleware(
        app,
        {
            "/bucket": GridFSApp(store),
            "/byname": GridFSApp(store, lookup="filename"),
            "/inline": GridFSApp(store, ServeOptions(inline_active=True)),
        },
    )


DJANGO_UPLOADS_ALIAS = "django-uploads"
"""The gridfield.sync connection alias the Django app's upload handler stores into."""

DJANGO_UPLOAD_LIMIT = 4 * 2**20
"""GRIDFIELD_UPLOADS' max_size in the Django app."""


def configure_django() -> None:
    """Django's settings for every Django app of the tests (once per process): the GridFS
    upload handler and its middleware, storing into the DJANGO_UPLOADS_ALIAS connection."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="tests",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="tests.web.django_urls",
            MIDDLEWARE=["gridfield.web.django_uploads.GridFSUploadMiddleware"],
            INSTALLED_APPS=[],
            USE_TZ=True,
            FILE_UPLOAD_HANDLERS=["gridfield.web.django_uploads.GridFSUploadHandler"],
            GRIDFIELD_UPLOADS={"alias": DJANGO_UPLOADS_ALIAS, "max_size": DJANGO_UPLOAD_LIMIT},
            DATA_UPLOAD_MAX_NUMBER_FILES=5,
            DATA_UPLOAD_MAX_NUMBER_FIELDS=20,
            DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024,
        )
        django.setup()


def django_app(
    uri: str, db_name: str, encryption: Encryption | None = None, prefix: str = ""
) -> Any:
    """Django's app serving ``db_name``; with ``prefix`` (``"sealed/"``) its routes start
    with it and sit beside those of the app without one (one URL configuration per
    process)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest, StreamingHttpResponse
    from django.urls import path

    from gridfield.web.django import ServeOptions, gridfs_response, gridfs_view

    from . import django_urls

    configure_django()
    store = gridfield.sync.FileStore(MongoClient(uri)[db_name], encryption=encryption)

    def one_file(request: HttpRequest, file_id: str) -> StreamingHttpResponse:
        download = request.GET.get("download") == "1"
        return gridfs_response(request, store, object_id_or_none(file_id), download=download)

    routes = django_urls.serving_sealed if prefix else django_urls.serving
    routes[:] = [
        path(f"{prefix}files/<str:file_id>", one_file),
        path(f"{prefix}bucket/<path:name>", gridfs_view(store)),
        path(f"{prefix}byname/<path:name>", gridfs_view(store, lookup="filename")),
        path(f"{prefix}inline/<path:name>", gridfs_view(store, ServeOptions(inline_active=True))),
    ]
    django_urls.publish()
    return WSGIHandler()
