"""Every deliberate difference between the async and the sync twin, as small named pairs.

The async source in ``_async/`` calls the first member of a pair; ``scripts/unasync.py`` maps
its name to the second (its ``OUR_NAMES`` table) in the generated ``_sync/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .core.errors import FileNotLoaded

_T = TypeVar("_T")

# -- CPU-bound work -----------------------------------------------------------------------


async def run_off_loop(func: Callable[..., _T], *args: Any) -> _T:
    """Run ``func(*args)`` in a worker thread, so the event loop keeps serving others."""
    return await asyncio.to_thread(func, *args)


def run_here(func: Callable[..., _T], *args: Any) -> _T:
    """Sync twin of ``run_off_loop``: the caller's thread is the one to use."""
    return func(*args)


# -- attributes of a stored file read before it was loaded -------------------------------------


def refuse_unloaded(load: Callable[[], Awaitable[_T]], message: str) -> _T:
    """Async twin: an attribute cannot await, so reading one before a load is FileNotLoaded."""
    raise FileNotLoaded(message)


def load_now(load: Callable[[], _T], message: str) -> _T:
    """Sync twin of ``refuse_unloaded``: load on first access, as MongoEngine does."""
    return load()


# -- data assigned to a field of a document that will not store it at save ------------------------


def refuse_upload_outside_save(upload: Callable[[], Awaitable[Any]], message: str) -> None:
    """Async twin: assignment cannot await an upload; only a gridfield Document's save can."""
    raise TypeError(message)


def upload_now(upload: Callable[[], Any], message: str) -> None:
    """Sync twin of ``refuse_upload_outside_save``: store it at once, as MongoEngine does."""
    upload()
