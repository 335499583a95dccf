"""What a request names and how it asks for it: a bucket app's path segment (a file id, a
filename, or nothing), a plain GET, and whether the content type must be sniffed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from ..files_document import FileInfo
from .conditions import Headers
from .options import check_lookup
from .plan import Decision
from .representation import stored_content_type

__all__ = ["Target", "bucket_target", "must_sniff", "object_id_or_none", "plain_get"]

# A GET with none of these asks for the whole file, as it stands: the chunk cursor can be
# sent with the files query, before anything about the file is known.
_NOT_PLAIN = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


def object_id_or_none(text: str) -> ObjectId | None:
    """The ObjectId a path segment spells (24 hex digits), or None: an id that cannot name a
    file is a 404, not an error."""
    try:
        return ObjectId(text)
    except (InvalidId, TypeError):
        return None


@dataclass(frozen=True)
class Target:
    """The file a bucket app's path names: by ``file_id``, by ``filename`` (its newest
    revision), or neither: a 404."""

    file_id: Any = None
    filename: str | None = None

    @property
    def names_nothing(self) -> bool:
        """Whether no file can answer (the answer is a 404 without a query)."""
        return self.file_id is None and self.filename is None


def bucket_target(segment: str, lookup: str) -> Target:
    """What the path segment ``segment`` (already percent-decoded by the server, leading
    slashes kept or not) names under ``lookup`` ("id" or "filename")."""
    name = segment.lstrip("/")
    if check_lookup(lookup) == "filename":
        return Target(filename=name) if name else Target()
    return Target(file_id=object_id_or_none(name))


def plain_get(method: str, headers: Headers) -> bool:
    """Whether the request is a GET of the whole file whatever it holds (no range, no
    precondition): its chunks can be asked for along with its files document."""
    return method.upper() == "GET" and all(headers.get(name) is None for name in _NOT_PLAIN)


def must_sniff(decision: Decision, content_type: str | None, info: FileInfo) -> bool:
    """Whether the response names a content type that neither the caller (``content_type``)
    nor the files document gives: the first bytes then decide it."""
    return (
        content_type is None and decision.needs_content_type and stored_content_type(info) is None
    )
