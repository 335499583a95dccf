"""What type a file is: guessed from its name, sniffed from its first bytes, or declared;
the media-type check a declared type passes before it is stored or sent in a header."""

from __future__ import annotations

import mimetypes
import re

__all__ = [
    "ACTIVE_CONTENT_TYPES",
    "FALLBACK_CONTENT_TYPE",
    "MAX_CONTENT_TYPE_LENGTH",
    "SNIFF_BYTES",
    "check_content_type",
    "content_type_of",
    "guess_content_type",
    "header_safe_content_type",
    "is_active_content",
    "is_media_type",
    "sniff_content_type",
]

FALLBACK_CONTENT_TYPE = "application/octet-stream"
"""Sent when neither the files document, the filename nor the first bytes tell the type."""

# Only Python's built-in table (plus what it lacks): the guess must not depend on the
# machine's /etc/mime.types.
_MIME = mimetypes.MimeTypes()
_MIME.add_type("image/webp", ".webp")
_MIME.add_type("image/avif", ".avif")

# Magic numbers at offset 0: (prefix, content type), longest first where they overlap.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"PK\x07\x08", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"OggS", "application/ogg"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
# RIFF containers: the form type at offset 8.
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
# ISO base media files ("ftyp" box at offset 4): the major brand at offset 8.
_FTYP = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
}
ACTIVE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/x-shockwave-flash",
        "multipart/x-mixed-replace",
    }
)
"""Types a browser runs as a document of the site that sends them, scripts and all (every
``+xml`` type too, see ``is_active_content``): served inline, a file uploaded by one user
would run in the page of another on the app's own origin."""


def is_active_content(content_type: str | None) -> bool:
    """Whether a browser could run what ``content_type`` names as active content: one of
    ACTIVE_CONTENT_TYPES or any XML type (``+xml``), whatever the parameters and case.
    An unknown type is not (it is served as ``application/octet-stream``)."""
    if not content_type:
        return False
    base = content_type.split(";", 1)[0].strip().lower()
    return base in ACTIVE_CONTENT_TYPES or base.endswith("+xml")


SNIFF_BYTES = 16
"""How many leading bytes ``sniff_content_type`` looks at."""


MAX_CONTENT_TYPE_LENGTH = 255
"""The longest content type accepted: RFC 6838 allows 127 characters each for the type and
the subtype; the rest is room for parameters (``; charset=utf-8``)."""

# RFC 9110 5.6.2 token; 8.3.1 media-type = type "/" subtype *( OWS ";" OWS [ parameter ] ),
# parameter = token "=" ( token / quoted-string ). Visible ASCII only: the grammar's obs-text
# (bytes 0x80-0xFF in a quoted string) is left out, because servers encode such header text
# differently (Latin-1 or UTF-8) and the same file would be named differently by each.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_TYPE_SUBTYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_PARAMETER = re.compile(rf"{_TOKEN}=(?:{_TOKEN}|{_QUOTED})")
_OWS = re.compile(r"[ \t]*")


def is_media_type(value: object) -> bool:
    """Whether ``value`` is a content type that can stand in an HTTP header as it is: an RFC
    9110 media type (``type/subtype`` and ``; name=value`` parameters, token characters or a
    quoted string), visible ASCII, no control character, at most MAX_CONTENT_TYPE_LENGTH long."""
    if not isinstance(value, str) or len(value) > MAX_CONTENT_TYPE_LENGTH:
        return False
    found = _TYPE_SUBTYPE.match(value)
    if found is None or len(found[1]) > 127 or len(found[2]) > 127:
        return False
    # The parameters, scanned one ";" at a time: a single regex of optional parts would
    # backtrack without end on a long refused value.
    at, end = found.end(), len(value)
    while at < end:
        at = _OWS.match(value, at).end()  # type: ignore[union-attr]  # always matches
        if at == end or value[at] != ";":
            return False
        at = _OWS.match(value, at + 1).end()  # type: ignore[union-attr]
        if at < end and value[at] != ";":
            parameter = _PARAMETER.match(value, at)
            if parameter is None:
                return False
            at = parameter.end()
    return True


def check_content_type(value: object, what: str = "content_type") -> str | None:
    """``value`` if it is None or a valid media type (see :func:`is_media_type`); TypeError
    for a non-str, ValueError naming ``what`` for a str no HTTP header could carry."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not is_media_type(value):
        shown = value if len(value) <= 80 else value[:80] + "..."
        raise ValueError(
            f"{what} {shown!r} is not a media type like 'image/png' or 'text/plain;"
            " charset=utf-8' (RFC 9110: token characters in type/subtype and parameters,"
            f" visible ASCII, at most {MAX_CONTENT_TYPE_LENGTH} characters)"
        )
    return value


def header_safe_content_type(value: object, fallback: str) -> str:
    """``value`` when it is a valid media type, else ``fallback``: what another writer left in
    a files document is only ever sent in a header once it is known to be one."""
    return value if isinstance(value, str) and is_media_type(value) else fallback


def guess_content_type(filename: str | None) -> str | None:
    """Content type from a filename's extension, or None."""
    if not filename:
        return None
    return _MIME.guess_type(filename, strict=False)[0]


def sniff_content_type(head: bytes) -> str | None:
    """Content type from a file's first bytes (its magic number), or None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _FTYP.get(head[8:12], "video/mp4")
    return None


def content_type_of(
    declared: str | None, filename: object, head: bytes | None, *, stored: bool = False
) -> str | None:
    """A file's content type: the declared one, else guessed from the filename, else sniffed
    from the first bytes (``head``); None when nothing tells it, or when the bytes are
    needed and ``head`` is None (not read yet).

    ``stored=False`` for a file being uploaded: ``declared`` is the caller's type, checked
    where the upload's options are, and taken as it is; a name that only says
    ``application/octet-stream`` (``.bin``) is sniffed all the same.

    ``stored=True`` for what a files document says (another writer may have stored
    anything: an emoji, a line break, a NUL): a declared type that is no valid media type is
    answered as FALLBACK_CONTENT_TYPE, so it never reaches a header and the bytes are not
    sniffed into a type their writer did not give; the filename's guess is final, whatever
    it is, and the bytes are sniffed only when the name tells nothing.
    """
    if stored:
        if declared:
            return header_safe_content_type(declared, FALLBACK_CONTENT_TYPE)
    elif declared is not None:
        return declared  # checked with the upload's options
    guessed = guess_content_type(filename) if isinstance(filename, str) else None
    if guessed is not None and (stored or guessed != "application/octet-stream"):
        return guessed
    if head is None:
        return None
    return sniff_content_type(head) or guessed
