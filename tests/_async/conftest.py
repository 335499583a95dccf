"""Fixtures shared by the tests of the async twin (generated into tests/_sync for the sync one)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson.binary import STANDARD
from bson.codec_options import CodecOptions
from mongoengine.base import _document_registry
from pymongo import MongoClient
from pymongo.encryption import ClientEncryption

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


@pytest.fixture(autouse=True)
def own_document_classes(request: pytest.FixtureRequest) -> None:
    """Make MongoEngine's class registry name this module's document classes.

    Both twins define test documents with the same class names, and MongoEngine looks
    classes up by name when it loads a subclass (``_cls``): the twin imported last would
    win in a run of both.
    """
    for value in vars(request.module).values():
        name = getattr(value, "_class_name", None)
        if isinstance(value, type) and isinstance(name, str) and name in _document_registry:
            _document_registry[name] = value


@pytest.fixture
def key_vault(async_db: Any, mongo_uri: str) -> Iterator[tuple[ClientEncryption[Any], Any]]:
    """PyMongo's ClientEncryption over a key vault in the test's database, a local master
    key, and one data key in it."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    db_name = async_db.name
    vault = ClientEncryption(
        {"local": {"key": os.urandom(96)}},
        f"{db_name}.keyvault",
        client,
        CodecOptions(uuid_representation=STANDARD),
    )
    try:
        yield vault, vault.create_data_key("local", key_alt_names=["files"])
    finally:
        vault.close()
        client.close()
