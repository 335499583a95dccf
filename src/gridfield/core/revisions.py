"""Files by name: checking a filename and a revision, and the query that picks a revision.

A revision counts the files that share a filename in upload order (``uploadDate``, then
``_id`` for files stored in the same millisecond): 0 is the original, 1 the first
revision, -1 the newest, -2 the one before it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .numbers import whole_number

__all__ = [
    "RevisionQuery",
    "check_filename",
    "check_revision",
    "describe_revision",
    "name_filter",
    "revision_query",
]

OLDEST_FIRST: tuple[tuple[str, int], ...] = (("uploadDate", 1), ("_id", 1))
NEWEST_FIRST: tuple[tuple[str, int], ...] = (("uploadDate", -1), ("_id", -1))


def check_filename(filename: object, what: str = "filename") -> str:
    """Return ``filename`` if it can name a stored file; TypeError or ValueError otherwise."""
    if not isinstance(filename, str):
        raise TypeError(f"{what} must be a str, not {type(filename).__name__}")
    if not filename:
        raise ValueError(f"{what} must not be empty")
    return filename


def check_revision(revision: object) -> int:
    """Return ``revision`` if it is an int (any sign); TypeError otherwise."""
    return whole_number(revision, "revision")


def name_filter(filename: str) -> dict[str, Any]:
    """Filter on the files collection matching exactly the files named ``filename``."""
    return {"filename": {"$eq": check_filename(filename)}}


@dataclasses.dataclass(frozen=True)
class RevisionQuery:
    """How to find one revision: the filter, the order and how many files to skip."""

    filter: dict[str, Any]
    sort: tuple[tuple[str, int], ...]
    skip: int


def revision_query(filename: str, revision: int) -> RevisionQuery:
    """The query whose first result is revision ``revision`` of the files named ``filename``.

    Counting from the newest for a negative revision keeps -1 a one-document read served by
    the ``(filename, uploadDate)`` index, however many revisions there are.
    """
    check_revision(revision)
    if revision >= 0:
        return RevisionQuery(name_filter(filename), OLDEST_FIRST, revision)
    return RevisionQuery(name_filter(filename), NEWEST_FIRST, -revision - 1)


def describe_revision(revision: int) -> str:
    """The revision in words, for error messages: ``revision 0 (the original)``."""
    if revision == 0:
        return "revision 0 (the original)"
    if revision == -1:
        return "revision -1 (the newest)"
    return f"revision {revision}"
