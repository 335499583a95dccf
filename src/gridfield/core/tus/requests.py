"""What a creation (POST) or a PATCH asks for, read from its headers and checked against the
endpoint's options and the upload's state before any byte is stored."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..content_types import content_type_of
from ..errors import ContentTypeRefused
from ..http.conditions import Headers
from .headers import (
    OFFSET_CONTENT_TYPE,
    Checksum,
    Concat,
    TusError,
    parse_checksum,
    parse_concat,
    parse_defer_length,
    parse_metadata,
    parse_number,
)
from .options import TusOptions
from .state import Event, UploadState

__all__ = [
    "Creation",
    "FileNaming",
    "PatchRequest",
    "check_declared_type",
    "check_length",
    "default_naming",
    "parse_creation",
    "parse_patch",
]

_FILENAME_KEYS = ("filename", "name")
_TYPE_KEYS = ("filetype", "type", "contentType", "content_type")


def _carries_body(headers: Headers) -> tuple[bool, int | None]:
    size = parse_number(headers.get("Content-Length"), "Content-Length")
    chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
    return (bool(size) or (size is None and chunked)), size


def _check_body_type(headers: Headers) -> None:
    given = headers.get("Content-Type")
    base = (given or "").split(";", 1)[0].strip().lower()
    if base != OFFSET_CONTENT_TYPE:
        shown = "no Content-Type" if given is None else f"Content-Type {given!r}"
        raise TusError(415, f"{shown}: upload bytes must be sent as {OFFSET_CONTENT_TYPE}")


def check_length(length: int, options: TusOptions) -> None:
    """413 if an upload of ``length`` bytes is over the endpoint's ``max_size``."""
    if options.max_size is not None and length > options.max_size:
        raise TusError(
            413,
            f"Upload-Length {length} is over this server's limit of {options.max_size} bytes",
        )


@dataclass(frozen=True)
class Creation:
    """A creation request: the declared length (None: deferred, or a final upload's, which
    its parts make), the metadata (decoded, and the header as given), whether bytes follow in
    its body (creation-with-upload), and its ``Upload-Concat`` (None for a plain upload)."""

    length: int | None
    metadata: dict[str, bytes]
    metadata_header: str | None
    body: bool = False
    content_length: int | None = None
    checksum: Checksum | None = None
    concat: Concat | None = None

    def first_patch(self) -> PatchRequest:
        """The bytes of the creation's body, as a PATCH at offset 0 would send them."""
        return PatchRequest(0, None, self.checksum, self.content_length)


def parse_creation(headers: Headers, options: TusOptions) -> Creation:
    """Read a POST: 400 without exactly one of Upload-Length and Upload-Defer-Length (a final
    upload takes neither, nor a body), 413 over ``max_size``, 415 for a body of another
    type."""
    concat = parse_concat(headers.get("Upload-Concat"))
    length = parse_number(headers.get("Upload-Length"), "Upload-Length")
    deferred = parse_defer_length(headers.get("Upload-Defer-Length"))
    header = headers.get("Upload-Metadata")
    if concat is not None and not concat.partial:
        if length is not None or deferred:
            raise TusError(
                400, "a final upload (Upload-Concat: final) takes no Upload-Length: its parts'"
            )
        if _carries_body(headers)[0]:
            raise TusError(400, "a final upload (Upload-Concat: final) takes no bytes")
        metadata = parse_metadata(header)
        return Creation(None, metadata, header.strip() if header else None, concat=concat)
    if length is not None and deferred:
        raise TusError(400, "Upload-Length and Upload-Defer-Length cannot both be given")
    if length is None and not deferred:
        raise TusError(400, "a new upload needs Upload-Length or Upload-Defer-Length: 1")
    if length is not None:
        check_length(length, options)
    metadata = parse_metadata(header)
    body, size = _carries_body(headers)
    checksum = None
    if body:
        _check_body_type(headers)
        checksum = parse_checksum(headers.get("Upload-Checksum"))
    return Creation(
        length, metadata, header.strip() if header else None, body, size, checksum, concat
    )


@dataclass(frozen=True)
class FileNaming:
    """How the finished upload is stored: its filename, content type and GridFS metadata."""

    filename: str | None = None
    content_type: str | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)


def _text(key: str, value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise TusError(400, f"Upload-Metadata: the value of {key!r} is not UTF-8 text") from None


def default_naming(metadata: dict[str, bytes]) -> FileNaming:
    """The naming tus clients imply: ``filename`` (or ``name``) and ``filetype`` (or
    ``type``) as tus-js-client and Uppy send them; every other key goes, as text, into the
    file's metadata (400 for a value that is not UTF-8)."""
    filename = content_type = None
    rest: dict[str, Any] = {}
    for key, value in metadata.items():
        text = _text(key, value)
        if key in _FILENAME_KEYS and filename is None:
            filename = text or None
        elif key in _TYPE_KEYS and content_type is None:
            content_type = text or None
        else:
            rest[key] = text
    return FileNaming(filename, content_type, rest)


def check_declared_type(naming: FileNaming, options: TusOptions) -> str | None:
    """The type the file will be stored with (declared, else guessed from its name); 415
    when the endpoint's ``content_types`` do not allow it (an unknown type included)."""
    kind = content_type_of(naming.content_type, naming.filename, b"")
    try:
        options.limits.check_type(kind)
    except ContentTypeRefused as exc:
        raise TusError(415, str(exc)) from None
    return naming.content_type


@dataclass(frozen=True)
class PatchRequest:
    """A PATCH: the offset it writes at, the length it declares (a deferred one), the
    checksum its body must have, and its Content-Length when given."""

    offset: int
    length: int | None = None
    checksum: Checksum | None = None
    content_length: int | None = None

    def applied_to(self, state: UploadState, options: TusOptions, now: datetime) -> UploadState:
        """The upload's state with this PATCH's length taken, checked before a byte is read:
        410 if expired, 409 for another offset than the upload's (or a complete upload sent
        more bytes), 400 for a length that changes or ends before the offset, 413 for a
        length (or a body) past the upload's length or the endpoint's ``max_size``."""
        if state.is_final:
            raise TusError(
                403,
                f"upload {state.upload_id} is a final upload: it is made of its partial"
                " uploads and takes no PATCH",
            )
        if state.complete and self.offset == state.offset and not self.content_length:
            return state  # a retry of the PATCH that completed it: nothing to do
        state.check(Event.PATCH, now)
        if self.offset != state.offset:
            raise TusError(
                409,
                f"Upload-Offset {self.offset} does not match the upload's offset {state.offset}",
            )
        length = state.length
        if self.length is not None:
            if length is not None and self.length != length:
                raise TusError(400, f"Upload-Length {self.length} cannot change from {length}")
            if self.length < state.offset:
                raise TusError(
                    400, f"Upload-Length {self.length} is less than the offset {state.offset}"
                )
            check_length(self.length, options)
            length = self.length
        size = self.content_length
        if length is not None and size is not None and state.offset + size > length:
            raise TusError(
                413,
                f"{self.content_length} bytes at offset {state.offset} go past the"
                f" upload's length of {length} bytes",
            )
        return dataclasses.replace(state, length=length)


def parse_patch(headers: Headers) -> PatchRequest:
    """Read a PATCH: 415 unless its body is application/offset+octet-stream, 400 without a
    valid Upload-Offset or with a bad Upload-Length or Upload-Checksum."""
    _check_body_type(headers)
    offset = parse_number(headers.get("Upload-Offset"), "Upload-Offset")
    if offset is None:
        raise TusError(400, "a PATCH needs an Upload-Offset header")
    return PatchRequest(
        offset,
        parse_number(headers.get("Upload-Length"), "Upload-Length"),
        parse_checksum(headers.get("Upload-Checksum")),
        parse_number(headers.get("Content-Length"), "Content-Length"),
    )
