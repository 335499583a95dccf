"""What an upload is asked to do, as one value checked once: names, ids, chunking, checksum,
guards, progress, and the extra top-level fields of the files document.

Every public upload method builds an ``UploadOptions`` from its keywords and hands it down
whole. A proxy's ``put(data, **kwargs)`` splits its keywords by ``OPTION_NAMES``, the one
list of what is an option: every other keyword is an extra field stored top-level, as
MongoEngine and PyMongo store them, so no option is ever stored as a field.
"""

from __future__ import annotations

import codecs
import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from .content_types import check_content_type
from .dedup import check_declared, check_scope
from .expiry import check_expiry
from .files_document import check_aliases, check_chunk_size, check_file_id, check_upload_date
from .guards import ProgressCallback, UploadLimits, check_progress_callback
from .numbers import whole_number

__all__ = [
    "ENCRYPTED_DEDUP_REFUSED",
    "OPTION_NAMES",
    "SPELLINGS",
    "UploadOptions",
    "split_keywords",
]

OPTION_NAMES = frozenset(
    {
        "filename",
        "content_type",
        "metadata",
        "file_id",
        "chunk_size",
        "checksum",
        "encoding",
        "aliases",
        "max_size",
        "content_types",
        "on_progress",
        "total",
        "expire_at",
        "expire_after",
        "dedup",
        "scope",
        "sha256",
        "length",
        "encrypt",
        "upload_date",
    }
)
"""The keywords of an upload that are options, not extra fields of the files document."""

SPELLINGS: Mapping[str, str] = MappingProxyType({"chunk_size_bytes": "chunk_size"})
"""Other libraries' names for an option (PyMongo's GridFSBucket says ``chunk_size_bytes``)."""


ENCRYPTED_DEDUP_REFUSED = (
    "an encrypted file is never deduplicated: matching it by its bytes would need their"
    " SHA-256 in clear in its files document; give dedup=False (or encrypt=False)"
)


def split_keywords(keywords: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(options, extra fields)`` of an upload's keywords, by ``OPTION_NAMES`` and
    ``SPELLINGS``; TypeError when one option comes under two names."""
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in keywords.items():
        name = SPELLINGS.get(key, key)
        if name not in OPTION_NAMES:
            extra[key] = value
        elif name in options:
            raise TypeError(f"{name} given twice (as {key!r} too)")
        else:
            options[name] = value
    return options, extra


@dataclasses.dataclass(frozen=True)
class UploadOptions:
    """Everything an upload is asked for; a bad value is a TypeError or ValueError when the
    value is made, before any I/O.

    ``chunk_size`` None means the store's (or field's) default. ``max_size`` and
    ``content_types`` tighten the store's guards (see ``UploadLimits``). ``on_progress(done,
    total)`` hears of bytes as the server takes them, ``total`` as given. ``extra`` holds the
    fields stored top-level in the files document; ``metadata`` is GridFS's subdocument.
    The BSON checks of ``metadata`` and ``extra`` need the database's codec options: the
    store makes them when the upload starts.

    ``expire_at`` (an aware datetime in the future) or ``expire_after`` (a positive
    timedelta, counted from the moment the file is stored) makes the file expire (see
    ``gridfield.core.expiry``). ``dedup`` (None: the store's choice) looks, when the upload
    closes, for a stored file with the same bytes in ``scope`` (a str; None: the store's
    ``dedup_scope``) and returns it instead. ``sha256`` and ``length`` declare the bytes
    beforehand: with ``dedup``, a file of the scope that matches is returned without reading
    the source, and bytes that turn out otherwise are refused.

    ``encrypt`` (None: the store's choice, which is to encrypt when it has an
    ``Encryption``) encrypts the file's chunks on the client (``gridfield.core.encryption``);
    an encrypted file is never deduplicated.

    ``upload_date`` (an aware datetime; None: the moment the file is stored) is the
    ``uploadDate`` of its files document: a copy keeps its source's. ``expire_after`` still
    counts from the moment the file is stored, so a file copied with an old date does not
    expire at once.
    """

    filename: str | None = None
    content_type: str | None = None
    metadata: Mapping[str, Any] | None = None
    file_id: Any = None
    chunk_size: int | None = None
    checksum: bool = True
    encoding: str = "utf-8"
    aliases: list[str] | None = None
    max_size: int | None = None
    content_types: tuple[str, ...] | None = None
    on_progress: ProgressCallback | None = None
    total: int | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    expire_at: datetime | None = None
    expire_after: timedelta | None = None
    dedup: bool | None = None
    scope: str | None = None
    sha256: str | None = None
    length: int | None = None
    encrypt: bool | None = None
    upload_date: datetime | None = None

    def __post_init__(self) -> None:
        if self.filename is not None and not isinstance(self.filename, str):
            raise TypeError(f"filename must be a str, not {type(self.filename).__name__}")
        check_content_type(self.content_type)  # one no HTTP header could carry is refused
        if self.metadata is not None and not isinstance(self.metadata, Mapping):
            raise TypeError(f"metadata must be a mapping, not {type(self.metadata).__name__}")
        check_file_id(self.file_id)
        if self.chunk_size is not None:
            check_chunk_size(self.chunk_size)
        if not isinstance(self.checksum, bool):
            raise TypeError(f"checksum must be True or False, not {self.checksum!r}")
        if not isinstance(self.encoding, str):
            raise TypeError(f"encoding must be a str, not {type(self.encoding).__name__}")
        codecs.lookup(self.encoding)  # LookupError now, not at the first str written
        object.__setattr__(self, "aliases", check_aliases(self.aliases))
        # UploadLimits checks both and makes content_types a tuple.
        limits = UploadLimits(self.max_size, self.content_types)
        object.__setattr__(self, "content_types", limits.content_types)
        check_progress_callback(self.on_progress)
        if self.total is not None and whole_number(self.total, "total") < 0:
            raise ValueError(f"total must not be negative, got {self.total}")
        if not isinstance(self.extra, Mapping):
            raise TypeError(f"extra must be a mapping, not {type(self.extra).__name__}")
        for key in self.extra:
            if not isinstance(key, str):
                raise TypeError(f"extra field names must be str, not {type(key).__name__}")
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))
        expiry = check_expiry(self.expire_at, self.expire_after)
        if isinstance(expiry, datetime):
            object.__setattr__(self, "expire_at", expiry)  # UTC, at BSON's milliseconds
        if self.dedup is not None and not isinstance(self.dedup, bool):
            raise TypeError(f"dedup must be True or False, not {self.dedup!r}")
        check_scope(self.scope)
        declared = check_declared(self.sha256, self.length)
        if declared is not None:
            object.__setattr__(self, "sha256", declared[0])
        if self.dedup and not self.checksum:
            raise ValueError("dedup=True needs checksum=True: files are matched by their SHA-256")
        if self.encrypt is not None and not isinstance(self.encrypt, bool):
            raise TypeError(f"encrypt must be True or False, not {self.encrypt!r}")
        if self.dedup and self.encrypt:
            raise ValueError(ENCRYPTED_DEDUP_REFUSED)
        object.__setattr__(self, "upload_date", check_upload_date(self.upload_date))
        if self.dedup and self.file_id is not None:
            raise ValueError(
                "dedup=True takes no file_id: the file returned may be one stored before, "
                "under its own id"
            )

    @property
    def expiry(self) -> datetime | timedelta | None:
        """The checked expiry: a moment, a duration from the upload's date, or None."""
        return self.expire_at if self.expire_at is not None else self.expire_after

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any]) -> UploadOptions:
        """The options of a ``put(data, **keywords)``: options by ``OPTION_NAMES`` (and their
        ``SPELLINGS``), every other keyword an extra top-level field."""
        options, extra = split_keywords(keywords)
        return cls(**options, extra=extra)

    def limits_over(self, base: UploadLimits) -> UploadLimits:
        """``base`` (a store's or field's guards) with these options' own taking over."""
        return base.merged(self.max_size, self.content_types)

    def but(self, **changes: Any) -> UploadOptions:
        """These options with ``changes`` (checked as any new value)."""
        return dataclasses.replace(self, **changes)

    def for_derived_file(self) -> UploadOptions:
        """For a file made from this upload's (an image's thumbnail): its chunking, checksum,
        encoding and expiry (it goes with its image); none of its names, ids, extra fields,
        guards, progress or deduplication."""
        return UploadOptions(
            chunk_size=self.chunk_size,
            checksum=self.checksum,
            encoding=self.encoding,
            expire_at=self.expire_at,
            expire_after=self.expire_after,
            encrypt=self.encrypt,
        )
