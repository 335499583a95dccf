"""Every python block of the README and of docs/**/*.md runs as written, page by page.

Each page runs in a process of its own (``tests/docs/run_page.py``): its blocks in order, in
one namespace, top-level ``await`` allowed, ``$MONGODB_URI`` set, in a fresh temporary folder,
so one page's classes and connections never meet another's or the suite's. A block that only
shows a file (``--8<-- "examples/x.py"``) is not run in the page: the file must exist, and a
test must run it, or it is run here on its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from .pages import ROOT, Block, pages, python_blocks

PAGE_TIMEOUT = 600  # seconds; a page that serves or uploads large files takes a while on FerretDB
WITH_CODE = [page for page in pages() if python_blocks(page)]
SHOWN = [block for page in pages() for block in python_blocks(page) if block.shown_file]


def environment(mongo_uri: str) -> dict[str, str]:
    env = dict(os.environ, MONGODB_URI=mongo_uri, PYTHONPATH=str(ROOT))
    env.pop("PYTHONSTARTUP", None)
    return env


def databases(client: MongoClient[dict[str, Any]]) -> set[str]:
    return set(client.list_database_names())


def named_in(page: Path) -> set[str]:
    """Every quoted word of the page: the databases its examples may create are among them."""
    return set(re.findall(r"""["']([\w-]+)["']""", page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", WITH_CODE, ids=[str(p.relative_to(ROOT)) for p in WITH_CODE])
def test_the_page_runs_as_written(page: Path, mongo_uri: str, tmp_path: Path) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        before = databases(client)
        done = subprocess.run(
            [sys.executable, "-m", "tests.docs.run_page", str(page)],
            cwd=tmp_path,
            env=environment(mongo_uri),
            capture_output=True,
            text=True,
            timeout=PAGE_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"{page.name}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
        # The examples clean up: a database the page made (named in it) holds no document.
        left = {}
        for name in (databases(client) - before) & named_in(page):
            db = client[name]
            counts = {c: db[c].count_documents({}) for c in db.list_collection_names()}
            if any(counts.values()):
                left[name] = {c: n for c, n in counts.items() if n}
            client.drop_database(name)
        assert not left, f"{page.name} left documents behind: {left}"
    finally:
        client.close()


def test_every_python_block_is_found() -> None:
    """The runner sees the blocks a reader sees: the README's two, the tutorial's, and no
    fence left unclosed (an unclosed fence would swallow the rest of a page)."""
    readme = python_blocks(ROOT / "README.md")
    assert len(readme) == 2
    assert all("MONGODB_URI" in block.code for block in readme)
    for page in pages():
        text = page.read_text(encoding="utf-8")
        fences = [line for line in text.splitlines() if re.match(r"^\s*```", line)]
        assert len(fences) % 2 == 0, f"{page.name} has an unclosed code fence"


def text_of_other_tests() -> str:
    """The text of every test module outside this folder."""
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "tests").rglob("*.py")
        if path.parent != Path(__file__).parent
    )


@pytest.mark.parametrize("block", SHOWN, ids=[b.where for b in SHOWN])
def test_a_shown_file_exists_and_runs(block: Block, mongo_uri: str, tmp_path: Path) -> None:
    shown = block.shown_file
    assert shown is not None
    assert (ROOT / shown).is_file(), f"{block.where} shows {shown}, which does not exist"
    if shown in text_of_other_tests():
        return  # a test of its own runs it (with the server or browser it needs)
    done = subprocess.run(
        [sys.executable, str(ROOT / shown)],
        cwd=tmp_path,
        env=environment(mongo_uri),
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{shown}:\n{done.stderr[-6000:]}"
