"""The server dies under an upload: the error says chunks are left, and exactly those are
left when the server is back (on a server process of the test's own: tests/private_server.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from gridfield._async.store import AsyncFileStore, wait_cleanups
from tests.private_server import PrivateServer

CHUNK = 1024
BATCH = 1000  # chunks per insert: the first batch is in before the server dies
TIMEOUTS = {"serverSelectionTimeoutMS": 2000, "connectTimeoutMS": 2000, "socketTimeoutMS": 5000}


def dying_source(server: PrivateServer) -> Iterator[bytes]:
    """Two batches and a bit of 1 KiB pieces; the server is killed after the first batch."""
    for n in range(2 * BATCH + 100):
        if n == BATCH + 50:
            server.kill()
        yield bytes([n % 256]) * CHUNK


async def orphan_chunks(db: Any) -> list[tuple[Any, int]]:
    """(files_id, n) of every chunk whose files document does not exist."""
    ids = [doc["_id"] async for doc in db["fs.files"].find({}, {"_id": 1})]
    cursor = db["fs.chunks"].find({"files_id": {"$nin": ids}}, {"files_id": 1, "n": 1})
    return sorted([(doc["files_id"], doc["n"]) async for doc in cursor])


async def test_a_server_killed_mid_upload_leaves_exactly_the_chunks_it_took(
    private_server: PrivateServer,
) -> None:
    client: Any = AsyncMongoClient(private_server.uri, **TIMEOUTS)
    try:
        store = AsyncFileStore(client.crash, chunk_size=CHUNK)
        await store.put(b"a file stored before the crash", file_id="kept")
        with pytest.raises(PyMongoError) as caught:
            await store.put(dying_source(private_server), file_id="crashed")
        notes = getattr(caught.value, "__notes__", [])
        assert any(
            note.startswith("removing the chunks of file 'crashed'") and "bucket check" in note
            for note in notes
        ), notes
        await wait_cleanups()  # a clean-up left in the background gives up: no server
    finally:
        await client.close()

    private_server.start()
    client = AsyncMongoClient(private_server.uri, **TIMEOUTS)
    try:
        db = client.crash
        assert await db["fs.files"].count_documents({"_id": "crashed"}) == 0  # never visible
        assert await orphan_chunks(db) == [("crashed", n) for n in range(BATCH)]
        # The upload registered before its first batch: until its lease runs out, its
        # chunks are an open upload's, not orphans.
        report = await AsyncFileStore(db).check(grace=timedelta(0))
        assert report.open_uploads == 1 and report.orphan_chunks == []
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        await db["fs.uploads"].update_many({"files_id": "crashed"}, {"$set": {"expires": past}})
        # Then the bucket check finds exactly these, and nothing else amiss.
        report = await AsyncFileStore(db).check(grace=timedelta(0))
        assert [(o.files_id, o.chunks) for o in report.orphan_chunks] == [("crashed", BATCH)]
        assert report.damaged_files == []
        assert await AsyncFileStore(db).get("kept") == b"a file stored before the crash"
    finally:
        await client.close()
