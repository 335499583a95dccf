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
