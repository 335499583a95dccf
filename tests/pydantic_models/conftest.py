"""A PyMongo async client whose commands are recorded, and a fresh database on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from ..commands import Commands
from ..conftest import fresh_db_name
from ..shard_keys import SHARD_KEY_CHECK


@dataclass
class Recorded:
    """A fresh database and the commands its client sent."""

    db: Any
    commands: Commands


@pytest.fixture
async def recorded(mongo_uri: str) -> AsyncIterator[Recorded]:
    commands = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[commands, SHARD_KEY_CHECK])
    name = fresh_db_name()
    try:
        yield Recorded(client[name], commands)
    finally:
        await client.drop_database(name)
        await client.close()
