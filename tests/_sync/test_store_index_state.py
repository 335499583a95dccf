# Generated from tests/_async/test_store_index_state.py by scripts/unasync.py: do not edit.
"""A refused upload never touches an existing file, whatever the state of the bucket's indexes.

The unique ``(files_id, n)`` index can be missing: the bucket or its database was dropped
behind a live client, or another tool made a non-unique index on the same keys. An upload
with a caller's id that meets an existing file must then still remove only its own chunks.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from pymongo import MongoClient

from gridfield._sync import bucket as bucket_module
from gridfield._sync.store import FileStore
from gridfield.core.errors import FileExists

CHUNK = 1024


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def chunks_index_is_unique(db: Any, bucket: str = "fs") -> bool:
    """Whether the bucket's chunks collection has a unique index on (files_id, n)."""
    indexes = db[f"{bucket}.chunks"].index_information()
    return any(
        list(index["key"]) == [("files_id", 1), ("n", 1)] and index.get("unique")
        for index in indexes.values()
    )


def refused_upload_leaves_the_file(store: FileStore, file_id: Any) -> None:
    """Store a file under ``file_id``, then try another under the same id: it is refused and
    the first file still reads whole."""
    first = payload(5 * CHUNK + 17, seed=1)
    store.put(first, file_id=file_id)
    with pytest.raises(FileExists, match="already"):
        store.put(payload(3 * CHUNK, seed=2), file_id=file_id)
    assert store.get(file_id) == first
    assert store.chunks.count_documents({"files_id": file_id}) == 6


def test_after_the_database_is_dropped(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    store.put(b"makes the indexes")
    sync_db.client.drop_database(sync_db.name)
    refused_upload_leaves_the_file(store, "after-db-drop")


def test_after_the_bucket_is_dropped(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=CHUNK)
    store.put(b"makes the indexes")
    store.files.drop()
    store.chunks.drop()
    refused_upload_leaves_the_file(store, "after-bucket-drop")


def test_with_a_non_unique_chunks_index_made_by_another_tool(sync_db: Any) -> None:
    store = FileStore(sync_db, "other", chunk_size=CHUNK)
    store.chunks.create_index([("files_id", 1), ("n", 1)])
    refused_upload_leaves_the_file(store, 42)
    assert not chunks_index_is_unique(sync_db, "other")  # theirs is left as it is


def test_a_new_client_makes_the_indexes_after_a_drop(sync_db: Any, mongo_uri: str) -> None:
    """Two clients with the same settings compare equal: the second one must not trust
    what the first one saw before the database was dropped."""
    first = MongoClient(mongo_uri)
    try:
        FileStore(first[sync_db.name]).put(b"makes the indexes")
        assert chunks_index_is_unique(sync_db)
        first.drop_database(sync_db.name)
        second = MongoClient(mongo_uri)
        try:
            assert second == first  # why the cache must not go by equality
            FileStore(second[sync_db.name]).put(b"after the drop")
            assert chunks_index_is_unique(sync_db)
        finally:
            second.close()
    finally:
        first.close()


def test_ensure_indexes_makes_them_again_after_a_drop(sync_db: Any) -> None:
    store = FileStore(sync_db)
    store.put(b"makes the indexes")
    sync_db.client.drop_database(sync_db.name)
    store.ensure_indexes()
    assert chunks_index_is_unique(sync_db)


def test_an_upload_checks_the_indexes_again_after_a_while(
    sync_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(sync_db)
    store.put(b"makes the indexes")
    sync_db.client.drop_database(sync_db.name)
    monkeypatch.setattr(bucket_module, "INDEX_RECHECK", 0.0)  # "a while" has passed
    store.put(b"after the drop")
    assert chunks_index_is_unique(sync_db)
