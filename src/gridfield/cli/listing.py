"""How ``list`` and ``search`` print files: mongofiles' two columns, ``--long`` or JSON Lines."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS

from ..core.files_document import FileInfo
from .ids import show_id

__all__ = ["LIST_ORDER", "json_row", "long_row", "prefix_pattern", "short_row"]

LIST_ORDER = [("filename", 1), ("uploadDate", 1), ("_id", 1)]
"""Listings come by name, then revisions oldest first (served by the files index)."""

# Characters with a meaning in PCRE and in the server's regex engines; escaping only these
# keeps the pattern valid in both (a backslash before a letter can mean a class).
_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def prefix_pattern(prefix: str) -> str:
    """A ``$regex`` matching the names that start with ``prefix``, taken literally."""
    return "^" + _SPECIAL.sub(r"\\\1", prefix)


def short_row(info: FileInfo) -> str:
    """mongofiles' line: the name, a tab, the length."""
    return f"{info.filename or ''}\t{info.length}"


def _date(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="milliseconds")


def long_row(info: FileInfo) -> str:
    """id, length, upload date (UTC), content type, SHA-256, name: tab-separated."""
    fields = [
        show_id(info.file_id),
        str(info.length),
        _date(info.upload_date),
        info.content_type or "-",
        info.sha256 or "-",
        info.filename or "",
    ]
    return "\t".join(fields)


def json_row(info: FileInfo) -> str:
    """One file as a line of relaxed Extended JSON (ids and dates keep their types)."""
    row: dict[str, Any] = {
        "_id": info.file_id,
        "filename": info.filename,
        "length": info.length,
        "chunkSize": info.chunk_size,
        "uploadDate": info.upload_date,
        "contentType": info.content_type,
        "sha256": info.sha256,
        "metadata": info.metadata,
    }
    return json_util.dumps(row, json_options=RELAXED_JSON_OPTIONS)
