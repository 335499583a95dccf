"""The same signed app in each framework: ``/files/<id>`` through the framework's route and the
adapter's response, ``/bucket/<id>`` and ``/byname/<filename>`` through the bucket app, each
answering only URLs signed with ``SERVER_SIGNING`` (in Django under ``/signed``); in Django
also a ``GridFSStorage`` whose ``url()`` signs and whose ``view()`` checks
(``/signed/media/<name>``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo import MongoClient

import gridfield
import gridfield.sync
from gridfield.core.http import ServeOptions, UrlSigning, object_id_or_none

OLD_SECRET = b"o" * 32
NEW_SECRET = b"n" * 40

SERVER_SIGNING = UrlSigning({"new": NEW_SECRET, "old": OLD_SECRET}, skew=timedelta(0))
"""What every signed app verifies with: ``new`` signs, ``old`` still verifies."""

SERVED = ServeOptions(signing=SERVER_SIGNING)
"""The serving options of every signed app."""

TARGETS = {
    "starlette": "/files/",
    "asgi-app": "/bucket/",
    "asgi-byname": "/byname/",
    "aiohttp": "/files/",
    "aiohttp-handler": "/bucket/",
    "aiohttp-byname": "/byname/",
    "flask": "/files/",
    "wsgi-app": "/bucket/",
    "wsgi-byname": "/byname/",
    # Django's URL configuration is one for the process: its own prefix keeps these apart
    # from the other Django apps of the tests.
    "django": "/signed/files/",
    "django-view": "/signed/bucket/",
    "django-byname": "/signed/byname/",
}
"""Every signed adapter under test, and the path prefix it serves."""


def by_name(target: str) -> bool:
    """Whether the adapter serves files by name (else by id)."""
    return TARGETS[target].endswith("/byname/")


def starlette_app(client: Any, db_name: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Mount, Route

    from gridfield.web.asgi import GridFSApp, GridFSResponse

    store = gridfield.AsyncFileStore(client[db_name])

    async def one_file(request: Request) -> GridFSResponse:
        file_id = object_id_or_none(request.path_params["file_id"])
        return GridFSResponse(store, file_id, options=SERVED)

    return Starlette(
        routes=[
            Route("/files/{file_id}", one_file, methods=["GET", "HEAD"]),
            Mount("/bucket", GridFSApp(store, options=SERVED)),
            Mount("/byname", GridFSApp(store, lookup="filename", options=SERVED)),
        ]
    )


def aiohttp_app(client: Any, db_name: str) -> Any:
    from aiohttp import web

    from gridfield.web.aiohttp import gridfs_handler, gridfs_response

    async def make() -> web.Application:
        store = gridfield.AsyncFileStore(client[db_name])

        async def one_file(request: web.Request) -> web.StreamResponse:
            file_id = object_id_or_none(request.match_info["file_id"])
            return await gridfs_response(request, store, file_id, options=SERVED)

        app = web.Application()
        app.router.add_get("/files/{file_id}", one_file)
        app.router.add_get("/bucket/{name}", gridfs_handler(store, options=SERVED))
        app.router.add_get(
            "/byname/{name:.+}",
            gridfs_handler(store, lookup="filename", options=SERVED),
        )
        return app

    return make


def flask_app(uri: str, db_name: str) -> Any:
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from gridfield.web.wsgi import GridFSApp, GridFSResponse

    store = gridfield.sync.FileStore(MongoClient(uri)[db_name])
    app = Flask(__name__)

    @app.get("/files/<file_id>")
    def one_file(file_id: str) -> Any:
        return GridFSResponse(store, object_id_or_none(file_id), options=SERVED)

    return DispatcherMiddleware(
        app,
        {
            "/bucket": GridFSApp(store, options=SERVED),
            "/byname": GridFSApp(store, lookup="filename", options=SERVED),
        },
    )


def django_app(uri: str, db_name: str) -> tuple[Any, Any]:
    """The WSGI app and its ``GridFSStorage`` (signing with SERVER_SIGNING, at /media/)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest, StreamingHttpResponse
    from django.urls import path

    from gridfield.django import GridFSStorage
    from gridfield.web.django import gridfs_response, gridfs_view

    from . import apps, django_urls

    apps.configure_django()
    store = gridfield.sync.FileStore(MongoClient(uri)[db_name])
    storage = GridFSStorage(
        uri=uri,
        db=db_name,
        base_url="/signed/media/",
        signing=SERVER_SIGNING,
        url_expires=timedelta(minutes=10),
    )

    def one_file(request: HttpRequest, file_id: str) -> StreamingHttpResponse:
        return gridfs_response(request, store, object_id_or_none(file_id), options=SERVED)

    django_urls.signed[:] = [
        path("signed/files/<str:file_id>", one_file),
        path("signed/bucket/<path:name>", gridfs_view(store, options=SERVED)),
        path(
            "signed/byname/<path:name>",
            gridfs_view(store, lookup="filename", options=SERVED),
        ),
        path("signed/media/<path:name>", storage.view()),
    ]
    django_urls.publish()
    return WSGIHandler(), storage
