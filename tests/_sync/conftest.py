# Generated from tests/_async/conftest.py by scripts/unasync.py: do not edit.
"""Fixtures shared by the tests of the async twin (generated into tests/_sync for the sync one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gridfield._sync.connection import connect, disconnect


@pytest.fixture
def connected(sync_client: Any, sync_db: Any) -> Iterator[Callable[..., Any]]:
    """``connected(alias="default")`` registers the test's fresh database under ``alias``.

    The test's own client is passed in (PyMongo's and Motor's in turn on the async
    twin), as an application that owns its client would; it returns the database
    handle. Every alias registered this way is disconnected after the test.
    """
    aliases: list[str] = []

    def connect_as(alias: str = "default") -> Any:
        aliases.append(alias)
        return connect(db=sync_db.name, client=sync_client, alias=alias)

    yield connect_as
    for alias in aliases:
        disconnect(alias)
