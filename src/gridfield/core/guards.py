"""Upload guards and progress: a size limit and allowed content types, checked while bytes
stream in, and the progress callback's bookkeeping."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from .content_types import is_media_type
from .errors import ContentTypeRefused, FileTooLarge, MalformedBody
from .numbers import whole_number

__all__ = [
    "Progress",
    "ProgressCallback",
    "UploadLimits",
    "check_progress_callback",
    "content_type_allowed",
    "part_content_type",
]

ProgressCallback = Callable[[int, "int | None"], object]
"""``on_progress(done_bytes, total_bytes_or_None)``."""


def content_type_allowed(kind: str | None, allowed: Iterable[str]) -> bool:
    """Whether ``kind`` is one of ``allowed`` (``"image/*"`` allows every image type).

    Parameters (``; charset=...``) and case do not matter; an unknown type is never allowed.
    """
    if kind is None:
        return False
    base = kind.split(";", 1)[0].strip().lower()
    major = base.split("/", 1)[0]
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if pattern == base or pattern == "*/*" or pattern == f"{major}/*":
            return True
    return False


# What a client sends when it does not know what a file is: no claim at all (with an old
# alias of application/octet-stream).
_NO_CLAIM = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def content_type_patterns(kinds: Iterable[str] | None) -> tuple[str, ...] | None:
    """``kinds`` as a tuple of content types or patterns (``"image/*"``), checked; None
    stays None (any type). A single str is a TypeError (it would be read letter by letter)."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        raise TypeError("content_types must be a list of str (a single str given)")
    checked = tuple(kinds)
    for kind in checked:
        if not isinstance(kind, str) or "/" not in kind:
            raise ValueError(
                f"content_types: {kind!r} is not a content type like 'image/png' or 'image/*'"
            )
    return checked


def part_content_type(claim: str | None, what: str = "the upload") -> str | None:
    """The content type a client's upload (``what``: the part or body, for messages) claims,
    or None when it claims nothing useful (no ``Content-Type``, an empty one, a bare word
    without a ``/``, or ``application/octet-stream``): the type is then guessed from the
    filename or sniffed from the first bytes. A claim that is no media type (a list of
    types, a control character, non-ASCII, an over-long subtype) is MalformedBody naming
    ``what``: the client's mistake, never a failure of the server's."""
    if claim is None:
        return None
    claim = claim.strip()
    if claim.split(";", 1)[0].strip().lower() in _NO_CLAIM or "/" not in claim:
        return None
    if not is_media_type(claim):
        shown = claim if len(claim) <= 80 else claim[:80] + "..."
        raise MalformedBody(
            f"{what}: Content-Type {shown!r} is not a media type like 'image/png'"
            " (one type/subtype of token characters, visible ASCII)"
        )
    return claim


@dataclasses.dataclass(frozen=True)
class UploadLimits:
    """What an upload may hold: at most ``max_size`` bytes, of one of ``content_types``.

    ``label`` names the field (``Animal.photo``) or store in error messages.
    """

    max_size: int | None = None
    content_types: tuple[str, ...] | None = None
    label: str = "upload"

    def __post_init__(self) -> None:
        size = self.max_size
        if size is not None:
            whole_number(size, "max_size")
        if size is not None and size < 0:
            raise ValueError(f"max_size must not be negative, got {size}")
        object.__setattr__(self, "content_types", content_type_patterns(self.content_types))

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return self.max_size is not None or self.content_types is not None

    def check_size(self, seen: int) -> None:
        """FileTooLarge once ``seen`` bytes exceed the limit."""
        if self.max_size is not None and seen > self.max_size:
            raise FileTooLarge(
                f"{self.label}: the file is over the limit of {self.max_size} bytes"
                f" ({seen} bytes seen)",
                limit=self.max_size,
                seen=seen,
            )

    def check_type(self, kind: str | None) -> None:
        """ContentTypeRefused unless ``kind`` is allowed (always allowed without a list)."""
        if self.content_types is None or content_type_allowed(kind, self.content_types):
            return
        shown = "an unknown content type" if kind is None else f"content type {kind!r}"
        raise ContentTypeRefused(
            f"{self.label}: {shown} is not allowed (allowed: {', '.join(self.content_types)})"
        )

    def merged(self, max_size: int | None, content_types: Iterable[str] | None) -> UploadLimits:
        """These limits with a call's own ``max_size`` and ``content_types`` taking over."""
        if max_size is None and content_types is None:
            return self
        if isinstance(content_types, str):
            raise TypeError("content_types must be a list of str (a single str given)")
        return UploadLimits(
            max_size if max_size is not None else self.max_size,
            tuple(content_types) if content_types is not None else self.content_types,
            self.label,
        )


def check_progress_callback(on_progress: object) -> ProgressCallback | None:
    """Return ``on_progress`` if it is None or callable; TypeError otherwise."""
    if on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be callable, not {type(on_progress).__name__}")
    return on_progress


class Progress:
    """Calls ``on_progress(done, total)`` as bytes pass, never going backwards."""

    __slots__ = ("_callback", "done", "total")

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self.total = total
        self.done = 0

    def reached(self, done: int) -> None:
        """``done`` bytes are through (a smaller number than before is ignored)."""
        if self._callback is not None and done > self.done:
            self.done = done
            self._callback(done, self.total)

    def finished(self) -> None:
        """The end: called once more if nothing was reported yet (an empty file)."""
        if self._callback is not None and self.done == 0:
            self._callback(0, self.total)
