"""Files laid out as mongofiles writes them (made here with PyMongo) and ours read by PyMongo."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from typing import Any

import gridfs
from bson import Binary, ObjectId
from pymongo.database import Database

from .conftest import Cli

CHUNK = 255 * 1024


def _mongofiles_put(
    db: Database[dict[str, Any]], name: str, data: bytes, content_type: str | None
) -> ObjectId:
    """Store ``data`` as mongofiles does: the Go driver's bucket layout, ``--type`` in
    ``metadata.contentType``, no top-level contentType, no md5."""
    file_id = ObjectId()
    chunks = [
        {"_id": ObjectId(), "files_id": file_id, "n": n, "data": Binary(data[i : i + CHUNK])}
        for n, i in enumerate(range(0, len(data), CHUNK))
    ]
    if chunks:
        db["fs.chunks"].insert_many(chunks)
    doc: dict[str, Any] = {
        "_id": file_id,
        "length": len(data),
        "chunkSize": CHUNK,
        "uploadDate": datetime.now(timezone.utc),
        "filename": name,
    }
    if content_type is not None:
        doc["metadata"] = {"contentType": content_type}
    db["fs.files"].insert_one(doc)
    return file_id


def test_files_written_by_mongofiles_are_listed_fetched_and_deleted(cli: Cli) -> None:
    data = os.urandom(3 * CHUNK + 17)
    _mongofiles_put(cli.db, "old.bin", b"older revision", None)
    file_id = _mongofiles_put(cli.db, "old.bin", data, "application/x-thing")
    _mongofiles_put(cli.db, "empty.txt", b"", None)
    assert cli.ok("list").stdout == f"empty.txt\t0\nold.bin\t14\nold.bin\t{len(data)}\n".encode()
    long_lines = cli.ok("list", "-L", "old").stdout.decode().splitlines()
    newest = long_lines[-1].split("\t")
    assert newest[0] == str(file_id)
    assert newest[3:] == ["application/x-thing", "-", "old.bin"]  # no stored SHA-256
    cli.ok("get", "old.bin", "--sha256", hashlib.sha256(data).hexdigest())
    assert (cli.cwd / "old.bin").read_bytes() == data
    cli.ok("get", "empty.txt")
    assert (cli.cwd / "empty.txt").read_bytes() == b""
    cli.ok("delete", "old.bin")
    assert cli.db["fs.files"].distinct("filename") == ["empty.txt"]
    assert cli.db["fs.chunks"].count_documents({}) == 0


def test_files_put_by_the_cli_read_back_with_pymongo_gridfs(cli: Cli) -> None:
    data = os.urandom(2 * CHUNK + 5)
    cli.ok("put", "ours.bin", "-l", "-", "--type", "image/x-ours", input=data)
    bucket = gridfs.GridFSBucket(cli.db)
    out = bucket.open_download_stream_by_name("ours.bin")
    assert out.read() == data
    assert out.filename == "ours.bin"
    assert out.metadata is not None
    assert out.metadata["contentType"] == "image/x-ours"
    assert out.chunk_size == CHUNK
