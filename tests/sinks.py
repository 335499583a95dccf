"""A destination whose ``write`` is ``async def``, and what each API does with it: the one
expectation of the twins' tests that differs by twin (mapped in scripts/unasync.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest


class AsyncSink:
    """An async file object (aiofiles, an async stream): ``write`` must be awaited."""

    def __init__(self) -> None:
        self.data = b""

    async def write(self, data: bytes) -> None:
        self.data += data


async def lands_in_async_sink(copy: Callable[[AsyncSink], Awaitable[int]], data: bytes) -> None:
    """The async API awaits an async ``write``: every byte lands, and the count says so."""
    sink = AsyncSink()
    assert await copy(sink) == len(data)
    assert sink.data == data


def refused_by_the_sync_api(copy: Callable[[AsyncSink], int], data: bytes) -> None:
    """The sync API cannot await an async ``write``: refused before any I/O, never bytes
    reported as written that were not."""
    sink = AsyncSink()
    with pytest.raises(TypeError, match=r"^destination AsyncSink has an async write\(\): the sync"):
        copy(sink)
    assert sink.data == b""
