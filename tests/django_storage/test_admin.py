"""Models with a FileField and an ImageField on GridFSStorage, for real: Django's admin served
by waitress in a process of its own, driven by headless Chromium (Selenium). It logs in,
uploads a file and an image through the change form; the change list links to the stored
file, which comes back byte-identical, with Range and 304. Replacing and deleting through the
admin leaves no file behind (``keep_files_in_step``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pymongo import MongoClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from ..conftest import fresh_db_name, installed
from .site.serve import PASSWORD, USER

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    url: str
    db: Any  # the GridFS database the site stores in


@pytest.fixture
def site(mongo_uri: str, tmp_path: Path) -> Iterator[Site]:
    name = fresh_db_name()
    env = dict(
        os.environ, MONGODB_URI=mongo_uri, SITE_DB=name, SITE_SQLITE=str(tmp_path / "site.db")
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.django_storage.site.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("READY "), f"the site did not start: {line!r}"
        yield Site(line.split()[1], client[name])
    finally:
        process.terminate()
        process.wait(30)
        client.drop_database(name)
        client.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    chromium, chromedriver = installed("chromium"), installed("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()


def _get(url: str, **headers: str) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


def _names(db: Any) -> list[str]:
    return sorted(doc["filename"] for doc in db["fs.files"].find())


def _submit_form(driver: webdriver.Chrome, **files: Path) -> None:
    for field, path in files.items():
        driver.find_element(By.NAME, field).send_keys(str(path))
    driver.find_element(By.NAME, "_save").click()
    saved = driver.find_elements(By.CSS_SELECTOR, ".messagelist .success")
    assert saved, f"the admin did not save: {driver.title!r}\n{driver.page_source[:3000]}"


def test_admin_uploads_links_serves_replaces_and_deletes_files(
    site: Site, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    document = tmp_path / "field notes.pdf"
    document.write_bytes(b"%PDF-1.4 " + os.urandom(300_000))
    photo = tmp_path / "marmot.png"
    photo.write_bytes(_png("brown"))

    browser.get(f"{site.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.ID, "user-tools")

    browser.get(f"{site.url}/admin/zoo/animal/add/")
    browser.find_element(By.NAME, "name").send_keys("Marmota")
    _submit_form(browser, document=document, photo=photo)
    assert _names(site.db) == ["docs/field_notes.pdf", "photos/marmot.png"]

    browser.get(f"{site.url}/admin/zoo/animal/")
    links = {
        a.text: a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, "#result_list a[href*='/media/']")
    }
    assert set(links) == {"docs/field_notes.pdf", "photos/marmot.png"}
    status, headers, body = _get(links["docs/field_notes.pdf"])
    assert (status, body) == (200, document.read_bytes())
    assert headers["Content-Type"] == "application/pdf", dict(headers)
    status, _, part = _get(links["docs/field_notes.pdf"], Range="bytes=1000-1999")
    assert (status, part) == (206, document.read_bytes()[1000:2000])
    status, _, nothing = _get(links["docs/field_notes.pdf"], **{"If-None-Match": headers["ETag"]})
    assert (status, nothing) == (304, b"")
    assert _get(links["photos/marmot.png"])[2] == photo.read_bytes()

    # Replace the document through the change form: the old file goes once the row is saved.
    browser.find_element(By.LINK_TEXT, "Marmota").click()
    second = tmp_path / "notes v2.pdf"
    second.write_bytes(b"%PDF-1.4 second")
    _submit_form(browser, document=second)
    assert _names(site.db) == ["docs/notes_v2.pdf", "photos/marmot.png"]

    # Delete the row through the admin: its files go with it.
    browser.find_element(By.LINK_TEXT, "Marmota").click()
    browser.find_element(By.CSS_SELECTOR, "a.deletelink").click()
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.CSS_SELECTOR, ".messagelist")
    assert _names(site.db) == []
    assert site.db["fs.chunks"].count_documents({}) == 0
