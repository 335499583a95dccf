"""A read held open on a download stream while a test tries another: in the async twin a task
that started reading, in the sync twin a thread stopped inside its read."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

_WAIT = 10.0  # seconds a test waits for the other reader before it fails


class TaskReader:
    """A read of ``stream`` started in a task of its own, which has begun when ``start``
    returns (it waits on the server)."""

    def progress(self, done: int, total: int | None) -> None:
        """The stream's ``on_progress``: nothing to hold in the async twin."""

    async def start(self, stream: Any, size: int) -> None:
        self._task = asyncio.ensure_future(stream.read(size))
        await asyncio.sleep(0)  # the task takes the stream and waits for the server

    async def result(self) -> bytes:
        return await asyncio.wait_for(self._task, _WAIT)


class ThreadReader:
    """A read of ``stream`` in a thread, held inside the read (at its first chunk) until
    ``result`` lets it go on."""

    def __init__(self) -> None:
        self._inside = threading.Event()
        self._go_on = threading.Event()
        self._got: list[bytes] = []

    def progress(self, done: int, total: int | None) -> None:
        """The stream's ``on_progress``: the first call holds the reading thread."""
        if threading.current_thread() is getattr(self, "_thread", None):
            self._inside.set()
            self._go_on.wait(_WAIT)

    def start(self, stream: Any, size: int) -> None:
        self._thread = threading.Thread(target=lambda: self._got.append(stream.read(size)))
        self._thread.start()
        assert self._inside.wait(_WAIT), "the reading thread never got inside its read"

    def result(self) -> bytes:
        self._go_on.set()
        self._thread.join(_WAIT)
        (got,) = self._got
        return got
