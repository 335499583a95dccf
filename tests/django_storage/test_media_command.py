"""``manage.py gridfs_media in|out`` on the example project (examples/django_media): rows whose
FileFields point at MEDIA_ROOT keep working once their files are in GridFS, and back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "django_media"
TIMEOUT = 300

MAKE_ROWS = """
from django.core.files.base import ContentFile
from mediasite.models import Attachment
for i, data in enumerate([b"first", b"x" * 400_000, b""]):
    Attachment(title=f"t{i}").document.save(f"notes {i}.txt", ContentFile(data))
"""

READ_ROWS = """
import json
from mediasite.models import Attachment
rows = Attachment.objects.order_by("id")
print(json.dumps({a.title: [a.document.name, a.document.read().hex()] for a in rows}))
"""


@pytest.fixture
def site(mongo_uri: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = f"gridfield_test_{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MEDIASITE_DB": db,
        "MEDIASITE_DATA": str(tmp_path),
        "PYTHONPATH": str(PROJECT),
    }
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        yield {"env": env, "db": client[db], "media": tmp_path / "media"}
    finally:
        client.drop_database(db)
        client.close()


def _manage(site: dict[str, Any], *args: str, storage: str = "files") -> str:
    env = {**site["env"], "MEDIA_STORAGE": storage}
    done = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(site: dict[str, Any], storage: str) -> dict[str, list[str]]:
    out = _manage(site, "shell", "-c", READ_ROWS, storage=storage)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_media_root_into_gridfs_and_back(site: dict[str, Any]) -> None:
    _manage(site, "migrate", "--run-syncdb", "-v", "0")
    _manage(site, "shell", "-c", MAKE_ROWS)
    rows = _rows(site, "files")
    assert [name for name, _ in rows.values()] == [
        f"attachments/{name.split('/')[1]}/notes_{i}.txt"
        for i, (name, _) in enumerate(rows.values())
    ]

    dry = _manage(site, "gridfs_media", "in")  # a dry run first: nothing moves
    assert dry.count("would copy: attachments/") == 3 and "run again with --apply" in dry
    assert site["db"]["fs.files"].count_documents({}) == 0

    moved = _manage(site, "gridfs_media", "in", "--apply", "--delete-source")
    assert "copied 3" in moved and "deleted 3 from the source" in moved
    assert not list(site["media"].rglob("*.txt"))
    assert _rows(site, "gridfs") == rows  # the same rows read the same bytes from GridFS

    shutil.rmtree(site["media"])
    back = _manage(site, "gridfs_media", "out", "--apply")
    assert "copied 3" in back
    assert _rows(site, "files") == rows
    assert "copied 0, skipped 3 identical" in _manage(site, "gridfs_media", "out", "--apply")


def test_a_storage_that_is_not_gridfs_is_refused(site: dict[str, Any]) -> None:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), "gridfs_media", "in", "--storage", "default"],
        env={**site["env"], "MEDIA_STORAGE": "files"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 1
    assert "is a FileSystemStorage, not a GridFSStorage" in done.stderr
