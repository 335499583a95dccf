"""The filesystem view of a bucket, without I/O: paths checked and turned into filenames,
revisions named in a path, and the entries a listing answers with.

A path is a filename: folders are name prefixes ending in ``/`` (as the CLI and the Django
storage treat them), so a folder exists while a file's name starts with it and no empty
folder can be stored. ``name?revision=N`` or ``name?version_id=ID`` names one revision.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .files_document import FileInfo
from .folders import SEPARATOR
from .numbers import whole_number

__all__ = [
    "Version",
    "absolute_range",
    "check_path",
    "directory_entry",
    "file_entry",
    "listing",
    "newest_per_name",
    "split_version",
]


@dataclasses.dataclass(frozen=True)
class Version:
    """Which revision of a name a path means: ``revision`` (0 the original, -1 the newest)
    or ``version_id`` (the ``str`` of a file's ``_id``); neither: the newest."""

    revision: int | None = None
    version_id: str | None = None

    @property
    def newest(self) -> bool:
        """Whether this means the newest revision."""
        return self.version_id is None and self.revision in (None, -1)


def check_path(path: object) -> str:
    """The filename (or folder prefix, without its ``/``) a path names: ``""`` is the top.

    Leading and trailing ``/`` are dropped. TypeError for a non-str; ValueError for a NUL
    character, a ``.`` or ``..`` segment or an empty segment (``a//b``): such names cannot be
    meant, and ``..`` must never reach another folder's files.
    """
    if not isinstance(path, str):
        raise TypeError(f"a gridfs path must be a str, not {type(path).__name__}")
    if "\x00" in path:
        raise ValueError(f"gridfs path {path!r} contains a NUL character")
    name = path.strip(SEPARATOR)
    if not name:
        return ""
    for segment in name.split(SEPARATOR):
        if segment in ("", ".", ".."):
            shown = "an empty" if not segment else f"a {segment!r}"
            raise ValueError(
                f"gridfs path {path!r} has {shown} segment: give the file's name as it is "
                "stored, folders separated by single '/'"
            )
    return name


def split_version(path: str) -> tuple[str, Version]:
    """``name?revision=N`` / ``name?version_id=ID`` into the name and the version it
    names (ValueError for any other query, or both at once)."""
    name, mark, query = path.partition("?")
    if not mark:
        return name, Version()
    key, equals, value = query.partition("=")
    if not equals or not value or "&" in value:
        raise ValueError(f"gridfs path {path!r}: after '?' give one of revision=N or version_id=ID")
    if key == "revision":
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"gridfs path {path!r}: revision must be an int") from None
        return name, Version(revision=number)
    if key == "version_id":
        return name, Version(version_id=value)
    raise ValueError(f"gridfs path {path!r}: unknown option {key!r} (revision or version_id)")


def absolute_range(start: int | None, end: int | None, length: int) -> tuple[int, int]:
    """fsspec's ``start``/``end`` (None: the file's ends; negative: from the end) as a
    range ``[start, end)`` inside ``[0, length]`` (empty when ``end <= start``)."""
    first = 0 if start is None else whole_number(start, "start")
    last = length if end is None else whole_number(end, "end")
    if first < 0:
        first = max(0, length + first)
    if last < 0:
        last = max(0, length + last)
    first, last = min(first, length), min(last, length)
    return first, max(first, last)


def file_entry(name: str, info: FileInfo, revision: int | None = None) -> dict[str, Any]:
    """fsspec's description of one stored file (a revision of ``name``)."""
    entry: dict[str, Any] = {
        "name": name,
        "size": info.length,
        "type": "file",
        "created": info.upload_date,
        "mtime": info.upload_date,
        "version_id": str(info.file_id),
        "file_id": info.file_id,
        "chunk_size": info.chunk_size,
        "content_type": info.content_type,
        "sha256": info.sha256,
        "metadata": info.metadata,
    }
    if revision is not None:
        entry["revision"] = revision
    if info.expire_at is not None:
        entry["expire_at"] = info.expire_at
    return entry


def directory_entry(name: str) -> dict[str, Any]:
    """fsspec's description of a folder (a name prefix)."""
    return {"name": name, "size": 0, "type": "directory"}


def newest_per_name(infos: Iterable[FileInfo]) -> dict[str, FileInfo]:
    """The newest revision of each name among ``infos`` (upload date, then ``_id``)."""
    newest: dict[str, FileInfo] = {}
    for info in infos:
        if info.filename is None:
            continue
        held = newest.get(info.filename)
        if held is None or _later(info, held):
            newest[info.filename] = info
    return newest


def _later(one: FileInfo, other: FileInfo) -> bool:
    key_one = (one.upload_date is not None, one.upload_date or datetime.min)
    key_other = (other.upload_date is not None, other.upload_date or datetime.min)
    if key_one != key_other:
        return key_one > key_other
    try:
        return bool(one.file_id > other.file_id)
    except TypeError:  # ids of different types: either will do, keep the first seen
        return False


def listing(folder: str, files: dict[str, FileInfo]) -> list[dict[str, Any]]:
    """The entries directly inside ``folder`` (``""``: the top), from the newest revision
    of every name under it: its files and its subfolders, sorted by name."""
    prefix = folder + SEPARATOR if folder else ""
    entries: dict[str, dict[str, Any]] = {}
    for name, info in files.items():
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        head, separator, _ = rest.partition(SEPARATOR)
        if not head:
            continue  # "a//b" or the folder's own name: written by another tool
        if not separator:
            entries[name] = file_entry(name, info)
        elif prefix + head not in entries:  # a file and a folder of one name: the file
            entries[prefix + head] = directory_entry(prefix + head)
    return [entries[key] for key in sorted(entries)]
