"""The request headers of tus 1.0, parsed and checked: each refusal a TusError with its status."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from ..http.conditions import Headers
from ..http.validators import format_http_date, parse_http_date

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "OFFSET_CONTENT_TYPE",
    "TUS_VERSION",
    "Checksum",
    "Concat",
    "TusError",
    "check_version",
    "effective_method",
    "format_expires",
    "parse_checksum",
    "parse_concat",
    "parse_defer_length",
    "parse_expires",
    "parse_metadata",
    "parse_number",
]

TUS_VERSION = "1.0.0"
"""The one protocol version spoken (``Tus-Resumable``, ``Tus-Version``)."""

OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
"""The content type every body carrying upload bytes must have."""

CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
"""``Upload-Checksum`` algorithms accepted, in ``Tus-Checksum-Algorithm`` order."""

# The largest offset or length taken: BSON stores it as a signed 64-bit integer.
_MAX_NUMBER = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+")
# A metadata key: visible ASCII but space and comma (the spec says SHOULD be ASCII; a key
# that is not could not be echoed safely in a response header).
_KEY = re.compile(r"[!-+\--~]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class TusError(Exception):
    """A request tus refuses: ``status`` is the HTTP status to answer, ``str()`` the message
    for the client, ``headers`` any header the answer must carry (``Tus-Version`` on 412)."""

    def __init__(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


def check_version(method: str, headers: Headers) -> None:
    """412 unless the request speaks tus 1.0.0 (``OPTIONS`` is exempt, as the spec says)."""
    if method == "OPTIONS":
        return
    given = headers.get("Tus-Resumable")
    if given is None or given.strip() != TUS_VERSION:
        shown = "no Tus-Resumable header" if given is None else f"Tus-Resumable {given!r}"
        raise TusError(
            412,
            f"{shown}: this server speaks tus {TUS_VERSION}",
            (("Tus-Version", TUS_VERSION),),
        )


def effective_method(method: str, headers: Headers) -> str:
    """The request's method: ``X-HTTP-Method-Override`` when present, as the spec requires."""
    override = headers.get("X-HTTP-Method-Override")
    return (override if override else method).strip().upper()


def parse_number(value: str | None, name: str) -> int | None:
    """A non-negative integer header (``Upload-Offset``, ``Upload-Length``); None if absent,
    400 if it is anything but digits or too large to store."""
    if value is None:
        return None
    text = value.strip()
    if not _DIGITS.fullmatch(text) or len(text) > 19 or int(text) > _MAX_NUMBER:
        raise TusError(400, f"{name} must be a non-negative integer, not {value!r}")
    return int(text)


def parse_defer_length(value: str | None) -> bool:
    """Whether ``Upload-Defer-Length: 1`` is given; 400 for any other value."""
    if value is None:
        return False
    if value.strip() != "1":
        raise TusError(400, f"Upload-Defer-Length must be 1, not {value!r}")
    return True


def parse_metadata(value: str | None) -> dict[str, bytes]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (the value may be left
    out) as a dict of decoded bytes; 400 for an empty or non-ASCII key, a duplicate key or a
    value that is not Base64."""
    if value is None or not value.strip():
        return {}
    pairs: dict[str, bytes] = {}
    for item in value.split(","):
        item = item.strip(" \t")
        key, _, encoded = item.partition(" ")
        encoded = encoded.strip(" \t")
        if not key:
            raise TusError(400, f"Upload-Metadata: an empty key in {value!r}")
        if not _KEY.fullmatch(key):
            raise TusError(400, f"Upload-Metadata: key {key!r} must be visible ASCII")
        if key in pairs:
            raise TusError(400, f"Upload-Metadata: key {key!r} is given twice")
        if " " in encoded or not _BASE64.fullmatch(encoded) or len(encoded) % 4:
            raise TusError(400, f"Upload-Metadata: the value of {key!r} is not Base64")
        try:
            pairs[key] = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise TusError(400, f"Upload-Metadata: the value of {key!r} is not Base64") from None
    return pairs


@dataclass(frozen=True)
class Checksum:
    """An ``Upload-Checksum``: the algorithm and the digest the body must have."""

    algorithm: str
    digest: bytes

    def hasher(self) -> hashlib._Hash:
        """A fresh hash object of the algorithm."""
        return hashlib.new(self.algorithm)


def parse_checksum(value: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``; None if absent, 400 for an algorithm
    not in CHECKSUM_ALGORITHMS or a digest that is not Base64 of the algorithm's size."""
    if value is None:
        return None
    name, _, encoded = value.strip().partition(" ")
    if name not in CHECKSUM_ALGORITHMS:
        raise TusError(
            400,
            f"Upload-Checksum: algorithm {name!r} is not supported"
            f" (supported: {','.join(CHECKSUM_ALGORITHMS)})",
        )
    encoded = encoded.strip()
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != hashlib.new(name).digest_size:
        raise TusError(400, f"Upload-Checksum: {encoded!r} is not a Base64 {name} digest")
    return Checksum(name, digest)


@dataclass(frozen=True)
class Concat:
    """An ``Upload-Concat``: a partial upload, or a final one naming its partials (as URLs,
    in order)."""

    partial: bool
    parts: tuple[str, ...] = field(default=())

    @property
    def header(self) -> str:
        """The header's value, as a response echoes it."""
        return "partial" if self.partial else "final;" + " ".join(self.parts)


def parse_concat(value: str | None) -> Concat | None:
    """``Upload-Concat: partial`` or ``final;<url> <url>...``; None if absent, 400 otherwise."""
    if value is None:
        return None
    text = value.strip()
    if text == "partial":
        return Concat(partial=True)
    kind, sep, rest = text.partition(";")
    parts = tuple(rest.split())
    if kind.strip() != "final" or not sep or not parts:
        raise TusError(
            400, f"Upload-Concat must be 'partial' or 'final;' and upload URLs, not {value!r}"
        )
    return Concat(partial=False, parts=parts)


def format_expires(when: datetime) -> str:
    """An ``Upload-Expires`` value: the RFC 9110 HTTP date of ``when``."""
    return format_http_date(when)


def parse_expires(value: str | None) -> datetime | None:
    """An ``Upload-Expires`` value read back (a client's side); None if absent or malformed."""
    return parse_http_date(value)
