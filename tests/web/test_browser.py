"""A real browser (Debian's headless Chromium, driven by Selenium) plays a video served by the
ASGI app and seeks to its middle: the seek works only if Range does; and it opens an SVG
carrying a script, which runs only when sent inline without our headers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from selenium import webdriver
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

import gridfield
import gridfield.sync
from gridfield.web.asgi import GridFSApp, ServeOptions

from ..conftest import fresh_db_name, installed
from .conftest import ACTIVE_SVG
from .servers import run_uvicorn

SECONDS = 10


def make_video(path: Path) -> bytes:
    """A 10 s WebM (VP8, a keyframe every second) made here with Debian's ffmpeg."""
    ffmpeg = installed("ffmpeg")
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=duration={SECONDS}:size=160x120:rate=10",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "400k",
            "-g",
            "10",
            "-f",
            "webm",
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


class StatusLog:
    """ASGI middleware noting the status of every response to a path under ``prefix``."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app, self.prefix, self.statuses = app, prefix, list[int]()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append(message["status"])
            await send(message)

        watched = scope["type"] == "http" and scope["path"].startswith(self.prefix)
        await self.app(scope, receive, noting if watched else send)


@pytest.fixture
def video_site(mongo_uri: str, tmp_path: Path) -> Iterator[tuple[str, StatusLog]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        data = make_video(tmp_path / "clip.webm")
        # Small chunks, so a seek lands in chunks the first requests did not fetch.
        info = gridfield.sync.FileStore(client[name]).put(
            data, filename="clip.webm", content_type="video/webm", chunk_size=8192
        )
        server_client: Any = AsyncMongoClient(mongo_uri)
        store = gridfield.AsyncFileStore(server_client[name])
        page = (
            f'<!doctype html><video id="v" muted playsinline preload="auto"'
            f' src="/media/{info.file_id}"></video>'
        )

        async def home(request: Any) -> HTMLResponse:
            return HTMLResponse(page)

        app = StatusLog(
            Starlette(routes=[Route("/", home), Mount("/media", GridFSApp(store))]), "/media/"
        )
        with run_uvicorn(app, [server_client]) as url:
            yield url, app
    finally:
        client.drop_database(name)
        client.close()


def _wait_for(driver: webdriver.Chrome, script: str, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    state = driver.execute_script(
        "const v = document.getElementById('v');"
        " return {t: v.currentTime, ready: v.readyState, error: v.error && v.error.message};"
    )
    raise AssertionError(f"timed out waiting for {what}: {state}")


def test_chromium_plays_and_seeks_a_video_served_with_ranges(
    video_site: tuple[str, StatusLog], browser: webdriver.Chrome
) -> None:
    url, log = video_site
    browser.get(url + "/")
    started = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.getElementById('v').play().then(() => done('playing'), e => done(String(e)));"
    )
    assert started == "playing"
    _wait_for(browser, "return document.getElementById('v').currentTime > 0.2;", "playback")
    duration = browser.execute_script("return document.getElementById('v').duration;")
    assert abs(duration - SECONDS) < 1
    landed = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; const v = document.getElementById('v');"
        "v.addEventListener('seeked', () => done(v.currentTime), {once: true});"
        f"v.currentTime = {SECONDS / 2};"
    )
    assert abs(landed - SECONDS / 2) < 1
    # Playing on from the middle: the time advances past where the seek landed.
    _wait_for(
        browser,
        f"return document.getElementById('v').currentTime > {landed + 0.5};",
        "playback after the seek",
    )
    assert 206 in log.statuses, log.statuses
    assert all(status in (200, 206) for status in log.statuses), log.statuses


@pytest.fixture
def svg_site(mongo_uri: str) -> Iterator[tuple[str, Any, list[str]]]:
    """An app serving one SVG whose script asks for ``/ran``: as a plain response of its own
    (``/control``, what a hand-written route would send), through GridFSApp by default
    (``/media``) and through GridFSApp opted in to inline active content (``/inline``)."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    ran: list[str] = []
    try:
        info = gridfield.sync.FileStore(client[name]).put(
            ACTIVE_SVG, filename="drawing.svg", content_type="image/svg+xml"
        )
        server_client: Any = AsyncMongoClient(mongo_uri)
        store = gridfield.AsyncFileStore(server_client[name])

        async def control(request: Any) -> Response:
            return Response(ACTIVE_SVG, media_type="image/svg+xml")

        async def noted(request: Any) -> Response:
            ran.append(request.headers.get("referer", ""))
            return Response(status_code=204)

        app = Starlette(
            routes=[
                Route("/control", control),
                Route("/ran", noted),
                Mount("/media", GridFSApp(store)),
                Mount("/inline", GridFSApp(store, ServeOptions(inline_active=True))),
            ]
        )
        with run_uvicorn(app, [server_client]) as url:
            yield url, info.file_id, ran
    finally:
        client.drop_database(name)
        client.close()


def _ran_within(ran: list[str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ran:
            return True
        time.sleep(0.1)
    return bool(ran)


def test_chromium_runs_no_script_of_an_svg_served_by_default(
    svg_site: tuple[str, Any, list[str]], browser: webdriver.Chrome
) -> None:
    url, file_id, ran = svg_site
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "deny"})
    # The control: the same bytes sent inline without our headers do run their script.
    browser.get(f"{url}/control")
    assert _ran_within(ran, 30), "the control SVG's script did not run: the check sees nothing"
    ran.clear()
    for path in (f"/media/{file_id}", f"/inline/{file_id}"):  # attachment; inline sandboxed
        browser.get(url + path)
        assert not _ran_within(ran, 3), f"the script of {path} ran: {ran}"
    browser.get(f"{url}/inline/{file_id}")
    shown = browser.execute_script("return document.documentElement.localName;")
    assert shown == "svg"  # opted in, the SVG is shown: only its script is kept from running
