"""Receiving files over HTTP, sans I/O: the limits of a request, the ``Content-Length``
decision, multipart part headers and names, and which status each refusal answers."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from ..errors import (
    ContentTypeRefused,
    FileTooLarge,
    FormTooLarge,
    MalformedBody,
    MissingField,
)
from ..files_document import FileInfo
from ..guards import content_type_patterns, part_content_type

__all__ = [
    "MAX_PART_HEADER_BYTES",
    "FormFields",
    "FormTally",
    "IntakeLimits",
    "PartHead",
    "ReceivedFile",
    "check_declared_length",
    "claimed_type",
    "clean_filename",
    "error_status",
    "intake_limits",
    "multipart_boundary",
    "parse_content_disposition",
    "parse_part_head",
    "raw_body_filename",
]

MAX_PART_HEADER_BYTES = 16 * 1024
"""The most header bytes one multipart part may carry (names, values, separators)."""

# RFC 2046: a boundary is 1 to 70 characters.
_MAX_BOUNDARY = 70
# What may stand before the first boundary and after the last (a preamble, an epilogue, the
# CRLF some clients add): allowed for in the Content-Length bound, never stored.
_SLACK = 64 * 1024


def _positive(name: str, value: object, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


@dataclasses.dataclass(frozen=True)
class IntakeLimits:
    """What one request may bring: checked from its ``Content-Length`` before the body is
    read, then again as each piece of the body arrives.

    ``max_size``: bytes per file (None: the store's own limit, if any); ``content_types``:
    allowed types of each file (``"image/*"`` allowed); ``max_files`` and ``max_parts``: file
    parts, and parts of any kind; ``max_field_size``: bytes of one form field;
    ``max_fields_size``: bytes of all form fields together; ``max_body``: bytes of the whole
    body (None: as many as the other limits allow).
    """

    max_size: int | None = None
    content_types: tuple[str, ...] | None = None
    max_files: int = 100
    max_parts: int = 1000
    max_field_size: int = 1024 * 1024
    max_fields_size: int = 1024 * 1024
    max_body: int | None = None

    def __post_init__(self) -> None:
        _positive("max_size", self.max_size, allow_none=True)
        _positive("max_body", self.max_body, allow_none=True)
        for name in ("max_files", "max_parts", "max_field_size", "max_fields_size"):
            _positive(name, getattr(self, name), allow_none=False)
        object.__setattr__(self, "content_types", content_type_patterns(self.content_types))

    def merged(self, **changes: Any) -> IntakeLimits:
        """These limits with the ``changes`` that are not None taking over (how a call's
        keywords override the ``limits=`` it was given)."""
        given = {name: value for name, value in changes.items() if value is not None}
        if isinstance(given.get("content_types"), str):
            raise TypeError("content_types must be a list of str (a single str given)")
        if "content_types" in given:
            given["content_types"] = tuple(given["content_types"])
        return dataclasses.replace(self, **given) if given else self

    def multipart_bound(self, boundary: bytes) -> int | None:
        """The most bytes a multipart body within these limits can hold (None: unbounded):
        every file at ``max_size``, every field byte allowed, every part's headers full."""
        bound = None
        if self.max_size is not None:
            per_part = MAX_PART_HEADER_BYTES + len(boundary) + 8  # CRLF "--" boundary CRLF
            bound = (
                self.max_files * self.max_size
                + self.max_fields_size
                + self.max_parts * per_part
                + len(boundary)
                + _SLACK
            )
        return _smaller(bound, self.max_body)

    def raw_bound(self) -> int | None:
        """The most bytes a raw body (the file itself) may hold (None: unbounded)."""
        return _smaller(self.max_size, self.max_body)

    def check_body(self, seen: int) -> None:
        """FileTooLarge once the body has passed ``max_body`` (``seen`` bytes read)."""
        if self.max_body is not None and seen > self.max_body:
            raise FileTooLarge(
                f"the request body is over the limit of {self.max_body} bytes ({seen} bytes seen)",
                limit=self.max_body,
                seen=seen,
            )


def intake_limits(
    limits: IntakeLimits | None,
    *,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
) -> IntakeLimits:
    """``limits`` (default: ``IntakeLimits()``) with the shorthands a route types most,
    ``max_size`` and ``content_types``, taking over when given: the one place where every
    adapter's ``receive_files``/``receive_body`` makes its value. The other limits are set
    in the ``IntakeLimits`` itself."""
    if limits is not None and not isinstance(limits, IntakeLimits):
        raise TypeError(f"limits must be an IntakeLimits, not {type(limits).__name__}")
    base = limits if limits is not None else IntakeLimits()
    return base.merged(max_size=max_size, content_types=content_types)


def _smaller(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def check_declared_length(value: str | None, bound: int | None) -> int | None:
    """The body's declared length (None when the request gives none: chunked).

    A value that is not a decimal number is MalformedBody; one over ``bound`` is FileTooLarge,
    before a byte of the body is read.
    """
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise MalformedBody(f"Content-Length {value!r} is not a number of bytes")
    length = int(text)
    if bound is not None and length > bound:
        raise FileTooLarge(
            f"the request body is {length} bytes, over the limit of {bound} bytes",
            limit=bound,
            seen=length,
        )
    return length


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def multipart_boundary(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` body.

    Another type (or none) is ContentTypeRefused; a missing, empty or over-long boundary is
    MalformedBody.
    """
    if content_type is None or _media_type(content_type) != "multipart/form-data":
        shown = "has no Content-Type" if content_type is None else f"is {content_type!r}"
        raise ContentTypeRefused(f"the request body {shown}, not multipart/form-data")
    _, params = _parse_header_params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise MalformedBody("the multipart/form-data body names no boundary")
    if len(boundary) > _MAX_BOUNDARY or not boundary.isascii():
        raise MalformedBody(
            f"the multipart boundary is not 1 to {_MAX_BOUNDARY} ASCII characters: {boundary!r}"
        )
    return boundary.encode("ascii")


def claimed_type(value: str | None, what: str = "the request body") -> str | None:
    """The content type a client claims for a file, or None when it claims nothing worth
    keeping (none, ``application/octet-stream``, or no type at all): then the store guesses
    from the name or sniffs the first bytes. A claim that is no media type is MalformedBody
    (400) naming ``what``, the part or the body (see ``guards.part_content_type``)."""
    return part_content_type(value, what)


# -- Content-Disposition ------------------------------------------------------------------

_TOKEN = re.compile(r"\s*([^\s;=]+)\s*")
_EXT_VALUE = re.compile(r"^([A-Za-z0-9!#$%&+^_`{}~-]*)'[^']*'(.*)$", re.S)


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The quoted-string starting after the quote at ``start - 1``. Returns the value and the
    index after the closing quote.

    A backslash escapes only a quote or a backslash: browsers send a Windows path's
    backslashes as they are (``C:\\Users\\me``), curl escapes those two characters.
    """
    out: list[str] = []
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in '\\"':
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return "".join(out), i  # unterminated: what there is


def _parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """``kind; a=b; c="d"`` -> ("kind", {"a": "b", "c": "d"}); names lower-cased, the first
    of a repeated name kept."""
    kind, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        match = _TOKEN.match(rest, i)
        if match is None:
            i += 1
            continue
        name = match.group(1).lower()
        i = match.end()
        if i >= len(rest) or rest[i] != "=":
            i = rest.find(";", i) + 1 or len(rest)
            continue
        i += 1
        while i < len(rest) and rest[i] in " \t":
            i += 1
        if i < len(rest) and rest[i] == '"':
            text, i = _read_quoted(rest, i + 1)
        else:
            end = rest.find(";", i)
            end = len(rest) if end < 0 else end
            text, i = rest[i:end].strip(), end
        params.setdefault(name, text)
        semicolon = rest.find(";", i)
        i = len(rest) if semicolon < 0 else semicolon + 1
    return kind.strip().lower(), params


def _decode_ext_value(value: str) -> str | None:
    """An RFC 5987 ``charset'lang'percent-encoded`` value, or None when it is not one."""
    match = _EXT_VALUE.match(value.strip())
    if match is None:
        return None
    charset = match.group(1).lower() or "utf-8"
    try:
        return unquote_to_bytes(match.group(2)).decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None


def parse_content_disposition(value: str) -> tuple[str, dict[str, str]]:
    """A ``Content-Disposition`` value as (disposition, params), ``filename*`` (RFC 7578 /
    RFC 5987) decoded into ``filename`` and winning over it."""
    kind, params = _parse_header_params(value)
    extended = params.pop("filename*", None)
    if extended is not None:
        decoded = _decode_ext_value(extended)
        if decoded is not None:
            params["filename"] = decoded
    return kind, params


def clean_filename(name: str | None) -> str | None:
    """The name to store for a file a client sent: its last path segment (browsers and
    tools may send ``C:\\Users\\me\\a.png`` or ``../../a.png``), without control characters
    or surrounding spaces, in NFC; None when nothing is left."""
    if name is None:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    base = unicodedata.normalize("NFC", base)
    if base in ("", ".", ".."):
        return None
    return base


def header_text(raw: bytes) -> str:
    """A header value as text: UTF-8 (what browsers send in multipart headers), else
    Latin-1 (every byte is one character)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclasses.dataclass(frozen=True)
class PartHead:
    """What a multipart part's headers say: its field name, and for a file part
    (``filename`` given, even empty) the cleaned filename and the claimed content type."""

    name: str
    is_file: bool
    filename: str | None = None
    content_type: str | None = None


def parse_part_head(headers: Iterable[tuple[bytes, bytes]]) -> PartHead:
    """The part's description from its raw headers; MalformedBody without a
    ``Content-Disposition: form-data; name=...``."""
    disposition: str | None = None
    content_type: str | None = None
    for raw_name, raw_value in headers:
        name = raw_name.strip().lower()
        if name == b"content-disposition" and disposition is None:
            disposition = header_text(raw_value)
        elif name == b"content-type" and content_type is None:
            content_type = header_text(raw_value)
    if disposition is None:
        raise MalformedBody("a multipart part has no Content-Disposition header")
    kind, params = _parse_header_params(disposition)
    extended = params.pop("filename*", None)
    decoded = _decode_ext_value(extended) if extended is not None else None
    if decoded is not None:
        params["filename"] = decoded
    elif "filename" in params:
        # Browsers (the HTML form encoding) send a quote in a name as %22.
        params["filename"] = params["filename"].replace("%22", '"')
    if kind != "form-data" or "name" not in params:
        raise MalformedBody(
            f'a multipart part\'s Content-Disposition is {disposition!r}, not form-data; name="..."'
        )
    if "filename" not in params:
        return PartHead(params["name"], is_file=False)
    return PartHead(
        params["name"],
        is_file=True,
        filename=clean_filename(params["filename"]),
        content_type=claimed_type(content_type, _part_named(params["name"], params["filename"])),
    )


def _part_named(name: str, filename: str) -> str:
    shown = filename if len(filename) <= 80 else filename[:80] + "..."
    return f"multipart part {name!r} ({shown!r})"


def raw_body_filename(
    given: str | None, disposition: str | None, path_name: str | None
) -> str | None:
    """The name to store a raw body (``PUT /files/report.pdf``) under: ``given`` by the
    app, else the ``Content-Disposition`` header's filename, else the URL path's last
    segment (percent-decoded); cleaned of any path."""
    if given is not None:
        return clean_filename(given)
    if disposition:
        _, params = parse_content_disposition(disposition)
        name = clean_filename(params.get("filename"))
        if name is not None:
            return name
    if path_name:
        return clean_filename(unquote(path_name))
    return None


# -- counting what a form holds -------------------------------------------------------------


class FormTally:
    """Counts a multipart body's parts and field bytes as they arrive, refusing with
    FormTooLarge the moment one goes over its limit (so nothing past it is parsed)."""

    __slots__ = ("_field", "_header", "fields", "files", "limits", "parts")

    def __init__(self, limits: IntakeLimits) -> None:
        self.limits = limits
        self.parts = 0
        self.files = 0
        self.fields = 0  # bytes of all fields so far
        self._field = 0  # bytes of the field being read
        self._header = 0  # header bytes of the part being read

    def part_begins(self) -> None:
        """A new part starts."""
        self.parts += 1
        self._header = 0
        self._field = 0
        if self.parts > self.limits.max_parts:
            raise FormTooLarge(
                f"the form has more than {self.limits.max_parts} parts",
                limit=self.limits.max_parts,
                seen=self.parts,
            )

    def header_bytes(self, count: int) -> None:
        """``count`` more bytes of the current part's headers."""
        self._header += count
        if self._header > MAX_PART_HEADER_BYTES:
            raise FormTooLarge(
                f"part {self.parts} of the form has over {MAX_PART_HEADER_BYTES} bytes of headers",
                limit=MAX_PART_HEADER_BYTES,
                seen=self._header,
            )

    def file_begins(self) -> None:
        """The current part is a file."""
        self.files += 1
        if self.files > self.limits.max_files:
            raise FormTooLarge(
                f"the form has more than {self.limits.max_files} files",
                limit=self.limits.max_files,
                seen=self.files,
            )

    def field_bytes(self, name: str, count: int) -> None:
        """``count`` more bytes of the form field ``name``."""
        self._field += count
        self.fields += count
        limits = self.limits
        if self._field > limits.max_field_size:
            raise FormTooLarge(
                f"form field {name!r} is over the limit of {limits.max_field_size} bytes",
                limit=limits.max_field_size,
                seen=self._field,
            )
        if self.fields > limits.max_fields_size:
            raise FormTooLarge(
                f"the form's fields are over the limit of {limits.max_fields_size} bytes together",
                limit=limits.max_fields_size,
                seen=self.fields,
            )


# -- what was received ------------------------------------------------------------------------


class FormFields(dict[str, str]):
    """A form's text fields, name -> value: a dict whose missing name is MissingField (a
    KeyError too) naming the field and the fields that came, so a route reading
    ``form["name"]`` answers 400 through the ready error handlers, not 500."""

    @classmethod
    def of(cls, fields: Iterable[tuple[str, str]]) -> FormFields:
        """The fields of ``fields`` in order, the first value of a repeated name."""
        found = cls()
        for name, value in fields:
            found.setdefault(name, value)
        return found

    def __missing__(self, name: str) -> str:
        raise MissingField(f"no form field {name!r} (fields came in: {sorted(self)})")


@dataclasses.dataclass(frozen=True)
class ReceivedFile:
    """One file a request brought, stored: the form field it came in (None for a raw body),
    the name and content type it was stored with, the stored file's description, and the
    bucket it is in (database name, bucket name)."""

    field: str | None
    filename: str | None
    content_type: str | None
    info: FileInfo
    bucket: tuple[str, str]

    @property
    def file_id(self) -> Any:
        """The stored file's id."""
        return self.info.file_id

    @property
    def length(self) -> int:
        """The stored file's size in bytes."""
        return self.info.length


# -- answering a refusal ------------------------------------------------------------------------

_STATUSES: tuple[tuple[type[BaseException], int], ...] = (
    (FileTooLarge, 413),
    (FormTooLarge, 413),
    (ContentTypeRefused, 415),
    (MalformedBody, 400),
    (MissingField, 400),
)

INTAKE_ERRORS: tuple[type[BaseException], ...] = tuple(kind for kind, _ in _STATUSES)
"""The errors receiving a request can raise that are the client's doing."""


def error_status(error: BaseException) -> int | None:
    """The HTTP status that answers ``error`` (413 for a size limit, 415 for a refused content
    type, 400 for a malformed body or a missing field or file), or None when it is not a
    refusal of the request."""
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status
    return None
