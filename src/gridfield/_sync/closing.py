# Generated from src/gridfield/_async/closing.py by scripts/unasync.py: do not edit.
"""The one close/abort protocol of gridfield's streams used as context managers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_C = TypeVar("_C", bound="Closing")


class Closing(ABC):
    """A stream used as a context manager: leaving the block normally closes it (an upload
    is then stored); leaving it by an error gives it up (``_abort_after``, a plain close by
    default), and that error stays the one raised."""

    @abstractmethod
    def close(self) -> object:
        """Finish with the stream: what was written is stored, what was read is let go (what
        it returns, an upload's FileInfo, is not used here)."""

    def _abort_after(self, error: BaseException) -> None:
        """Give the stream up because of ``error``; a stream with nothing to undo closes."""
        self.close()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self._abort_after(exc)
