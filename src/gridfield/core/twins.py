"""The small objects by which the async and sync twins differ, picked by name in the generator.

The generator maps ``AsyncFlush`` to ``SyncFlush``; ``AwaitableSelf`` is shared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

_T = TypeVar("_T", bound="AwaitableSelf")


class AwaitableSelf:
    """Lets ``await obj`` hand back ``obj`` itself.

    For calls like ``new_file()`` that the seed both awaits and uses in ``async with``:
    the call does its work synchronously (no I/O) and returns an object that is an
    awaitable and an async context manager at once.
    """

    def __await__(self: _T) -> Generator[Any, None, _T]:
        return self
        yield  # a generator, so that awaiting it finishes at once


class AsyncFlush:
    """What the async twin's ``write()`` returns.

    Awaiting it writes the full chunks buffered so far. Dropping it un-awaited is allowed
    and silent (it is not a coroutine): the buffer is written when the file is closed.
    That is what lets ``doc.photo.write(b'...')`` work without ``await`` inside
    ``async with doc.photo.new_file():``.
    """

    __slots__ = ("_flush",)

    def __init__(self, flush: Callable[[], Awaitable[None]]) -> None:
        self._flush = flush

    def __await__(self) -> Generator[Any, None, None]:
        return (yield from self._flush().__await__())

    def __repr__(self) -> str:
        return "<pending flush: await it, or let close() write it>"


class SyncFlush:
    """What the sync twin's ``write()`` returns: the full chunks are already written."""

    __slots__ = ()

    def __init__(self, flush: Callable[[], None]) -> None:
        flush()

    def __repr__(self) -> str:
        return "<flushed>"
