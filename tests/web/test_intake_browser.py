"""A real browser (headless Chromium, driven by Selenium) submits an HTML form with a file
input to the ASGI adapter: the stored file is byte for byte the one chosen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

import gridfield
import gridfield.sync
from gridfield.web.asgi import UPLOAD_ERROR_HANDLERS, receive_files

from ..conftest import fresh_db_name
from .servers import run_uvicorn

PAGE = """<!doctype html><meta charset="utf-8">
<form method="post" action="/upload" enctype="multipart/form-data">
  <input type="text" name="title"><input type="file" name="photo" id="photo">
  <button type="submit" id="send">send</button>
</form>"""


@pytest.fixture
def upload_site(mongo_uri: str) -> Iterator[tuple[str, Any]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        server_client: Any = AsyncMongoClient(mongo_uri)
        store = gridfield.AsyncFileStore(server_client[name])

        async def home(request: Request) -> HTMLResponse:
            return HTMLResponse(PAGE)

        async def upload(request: Request) -> HTMLResponse:
            received = await receive_files(request, store, max_size=8 * 2**20)
            part = received.file("photo")
            return HTMLResponse(
                f'<p id="done">{part.file_id} {part.filename} {received.form["title"]}</p>'
            )

        app = Starlette(
            routes=[Route("/", home), Route("/upload", upload, methods=["POST"])],
            exception_handlers=UPLOAD_ERROR_HANDLERS,
        )
        with run_uvicorn(app, [server_client]) as url:
            yield url, client[name]
    finally:
        client.drop_database(name)
        client.close()


def test_chromium_submits_a_file_input(
    upload_site: tuple[str, Any],
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    url, db = upload_site
    chosen = tmp_path / 'Zoë "the" marmot.jpg'
    data = b"\xff\xd8\xff\xe0" + os.urandom(3 * 2**20)
    chosen.write_bytes(data)
    browser.get(url + "/")
    browser.find_element(By.NAME, "title").send_keys("Marmota")
    browser.find_element(By.ID, "photo").send_keys(str(chosen))
    browser.find_element(By.ID, "send").click()
    # The answer page comes once the upload is stored: wait for it, not for a fixed time.
    done = (
        WebDriverWait(browser, 60)
        .until(expected_conditions.presence_of_element_located((By.ID, "done")))
        .text
    )
    file_id, _, rest = done.partition(" ")
    assert rest == 'Zoë "the" marmot.jpg Marmota'  # sent as %22: the HTML form encoding
    store = gridfield.sync.FileStore(db)
    [info] = list(store.find())
    assert str(info.file_id) == file_id
    assert info.content_type == "image/jpeg"
    assert store.get(info.file_id) == data
    assert (db["fs.files"].count_documents({}), db["fs.chunks"].count_documents({})) == (
        1,
        -(-len(data) // (255 * 1024)),
    )
