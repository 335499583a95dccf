"""What a copy between GridFS buckets, directories and fsspec URLs does, decided without I/O:
the files it sees, the names they take at the destination, which names a path cannot hold,
the id a copied file gets, what to do with a file already there, and the sidecar manifest."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from bson import ObjectId, json_util
from bson.json_util import JSONMode, JSONOptions

__all__ = [
    "COPY_WORKERS",
    "MANIFEST_DIR",
    "MANIFEST_VERSION",
    "Action",
    "CopyOptions",
    "CopyRefused",
    "CopyReport",
    "Outcome",
    "SourceFile",
    "as_utc",
    "copied_file_id",
    "decide",
    "destination_names",
    "dump_manifest",
    "from_timestamp",
    "in_order_dates",
    "manifest_path",
    "manifest_record",
    "path_name_problem",
    "read_manifest",
    "revision_path",
    "timestamp",
]

COPY_WORKERS = 4
"""Names copied at once by default: enough to keep a server and a disk busy. Each worker
streams one file through the store's streams (one batch of chunks at a time: at most 8 MiB
going in, 16 MiB coming out) and one read block of a local file (1 MiB), so memory is bound
by the number of workers, never by the size of the files."""

MANIFEST_DIR = ".gridfield"
"""The folder at the root of a directory or fsspec destination holding what a path cannot:
``files/<name>.json`` (one manifest per name) and ``revisions/<n>/<name>`` (the bytes of
the revisions older than the newest, when every revision is copied). A copy never lists
it as a source file."""

MANIFEST_VERSION = 1

_MAX_SEGMENT_BYTES = 255  # NAME_MAX on Linux, macOS and Windows file systems
_MAX_PATH_BYTES = 4000  # under PATH_MAX (4096) with room for the destination's root
_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True, tzinfo=timezone.utc)


class CopyRefused(ValueError):
    """A copy that cannot be made as asked, refused before any file is copied (names a path
    cannot hold, two files that would take one name, a destination that cannot be
    reached); the message names every file at fault."""


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One revision of one file of a copy's source, as every kind of endpoint describes it.

    ``name`` is relative to the source's root (its prefix taken off); ``revision`` counts
    from 0, the oldest of ``revisions``. ``sha256`` is the checksum the source keeps (None:
    computed while the bytes stream). ``handle`` is what the source needs to read it again
    (a file id, a path).
    """

    name: str
    revision: int
    revisions: int
    length: int
    sha256: str | None
    content_type: str | None
    upload_date: datetime | None
    metadata: Mapping[str, Any]
    key: str
    handle: Any = dataclasses.field(compare=False, repr=False)
    aliases: Sequence[str] | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def newest(self) -> bool:
        """Whether this is the newest revision of its name."""
        return self.revision == self.revisions - 1


class Action(enum.Enum):
    """What a copy does with one source file."""

    COPY = "copy"
    """Not at the destination yet: copied."""
    SKIP = "skip"
    """The destination holds the same bytes under this name already."""
    CONFLICT = "conflict"
    """The destination holds other bytes under this name: left, and reported."""
    OVERWRITE = "overwrite"
    """Other bytes under this name, and ``overwrite`` was asked: replaced once copied."""


@dataclasses.dataclass
class Outcome:
    """What happened to one source file (or what would, in a dry run)."""

    source: SourceFile
    destination: str
    action: Action
    verified: bool = False
    deleted_source: bool = False
    error: str | None = None


def path_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a relative path under a destination folder, or None.

    Refused: an empty name or segment (``a//b``, a trailing ``/``), ``.`` and ``..``
    segments, a NUL character, a backslash (a separator on Windows), a segment over 255
    bytes or a name over 4000 bytes (UTF-8), and names inside ``.gridfield/``.
    """
    if not name:
        return "an empty name"
    if "\x00" in name:
        return "a NUL character"
    if "\\" in name:
        return "a backslash"
    segments = name.split("/")
    if any(segment == "" for segment in segments):
        return "an empty folder name ('//', or a '/' at the end)"
    if any(segment in (".", "..") for segment in segments):
        return "a '.' or '..' folder"
    if segments[0] == MANIFEST_DIR:
        return f"a name inside {MANIFEST_DIR}/, where the copy keeps its manifest"
    try:
        encoded = [segment.encode("utf-8") for segment in segments]
    except UnicodeEncodeError:
        return "characters that are not UTF-8"
    if any(len(segment) > _MAX_SEGMENT_BYTES for segment in encoded):
        return f"a folder or file name over {_MAX_SEGMENT_BYTES} bytes"
    if len(name.encode("utf-8")) > _MAX_PATH_BYTES:
        return f"a name over {_MAX_PATH_BYTES} bytes"
    return None


def destination_names(
    files: Iterable[SourceFile], prefix: str, *, paths: bool
) -> dict[str, list[SourceFile]]:
    """The source files by the name each takes at the destination (``prefix`` + its name),
    oldest revision first; CopyRefused, naming every file at fault, when a name cannot be
    a path (``paths``: a directory or fsspec destination) or when two source files would
    take one name. A path destination takes names without their leading ``/`` and cannot
    hold both a file ``a`` and a file ``a/b``."""
    named: dict[str, list[SourceFile]] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    for file in files:
        name = prefix + file.name
        if paths:
            name = name.lstrip("/")
            why = path_name_problem(name)
            if why is not None:
                problems.append(f"{file.name!r} cannot be a path: it has {why}")
                continue
        if name in origin and origin[name] != file.name:
            problems.append(f"{origin[name]!r} and {file.name!r} would both be copied to {name!r}")
            continue
        origin[name] = file.name
        named.setdefault(name, []).append(file)
    if paths:
        for name in named:
            parts = name.split("/")
            for end in range(1, len(parts)):
                folder = "/".join(parts[:end])
                if folder in named:
                    problems.append(
                        f"{origin[folder]!r} and {origin[name]!r}: {folder!r} would be both "
                        "a file and a folder"
                    )
    if problems:
        listed = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise CopyRefused(f"nothing copied: {listed}{more}")
    for revisions in named.values():
        revisions.sort(key=lambda file: file.revision)
    return named


def decide(
    wanted: Sequence[str | None], present: Sequence[str | None], *, overwrite: bool
) -> tuple[Action, int]:
    """What to do with a name whose source revisions have the checksums ``wanted`` (oldest
    first) when the destination holds ``present`` under it; and how many of ``wanted`` are
    there already (their copies are kept and only the rest are copied).

    The destination holding exactly the first revisions of the source is a copy under way
    (or done): SKIP when it holds them all, COPY of the rest otherwise. Anything else is
    other bytes: CONFLICT, or OVERWRITE (all are copied again) when asked.
    """
    if not present:
        return Action.COPY, 0
    if len(present) <= len(wanted) and all(
        have is not None and have == want
        for have, want in zip(present, wanted[: len(present)], strict=True)
    ):
        if len(present) == len(wanted):
            return Action.SKIP, len(present)
        return Action.COPY, len(present)
    return (Action.OVERWRITE if overwrite else Action.CONFLICT), 0


def copied_file_id(source_key: str, destination: str, name: str, revision: int) -> ObjectId:
    """The id the copy of one source file gets in a bucket: the same on every run of the
    same copy, so a run that resumes after a kill meets the chunks the killed one left
    under it (and removes them) instead of leaving them behind. The first four bytes (an
    ObjectId's time) come from the digest too: nothing reads a copy's age from its id."""
    digest = hashlib.sha256(
        "\x00".join((source_key, destination, name, str(revision))).encode("utf-8", "replace")
    ).digest()
    return ObjectId(digest[:12])


def manifest_path(name: str) -> str:
    """Where the manifest of the file ``name`` lives, relative to a destination's root."""
    return f"{MANIFEST_DIR}/files/{name}.json"


def revision_path(name: str, revision: int, revisions: int) -> str:
    """Where the bytes of one revision go in a directory: the newest at ``name``, older ones
    under ``.gridfield/revisions/<revision>/``."""
    if revision == revisions - 1:
        return name
    return f"{MANIFEST_DIR}/revisions/{revision}/{name}"


def manifest_record(file: SourceFile, *, path: str, sha256: str) -> dict[str, Any]:
    """The manifest's entry for one copied revision (see ``read_manifest``)."""
    record: dict[str, Any] = {
        "revision": file.revision,
        "path": path,
        "length": file.length,
        "sha256": sha256,
        "contentType": file.content_type,
        "uploadDate": file.upload_date,
        "metadata": dict(file.metadata),
    }
    if file.aliases is not None:
        record["aliases"] = list(file.aliases)
    if file.extra:
        record["extra"] = dict(file.extra)
    return record


def dump_manifest(name: str, records: Sequence[Mapping[str, Any]]) -> bytes:
    """The manifest of ``name``: a JSON object (MongoDB's relaxed Extended JSON, so dates,
    ids and other BSON values in metadata come back as they were)."""
    document = {"version": MANIFEST_VERSION, "name": name, "revisions": list(records)}
    return json_util.dumps(document, json_options=_JSON, indent=1).encode("utf-8")


def read_manifest(data: bytes, where: str) -> tuple[str, list[dict[str, Any]]]:
    """The name and revision records of a manifest written by ``dump_manifest``; ValueError
    naming ``where`` when it is not one."""
    try:
        document = json_util.loads(data.decode("utf-8"), json_options=_JSON)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: not a copy manifest ({exc})") from exc
    if (
        not isinstance(document, dict)
        or document.get("version") != MANIFEST_VERSION
        or not isinstance(document.get("name"), str)
        or not isinstance(document.get("revisions"), list)
    ):
        raise ValueError(f"{where}: not a copy manifest of version {MANIFEST_VERSION}")
    records = document["revisions"]
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            raise ValueError(f"{where}: a revision without a path")
    return document["name"], records


def timestamp(moment: datetime | None) -> float | None:
    """Seconds since the epoch of an aware or UTC-naive datetime (a file's mtime)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime (a naive one, as PyMongo reads BSON dates by
    default, is UTC); None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def in_order_dates(dates: Sequence[datetime | None]) -> list[datetime | None]:
    """The upload dates to store for the copies of one name's revisions, oldest first: each
    source date (UTC, at BSON's milliseconds), but one not later than the date before it
    goes 1 ms after that one. A bucket orders revisions by ``uploadDate``, then ``_id``; two
    revisions stored in one millisecond keep their order by their ids, which their copies
    do not share, so without this their copies could swap. None (no date known: the moment
    of storing) stays None and is passed over."""
    out: list[datetime | None] = []
    last: datetime | None = None
    for date in dates:
        moment = as_utc(date)
        if moment is not None:
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
            if last is not None and moment <= last:
                moment = last + timedelta(milliseconds=1)
            last = moment
        out.append(moment)
    return out


def from_timestamp(seconds: float) -> datetime:
    """An mtime as an aware UTC datetime, at BSON's millisecond precision."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclasses.dataclass(frozen=True)
class CopyOptions:
    """What a copy is asked to do, checked when made.

    ``all_revisions``: every revision of each name, oldest first (else the newest only).
    ``overwrite``: replace a destination file holding other bytes (else it is left and
    reported). ``delete_source``: delete each source file once its copy is verified (or
    found identical). ``dry_run``: decide and report, write and delete nothing.
    ``workers``: names copied at once (each streams one chunk at a time).
    """

    all_revisions: bool = False
    overwrite: bool = False
    delete_source: bool = False
    dry_run: bool = False
    workers: int = COPY_WORKERS

    def __post_init__(self) -> None:
        for name in ("all_revisions", "overwrite", "delete_source", "dry_run"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, not {getattr(self, name)!r}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int):
            raise TypeError(f"workers must be an int, not {type(self.workers).__name__}")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be between 1 and 64, not {self.workers}")


@dataclasses.dataclass
class CopyReport:
    """What a copy did, file by file (or would do, in a dry run)."""

    source: str
    destination: str
    dry_run: bool = False
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)

    def count(self, action: Action) -> int:
        """How many source files got ``action`` (failed ones included)."""
        return sum(1 for outcome in self.outcomes if outcome.action is action)

    @property
    def failed(self) -> list[Outcome]:
        """The files whose copy, check or deletion failed."""
        return [outcome for outcome in self.outcomes if outcome.error is not None]

    @property
    def conflicts(self) -> list[Outcome]:
        """The files left because the destination holds other bytes under their name."""
        return [o for o in self.outcomes if o.action is Action.CONFLICT]

    @property
    def ok(self) -> bool:
        """Whether every file is at the destination, verified (nothing failed or left)."""
        return not self.failed and not self.conflicts

    @property
    def bytes_copied(self) -> int:
        """Bytes of the files copied (not of those skipped)."""
        return sum(
            o.source.length
            for o in self.outcomes
            if o.action in (Action.COPY, Action.OVERWRITE) and o.error is None
        )

    def summary(self) -> str:
        """One line: what was (or would be) done."""
        verb = "would copy" if self.dry_run else "copied"
        parts = [
            f"{verb} {self.count(Action.COPY) + self.count(Action.OVERWRITE)}",
            f"skipped {self.count(Action.SKIP)} identical",
        ]
        if self.count(Action.OVERWRITE):
            parts.append(f"{self.count(Action.OVERWRITE)} of them replacing other bytes")
        if self.conflicts:
            parts.append(f"left {len(self.conflicts)} with other bytes at the destination")
        deleted = sum(1 for o in self.outcomes if o.deleted_source)
        if deleted:
            parts.append(f"deleted {deleted} from the source")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return f"{self.source} -> {self.destination}: " + ", ".join(parts)
