"""What a bucket check finds: orphan chunks, damaged files, files no document references.

Pure bookkeeping for the check and sweep of a file store: the grace period that keeps an
upload in flight out of reach, the key under which any BSON id can be counted, the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Set
from datetime import datetime, timedelta, timezone
from typing import Any

import bson
from bson import ObjectId

from .images import child_ids

__all__ = [
    "DEFAULT_GRACE",
    "BucketReport",
    "ChildFiles",
    "DamagedFile",
    "ExpiredFile",
    "OrphanChunks",
    "OrphanTracker",
    "UnreferencedFile",
    "as_utc",
    "check_grace",
    "id_key",
    "older_than",
]

DEFAULT_GRACE = timedelta(hours=1)
"""How old orphan chunks and unreferenced files must be before a check reports them: an
upload in flight (its chunks are in, its files document not yet) or a file stored but not
yet saved on its document is never touched."""


def check_grace(grace: object) -> timedelta:
    """Return ``grace`` if it is a non-negative timedelta; TypeError or ValueError otherwise."""
    if not isinstance(grace, timedelta):
        raise TypeError(f"grace must be a timedelta, not {type(grace).__name__}")
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")
    return grace


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is read as UTC, as BSON dates are)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def older_than(moment: datetime | None, now: datetime, grace: timedelta) -> bool:
    """Whether ``moment`` lies more than ``grace`` before ``now``; an unknown time never does."""
    if moment is None:
        return False
    return as_utc(now) - as_utc(moment) > grace


def id_key(value: Any) -> Any:
    """A hashable key equal for equal BSON ids: the id itself when hashable, else its BSON.

    GridFS ids may be documents or arrays, which Python cannot put in a set.
    """
    try:
        hash(value)
    except TypeError:
        return ("bson", bson.encode({"v": value}))
    if isinstance(value, bool):  # True == 1 to Python, not to the server
        return ("bool", value)
    if isinstance(value, (int, float)):  # the server matches 1, 1.0 and Int64(1) alike
        return ("number", value)
    return (type(value).__name__, value)


@dataclasses.dataclass(frozen=True)
class OrphanChunks:
    """Chunks whose files document is missing, all with the same ``files_id``."""

    files_id: Any
    chunks: int
    newest: datetime | None
    """When the newest of them was made (from its ObjectId), if known."""


@dataclasses.dataclass(frozen=True)
class DamagedFile:
    """A file whose chunks are missing, short, extra or duplicated (or whose files
    document cannot be read)."""

    file_id: Any
    filename: str | None
    problem: str


@dataclasses.dataclass(frozen=True)
class ExpiredFile:
    """A file past its expiry whose files document is still there (no TTL index, or its
    monitor has not run yet)."""

    file_id: Any
    filename: str | None
    expire_at: datetime


@dataclasses.dataclass(frozen=True)
class UnreferencedFile:
    """A file no scanned document holds."""

    file_id: Any
    filename: str | None
    length: int | None
    upload_date: datetime | None


class OrphanTracker:
    """Counts chunks per ``files_id`` as a walk meets them; memory grows with the number of
    distinct orphan ids only."""

    def __init__(self) -> None:
        self._groups: dict[Any, list[Any]] = {}  # key -> [files_id, count, newest]

    def add(self, chunk: Mapping[str, Any]) -> None:
        """Count one chunk document (``_id`` and ``files_id`` are all it needs)."""
        files_id = chunk.get("files_id")
        made = chunk["_id"].generation_time if isinstance(chunk.get("_id"), ObjectId) else None
        group = self._groups.setdefault(id_key(files_id), [files_id, 0, None])
        group[1] += 1
        if made is not None and (group[2] is None or made > group[2]):
            group[2] = made

    def __len__(self) -> int:
        return len(self._groups)

    def split(
        self, now: datetime, grace: timedelta, open_uploads: Set[Any] = frozenset()
    ) -> tuple[list[OrphanChunks], int]:
        """The groups older than ``grace`` (orphans), and how many groups are younger or
        belong to an open upload (``open_uploads``: keys of their files ids), or are of
        unknown age: in flight, never reported, never swept."""
        orphans: list[OrphanChunks] = []
        young = 0
        for key, (files_id, count, newest) in self._groups.items():
            if key not in open_uploads and older_than(newest, now, grace):
                orphans.append(OrphanChunks(files_id, count, newest))
            else:
                young += 1
        return orphans, young


class ChildFiles:
    """The files an image's files document names as its own (``thumbnail_id``, the
    ``variants`` map), so the check keeps them with their image.

    No document holds a thumbnail or a variant: only the image's files document names it.
    Memory grows with the files that name children, not with the bucket.
    """

    def __init__(self) -> None:
        self._parents: dict[Any, list[Any]] = {}  # child key -> keys of the files naming it

    def note(self, doc: Mapping[str, Any]) -> None:
        """Record the children ``doc`` (a files document) names, if any."""
        parent = id_key(doc.get("_id"))
        for child in child_ids(doc).values():
            self._parents.setdefault(id_key(child), []).append(parent)

    def __len__(self) -> int:
        return len(self._parents)

    def ancestors(self, child: Any) -> set[Any]:
        """The keys of the files that name ``child`` (a key), directly or through others."""
        found: set[Any] = set()
        todo = [child]
        while todo:
            for parent in self._parents.get(todo.pop(), ()):
                if parent not in found and parent != child:
                    found.add(parent)
                    todo.append(parent)
        return found

    def resolve(self, candidates: list[UnreferencedFile]) -> list[UnreferencedFile]:
        """The ``candidates`` that stay unreferenced: a child whose parent stays (held by a
        document, or too young to report) stays too; a child of a reported parent, or of
        none found, is reported with it."""
        reported = {id_key(u.file_id) for u in candidates}
        # Every parent was met as a files document, so one not reported stays; repeat, as
        # a kept child may be another file's parent.
        changed = True
        while changed:
            changed = False
            for child, parents in self._parents.items():
                if child in reported and any(p not in reported for p in parents):
                    reported.discard(child)
                    changed = True
        return [u for u in candidates if id_key(u.file_id) in reported]


@dataclasses.dataclass
class BucketReport:
    """What ``check()`` found in one bucket, and what ``sweep()`` removed.

    (a) ``orphan_chunks``: chunks with no files document, older than the grace period;
    (b) ``damaged_files``: files whose chunks are missing, short, extra or duplicated;
    (c) ``unreferenced_files``: files older than the grace period that no scanned document
    holds (only when document classes were given: ``documents_scanned``).
    """

    bucket: str
    grace: timedelta
    files_checked: int = 0
    chunks_checked: int = 0
    orphan_chunks: list[OrphanChunks] = dataclasses.field(default_factory=list)
    damaged_files: list[DamagedFile] = dataclasses.field(default_factory=list)
    unreferenced_files: list[UnreferencedFile] = dataclasses.field(default_factory=list)
    expired_files: list[ExpiredFile] = dataclasses.field(default_factory=list)
    """(d) files past their expiry, still stored: a sweep removes them, files document first
    (never listed as unreferenced too)."""
    in_flight: int = 0
    """Ids with chunks but no files document, younger than the grace period or of a
    registered open upload (left alone: "younger" in the summary)."""
    open_uploads: int = 0
    """Uploads in the registry of open uploads with a lease still running."""
    documents_scanned: list[str] | None = None
    """The document classes and raw holders (``collection:path``) whose references were
    collected; None: references not checked."""
    documents_unscanned: list[str] = dataclasses.field(default_factory=list)
    """Registered classes left out because their alias is not connected."""
    references_found: int = 0
    removed_files: int = 0
    removed_chunks: int = 0
    removed_resumable: int = 0
    """Resumable (tus) uploads past their expiry whose entries (and chunks) a sweep removed."""
    removed_holds: int = 0
    """Holds on files that are gone (left by a save or sweep that died) a sweep removed."""
    removed_claims: int = 0
    """Deduplication claims naming files that are gone (``core.dedup``) a sweep removed."""

    @property
    def clean(self) -> bool:
        """Nothing to report: no orphan chunks, no damaged or unreferenced files (expired
        files are a file's normal end, not a fault: they do not count)."""
        return not (self.orphan_chunks or self.damaged_files or self.unreferenced_files)

    def summary(self) -> str:
        """A few lines a person can read."""
        lines = [
            f"bucket {self.bucket}: {self.files_checked} files, {self.chunks_checked} chunks"
            f" checked (grace {self.grace})",
            f"  orphan chunks: {sum(o.chunks for o in self.orphan_chunks)} chunks of"
            f" {len(self.orphan_chunks)} missing files ({self.in_flight} younger, left alone)",
            f"  damaged files: {len(self.damaged_files)}",
            f"  expired files: {len(self.expired_files)}",
        ]
        if self.open_uploads:
            lines.insert(2, f"  open uploads: {self.open_uploads} registered (left alone)")
        if self.documents_scanned is None:
            lines.append("  unreferenced files: not checked (no document classes given)")
        else:
            scanned = ", ".join(self.documents_scanned) or "none"
            lines.append(
                f"  unreferenced files: {len(self.unreferenced_files)}"
                f" ({self.references_found} references found in {scanned})"
            )
            if self.documents_unscanned:
                unscanned = ", ".join(self.documents_unscanned)
                lines.append(f"  not scanned (alias not connected): {unscanned}")
        if self.removed_files or self.removed_chunks:
            lines.append(f"  removed: {self.removed_files} files, {self.removed_chunks} chunks")
        if self.removed_resumable:
            lines.append(f"  removed: {self.removed_resumable} expired resumable uploads")
        if self.removed_holds:
            lines.append(f"  removed: {self.removed_holds} holds on files that are gone")
        if self.removed_claims:
            lines.append(
                f"  removed: {self.removed_claims} deduplication claims on files that are gone"
            )
        for damaged in self.damaged_files:
            lines.append(f"  damaged {damaged.file_id!r} ({damaged.filename!r}): {damaged.problem}")
        return "\n".join(lines)
