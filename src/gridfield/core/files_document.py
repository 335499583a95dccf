"""The files-collection document: FileInfo, which reads and writes it whoever wrote it, and
the checks of what a caller puts in it (ids, chunk size, aliases, metadata, extra fields,
its size)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import bson
from bson.codec_options import CodecOptions

from .errors import CorruptFile
from .numbers import is_whole_number, whole_number

__all__ = [
    "CHECKSUM_KEY",
    "DEFAULT_CHUNK_SIZE",
    "MAX_BSON_SIZE",
    "MAX_CHUNK_SIZE",
    "RESERVED_FIELDS",
    "DescribedFile",
    "FileInfo",
    "check_aliases",
    "check_chunk_size",
    "check_extra_fields",
    "check_file_id",
    "check_files_document",
    "check_metadata",
    "check_upload_date",
    "upload_date",
]

DEFAULT_CHUNK_SIZE = 255 * 1024
"""Chunk size of new files, as PyMongo's gridfs and the GridFS spec use."""

MAX_BSON_SIZE = 16 * 1024 * 1024
"""The largest document a MongoDB server accepts."""

MAX_CHUNK_SIZE = MAX_BSON_SIZE - 16 * 1024
"""The largest chunk payload that leaves room in its document for _id, files_id and n."""

# Top-level keys of a files document that FileInfo reads into named fields; every other
# top-level key is kept, untouched, in FileInfo.extra.
_KNOWN_KEYS = frozenset(
    {"_id", "length", "chunkSize", "uploadDate", "filename", "metadata", "contentType"}
    | {"aliases", "md5", "gridfield"}
)

CHECKSUM_KEY = "gridfield"
"""The top-level key of a files document that holds what gridfield itself records:
``{"sha256": "<64 lowercase hex digits>", "expireAt": <date>, "scope": "<str>",
"encryption": {...}}``, each part there only when it applies (``encryption``: see
``gridfield.core.encryption``). No user key (``metadata`` is the user's) is ever read as
ours; a value under this key of another shape is kept, untouched, and nothing (no checksum,
no expiry, no scope) is taken from it. Reserved: a caller cannot set it."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_OUR_PARTS = {
    "sha256": str,
    "expireAt": datetime,
    "scope": str,
    # "matched": when a deduplicating upload last took the file as its answer (core.dedup).
    "matched": datetime,
    "encryption": Mapping,
}


@dataclasses.dataclass(frozen=True)
class _Ours:
    sha256: str | None = None
    expire_at: datetime | None = None
    scope: str | None = None
    matched: datetime | None = None
    encryption: Mapping[str, Any] | None = None


def _ours(value: object) -> _Ours | None:
    """What is recorded under CHECKSUM_KEY, or None unless it is exactly our shape."""
    if not isinstance(value, Mapping) or not value or not set(value) <= set(_OUR_PARTS):
        return None
    for key, kind in _OUR_PARTS.items():
        if key in value and not isinstance(value[key], kind):
            return None
    digest = value.get("sha256")
    if digest is not None and not _SHA256_HEX.fullmatch(digest):
        return None
    return _Ours(
        digest,
        value.get("expireAt"),
        value.get("scope"),
        value.get("matched"),
        value.get("encryption"),
    )


# Top-level keys no put() keyword may set: GridFS's own fields, and ours.
RESERVED_FIELDS = _KNOWN_KEYS | {CHECKSUM_KEY}


def check_aliases(aliases: object) -> list[str] | None:
    """Return ``aliases`` as a list if it is a list or tuple of str (or None); else TypeError."""
    if aliases is None:
        return None
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple)):
        raise TypeError(f"aliases must be a list of str, not {type(aliases).__name__}")
    for i, alias in enumerate(aliases):
        if not isinstance(alias, str):
            raise TypeError(f"aliases[{i}] must be a str, not {type(alias).__name__}")
    return list(aliases)


def check_chunk_size(chunk_size: object) -> int:
    """Return ``chunk_size`` if it is a usable chunk size; TypeError or ValueError otherwise."""
    chunk_size = whole_number(chunk_size, "chunk_size")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}, got {chunk_size}")
    return chunk_size


def check_file_id(file_id: object) -> None:
    """Reject a file id that a server would read as a query operator (``{"$ne": None}``)."""
    if isinstance(file_id, Mapping):
        for key in file_id:
            if isinstance(key, str) and key.startswith("$"):
                raise TypeError(
                    f"file id {file_id!r} has the operator key {key!r}: an id must be a value"
                )


def _check_keys(value: object, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key!r}]"
            if not isinstance(key, str):
                raise ValueError(f"{where}: metadata keys must be str, not {type(key).__name__}")
            if key.startswith("$"):
                raise ValueError(f"{where}: metadata keys must not start with '$'")
            if "." in key:
                raise ValueError(f"{where}: metadata keys must not contain '.'")
            if "\x00" in key:
                raise ValueError(f"{where}: metadata keys must not contain a NUL character")
            _check_keys(item, where)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_keys(item, f"{path}[{i}]")


def _encodes(value: object, codec_options: CodecOptions[Any]) -> bool:
    try:
        bson.encode({"v": value}, codec_options=codec_options)
    except Exception:
        return False
    return True


def _find_unencodable(value: object, path: str, codec_options: CodecOptions[Any]) -> str:
    """Path of the innermost value that BSON cannot encode (``value`` itself fails)."""
    children: list[tuple[str, object]] = []
    if isinstance(value, Mapping):
        children = [(f"{path}.{k}", v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        children = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    for where, item in children:
        if not _encodes(item, codec_options):
            return _find_unencodable(item, where, codec_options)
    return path


def check_metadata(
    metadata: object, codec_options: CodecOptions[Any] | None = None
) -> dict[str, Any]:
    """Return user metadata as a dict once it is storable; ValueError naming the bad key otherwise.

    Storable means: a mapping with str keys that neither start with ``$`` nor contain ``.``
    (checked in nested documents and lists too), every value BSON-encodable.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping, not {type(metadata).__name__}")
    _check_keys(metadata, "metadata")
    options = codec_options if codec_options is not None else CodecOptions()
    result = dict(metadata)
    if not _encodes(result, options):
        where = _find_unencodable(result, "metadata", options)
        raise ValueError(f"{where}: value cannot be stored as BSON")
    return result


def check_extra_fields(
    extra: Mapping[str, Any] | None, codec_options: CodecOptions[Any] | None = None
) -> dict[str, Any]:
    """Return the extra top-level fields of a files document (``put(author="...")``, as
    MongoEngine and PyMongo's legacy API store them) once storable; ValueError otherwise.

    A key may not be one of GridFS's own fields (``length``, ``metadata``...) nor
    ``gridfield`` (ours); the rules of :func:`check_metadata` apply to the rest.
    """
    if not extra:
        return {}
    if "session" in extra:
        # PyMongo's gridfs takes session= (and MongoEngine passes it on); here it would
        # become a field of the files document, or the writes would join its transaction.
        raise TypeError(
            "put() takes no session=: gridfield's file writes run on their own sessions, never "
            "in a transaction (GridFS does not support transactions); write the file outside "
            "the transaction and store its id in it"
        )
    for key in extra:
        if key in RESERVED_FIELDS:
            raise ValueError(
                f"put() keyword {key!r} names a field GridFS or gridfield keeps for itself: "
                "pass it under another name, or inside metadata={...}"
            )
    _check_keys(extra, "put() keyword")
    options = codec_options if codec_options is not None else CodecOptions()
    result = dict(extra)
    if not _encodes(result, options):
        where = _find_unencodable(result, "put() keyword", options)
        raise ValueError(f"{where}: value cannot be stored as BSON")
    return result


def check_files_document(
    *,
    file_id: Any,
    chunk_size: int,
    filename: str | None,
    metadata: Mapping[str, Any],
    content_type: str | None,
    codec_options: CodecOptions[Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    aliases: list[str] | None = None,
    scope: str | None = None,
) -> None:
    """ValueError unless the files document of such an upload stays within the BSON size limit.

    Checked before anything is written, with the largest values the upload can still add
    (length, date, a guessed content type, a checksum, an expiry).
    """
    worst = FileInfo.for_upload(
        file_id=file_id,
        length=2**62,
        chunk_size=chunk_size,
        upload_date=datetime.now(timezone.utc),
        filename=filename,
        metadata=metadata,
        content_type=content_type if content_type is not None else "x" * 127,
        sha256="0" * 64,
        extra=extra,
        aliases=aliases,
        expire_at=datetime.now(timezone.utc),
        scope=scope,
    ).to_document()
    options = codec_options if codec_options is not None else CodecOptions()
    try:
        size = len(bson.encode(worst, codec_options=options))
    except Exception as exc:
        raise ValueError(f"files document of file {file_id!r} cannot be stored: {exc}") from exc
    if size > MAX_BSON_SIZE:
        raise ValueError(
            f"metadata: the files document would be {size} bytes, over the server's limit"
            f" of {MAX_BSON_SIZE} bytes"
        )


def check_upload_date(value: object) -> datetime | None:
    """An upload date a caller gives (a copy keeping its source's), checked: an aware
    datetime, returned in UTC at BSON's millisecond precision; None stays None (the moment
    the file is stored). TypeError for another type; ValueError for a naive datetime (which
    time zone it meant cannot be known)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"upload_date must be a datetime.datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"upload_date {value.isoformat()} has no time zone: give an aware datetime"
            " (a BSON date read back naive is UTC: .replace(tzinfo=timezone.utc))"
        )
    moment = value.astimezone(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def upload_date(
    codec_options: CodecOptions[Any] | None = None, moment: datetime | None = None
) -> datetime:
    """``moment`` (an aware datetime; None: now), at BSON's millisecond precision, as a
    database with these options reads it back."""
    now = datetime.now(timezone.utc) if moment is None else moment.astimezone(timezone.utc)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    if codec_options is None or not codec_options.tz_aware:
        return now.replace(tzinfo=None)
    return now.astimezone(codec_options.tzinfo or timezone.utc)


def _count(doc: Mapping[str, Any], key: str, file_id: Any) -> int:
    value = doc.get(key)
    # Older writers stored sizes as doubles (and Int64 is an int subclass).
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not is_whole_number(value):
        raise CorruptFile(f"file {file_id!r}: files document has no valid {key!r}: {value!r}")
    return value


def _odd(key: str, value: Any) -> bool:
    """A legacy field whose value FileInfo cannot hold: kept in ``extra`` as it is."""
    if key in ("contentType", "md5"):
        return not isinstance(value, str)
    if key == "aliases":
        return not isinstance(value, (list, tuple))
    if key == CHECKSUM_KEY:
        return _ours(value) is None
    return False


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """What the files document says about one stored file."""

    file_id: Any
    length: int
    chunk_size: int
    upload_date: datetime | None = None
    filename: str | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    content_type: str | None = None
    aliases: list[str] | None = None
    md5: str | None = None
    sha256: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    expire_at: datetime | None = None
    """When the file expires (reads refuse it from then on); None: never."""
    scope: str | None = None
    """The deduplication scope the file was stored in, if any."""
    encryption: Mapping[str, Any] | None = None
    """How the file's chunks are encrypted (``gridfield.core.encryption``); None: they are
    not."""
    matched: datetime | None = dataclasses.field(default=None, compare=False, repr=False)
    """When a deduplicating upload last took this file as its answer (``core.dedup``)."""
    top_content_type: str | None = dataclasses.field(default=None, compare=False, repr=False)
    """The top-level ``contentType`` as stored (where MongoEngine and PyMongo's GridOut read
    it), kept apart so a document is written back as it was read."""

    @property
    def encrypted(self) -> bool:
        """Whether the file's chunks are encrypted on the client."""
        return self.encryption is not None

    @property
    def chunk_count(self) -> int:
        """How many chunks hold the file's bytes (0 for an empty file)."""
        return math.ceil(self.length / self.chunk_size) if self.length else 0

    @classmethod
    def for_upload(
        cls,
        *,
        file_id: Any,
        length: int,
        chunk_size: int,
        upload_date: datetime | None,
        filename: str | None,
        metadata: Mapping[str, Any],
        content_type: str | None,
        sha256: str | None = None,
        guessed_content_type: str | None = None,
        aliases: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
        expire_at: datetime | None = None,
        scope: str | None = None,
        encryption: Mapping[str, Any] | None = None,
    ) -> FileInfo:
        """The FileInfo of a file being written: the content type goes in its metadata, the
        checksum under CHECKSUM_KEY, ``extra`` fields top-level.

        A ``content_type`` the caller gave also goes top-level (where MongoEngine and PyMongo's
        GridOut read it); a guessed one only in ``metadata.contentType``, as mongofiles stores
        it, since the GridFS spec writes no top-level ``contentType`` unless one was given.
        """
        stored = dict(metadata)
        kind = content_type if content_type is not None else guessed_content_type
        if kind is not None:
            stored["contentType"] = kind
        return cls(
            file_id=file_id,
            length=length,
            chunk_size=chunk_size,
            upload_date=upload_date,
            filename=filename,
            metadata=stored,
            content_type=kind,
            aliases=None if aliases is None else list(aliases),
            sha256=sha256,
            extra=dict(extra or {}),
            top_content_type=content_type,
            expire_at=expire_at,
            scope=scope,
            encryption=encryption,
        )

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> FileInfo:
        """Read a files document, whoever wrote it; CorruptFile if its sizes make no sense."""
        file_id = doc.get("_id")
        length = _count(doc, "length", file_id)
        chunk_size = _count(doc, "chunkSize", file_id)
        if length < 0:
            raise CorruptFile(f"file {file_id!r}: negative length {length}")
        if chunk_size <= 0:
            raise CorruptFile(f"file {file_id!r}: chunkSize {chunk_size} is not positive")
        raw_metadata = doc.get("metadata")
        metadata = dict(raw_metadata) if isinstance(raw_metadata, Mapping) else {}
        top = doc.get("contentType")
        content_type = metadata.get("contentType")
        if not isinstance(content_type, str):
            content_type = top if isinstance(top, str) else None
        ours = _ours(doc.get(CHECKSUM_KEY)) or _Ours()
        aliases = doc.get("aliases")
        md5 = doc.get("md5")
        return cls(
            file_id=file_id,
            length=length,
            chunk_size=chunk_size,
            upload_date=doc.get("uploadDate"),
            filename=doc.get("filename"),
            metadata=metadata,
            content_type=content_type,
            aliases=list(aliases) if isinstance(aliases, (list, tuple)) else None,
            md5=md5 if isinstance(md5, str) else None,
            sha256=ours.sha256,
            extra={k: v for k, v in doc.items() if k not in _KNOWN_KEYS or _odd(k, v)},
            top_content_type=top if isinstance(top, str) else None,
            expire_at=ours.expire_at,
            scope=ours.scope,
            matched=ours.matched,
            encryption=ours.encryption,
        )

    @staticmethod
    def expiry_of(doc: Mapping[str, Any]) -> datetime | None:
        """The expiry recorded in a files document (or in a projection of its ``gridfield``
        key), if it is one of ours."""
        ours = _ours(doc.get(CHECKSUM_KEY))
        return ours.expire_at if ours is not None else None

    def to_document(self) -> dict[str, Any]:
        """The files document for this file, in the standard GridFS layout.

        Fields that are None (or empty metadata) are left out, as other GridFS writers do.
        The top-level ``contentType`` is written as it was read (a new upload has it there
        and in ``metadata``); a content type found in neither place goes top-level.
        Unknown keys from ``extra`` come back unchanged.
        """
        doc: dict[str, Any] = {
            "_id": self.file_id,
            "length": self.length,
            "chunkSize": self.chunk_size,
        }
        if self.upload_date is not None:
            doc["uploadDate"] = self.upload_date
        if self.filename is not None:
            doc["filename"] = self.filename
        metadata = dict(self.metadata)
        if metadata:
            doc["metadata"] = metadata
        if self.top_content_type is not None:
            doc["contentType"] = self.top_content_type
        elif self.content_type is not None and metadata.get("contentType") != self.content_type:
            doc["contentType"] = self.content_type
        if self.aliases is not None:
            doc["aliases"] = list(self.aliases)
        if self.md5 is not None:
            doc["md5"] = self.md5
        ours = {
            key: value
            for key, value in (
                ("sha256", self.sha256),
                ("expireAt", self.expire_at),
                ("scope", self.scope),
                ("encryption", self.encryption),
            )
            if value is not None
        }
        if ours:
            doc[CHECKSUM_KEY] = ours
        doc.update(self.extra)
        return doc


class DescribedFile:
    """Attributes of a stored file read from its :class:`FileInfo`, for the classes that hold one.

    A subclass provides ``_file_info()``, which may raise while it has none yet.
    """

    def _file_info(self) -> FileInfo:
        raise NotImplementedError

    @property
    def filename(self) -> str | None:
        """The stored filename, if any."""
        return self._file_info().filename

    @property
    def content_type(self) -> str | None:
        """The stored content type, if any."""
        return self._file_info().content_type

    @property
    def length(self) -> int:
        """The file's size in bytes."""
        return self._file_info().length

    @property
    def upload_date(self) -> datetime | None:
        """When the file was stored."""
        return self._file_info().upload_date

    @property
    def md5(self) -> str | None:
        """The MD5 an older writer left, if any."""
        return self._file_info().md5
