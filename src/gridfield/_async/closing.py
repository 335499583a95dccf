"""The one close/abort protocol of gridfield's streams used as context managers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing"]

_C = TypeVar("_C", bound="AsyncClosing")


class AsyncClosing(ABC):
    """A stream used as a context manager: leaving the block normally closes it (an upload
    is then stored); leaving it by an error gives it up (``_abort_after``, a plain close by
    default), and that error stays the one raised."""

    @abstractmethod
    async def close(self) -> object:
        """Finish with the stream: what was written is stored, what was read is let go (what
        it returns, an upload's FileInfo, is not used here)."""

    async def _abort_after(self, error: BaseException) -> None:
        """Give the stream up because of ``error``; a stream with nothing to undo closes."""
        await self.close()

    async def __aenter__(self: _C) -> _C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.close()
        else:
            await self._abort_after(exc)
