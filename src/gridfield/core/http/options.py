"""How an adapter presents a stored file: the options every web adapter takes alike."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..content_types import check_content_type
from .ranges import MAX_RANGES
from .representation import download_asked
from .signing import UrlSigning

__all__ = ["LOOKUPS", "NO_ID", "ServeOptions", "check_lookup", "serve_options"]

NO_ID: Any = object()
"""The default of ``file_id``: the source is a file field value (``doc.photo``)."""

LOOKUPS = ("id", "filename")
"""How a bucket app finds the file a URL names: by ObjectId, or by filename (newest)."""


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """How to present a file, one value every serving app and response takes whole.

    ``download``: send it as an attachment. ``filename``, ``content_type``: override the
    stored ones. ``cache_control``: the ``Cache-Control`` of a 200/206/304. ``max_ranges``:
    the most ranges one request may ask for. ``inline_active``: serve types that can carry
    active content (``core.content_types.is_active_content``: HTML, SVG, XML,
    JavaScript...) inline, in a ``Content-Security-Policy: sandbox``; by default they are
    sent as attachments, so a file one user uploaded never runs as a page of the app.

    ``signing`` (a ``UrlSigning``): every request must carry a good, unexpired signature
    for the file it names, else it is answered 403; the answer is cached no longer than the
    signature lasts.
    """

    download: bool = False
    filename: str | None = None
    content_type: str | None = None
    cache_control: str | None = None
    max_ranges: int = MAX_RANGES
    inline_active: bool = False
    signing: UrlSigning | None = None

    def __post_init__(self) -> None:
        # Refused when the app is made, not as a broken header on every response.
        check_content_type(self.content_type)
        if self.signing is not None and not isinstance(self.signing, UrlSigning):
            raise TypeError(f"signing must be a UrlSigning, not {type(self.signing).__name__}")

    def for_query(self, query: str) -> ServeOptions:
        """These options, made ``download`` when the URL's query asks for it."""
        if self.download or not download_asked(query):
            return self
        return dataclasses.replace(self, download=True)


def serve_options(
    options: ServeOptions | None,
    *,
    download: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
) -> ServeOptions:
    """The options of one response: ``options`` (default ``ServeOptions()``) with the
    keyword shorthands a route gives most often put in (``download=True``, a ``filename``
    or ``content_type`` to send instead of the stored one)."""
    base = options if options is not None else ServeOptions()
    if not isinstance(base, ServeOptions):
        raise TypeError(f"options must be a ServeOptions, not {type(base).__name__}")
    changes: dict[str, Any] = {}
    if download:
        changes["download"] = True
    if filename is not None:
        changes["filename"] = filename
    if content_type is not None:
        changes["content_type"] = content_type
    return dataclasses.replace(base, **changes) if changes else base


def check_lookup(lookup: str) -> str:
    """``lookup`` if a bucket app knows it, else a ValueError naming the choices."""
    if lookup not in LOOKUPS:
        raise ValueError(f"lookup must be 'id' or 'filename', not {lookup!r}")
    return lookup
