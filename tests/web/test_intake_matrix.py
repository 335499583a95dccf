"""Every upload case of intake_matrix against every receiving adapter, behind real servers:
FastAPI on uvicorn, aiohttp's own server, Flask on waitress and on werkzeug's server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient

from ..conftest import fresh_db_name
from . import intake_apps
from .intake_matrix import CASES, Target
from .servers import run_aiohttp, run_uvicorn, run_waitress, run_werkzeug

ADAPTERS = ["fastapi", "aiohttp", "flask-waitress", "flask-werkzeug"]


@pytest.fixture(scope="session")
def intake_servers(mongo_uri: str) -> Iterator[tuple[Any, dict[str, tuple[str, bool]]]]:
    """Every adapter's upload app behind its server, all writing to one database."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    try:
        with ExitStack() as stack:
            clients = [AsyncMongoClient(mongo_uri) for _ in range(2)]
            fastapi = stack.enter_context(
                run_uvicorn(intake_apps.fastapi_app(clients[0], name), clients[:1])
            )
            aiohttp = stack.enter_context(
                run_aiohttp(intake_apps.aiohttp_app(clients[1], name), clients[1:])
            )
            flask = intake_apps.flask_app(mongo_uri, name)
            waitress = stack.enter_context(run_waitress(flask))
            werkzeug = stack.enter_context(run_werkzeug(flask))
            yield (
                client[name],
                {
                    "fastapi": (fastapi, False),
                    "aiohttp": (aiohttp, False),
                    "flask-waitress": (waitress, True),
                    "flask-werkzeug": (werkzeug, False),
                },
            )
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture(params=ADAPTERS)
def target(
    request: pytest.FixtureRequest,
    intake_servers: tuple[Any, dict[str, tuple[str, bool]]],
) -> Target:
    db, servers = intake_servers
    base, buffers = servers[request.param]
    # One bucket for every server: emptied before each case, so the census is exact.
    db["fs.files"].delete_many({})
    db["fs.chunks"].delete_many({})
    return Target(request.param, base, db, buffers)


@pytest.mark.parametrize("case", list(CASES))
def test_upload_case(case: str, target: Target) -> None:
    check: Callable[[Target], None] = CASES[case]
    check(target)
