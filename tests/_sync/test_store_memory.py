# Generated from tests/_async/test_store_memory.py by scripts/unasync.py: do not edit.
"""Streaming a large file up and down keeps memory flat."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from pymongo import MongoClient

from benchmarks.rss import PeakRSS
from gridfield._sync.store import FileStore

MIB = 1024 * 1024
FILE_SIZE = 128 * MIB
PIECE = MIB
# Generous: the file is twice this size, so holding it whole fails clearly.
MAX_GROWTH = 64 * MIB


def pieces(digest: Any) -> Any:
    """The file's bytes, one MiB at a time, never all at once; feeds ``digest`` on the way."""
    for i in range(FILE_SIZE // PIECE):
        piece = i.to_bytes(4, "big") * (PIECE // 4)
        digest.update(piece)
        yield piece


def test_streaming_128_mib_up_and_down_keeps_memory_flat(mongo_uri: str) -> None:
    # One client flavour is enough to measure memory, and 128 MiB each way is slow on FerretDB,
    # so this test makes its own PyMongo client instead of running once per async driver.
    client = MongoClient(mongo_uri)
    name = f"gridfield_test_{uuid.uuid4().hex}"
    try:
        store = FileStore(client[name])
        store.ensure_indexes()
        written = hashlib.sha256()
        with PeakRSS() as up:
            with store.open_upload(filename="big.bin") as upload:
                for piece in pieces(written):
                    upload.write(piece)
        assert upload.info is not None
        assert upload.info.length == FILE_SIZE
        assert up.growth < MAX_GROWTH, f"upload grew RSS by {up.growth / MIB:.1f} MiB"

        read = hashlib.sha256()
        total = 0
        with PeakRSS() as down:
            with store.open_download(upload.file_id) as stream:
                for chunk in stream:
                    read.update(chunk)
                    total += len(chunk)
        assert total == FILE_SIZE
        assert read.hexdigest() == written.hexdigest()
        assert down.growth < MAX_GROWTH, f"download grew RSS by {down.growth / MIB:.1f} MiB"
    finally:
        client.drop_database(name)
        client.close()
