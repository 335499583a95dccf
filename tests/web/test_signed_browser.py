"""A real browser (Debian's headless Chromium under Selenium) loads an ``<img>`` and plays and
seeks a ``<video>`` (ranges) from signed URLs; once they expire, neither loads any more."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from PIL import Image
from pymongo import AsyncMongoClient, MongoClient
from selenium import webdriver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

import gridfield
import gridfield.sync
from gridfield.core.files_document import FileInfo
from gridfield.core.http import FileRef, UrlSigning
from gridfield.web.asgi import GridFSApp, ServeOptions

from ..conftest import fresh_db_name
from .servers import run_uvicorn
from .test_browser import SECONDS, StatusLog, _wait_for, make_video

SIGNING = UrlSigning({"k": b"s" * 32}, skew=timedelta(0))
LIFE = timedelta(seconds=25)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 20)).save(out, "PNG")
    return out.getvalue()


async def _page(request: Request) -> HTMLResponse:
    # The signed URLs come in the page's own query: the test signs them.
    query = parse_qs(request.url.query)
    return HTMLResponse(
        "<!doctype html>"
        f'<img id="i" src="{query["img"][0]}" onerror="window.imgFailed = true">'
        f'<video id="v" muted playsinline preload="auto" src="{query["video"][0]}"></video>'
    )


@pytest.fixture
def signed_site(
    mongo_uri: str, tmp_path: Path
) -> Iterator[tuple[str, StatusLog, FileInfo, FileInfo]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        store = gridfield.sync.FileStore(client[name])
        video = store.put(
            make_video(tmp_path / "clip.webm"),
            filename="clip.webm",
            content_type="video/webm",
            chunk_size=8192,
        )
        image = store.put(_png(), filename="dot.png", content_type="image/png")
        server_client: Any = AsyncMongoClient(mongo_uri)
        served = gridfield.AsyncFileStore(server_client[name])
        app = StatusLog(
            Starlette(
                routes=[
                    Route("/page", _page),
                    Mount("/media", GridFSApp(served, ServeOptions(signing=SIGNING))),
                ]
            ),
            "/media/",
        )
        with run_uvicorn(app, [server_client]) as url:
            yield url, app, image, video
    finally:
        client.drop_database(name)
        client.close()


def _load(browser: webdriver.Chrome, base: str, img: str, video: str) -> None:
    browser.get(f"{base}/page?{urlencode({'img': img, 'video': video})}")


def test_chromium_loads_signed_media_until_it_expires(
    signed_site: tuple[str, StatusLog, FileInfo, FileInfo], browser: webdriver.Chrome
) -> None:
    base, log, image, video = signed_site
    now = datetime.now(timezone.utc)
    img = SIGNING.sign(f"/media/{image.file_id}", FileRef(image.file_id), now + LIFE)
    clip = SIGNING.sign(f"/media/{video.file_id}", FileRef(video.file_id), now + LIFE)
    _load(browser, base, img, clip)
    _wait_for(
        browser,
        "const i = document.getElementById('i'); return i.complete && i.naturalWidth === 40;",
        "the image",
    )
    started = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.getElementById('v').play().then(() => done('playing'), e => done(String(e)));"
    )
    assert started == "playing"
    landed = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; const v = document.getElementById('v');"
        "v.addEventListener('seeked', () => done(v.currentTime), {once: true});"
        f"v.currentTime = {SECONDS / 2};"
    )
    assert abs(landed - SECONDS / 2) < 1
    assert 206 in log.statuses and 403 not in log.statuses, log.statuses
    assert datetime.now(timezone.utc) < now + LIFE, "the machine was too slow for the test"

    # After the expiry: the same URLs, in a fresh page, load nothing.
    time.sleep(max(0.0, (now + LIFE - datetime.now(timezone.utc)).total_seconds()) + 1.5)
    log.statuses.clear()
    _load(browser, base, img, clip)
    _wait_for(browser, "return window.imgFailed === true;", "the image to fail")
    assert browser.execute_script("return document.getElementById('i').naturalWidth;") == 0
    _wait_for(browser, "return document.getElementById('v').error !== null;", "the video to fail")
    assert log.statuses and set(log.statuses) == {403}, log.statuses
