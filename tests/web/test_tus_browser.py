"""Headless Chromium uploads a file picked in an ``<input type=file>`` with tus-js-client's
browser bundle (served by the test app) through the ASGI tus app, in several PATCHes; the
page then fetches the completed upload back and shows its length and SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Mount, Route

import gridfield
from gridfield.web.asgi import TusApp

from ..conftest import fresh_db_name
from .servers import run_uvicorn
from .tus_js import browser_bundle

PAGE = """<!doctype html>
<input type="file" id="pick">
<pre id="result"></pre>
<script src="/tus.min.js"></script>
<script>
document.getElementById("pick").addEventListener("change", (event) => {
  const file = event.target.files[0];
  const result = document.getElementById("result");
  const show = (value) => { result.textContent = JSON.stringify(value); };
  const upload = new tus.Upload(file, {
    endpoint: "/uploads/",
    chunkSize: 100000,
    retryDelays: null,
    metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
    onError: (error) => show({ error: String(error) }),
    onSuccess: async () => {
      const response = await fetch(upload.url);
      const body = await response.arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      show({ status: response.status, length: body.byteLength, sha256: hex, url: upload.url });
    },
  });
  upload.start();
});
</script>
"""


@pytest.fixture
def upload_site(mongo_uri: str) -> Iterator[tuple[str, Any]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    server_client: Any = AsyncMongoClient(mongo_uri)
    bundle = browser_bundle()

    async def home(request: Any) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def script(request: Any) -> FileResponse:
        return FileResponse(bundle, media_type="text/javascript")

    store = gridfield.AsyncFileStore(server_client[name], chunk_size=32768)
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/tus.min.js", script),
            Mount("/uploads", TusApp(store)),
        ]
    )
    try:
        with run_uvicorn(app, [server_client]) as url:
            yield url, client[name]
    finally:
        client.drop_database(name)
        client.close()


def test_chromium_uploads_a_picked_file_and_reads_it_back(
    upload_site: tuple[str, Any], browser: webdriver.Chrome, tmp_path: Path
) -> None:
    url, db = upload_site
    data = os.urandom(345_678)
    source = tmp_path / "picked.bin"
    source.write_bytes(data)
    browser.get(url + "/")
    browser.find_element(By.ID, "pick").send_keys(str(source))
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline and not text:
        text = browser.find_element(By.ID, "result").text
        time.sleep(0.1)
    assert text, "the page showed no result"
    shown = json.loads(text)
    assert shown.get("error") is None, shown
    assert shown["status"] == 200 and shown["length"] == len(data)
    assert shown["sha256"] == hashlib.sha256(data).hexdigest()
    doc = db["fs.files"].find_one({"filename": "picked.bin"})
    assert doc is not None and doc["gridfield"]["sha256"] == shown["sha256"]
    assert shown["url"].endswith("/uploads/" + db["fs.resumable"].find_one()["_id"])
