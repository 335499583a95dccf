"""Django configured in the test process, and a GridFSStorage on a fresh database whose
client records every command it sends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import MongoClient

import gridfield.sync
from tests.commands import Commands
from tests.web.apps import configure_django

configure_django()

from gridfield.django import GridFSStorage  # noqa: E402  (needs Django configured)


@dataclass
class Bucket:
    """A storage, the database under it and the commands its client sent."""

    storage: GridFSStorage
    db: Any
    commands: Commands
    alias: str


@pytest.fixture
def bucket(mongo_uri: str) -> Iterator[Bucket]:
    commands = Commands()
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, event_listeners=[commands])
    alias = f"storage-{uuid.uuid4().hex[:8]}"
    name = f"gridfield_test_{uuid.uuid4().hex}"
    db = gridfield.sync.connect(name, alias=alias, client=client)
    try:
        yield Bucket(GridFSStorage(alias, base_url="/media/"), db, commands, alias)
    finally:
        gridfield.sync.disconnect(alias)
        client.drop_database(name)
        client.close()
