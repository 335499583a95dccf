"""A refused upload never touches an existing file, whatever the state of the bucket's indexes.

The unique ``(files_id, n)`` index can be missing: the bucket or its database was dropped
behind a live client, or another tool made a non-unique index on the same keys. An upload
with a caller's id that meets an existing file must then still remove only its own chunks.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from gridfield._async import bucket as bucket_module
from gridfield._async.store import AsyncFileStore
from gridfield.core.errors import FileExists

CHUNK = 1024


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


async def chunks_index_is_unique(db: Any, bucket: str = "fs") -> bool:
    """Whether the bucket's chunks collection has a unique index on (files_id, n)."""
    indexes = await db[f"{bucket}.chunks"].index_information()
    return any(
        list(index["key"]) == [("files_id", 1), ("n", 1)] and index.get("unique")
        for index in indexes.values()
    )


async def refused_upload_leaves_the_file(store: AsyncFileStore, file_id: Any) -> None:
    """Store a file under ``file_id``, then try another under the same id: it is refused and
    the first file still reads whole."""
    first = payload(5 * CHUNK + 17, seed=1)
    await store.put(first, file_id=file_id)
    with pytest.raises(FileExists, match="already"):
        await store.put(payload(3 * CHUNK, seed=2), file_id=file_id)
    assert await store.get(file_id) == first
    assert await store.chunks.count_documents({"files_id": file_id}) == 6


async def test_after_the_database_is_dropped(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    await store.put(b"makes the indexes")
    await async_db.client.drop_database(async_db.name)
    await refused_upload_leaves_the_file(store, "after-db-drop")


async def test_after_the_bucket_is_dropped(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    await store.put(b"makes the indexes")
    await store.files.drop()
    await store.chunks.drop()
    await refused_upload_leaves_the_file(store, "after-bucket-drop")


async def test_with_a_non_unique_chunks_index_made_by_another_tool(async_db: Any) -> None:
    store = AsyncFileStore(async_db, "other", chunk_size=CHUNK)
    await store.chunks.create_index([("files_id", 1), ("n", 1)])
    await refused_upload_leaves_the_file(store, 42)
    assert not await chunks_index_is_unique(async_db, "other")  # theirs is left as it is


async def test_a_new_client_makes_the_indexes_after_a_drop(async_db: Any, mongo_uri: str) -> None:
    """Two clients with the same settings compare equal: the second one must not trust
    what the first one saw before the database was dropped."""
    first = AsyncMongoClient(mongo_uri)
    try:
        await AsyncFileStore(first[async_db.name]).put(b"makes the indexes")
        assert await chunks_index_is_unique(async_db)
        await first.drop_database(async_db.name)
        second = AsyncMongoClient(mongo_uri)
        try:
            assert second == first  # why the cache must not go by equality
            await AsyncFileStore(second[async_db.name]).put(b"after the drop")
            assert await chunks_index_is_unique(async_db)
        finally:
            await second.close()
    finally:
        await first.close()


async def test_ensure_indexes_makes_them_again_after_a_drop(async_db: Any) -> None:
    store = AsyncFileStore(async_db)
    await store.put(b"makes the indexes")
    await async_db.client.drop_database(async_db.name)
    await store.ensure_indexes()
    assert await chunks_index_is_unique(async_db)


async def test_an_upload_checks_the_indexes_again_after_a_while(
    async_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AsyncFileStore(async_db)
    await store.put(b"makes the indexes")
    await async_db.client.drop_database(async_db.name)
    monkeypatch.setattr(bucket_module, "INDEX_RECHECK", 0.0)  # "a while" has passed
    await store.put(b"after the drop")
    assert await chunks_index_is_unique(async_db)
