"""Letting a write run to its end when the task awaiting it is cancelled.

The one place the twins differ on cancellation, a hand-written pair picked by name:
the async code calls ``to_completion``; the generator maps it to ``completed``, since a
sync call has already run to its end when it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

_T = TypeVar("_T")


async def to_completion(operation: Awaitable[_T]) -> _T:
    """Await ``operation``; if the awaiting task is cancelled meanwhile, let the operation
    finish first, then raise the cancellation.

    A cancelled insert may still be running on the server: removing its chunks before it
    ends would leave behind whatever it writes afterwards.
    """
    task = asyncio.ensure_future(operation)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # seen here; the cancellation is what the caller gets
        raise


def completed(result: _T) -> _T:
    """The sync twin's ``to_completion``: the operation has already run to its end."""
    return result
