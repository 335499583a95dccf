"""One resumable upload's state and the transitions between its stages, sans I/O.

An upload's bytes live in the standard chunks of its future file: whole chunks ``0`` to
``offset // chunk_size - 1`` on the server, and the partial last one (``tail``, fewer than
``chunk_size`` bytes) in the upload's own registry document until it fills up. So the
chunks on disk never hold a byte the offset does not count, and anything a failed request
left at ``n >= offset // chunk_size`` is known to be stale.

An upload into an encrypting store is given its file's data key when it is created, wrapped
(``file_key``, no key in clear); its chunks are sealed under it, and its tail is kept sealed
(``FileCipher.seal_tail``: the plaintext and 28 bytes), opened by the next PATCH only.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ..encryption import CHUNK_OVERHEAD
from .headers import TusError

__all__ = ["Event", "Stage", "UploadState", "aware"]


class Stage(enum.Enum):
    """Where one upload is: created (no byte yet), receiving, complete (its file is stored),
    expired (left unfinished too long), terminated (deleted by its client)."""

    CREATED = "created"
    RECEIVING = "receiving"
    COMPLETE = "complete"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Event(enum.Enum):
    """What can happen to an upload."""

    PATCH = "patch"  # bytes arrive, the upload not yet whole
    COMPLETE = "complete"  # the last byte arrives: the file is stored
    EXPIRE = "expire"
    TERMINATE = "terminate"


_OPEN = (Stage.CREATED, Stage.RECEIVING)
_TRANSITIONS: dict[tuple[Stage, Event], Stage] = {
    **{(s, Event.PATCH): Stage.RECEIVING for s in _OPEN},
    **{(s, Event.COMPLETE): Stage.COMPLETE for s in _OPEN},
    **{(s, Event.EXPIRE): Stage.EXPIRED for s in _OPEN},
    **{(s, Event.TERMINATE): Stage.TERMINATED for s in (*_OPEN, Stage.COMPLETE, Stage.EXPIRED)},
}
# What a request meets in a stage it cannot act in.
_REFUSALS: dict[Stage, tuple[int, str]] = {
    Stage.EXPIRED: (410, "has expired: start a new upload"),
    Stage.TERMINATED: (404, "was terminated"),
    Stage.COMPLETE: (409, "is complete: it takes no more bytes"),
}


def aware(when: datetime) -> datetime:
    """``when`` as an aware UTC datetime (PyMongo hands back naive UTC ones by default)."""
    return (
        when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    )


@dataclasses.dataclass(frozen=True)
class UploadState:
    """What the registry document of one upload holds.

    ``length`` is None while deferred; ``tail`` holds the bytes past the last whole chunk;
    ``metadata_header`` is the client's ``Upload-Metadata`` as given (HEAD echoes it);
    ``filename``, ``content_type`` and ``file_metadata`` describe the file to come.
    Concatenation: ``concat`` is the ``Upload-Concat`` it was created with (``"partial"``, or
    ``"final;..."`` as given), ``parts`` a final upload's partial upload ids in order, and
    ``joined_into`` the final upload a partial one has been claimed by.
    ``file_key``: the wrapped data key of an encrypted upload's file
    (``core.encryption.WrappedFileKey``'s document); its ``tail`` is then the sealed form
    (empty, or the partial chunk and ``CHUNK_OVERHEAD`` bytes).
    """

    upload_id: str
    file_id: Any
    chunk_size: int
    length: int | None
    offset: int = 0
    tail: bytes = b""
    complete: bool = False
    metadata_header: str | None = None
    filename: str | None = None
    content_type: str | None = None
    file_metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    created: datetime | None = None
    expires: datetime | None = None
    concat: str | None = None
    parts: tuple[str, ...] = ()
    joined_into: str | None = None
    file_key: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {self.chunk_size}")
        if self.offset < 0 or (self.length is not None and self.offset > self.length):
            raise ValueError(f"offset {self.offset} is outside an upload of {self.length} bytes")
        if self.complete and (self.tail or self.offset != self.length):
            raise ValueError("a complete upload has stored every byte: no tail, offset at length")
        if not self.complete and len(self.tail) != self.stored_tail_size:
            raise ValueError(
                f"a tail of {len(self.tail)} bytes does not end {self.offset} bytes"
                f" in chunks of {self.chunk_size}" + (" (sealed)" if self.encrypted else "")
            )

    @property
    def encrypted(self) -> bool:
        """Whether the upload's file is encrypted (its chunks and its tail sealed)."""
        return self.file_key is not None

    @property
    def stored_tail_size(self) -> int:
        """How long the tail is at this offset as stored: the bytes past the last whole
        chunk, and the cipher's overhead when the upload is encrypted and there are any."""
        size = self.offset % self.chunk_size
        return size + CHUNK_OVERHEAD if size and self.encrypted else size

    @property
    def is_partial(self) -> bool:
        """A partial upload: its bytes are for a final upload, never a file of their own."""
        return self.concat == "partial"

    @property
    def is_final(self) -> bool:
        """A final upload: made by joining partial ones, it takes no PATCH."""
        return bool(self.parts)

    # -- stages -----------------------------------------------------------------------------

    def stage(self, now: datetime) -> Stage:
        """Where the upload is at ``now``."""
        if self.complete:
            return Stage.COMPLETE
        if self.expires is not None and aware(self.expires) <= aware(now):
            return Stage.EXPIRED
        return Stage.RECEIVING if self.offset else Stage.CREATED

    def check(self, event: Event, now: datetime) -> Stage:
        """The stage ``event`` leads to from the stage at ``now``; TusError (410 expired,
        404 terminated, 409 complete) when it cannot happen there."""
        stage = self.stage(now)
        after = _TRANSITIONS.get((stage, event))
        if after is None:
            status, why = _REFUSALS.get(stage, (409, f"is {stage.value}"))
            raise TusError(status, f"upload {self.upload_id} {why}")
        return after

    def check_alive(self, now: datetime) -> None:
        """410 if the upload has expired (a HEAD of it, as of a PATCH)."""
        if self.stage(now) is Stage.EXPIRED:
            status, why = _REFUSALS[Stage.EXPIRED]
            raise TusError(status, f"upload {self.upload_id} {why}")

    @property
    def first_open_chunk(self) -> int:
        """The n of the chunk the next byte goes into: chunks from here on are stale."""
        return self.offset // self.chunk_size

    def renewed(self, now: datetime, expire_after: timedelta | None) -> UploadState:
        """This state with its expiry moved to ``expire_after`` from ``now``."""
        expires = None if expire_after is None else aware(now) + expire_after
        return dataclasses.replace(self, expires=expires)

    # -- the registry document --------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """The registry document (``_id`` the upload id)."""
        return {
            "_id": self.upload_id,
            "file_id": self.file_id,
            "chunk_size": self.chunk_size,
            "length": self.length,
            "offset": self.offset,
            "tail": self.tail,
            "complete": self.complete,
            "metadata_header": self.metadata_header,
            "filename": self.filename,
            "content_type": self.content_type,
            "file_metadata": dict(self.file_metadata),
            "created": self.created,
            "expires": self.expires,
            "concat": self.concat,
            "parts": list(self.parts),
            "joined_into": self.joined_into,
            "file_key": None if self.file_key is None else dict(self.file_key),
        }

    def progress_fields(self) -> dict[str, Any]:
        """The fields a request that moved the upload on writes back."""
        return {
            "length": self.length,
            "offset": self.offset,
            "tail": self.tail,
            "complete": self.complete,
            "expires": self.expires,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> UploadState:
        """Read a registry document back; ValueError if it is not one of ours."""
        try:
            created, expires = doc.get("created"), doc.get("expires")
            return cls(
                upload_id=str(doc["_id"]),
                file_id=doc["file_id"],
                chunk_size=int(doc["chunk_size"]),
                length=None if doc.get("length") is None else int(doc["length"]),
                offset=int(doc["offset"]),
                tail=bytes(doc.get("tail") or b""),
                complete=bool(doc.get("complete", False)),
                metadata_header=doc.get("metadata_header"),
                filename=doc.get("filename"),
                content_type=doc.get("content_type"),
                file_metadata=dict(doc.get("file_metadata") or {}),
                created=aware(created) if isinstance(created, datetime) else None,
                expires=aware(expires) if isinstance(expires, datetime) else None,
                concat=doc.get("concat"),
                parts=tuple(str(p) for p in doc.get("parts") or ()),
                joined_into=doc.get("joined_into"),
                file_key=_file_key(doc.get("file_key")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a resumable upload's document: {exc}") from exc


def _file_key(value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"file_key is not a document: {type(value).__name__}")
    return dict(value)
