# Generated from tests/_async/test_connection.py by scripts/unasync.py: do not edit.
"""connect(), disconnect() and get_db(): the registry of databases by alias."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import mongoengine
import pymongo
import pytest
from mongoengine import connection as mongoengine_connection
from pymongo.errors import InvalidOperation

from gridfield._sync.connection import (
    ConnectionFailure,
    connect,
    disconnect,
    get_client,
    get_db,
    wait_closed,
)

ALIAS = "gridfield-test-connection"


def with_database(uri: str, name: str) -> str:
    """The same server URI with ``name`` as its default database."""
    return urlunsplit(urlsplit(uri)._replace(path=f"/{name}"))


def without_database(uri: str) -> str:
    return urlunsplit(urlsplit(uri)._replace(path="/"))


class PlainConnectionNote(mongoengine.Document):
    """A plain MongoEngine document on the alias gridfield connects (the sync twin shares it)."""

    text = mongoengine.StringField()
    meta = {"db_alias": ALIAS, "collection": "plain_notes"}


def test_connect_with_a_host_uri_builds_a_client_and_disconnect_closes_it(
    mongo_uri: str, sync_db: Any
) -> None:
    db = connect(db=sync_db.name, alias=ALIAS, host=mongo_uri)
    try:
        assert db.name == sync_db.name
        assert get_db(ALIAS) is db
        db.notes.insert_one({"text": "hello"})
        assert sync_db.notes.count_documents({"text": "hello"}) == 1
        client = get_client(ALIAS)
    finally:
        disconnect(ALIAS)
    wait_closed()
    with pytest.raises(InvalidOperation):
        client.admin.command("ping")


def test_the_database_name_comes_from_the_uri_when_not_given(mongo_uri: str) -> None:
    db = connect(alias=ALIAS, host=with_database(mongo_uri, "gridfield_named_in_uri"))
    try:
        assert db.name == "gridfield_named_in_uri"
    finally:
        disconnect(ALIAS)
    wait_closed()


def test_no_database_name_anywhere_is_refused_before_building_a_client(
    mongo_uri: str, sync_client: Any
) -> None:
    with pytest.raises(ConnectionFailure, match=r"no database name: pass db="):
        connect(alias=ALIAS, host=without_database(mongo_uri))
    with pytest.raises(ConnectionFailure, match=r"no database name"):
        # connect=False: the client is never opened, so it needs no closing
        connect(alias=ALIAS, client=type(sync_client)(without_database(mongo_uri), connect=False))
    with pytest.raises(ConnectionFailure, match="no database is connected"):
        get_db(ALIAS)


def test_connect_with_the_apps_client_leaves_it_open(sync_client: Any, sync_db: Any) -> None:
    db = connect(db=sync_db.name, alias=ALIAS, client=sync_client)
    try:
        assert get_client(ALIAS) is sync_client
        db.notes.insert_one({"text": "mine"})
        assert sync_db.notes.find_one({"text": "mine"}) is not None
    finally:
        disconnect(ALIAS)
    wait_closed()
    assert (sync_client.admin.command("ping"))["ok"] == 1


def test_an_unknown_alias_says_to_call_connect() -> None:
    with pytest.raises(ConnectionFailure, match=r"alias 'nowhere'.*connect\(db=\.\.\., alias="):
        get_db("nowhere")
    with pytest.raises(ConnectionFailure):
        get_client("nowhere")
    disconnect("nowhere")  # forgetting what was never there is not an error


def test_connecting_again_returns_the_same_database_or_refuses_a_different_one(
    sync_client: Any, sync_db: Any
) -> None:
    db = connect(db=sync_db.name, alias=ALIAS, client=sync_client)
    try:
        assert connect(db=sync_db.name, alias=ALIAS, client=sync_client) is db
        with pytest.raises(ConnectionFailure, match=r"already connected.*disconnect\("):
            connect(db="gridfield_other", alias=ALIAS, client=sync_client)
        assert get_db(ALIAS) is db  # the refused call changed nothing
    finally:
        disconnect(ALIAS)


def test_misused_arguments_are_refused(mongo_uri: str, sync_client: Any, sync_db: Any) -> None:
    with pytest.raises(TypeError, match=r"client= takes a ready client; host"):
        connect(db=sync_db.name, alias=ALIAS, client=sync_client, host=mongo_uri)
    with pytest.raises(TypeError, match=r"tz_aware only apply"):
        connect(db=sync_db.name, alias=ALIAS, client=sync_client, tz_aware=True)
    with pytest.raises(TypeError, match="wants a MongoDB client"):
        connect(db="x", alias=ALIAS, client=sync_db)  # a database, not a client
    with pytest.raises(ConnectionFailure):
        get_db(ALIAS)


def test_host_options_reach_the_client_it_builds(mongo_uri: str, sync_db: Any) -> None:
    db = connect(db=sync_db.name, alias=ALIAS, host=mongo_uri, tz_aware=True)
    try:
        db.notes.insert_one({"text": "when"})
        assert get_client(ALIAS).options.codec_options.tz_aware is True
    finally:
        disconnect(ALIAS)
    wait_closed()


def disconnect_in_a_loop(alias: str) -> None:
    disconnect(alias)
    wait_closed()


def test_disconnect_with_no_event_loop_running(mongo_uri: str) -> None:
    # Nothing here reaches the server: the client connect() builds stays unopened.
    connect(db="gridfield_unused", alias=ALIAS, host=mongo_uri)
    client = get_client(ALIAS)
    if inspect.iscoroutinefunction(client.close):
        # PyMongo's async client closes only on its loop: refused, and nothing changes.
        with pytest.raises(RuntimeError, match=r"disconnect\('gridfield-test-connection'\)"):
            disconnect(ALIAS)
        assert get_client(ALIAS) is client
        asyncio.run(disconnect_in_a_loop(ALIAS))
    else:
        disconnect(ALIAS)  # the sync API closes at once
        with pytest.raises(InvalidOperation):
            client.admin.command("ping")


def test_mongoengine_shares_a_sync_client_under_the_same_alias(
    sync_client: Any, sync_db: Any
) -> None:
    connect(db=sync_db.name, alias=ALIAS, client=sync_client)
    shared = isinstance(sync_client, pymongo.MongoClient)
    try:
        # Only the sync twin is handed a client MongoEngine can use.
        assert (mongoengine_connection._connections.get(ALIAS) is sync_client) == shared
        if shared:
            assert mongoengine.get_db(ALIAS).name == sync_db.name
            PlainConnectionNote(text="plain").save()
            raw = sync_db.plain_notes.find_one({"text": "plain"})
            assert raw is not None
    finally:
        disconnect(ALIAS)
    assert ALIAS not in mongoengine_connection._connections
    assert ALIAS not in mongoengine_connection._dbs
    assert ALIAS not in mongoengine_connection._connection_settings
    assert (sync_client.admin.command("ping"))["ok"] == 1  # the app's client stays open


def test_an_alias_mongoengine_already_uses_is_not_taken_over(
    mongo_uri: str, sync_client: Any, sync_db: Any
) -> None:
    mongoengine_connection.register_connection(
        ALIAS, db="gridfield_mongoengines", host=mongo_uri, uuidRepresentation="standard"
    )
    try:
        if isinstance(sync_client, pymongo.MongoClient):
            with pytest.raises(ConnectionFailure, match="MongoEngine already has"):
                connect(db=sync_db.name, alias=ALIAS, client=sync_client)
            # the alias stays MongoEngine's, and the sync get_db answers with its database
            assert get_db(ALIAS).name == "gridfield_mongoengines"
        else:
            connect(db=sync_db.name, alias=ALIAS, client=sync_client)
            disconnect(ALIAS)
            # MongoEngine's sync client is of no use to the async API
            with pytest.raises(ConnectionFailure, match="no database is connected"):
                get_db(ALIAS)
        assert mongoengine_connection._connection_settings[ALIAS]["name"] == (
            "gridfield_mongoengines"
        )
    finally:
        mongoengine.disconnect(ALIAS)


def test_an_alias_only_mongoengine_knows(mongo_uri: str, sync_client: Any) -> None:
    mongoengine_connection.register_connection(
        ALIAS, db="gridfield_mongoengines", host=mongo_uri, uuidRepresentation="standard"
    )
    try:
        if isinstance(sync_client, pymongo.MongoClient):
            # the sync API answers with MongoEngine's database, so FileField works on
            # plain MongoEngine documents
            assert get_db(ALIAS).name == "gridfield_mongoengines"
            assert ALIAS in mongoengine_connection._connections
        else:
            with pytest.raises(ConnectionFailure, match="no database is connected"):
                get_db(ALIAS)
            # and asking made MongoEngine build no client of its own
            assert ALIAS not in mongoengine_connection._connections
    finally:
        mongoengine.disconnect(ALIAS)
