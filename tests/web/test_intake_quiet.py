"""A client that goes away in the middle of its upload, under uvicorn: what it sent is removed
and the app answers it quietly (a line at info, no traceback), with or without the upload
error handlers installed."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import gridfield
from gridfield.web.asgi import UPLOAD_ERROR_HANDLERS, receive_body, receive_files

from ..conftest import fresh_db_name
from .servers import run_uvicorn

BOUNDARY = "quiet-boundary"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[_Collect]:
    """What uvicorn and gridfield log meanwhile (uvicorn's loggers do not propagate)."""
    collect = _Collect()
    watched = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn", "gridfield")]
    levels = [logger.level for logger in watched]
    for logger in watched:
        logger.addHandler(collect)
    logging.getLogger("gridfield").setLevel(logging.INFO)
    try:
        yield collect
    finally:
        for logger, level in zip(watched, levels, strict=True):
            logger.removeHandler(collect)
            logger.setLevel(level)


def _app(client: Any, db_name: str, handlers: bool) -> Starlette:
    store = gridfield.AsyncFileStore(client[db_name])

    async def form(request: Request) -> JSONResponse:
        received = await receive_files(request, store)
        return JSONResponse({"files": len(received.files)})

    async def raw(request: Request) -> JSONResponse:
        received = await receive_body(request, store)
        return JSONResponse({"files": len(received.files)})

    return Starlette(
        routes=[Route("/form", form, methods=["POST"]), Route("/raw", raw, methods=["PUT"])],
        exception_handlers=UPLOAD_ERROR_HANDLERS if handlers else None,  # type: ignore[arg-type]
    )


def _send_and_leave(url: str, head: bytes, body: bytes) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body)
        time.sleep(0.3)  # the app is reading the body when the client goes


@pytest.mark.parametrize("handlers", [False, True], ids=["bare", "with-handlers"])
def test_a_client_gone_mid_upload_is_answered_quietly(
    handlers: bool, mongo_uri: str, logs: _Collect
) -> None:
    sync: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    client: Any = AsyncMongoClient(mongo_uri)
    data = b"x" * 600_000
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n'
    ).encode() + data
    try:
        with run_uvicorn(_app(client, name, handlers), [client]) as url:
            host = url.removeprefix("http://")
            form_head = (
                f"POST /form HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(part) + 5000}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
            ).encode()
            raw_head = (
                f"PUT /raw HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(data) + 5000}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            _send_and_leave(url, form_head, part)
            _send_and_leave(url, raw_head, data)
            deadline = time.monotonic() + 20
            gone = []
            while time.monotonic() < deadline:
                gone = [r for r in logs.records if "went away" in r.getMessage()]
                if len(gone) == 2:
                    break
                time.sleep(0.1)
        db = sync[name]
        assert (db["fs.files"].count_documents({}), db["fs.chunks"].count_documents({})) == (0, 0)
        assert len(gone) == 2, [r.getMessage() for r in logs.records]
        assert all(r.levelno == logging.INFO and r.name.startswith("gridfield") for r in gone)
        loud = [r for r in logs.records if r.levelno > logging.INFO or r.exc_info]
        assert loud == [], [r.getMessage() for r in loud]
    finally:
        sync.drop_database(name)
        sync.close()
