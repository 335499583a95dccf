"""The documentation site builds with warnings as errors, and a browser shows its pages."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from ..web.conftest import browser  # noqa: F401  (the headless Chromium fixture)
from .pages import ROOT


def build(site: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site), *extra],
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as ``./dev docs`` builds it (``mkdocs build --strict``)."""
    folder = tmp_path_factory.mktemp("site")
    done = build(folder)
    assert done.returncode == 0, done.stderr[-6000:]
    return folder


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on a free loopback port, as a static host serves it."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No request log on stderr."""


def test_every_page_of_the_nav_is_built(site: Path) -> None:
    for page in ("tutorial", "fields", "store", "serving", "reference/async", "reference/sync"):
        assert (site / page / "index.html").is_file(), page


def test_the_reference_documents_both_apis(site: Path) -> None:
    async_page = (site / "reference" / "async" / "index.html").read_text(encoding="utf-8")
    sync_page = (site / "reference" / "sync" / "index.html").read_text(encoding="utf-8")
    assert 'id="gridfield._async.store.AsyncFileStore"' in async_page
    assert 'id="gridfield._async.store.AsyncFileStore.put"' in async_page
    assert 'id="gridfield._sync.store.FileStore"' in sync_page
    assert 'id="gridfield._sync.store.FileStore.put"' in sync_page
    # The sync page shows the sync twin's docstrings, not the async source's.
    assert "await " not in sync_page.split('id="gridfield._sync.store.FileStore.put"')[1][:2000]


def test_a_broken_internal_link_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[a page that is not there](missing.md)\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: check\ndocs_dir: {docs}\nstrict: true\n")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
        cwd=tmp_path,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "missing.md" in done.stderr


def test_a_page_renders_in_chromium(served: str, browser: webdriver.Chrome) -> None:  # noqa: F811
    browser.get(f"{served}/tutorial/")
    assert browser.title.startswith("Tutorial")
    heading = browser.find_element(By.CSS_SELECTOR, "article h1")
    assert heading.text == "Tutorial"
    # Material's code blocks are highlighted and carry a copy button; the nav lists the pages.
    code = browser.find_elements(By.CSS_SELECTOR, "article .highlight code")
    assert any("gridfield.connect" in block.text for block in code)
    # The theme's script ran: it adds a copy button to each code block once the page loads.
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "button.md-code__button"))
    )
    links = {a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")}
    assert f"{served}/reference/async/" in links
    # The stylesheet applied: the header bar is laid out by Material's CSS, not unstyled.
    header = browser.find_element(By.CSS_SELECTOR, "header.md-header")
    assert header.value_of_css_property("position") in ("sticky", "fixed")
