"""``GridFSStorage(allow_overwrite=True)``: two processes saving one name at once end with
exactly one file under it, never none. The interleaving that lost both files is forced:
each save deletes only once the other's file is visible too."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[2]

_SAVER = """
import sys, time
from tests.web.apps import configure_django
configure_django()
import gridfield.sync
from django.core.files.base import ContentFile
from gridfield._sync.store import FileStore
from gridfield.django import GridFSStorage

uri, name, payload = sys.argv[1], sys.argv[2], sys.argv[3].encode()
gridfield.sync.connect(name, host=uri, alias="race")
deletes = FileStore.delete_other_revisions

def after_both_are_visible(self, filename, keep):
    # The forced interleaving: both saves have stored their file before either deletes.
    deadline = time.monotonic() + 20
    while self.files.count_documents({"filename": filename}) < 2:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return deletes(self, filename, keep)

FileStore.delete_other_revisions = after_both_are_visible
storage = GridFSStorage("race", allow_overwrite=True)
print(storage.save("report.pdf", ContentFile(payload * 1000)))
"""


def _race(mongo_uri: str, db_name: str) -> list[str]:
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", _SAVER, mongo_uri, db_name, payload],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for payload in ("first ", "second ")
    ]
    names = []
    for saver in savers:
        out, err = saver.communicate(timeout=120)
        assert saver.returncode == 0, err
        names.append(out.strip())
    return names


def test_two_processes_overwriting_one_name_leave_exactly_one_file(mongo_uri: str) -> None:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        db_name = f"gridfield_test_{uuid.uuid4().hex}"
        db = client[db_name]
        try:
            for _ in range(2):
                assert _race(mongo_uri, db_name) == ["report.pdf", "report.pdf"]
                files = list(db["fs.files"].find({"filename": "report.pdf"}))
                assert len(files) == 1  # never both deleted, never both kept
                chunks = list(db["fs.chunks"].find({}, projection={"files_id": 1, "data": 1}))
                assert {c["files_id"] for c in chunks} == {files[0]["_id"]}
                data = b"".join(c["data"] for c in chunks)
                assert data in (b"first " * 1000, b"second " * 1000)
                db["fs.files"].delete_many({})
                db["fs.chunks"].delete_many({})
        finally:
            client.drop_database(db_name)
