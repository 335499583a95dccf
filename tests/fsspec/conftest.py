"""Both gridfs filesystems over a fresh database of the test server, for the fsspec tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fsspec.asyn import sync
from pymongo import AsyncMongoClient, MongoClient

from gridfield.fsspec import AsyncGridFSFileSystem, GridFSFileSystem
from tests.conftest import fresh_db_name
from tests.fsspec.chunk_counter import ChunkCounter
from tests.shard_keys import SHARD_KEY_CHECK

KINDS = ["sync", "async"]


def make_fs(
    kind: str, mongo_uri: str, name: str, listeners: Sequence[Any] = (), **options: Any
) -> Any:
    """A filesystem of ``kind`` over the database ``name`` (not cached by fsspec), its
    client reporting to ``listeners`` too."""
    watchers = [SHARD_KEY_CHECK, *listeners]
    if kind == "sync":
        client: Any = MongoClient(mongo_uri, event_listeners=watchers)
        return GridFSFileSystem(client=client, database=name, skip_instance_cache=True, **options)
    client = AsyncMongoClient(mongo_uri, event_listeners=watchers)
    return AsyncGridFSFileSystem(client=client, database=name, skip_instance_cache=True, **options)


def close_fs(fs: Any) -> None:
    """Drop the filesystem's database and close its client."""
    store = fs.files.store
    client, name = store.db.client, store.db.name
    if isinstance(fs, AsyncGridFSFileSystem):
        sync(fs.loop, client.drop_database, name)
        sync(fs.loop, client.close)
    else:
        client.drop_database(name)
        client.close()


@pytest.fixture
def chunks() -> ChunkCounter:
    """What the ``gridfs`` filesystem's client fetched from the chunks collection."""
    return ChunkCounter()


@pytest.fixture(params=KINDS)
def gridfs(request: pytest.FixtureRequest, mongo_uri: str, chunks: ChunkCounter) -> Iterator[Any]:
    """Each filesystem in turn (the async one through its sync methods), fresh database."""
    fs = make_fs(request.param, mongo_uri, fresh_db_name(), listeners=[chunks])
    try:
        yield fs
    finally:
        close_fs(fs)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The abstract suites' allow-list: see tests/fsspec/test_abstract_suites.py."""
    from tests.fsspec import test_abstract_suites

    test_abstract_suites.pytest_collection_modifyitems(items)
