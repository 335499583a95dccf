"""Folders over GridFS filenames: a folder is a name prefix ending in ``/``. The anchored,
escaped pattern that finds the names under a prefix, and a listing split into the folders
and files directly inside it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["folder_prefix", "prefix_pattern", "split_listing", "under_filter"]

SEPARATOR = "/"


def prefix_pattern(prefix: str) -> str:
    """A regular expression matching exactly the strings that start with ``prefix``.

    Every ASCII character other than a letter or digit is escaped with a backslash: in
    MongoDB's PCRE, in Go's regexp (FerretDB) and in Python's ``re`` a backslash before such
    a character always means the character itself, so the pattern means the same on every
    server. The ``^`` anchor lets MongoDB answer from the ``filename`` index.
    """
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    escaped = "".join(
        "\\" + char if char.isascii() and not char.isalnum() else char for char in prefix
    )
    return "^" + escaped


def under_filter(prefix: str) -> dict[str, Any]:
    """Filter on the files collection: the files whose filename starts with ``prefix``."""
    if not prefix:
        return {"filename": {"$type": "string"}}
    return {"filename": {"$regex": prefix_pattern(prefix)}}


def folder_prefix(folder: str) -> str:
    """The prefix of the names inside ``folder`` (``""`` for the top)."""
    folder = folder.strip(SEPARATOR)
    return folder + SEPARATOR if folder else ""


def split_listing(prefix: str, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The folders and the files directly under ``prefix``, each sorted and listed once.

    Names that do not start with ``prefix`` are left out, and so are empty folder names (a
    name with ``//`` written by another tool).
    """
    folders: set[str] = set()
    files: set[str] = set()
    for name in names:
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        head, separator, _ = rest.partition(SEPARATOR)
        if separator:
            if head:
                folders.add(head)
        elif rest:
            files.add(rest)
    return sorted(folders), sorted(files)
