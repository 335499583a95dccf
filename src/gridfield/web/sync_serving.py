"""What the sync adapters share: finding the file, planning the answer, streaming its bytes.

Sync-only (hand-written, not generated: the twin of ``async_serving``): the WSGI and Django
modules build on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gridfield.core.http import (
    FALLBACK_CONTENT_TYPE,
    NO_ID,
    ByteSpan,
    Headers,
    ResponsePlan,
    ServeOptions,
    decide,
    not_found,
    plan_response,
    read_steps,
    stored_content_type,
)
from gridfield.core.metadata import SNIFF_BYTES, sniff_content_type
from gridfield.sync import DownloadStream, FileInfo, FileStore, NoFile

__all__ = ["Served", "find_newest", "resolve_source", "serve", "stream_body"]


@dataclass(frozen=True)
class Served:
    """A planned response and the stream its body comes from (None when it has no body)."""

    plan: ResponsePlan
    stream: DownloadStream | None


def resolve_source(source: Any, file_id: Any = NO_ID) -> tuple[FileStore | None, Any]:
    """The store and file id named by ``(store, file_id)`` or by a proxy (``doc.photo``);
    ``None`` (no such document) names no file: a 404."""
    if source is None and file_id is NO_ID:
        return None, None
    if file_id is NO_ID:
        store, grid_id = getattr(source, "store", None), getattr(source, "grid_id", None)
        if not isinstance(store, FileStore):
            raise TypeError(
                f"expected a FileStore and a file id, or a file field value such as"
                f" doc.photo, not {type(source).__name__}"
            )
        return store, grid_id
    if not isinstance(source, FileStore):
        raise TypeError(f"expected a FileStore, not {type(source).__name__}")
    return source, file_id


def find_newest(store: FileStore, filename: str) -> FileInfo | None:
    """The newest revision of the files named ``filename``, or None."""
    for info in store.find({"filename": {"$eq": filename}}, sort=[("uploadDate", -1)], limit=1):
        return info
    return None


def serve(
    store: FileStore | None,
    file_id: Any,
    method: str,
    headers: Headers,
    options: ServeOptions,
    *,
    info: FileInfo | None = None,
) -> Served:
    """Plan the answer to a request for a stored file: one files-collection query, plus one
    chunk read when the content type must be sniffed; 404 when there is no such file."""
    if store is None:
        return Served(not_found(method), None)
    if info is None:
        if file_id is None:
            return Served(not_found(method), None)
        try:
            info = store.get_info(file_id)
        except NoFile:
            return Served(not_found(method), None)
    decision = decide(info, method, headers, max_ranges=options.max_ranges)
    stream = DownloadStream(store, info)
    content_type = options.content_type
    if content_type is None and decision.needs_content_type and stored_content_type(info) is None:
        head = stream.read_range(0, SNIFF_BYTES)
        content_type = sniff_content_type(head) or FALLBACK_CONTENT_TYPE
    plan = plan_response(
        decision,
        content_type=content_type,
        download=options.download,
        filename=options.filename,
        cache_control=options.cache_control,
    )
    return Served(plan, stream if plan.send_body and plan.parts else None)


def _span(stream: DownloadStream, span: ByteSpan) -> Iterator[bytes]:
    if span.end == stream.length:
        # To the end: one cursor over the chunks, in batches, checked to the last one.
        stream.seek(span.start)
        yield from stream
        return
    for step in read_steps(span, stream.chunk_size):
        yield stream.read_range(step.start, step.end)


def stream_body(served: Served) -> Iterator[bytes]:
    """The body of a planned response, a chunk batch at a time (constant memory).

    A chunk that fails its check raises ``CorruptFile`` here, after the headers are sent:
    the adapter lets it through so the server cuts the connection instead of sending
    other bytes than the file's.
    """
    plan, stream = served.plan, served.stream
    if not plan.send_body:
        return
    try:
        for piece in plan.pieces():
            if isinstance(piece, bytes):
                yield piece
            elif stream is not None:
                yield from _span(stream, piece)
    finally:
        if stream is not None:
            stream.close()
