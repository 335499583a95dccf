"""The small named pairs by which the async and the sync twin differ, mapped by the generator.

Each pair is one async function and its sync namesake (``OUR_NAMES`` in
``scripts/unasync.py``); shared code calls the async one and never asks which twin it is in.
"""

from __future__ import annotations

import inspect
from typing import Any


async def await_aggregate(collection: Any, pipeline: list[Any], **options: Any) -> Any:
    """The cursor of an aggregation.

    PyMongo's async ``aggregate()`` is a coroutine while Motor's returns its cursor at once:
    this asks the driver, not the twin.
    """
    cursor = collection.aggregate(pipeline, **options)
    return await cursor if inspect.isawaitable(cursor) else cursor


def run_aggregate(collection: Any, pipeline: list[Any], **options: Any) -> Any:
    """The cursor of an aggregation (PyMongo's sync ``aggregate()`` returns it at once)."""
    return collection.aggregate(pipeline, **options)


async def await_session(client: Any) -> Any:
    """A new client session: PyMongo's async ``start_session()`` returns it, Motor's is a
    coroutine (the driver is asked, not the twin)."""
    session = client.start_session()
    return await session if inspect.isawaitable(session) else session


def run_session(client: Any) -> Any:
    """A new client session (PyMongo's sync ``start_session()``)."""
    return client.start_session()


async def await_transaction_start(session: Any, **options: Any) -> None:
    """Start a transaction: a coroutine in PyMongo's async API, at once in Motor's."""
    started = session.start_transaction(**options)
    if inspect.isawaitable(started):
        await started


def run_transaction_start(session: Any, **options: Any) -> None:
    """Start a transaction (PyMongo's sync API)."""
    session.start_transaction(**options)
