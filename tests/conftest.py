"""Fixtures handing every test a real MongoDB wire-protocol server and fresh databases on it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import mongoengine
import pytest
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient, MongoClient
from pymongo.database import Database

from scripts.mongo_server import ServerError, server_uri
from scripts.test_tools import ToolsMissing, require
from tests.private_server import PrivateServer
from tests.server_differences import ferretdb_backend
from tests.shard_keys import SHARD_KEY_CHECK
from tests.tcp_proxy import TcpProxy

ASYNC_DRIVERS = ["pymongo", "motor"]


def installed(command: str) -> str:
    """The path of a program a test drives (curl, chromium, ffmpeg...); fails, never skips,
    naming the package and the command that installs it (``./dev tests`` installs it)."""
    try:
        return require(command)
    except ToolsMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def fresh_db_name() -> str:
    """A database name no other test uses."""
    return f"gridfield_test_{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def mongo_uri() -> str:
    """$MONGODB_URI (nox exports it), else the server scripts/mongo_server finds or starts.

    Fails, never skips, when no server can be had. A first run without nox builds FerretDB
    from source (minutes on a cold machine); after that it is instant.
    """
    try:
        return server_uri()
    except ServerError as exc:
        pytest.fail(f"no MongoDB server: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def server_kind(mongo_uri: str) -> str:
    """Which server runs: "ferretdb" when its buildInfo says FerretDB, else "mongodb"."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        info = client.admin.command("buildInfo")
    finally:
        client.close()
    return "ferretdb" if "ferretdbVersion" in info or "ferretdb" in info else "mongodb"


@pytest.fixture(scope="session")
def server_backend(mongo_uri: str, server_kind: str) -> str:
    """ "mongodb", or FerretDB with its backend: "ferretdb-sqlite" or "ferretdb-postgresql"
    (told from an explain; see tests/server_differences.py)."""
    if server_kind != "ferretdb":
        return server_kind
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        db = client[fresh_db_name()]
        db.probe.insert_one({})
        explained = db.command("explain", {"find": "probe", "filter": {}})
        client.drop_database(db.name)
    finally:
        client.close()
    return f"ferretdb-{ferretdb_backend(explained)}"


@pytest.fixture(params=ASYNC_DRIVERS, ids=ASYNC_DRIVERS)
async def async_client(request: pytest.FixtureRequest, mongo_uri: str) -> AsyncIterator[Any]:
    """An async client: PyMongo's AsyncMongoClient, then Motor's AsyncIOMotorClient."""
    if request.param == "pymongo":
        client: Any = AsyncMongoClient(mongo_uri, event_listeners=[SHARD_KEY_CHECK])
        try:
            yield client
        finally:
            await client.close()
    else:
        client = AsyncIOMotorClient(mongo_uri, event_listeners=[SHARD_KEY_CHECK])
        try:
            yield client
        finally:
            client.close()


@pytest.fixture
async def async_db(async_client: Any) -> AsyncIterator[Any]:
    """A fresh, uniquely named database on async_client, dropped afterwards."""
    name = fresh_db_name()
    try:
        yield async_client[name]
    finally:
        await async_client.drop_database(name)


@pytest.fixture
def sync_client(mongo_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    """PyMongo's MongoClient on the test server."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, event_listeners=[SHARD_KEY_CHECK])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def sync_db(sync_client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    """A fresh, uniquely named database on sync_client, dropped afterwards."""
    name = fresh_db_name()
    try:
        yield sync_client[name]
    finally:
        sync_client.drop_database(name)


@pytest.fixture
def mongoengine_connection(mongo_uri: str) -> Iterator[Database[dict[str, Any]]]:
    """MongoEngine's default alias connected to a fresh database; yields that database."""
    name = fresh_db_name()
    # "standard" is what the GridFS spec and other drivers use for UUIDs; MongoEngine's
    # default ("pythonLegacy") only exists for old data and warns.
    mongoengine.connect(
        db=name,
        host=mongo_uri,
        alias="default",
        uuidRepresentation="standard",
        event_listeners=[SHARD_KEY_CHECK],
    )
    try:
        yield mongoengine.get_db("default")
    finally:
        mongoengine.get_connection("default").drop_database(name)
        mongoengine.disconnect(alias="default")


@pytest.fixture(autouse=True)
def commands_route_by_file() -> Iterator[None]:
    """After every test: each chunks command gridfield sent through the fixtures' clients
    targeted one file (or a list), and each single-document files write named its ``_id``,
    so a bucket sharded on ``{files_id: 1, n: 1}`` routes them (see tests/shard_keys.py)."""
    SHARD_KEY_CHECK.faults.clear()
    yield
    faults, SHARD_KEY_CHECK.faults[:] = list(SHARD_KEY_CHECK.faults), []
    if faults:
        pytest.fail("commands a sharded bucket cannot route by file:\n" + "\n".join(faults))


@pytest.fixture
def tcp_proxy(mongo_uri: str) -> Iterator[TcpProxy]:
    """A loopback proxy to the test server that can cut or stall what goes through it."""
    with TcpProxy(mongo_uri) as proxy:
        yield proxy


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[PrivateServer]:
    """A started server process of the test's own, which it may kill and restart."""
    server = PrivateServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
