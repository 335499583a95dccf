"""Where the next read of a stored file starts: one position, its seek rules and read sizes."""

from __future__ import annotations

from collections.abc import Callable

from .numbers import is_whole_number, whole_number

__all__ = ["ReadPosition", "check_read_size"]


def _int_argument(method: str, name: str, value: object) -> int:
    return whole_number(value, f"{method}(): {name}")


def check_read_size(size: object, method: str = "read") -> int:
    """``size`` as an int (None means -1: read to the end); TypeError naming ``size`` else."""
    return -1 if size is None else _int_argument(method, "size", size)


class ReadPosition:
    """The read position shared by a file's proxy and its download stream.

    One object, so the proxy and the stream it reads through never disagree; ``seek``
    holds the one set of rules for moving it.
    """

    __slots__ = ("offset",)

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.offset}>"

    def seek(self, pos: object, whence: object, length: Callable[[], int]) -> int:
        """Move to ``pos`` from the start (whence 0), here (1) or the end (2) and return the
        new offset. ``length`` gives the file's length; it is asked only for whence 2.

        TypeError naming ``pos`` for a non-int (bools included); ValueError for another
        whence or a negative target.
        """
        offset = _int_argument("seek", "pos", pos)
        if not is_whole_number(whence) or whence not in (0, 1, 2):
            raise ValueError(f"seek(): whence must be 0, 1 or 2, not {whence!r}")
        base = (0, self.offset)[whence] if whence < 2 else length()
        if base + offset < 0:
            raise ValueError(f"seek to {base + offset}: a position cannot be negative")
        self.offset = base + offset
        return self.offset
