"""The one check of "an int, not a bool" that every count, size and position argument gets."""

from __future__ import annotations

from typing import TypeGuard

__all__ = ["is_whole_number", "whole_number"]


def is_whole_number(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an int and not a bool: ``True == 1`` to Python, but ``seek(True)``,
    ``chunk_size=False`` or a stored ``n: true`` is a mistake, not a number. ``Int64`` counts
    (an int subclass)."""
    return isinstance(value, int) and not isinstance(value, bool)


def whole_number(value: object, what: str, *, minimum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) and not below ``minimum`` (when given);
    TypeError ``"<what> must be an int, not <type>"``, ValueError ``"<what> must be >=
    <minimum>, not <value>"``."""
    if not is_whole_number(value):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, not {value}")
    return value
