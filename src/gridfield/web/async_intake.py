"""What the async adapters share for receiving files: a call that is awaited for what the
request brought, or entered with ``async with`` to remove it again should the block raise.

Async-only (hand-written, not generated): the sync adapters return the ``Received`` itself,
which is a plain context manager.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from types import TracebackType
from typing import Any

from gridfield import AsyncReceived

__all__ = ["Receiving"]


class Receiving:
    """``await receive_files(...)`` gives the ``AsyncReceived``; ``async with
    receive_files(...) as received:`` gives it too, and removes its files if the block
    raises (unless ``received.keep()`` was called)."""

    def __init__(self, start: Callable[[], Awaitable[AsyncReceived]]) -> None:
        self._start = start
        self._received: AsyncReceived | None = None

    def __await__(self) -> Generator[Any, None, AsyncReceived]:
        return self._run().__await__()

    async def _run(self) -> AsyncReceived:
        if self._received is not None:
            raise RuntimeError("this request's body was received already")
        self._received = await self._start()
        return self._received

    async def __aenter__(self) -> AsyncReceived:
        return await self._run()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._received is not None:
            await self._received.__aexit__(exc_type, exc, tb)
