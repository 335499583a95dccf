"""What the async adapters share: finding the file, planning the answer, streaming its bytes.

Async-only (hand-written, not generated): the ASGI and aiohttp modules build on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from gridfield import AsyncDownloadStream, AsyncFileStore, FileInfo, NoFile
from gridfield.core.chunks import ChunkCheck, SequentialChecksum
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
from gridfield.core.queries import chunks_filter

__all__ = ["Served", "find_newest", "resolve_source", "serve", "stream_body"]


@dataclass(frozen=True)
class Served:
    """A planned response and the stream its body comes from (None when it has no body);
    ``lead``: the file's first chunks, already fetched and checked (a plain GET)."""

    plan: ResponsePlan
    stream: AsyncDownloadStream | None
    lead: tuple[bytes, ...] = ()


def resolve_source(source: Any, file_id: Any = NO_ID) -> tuple[AsyncFileStore | None, Any]:
    """The store and file id named by ``(store, file_id)`` or by a proxy (``doc.photo``);
    ``None`` (no such document) names no file: a 404."""
    if source is None and file_id is NO_ID:
        return None, None
    if file_id is NO_ID:
        store, grid_id = getattr(source, "store", None), getattr(source, "grid_id", None)
        if not isinstance(store, AsyncFileStore):
            raise TypeError(
                f"expected an AsyncFileStore and a file id, or a file field value such as"
                f" doc.photo, not {type(source).__name__}"
            )
        return store, grid_id
    if not isinstance(source, AsyncFileStore):
        raise TypeError(f"expected an AsyncFileStore, not {type(source).__name__}")
    return source, file_id


async def find_newest(store: AsyncFileStore, filename: str) -> FileInfo | None:
    """The newest revision of the files named ``filename``, or None."""
    async for info in store.find(
        {"filename": {"$eq": filename}}, sort=[("uploadDate", -1)], limit=1
    ):
        return info
    return None


# A GET with none of these asks for the whole file: its first chunks are fetched at once,
# alongside the files document, so a small file (a thumbnail) costs one round trip.
_NOT_PLAIN = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
_LEAD_CHUNKS = 2


def _plain_get(method: str, headers: Headers) -> bool:
    return method.upper() == "GET" and all(headers.get(name) is None for name in _NOT_PLAIN)


async def _lead_documents(store: AsyncFileStore, file_id: Any) -> list[Any]:
    cursor = store.chunks.find(chunks_filter(file_id, 0, _LEAD_CHUNKS - 1)).sort("n", 1)
    docs: list[Any] = await cursor.limit(_LEAD_CHUNKS).to_list(_LEAD_CHUNKS)
    return docs


def _check_lead(info: FileInfo, docs: list[Any]) -> tuple[bytes, ...]:
    """The payloads of the first chunks, each checked as any read checks it (an extra chunk
    of a one-chunk file included)."""
    check = ChunkCheck(info, 0, min(_LEAD_CHUNKS, info.chunk_count) - 1)
    lead = tuple(check.accept(doc) for doc in docs)
    check.finish()
    return lead


async def serve(
    store: AsyncFileStore | None,
    file_id: Any,
    method: str,
    headers: Headers,
    options: ServeOptions,
    *,
    info: FileInfo | None = None,
) -> Served:
    """Plan the answer to a request for a stored file: one files-collection query (and, for
    a plain GET, the first chunks at the same time), plus one chunk read when the content
    type must be sniffed; 404 when there is no such file."""
    if store is None:
        return Served(not_found(method), None)
    lead: tuple[bytes, ...] = ()
    if info is None:
        if file_id is None:
            return Served(not_found(method), None)
        plain = _plain_get(method, headers)
        try:
            if plain:
                info, docs = await asyncio.gather(
                    store.get_info(file_id), _lead_documents(store, file_id)
                )
                lead = _check_lead(info, docs)
            else:
                info = await store.get_info(file_id)
        except NoFile:
            return Served(not_found(method), None)
    decision = decide(info, method, headers, max_ranges=options.max_ranges)
    stream = AsyncDownloadStream(store, info)
    content_type = options.content_type
    if content_type is None and decision.needs_content_type and stored_content_type(info) is None:
        head = lead[0][:SNIFF_BYTES] if lead else await stream.read_range(0, SNIFF_BYTES)
        content_type = sniff_content_type(head) or FALLBACK_CONTENT_TYPE
    plan = plan_response(
        decision,
        content_type=content_type,
        download=options.download,
        filename=options.filename,
        cache_control=options.cache_control,
    )
    if not (plan.send_body and plan.parts):
        return Served(plan, None)
    return Served(plan, stream, lead if decision.spans == (ByteSpan(0, info.length),) else ())


async def _span(stream: AsyncDownloadStream, span: ByteSpan) -> AsyncIterator[bytes]:
    if span.end == stream.length:
        # To the end: one cursor over the chunks, in batches, checked to the last one.
        stream.seek(span.start)
        async for piece in stream:
            yield piece
        return
    for step in read_steps(span, stream.chunk_size):
        yield await stream.read_range(step.start, step.end)


async def _whole_from_lead(
    stream: AsyncDownloadStream, lead: tuple[bytes, ...]
) -> AsyncIterator[bytes]:
    """The whole file: the chunks in hand, then the rest from one cursor; its SHA-256 (if
    stored) is checked here, since the stream sees only the rest."""
    checksum = SequentialChecksum(stream.info)
    offset = 0
    try:
        for data in lead:
            checksum.feed(offset, data)
            offset += len(data)
            yield data
        if offset < stream.length:
            stream.seek(offset)
            async for data in stream:
                checksum.feed(offset, data)
                offset += len(data)
                yield data
        elif stream.length == 0:
            checksum.feed(0, b"")
    finally:
        await stream.close()


async def stream_body(served: Served) -> AsyncIterator[bytes]:
    """The body of a planned response, a chunk batch at a time (constant memory).

    A chunk that fails its check raises ``CorruptFile`` here, after the headers are sent:
    the adapter lets it through so the server cuts the connection instead of sending
    other bytes than the file's.
    """
    plan, stream = served.plan, served.stream
    if not plan.send_body:
        return
    if served.lead and stream is not None:
        async for data in _whole_from_lead(stream, served.lead):
            yield data
        return
    try:
        for piece in plan.pieces():
            if isinstance(piece, bytes):
                yield piece
            elif stream is not None:
                async for data in _span(stream, piece):
                    yield data
    finally:
        if stream is not None:
            await stream.close()
