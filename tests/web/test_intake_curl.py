"""curl sends forms (``-F``) and raw uploads (``-T``) to every receiving adapter, as a user's
shell would; the bucket then holds exactly the files sent."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bson import ObjectId

from .intake_apps import LIMIT
from .intake_matrix import Target, chunks_of
from .test_curl import curl


def test_curl_form_with_files_and_fields(target: Target, tmp_path: Path) -> None:
    photo = tmp_path / "Zoë's marmot.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(LIMIT - 100))
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"two\nlines\n")
    status, _, body = curl(
        "-F", f"photo=@{photo}",
        "-F", f"notes=@{notes};type=text/plain",
        "-F", "title=Marmota marmota",
        f"{target.base}/form",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert status == 200, body
    got = json.loads(body)
    assert got["form"] == {"title": "Marmota marmota"}
    by_field = {entry["field"]: entry for entry in got["files"]}
    assert by_field["photo"]["filename"] == "Zoë's marmot.png"
    assert by_field["photo"]["content_type"] == "image/png"
    assert by_field["notes"]["content_type"] == "text/plain"
    for field, path in (("photo", photo), ("notes", notes)):
        assert target.store.get(ObjectId(by_field[field]["id"])) == path.read_bytes()
    assert target.census() == (2, chunks_of(LIMIT - 92) + 1)


def test_curl_upload_file(target: Target, tmp_path: Path) -> None:
    data = tmp_path / "report.pdf"
    data.write_bytes(b"%PDF-1.4 " + os.urandom(LIMIT - 50))
    status, _, body = curl("-T", str(data), f"{target.base}/raw/", tmp_path=tmp_path)
    assert status == 200, body
    [entry] = json.loads(body)["files"]
    assert (entry["filename"], entry["content_type"]) == ("report.pdf", "application/pdf")
    assert target.store.get(ObjectId(entry["id"])) == data.read_bytes()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * LIMIT))
    status, _, body = curl("-T", str(big), f"{target.base}/raw/", tmp_path=tmp_path)
    assert status == 413
    assert f"over the limit of {LIMIT} bytes".encode() in body
    assert target.census() == (1, chunks_of(LIMIT - 41))
