"""Fixtures shared by the tests of the async twin (generated into tests/_sync for the sync one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gridfield._async.connection import connect, disconnect


@pytest.fixture
def connected(async_client: Any, async_db: Any) -> Iterator[Callable[..., Any]]:
    """``connected(alias="default")`` registers the test's fresh database under ``alias``.

    The test's own client is passed in (PyMongo's and Motor's in turn on the async
    twin), as an application that owns its client would; it returns the database
    handle. Every alias registered this way is disconnected after the test.
    """
    aliases: list[str] = []

    def connect_as(alias: str = "default") -> Any:
        aliases.append(alias)
        return connect(db=async_db.name, client=async_client, alias=alias)

    yield connect_as
    for alias in aliases:
        disconnect(alias)
