"""The same small app in each framework, with the framework's ready error handlers and no
handler of its own: ``POST /upload`` reads the form's ``title`` and its ``photo`` file by
name, ``GET /read/<id>`` reads a stored file whole (NoFile, FileExpired or CorruptFile
raised in the route)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import MongoClient
from starlette.requests import Request  # FastAPI resolves the route's annotations here

import gridfield
import gridfield.sync


def fastapi_app(client: Any, db_name: str) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, Response

    from gridfield.web.asgi import ERROR_HANDLERS, receive_files

    store = gridfield.AsyncFileStore(client[db_name])
    app = FastAPI(exception_handlers=ERROR_HANDLERS)

    @app.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        async with receive_files(request, store) as received:
            title = received.form["title"]
            photo = received.file("photo")
        return JSONResponse({"title": title, "id": str(photo.file_id)}, status_code=201)

    @app.get("/read/{file_id}")
    async def read(file_id: str) -> Response:
        return Response(await store.get(ObjectId(file_id)), media_type="application/octet-stream")

    return app


def aiohttp_app(client: Any, db_name: str) -> Any:
    from aiohttp import web

    from gridfield.web.aiohttp import error_answers, receive_files

    async def make() -> web.Application:
        store = gridfield.AsyncFileStore(client[db_name])

        async def upload(request: web.Request) -> web.Response:
            async with receive_files(request, store) as received:
                title = received.form["title"]
                photo = received.file("photo")
            return web.json_response({"title": title, "id": str(photo.file_id)}, status=201)

        async def read(request: web.Request) -> web.Response:
            return web.Response(body=await store.get(ObjectId(request.match_info["file_id"])))

        app = web.Application(middlewares=[error_answers])
        app.router.add_post("/upload", upload)
        app.router.add_get("/read/{file_id}", read)
        return app

    return make


def flask_app(uri: str, db_name: str) -> Any:
    from flask import Flask, request

    from gridfield.web.wsgi import receive_files, register_error_handlers

    store = gridfield.sync.FileStore(MongoClient(uri)[db_name])
    app = register_error_handlers(Flask(__name__))

    @app.post("/upload")
    def upload() -> Any:
        with receive_files(request, store) as received:
            title = received.form["title"]
            photo = received.file("photo")
        return {"title": title, "id": str(photo.file_id)}, 201

    @app.get("/read/<file_id>")
    def read(file_id: str) -> Any:
        return store.get(ObjectId(file_id))

    return app


def django_app(uri: str, db_name: str) -> Any:
    """Django with gridfield's upload handler and middleware (tests.web.apps' settings),
    storing uploads into the DJANGO_UPLOADS_ALIAS connection."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from . import apps, django_urls

    apps.configure_django()
    store = gridfield.sync.FileStore(MongoClient(uri)[db_name])

    @csrf_exempt
    def upload(request: HttpRequest) -> JsonResponse:
        title = request.POST["title"]
        photo = request.FILES["photo"]
        photo.keep()
        return JsonResponse({"title": title, "id": str(photo.file_id)}, status=201)

    def read(request: HttpRequest, file_id: str) -> HttpResponse:
        return HttpResponse(store.get(ObjectId(file_id)))

    django_urls.errors[:] = [
        path("upload", upload),
        path("read/<str:file_id>", read),
    ]
    django_urls.publish()
    return WSGIHandler()
