"""The answers of a tus endpoint, sans I/O: status, headers and body for each request kind."""

from __future__ import annotations

from dataclasses import dataclass

from .headers import TUS_VERSION, TusError, format_expires
from .options import TusOptions
from .state import UploadState

__all__ = [
    "TusResponse",
    "created",
    "discovery",
    "error_response",
    "patched",
    "status_of_upload",
    "terminated",
]

_BASE = (("Tus-Resumable", TUS_VERSION),)
# Every answer about an upload's progress: a cache must never replay an old offset.
_NO_STORE = (("Cache-Control", "no-store"),)


@dataclass(frozen=True)
class TusResponse:
    """What to answer: status, headers (name, value) and a body (a refusal's message)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


def _expiry(state: UploadState) -> tuple[tuple[str, str], ...]:
    # A finished upload expires too (its registry entry goes, its file stays; a partial one
    # goes whole), so the PATCH that completes it says when, as every other does.
    if state.expires is None:
        return ()
    return (("Upload-Expires", format_expires(state.expires)),)


def discovery(options: TusOptions) -> TusResponse:
    """204 to ``OPTIONS``: version, extensions, ``Tus-Max-Size``, checksum algorithms."""
    return TusResponse(204, tuple(options.discovery_headers()))


def created(state: UploadState, location: str, *, with_body: bool) -> TusResponse:
    """201 to a creation: ``Location``, and ``Upload-Offset`` when its body carried bytes."""
    headers = [*_BASE, ("Location", location), *_expiry(state)]
    if with_body:
        headers.append(("Upload-Offset", str(state.offset)))
    return TusResponse(201, tuple(headers))


def status_of_upload(state: UploadState) -> TusResponse:
    """200 to ``HEAD``: the offset (a final upload's once joined), the length or
    ``Upload-Defer-Length: 1``, ``Upload-Concat`` as created, the metadata as the client gave
    it, the expiry of an upload that will expire; never cached."""
    headers = [*_BASE, *_NO_STORE]
    if not state.is_final or state.complete:
        # A final upload's offset means nothing until its join is done.
        headers.append(("Upload-Offset", str(state.offset)))
    if state.concat is not None:
        headers.append(("Upload-Concat", state.concat))
    if state.length is None:
        headers.append(("Upload-Defer-Length", "1"))
    else:
        headers.append(("Upload-Length", str(state.length)))
    if state.metadata_header:
        headers.append(("Upload-Metadata", state.metadata_header))
    headers.extend(_expiry(state))
    return TusResponse(200, tuple(headers))


def patched(state: UploadState) -> TusResponse:
    """204 to a PATCH: the new offset, and the expiry whenever the upload (finished or not)
    will expire."""
    return TusResponse(204, (*_BASE, ("Upload-Offset", str(state.offset)), *_expiry(state)))


def terminated() -> TusResponse:
    """204 to a ``DELETE``."""
    return TusResponse(204, _BASE)


def error_response(error: TusError, *, offset_of: UploadState | None = None) -> TusResponse:
    """The refusal ``error`` as an answer: its status, ``Tus-Resumable`` and the headers it
    carries, its message as a plain-text body. ``offset_of``: the upload whose (unchanged)
    offset a refused PATCH reports."""
    headers = [*_BASE, *_NO_STORE, *error.headers, ("Content-Type", "text/plain; charset=utf-8")]
    if offset_of is not None:
        headers.append(("Upload-Offset", str(offset_of.offset)))
    return TusResponse(error.status, tuple(headers), str(error).encode("utf-8"))
