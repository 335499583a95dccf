"""What a response says about the file it carries: content type and ``Content-Disposition``."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from ..content_types import FALLBACK_CONTENT_TYPE, content_type_of
from ..files_document import FileInfo

__all__ = [
    "FALLBACK_CONTENT_TYPE",
    "content_disposition",
    "download_asked",
    "stored_content_type",
]

# RFC 5987 attr-char: what may stand unencoded in a filename* value.
_ATTR_SAFE = "!#$&+-.^_`|~"


def stored_content_type(info: FileInfo, head: bytes | None = None) -> str | None:
    """The content type the files document gives (``metadata.contentType``, top-level
    ``contentType``, or ``metadata.content_type`` as apps commonly write it), else the one
    the filename's extension implies, else the one the first bytes (``head``) show; None
    when a sniff of the first bytes is needed (or shows nothing). The rule is
    ``content_type_of``'s for a stored file: a stored type that is no valid media type is
    answered as FALLBACK_CONTENT_TYPE.
    """
    legacy = info.metadata.get("content_type")
    declared = info.content_type or (legacy if isinstance(legacy, str) else None)
    return content_type_of(declared, info.filename, head, stored=True)


def _basename(filename: str) -> str:
    """The last path segment: a stored name may carry folders a browser would reject."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


def content_disposition(filename: object, *, download: bool) -> str | None:
    """``inline`` or ``attachment`` with the filename per RFC 6266: a quoted ASCII fallback,
    plus ``filename*`` in UTF-8 when the name is not plain ASCII. None for an inline
    response without a filename (nothing worth saying)."""
    kind = "attachment" if download else "inline"
    if not isinstance(filename, str) or not filename:
        # Another writer may have stored a filename that is no str at all.
        return kind if download else None
    name = "".join(ch for ch in _basename(filename) if ch.isprintable())
    if not name:
        return kind if download else None
    fallback = "".join(ch if 32 <= ord(ch) < 127 else "_" for ch in name)
    fallback = fallback.replace("\\", "\\\\").replace('"', '\\"')
    value = f'{kind}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe=_ATTR_SAFE)}"
    return value


def download_asked(query: str) -> bool:
    """Whether a URL's query asks to save the file rather than show it (``?download=1``;
    also ``true``, ``yes`` or an empty value)."""
    values = parse_qs(query, keep_blank_values=True).get("download", [])
    return any(v.lower() in ("", "1", "true", "yes") for v in values)
