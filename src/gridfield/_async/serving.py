"""Serving a stored file over HTTP, what every web adapter calls: find the file, plan the
answer (``core.http``), and stream its bytes from the download stream, which checks them."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import telemetry
from ..core.content_types import SNIFF_BYTES
from ..core.errors import NoFile
from ..core.http import (
    FALLBACK_CONTENT_TYPE,
    NO_ID,
    Headers,
    ResponsePlan,
    ServeOptions,
    bucket_target,
    check_lookup,
    decide,
    must_sniff,
    not_found,
    plain_get,
    plan_response,
    stored_content_type,
)
from ..core.http.signing import FileRef, RequestUrl, forbidden
from ..telemetry import NO_OPERATION, Operation
from .download import AsyncDownloadStream
from .store import AsyncFileStore

__all__ = ["Served", "bucket_store", "resolve_source", "serve", "serve_path", "stream_body"]


@dataclass(frozen=True)
class Served:
    """A planned response and the stream its body comes from (None when it has no body);
    ``begun``: the body's first piece, already read to sniff the content type, and the
    rest of it."""

    plan: ResponsePlan
    stream: AsyncDownloadStream | None = None
    begun: tuple[bytes, AsyncIterator[bytes]] | None = None
    operation: Operation = NO_OPERATION
    """The request's telemetry, ended once its body is sent (``gridfield.telemetry``)."""


_STORE = AsyncFileStore.__name__  # the class name of this twin's store, for messages


def bucket_store(store: Any, lookup: str) -> AsyncFileStore:
    """``store`` if a bucket app can serve it by ``lookup``; TypeError or ValueError else."""
    check_lookup(lookup)
    if not isinstance(store, AsyncFileStore):
        raise TypeError(f"expected {_STORE}, not {type(store).__name__}")
    return store


def resolve_source(source: Any, file_id: Any = NO_ID) -> tuple[AsyncFileStore | None, Any]:
    """The store and file id named by ``(store, file_id)`` or by a proxy (``doc.photo``);
    ``None`` (no such document) names no file: a 404."""
    if source is None and file_id is NO_ID:
        return None, None
    if file_id is NO_ID:
        store, grid_id = getattr(source, "store", None), getattr(source, "grid_id", None)
        if not isinstance(store, AsyncFileStore):
            raise TypeError(
                f"expected {_STORE} and a file id, or a file field value such as doc.photo,"
                f" not {type(source).__name__}"
            )
        return store, grid_id
    if not isinstance(source, AsyncFileStore):
        raise TypeError(f"expected {_STORE}, not {type(source).__name__}")
    return source, file_id


@dataclass(frozen=True)
class _Signed:
    """What a good signature lets through: the options it sets, its expiry, its revision."""

    options: ServeOptions
    until: datetime | None = None
    revision: int | None = None


def _check_signature(
    options: ServeOptions, method: str, url: RequestUrl | None, ref: FileRef | None
) -> _Signed | Served:
    """The request through when the options sign nothing or its signature is good; else
    its 403 (before anything tells whether the file exists)."""
    signing = options.signing
    if signing is None:
        return _Signed(options)
    if url is None:
        raise TypeError("signed serving needs the request's URL (path and query)")
    if ref is None:
        return Served(forbidden(method, "the URL names no file"))
    checked = signing.check(method, url.path, url.query, ref)
    if not checked.ok:
        return Served(forbidden(method, checked.reason))
    if checked.download and not options.download:
        options = dataclasses.replace(options, download=True)
    return _Signed(options, checked.expires, checked.revision)


async def serve(
    store: AsyncFileStore | None,
    file_id: Any,
    method: str,
    headers: Headers,
    options: ServeOptions,
    url: RequestUrl | None = None,
) -> Served:
    """Plan the answer to a request for the stored file ``file_id``: the files query (and,
    for a plain GET, the chunk cursor the body continues, sent with it); 404 when there
    is no such file. With ``options.signing``, ``url`` (the request's) must be signed for
    this file: 403 otherwise."""
    signed = _check_signature(
        options, method, url, None if file_id is None else FileRef(file_id=file_id)
    )
    if isinstance(signed, Served):
        return signed
    if store is None or file_id is None:
        return Served(not_found(method))
    op = telemetry.begin("serve", bucket=store.collection_name, file_id=file_id, method=method)
    try:
        with op.current():
            stream = await store.open_download(file_id, eager=plain_get(method, headers))
    except NoFile:
        op.set(status=404)
        op.end()
        return Served(not_found(method))
    except BaseException as exc:
        op.end(exc)
        raise
    stream.observed_by(op)
    return await _planned(stream, method, headers, signed.options, op, signed.until)


async def serve_path(
    store: AsyncFileStore,
    lookup: str,
    segment: str,
    method: str,
    headers: Headers,
    options: ServeOptions,
    url: RequestUrl | None = None,
) -> Served:
    """Plan the answer of a bucket app to a request for the path ``segment`` (decoded once,
    by the server): a file id, or with ``lookup="filename"`` the newest revision of the
    files of that name (a signed URL may name another revision); anything that names no
    file is a 404."""
    target = bucket_target(segment, lookup)
    if target.filename is None:
        return await serve(store, target.file_id, method, headers, options, url)
    signed = _check_signature(options, method, url, FileRef(filename=target.filename))
    if isinstance(signed, Served):
        return signed
    revision = -1 if signed.revision is None else signed.revision
    op = telemetry.begin(
        "serve", bucket=store.collection_name, filename=target.filename, method=method
    )
    try:
        with op.current():
            info = await store.get_info_by_name(target.filename, revision)
    except NoFile:
        op.set(status=404)
        op.end()
        return Served(not_found(method))
    except BaseException as exc:
        op.end(exc)
        raise
    op.set(file_id=info.file_id)
    stream = AsyncDownloadStream(store, info)
    stream.observed_by(op)
    return await _planned(stream, method, headers, signed.options, op, signed.until)


async def _planned(
    stream: AsyncDownloadStream,
    method: str,
    headers: Headers,
    options: ServeOptions,
    op: Operation = NO_OPERATION,
    until: datetime | None = None,
) -> Served:
    try:
        with op.current():
            return await _plan_with(stream, method, headers, options, op, until)
    except BaseException as exc:
        op.end(exc)
        raise


async def _plan_with(
    stream: AsyncDownloadStream,
    method: str,
    headers: Headers,
    options: ServeOptions,
    op: Operation,
    until: datetime | None,
) -> Served:
    try:
        info = stream.info
        decision = decide(info, method, headers, max_ranges=options.max_ranges)
        content_type = options.content_type
        begun: tuple[bytes, AsyncIterator[bytes]] | None = None
        if must_sniff(decision, content_type, info):
            if decision.method == "GET" and len(decision.spans) == 1:
                # The whole file or one range: the body's cursor brings chunk 0 too, which
                # names the type, and the body goes on from its first piece.
                (span,) = decision.spans
                head, piece, body = await stream.begin_range(span.start, span.end)
                begun = (piece, body)
            else:
                head = await stream.read_range(0, SNIFF_BYTES)
            content_type = stored_content_type(info, head[:SNIFF_BYTES]) or FALLBACK_CONTENT_TYPE
        plan = plan_response(
            decision,
            content_type=content_type,
            download=options.download,
            filename=options.filename,
            cache_control=options.cache_control,
            inline_active=options.inline_active,
            until=until,
        )
    except BaseException:
        await stream.close()
        raise
    op.set(status=plan.status, length=info.length)
    if len(decision.spans) == 1 and plan.status == 206:
        op.set(range_start=decision.spans[0].start, range_end=decision.spans[0].end)
    if plan.send_body and plan.parts:
        return Served(plan, stream, begun, op)
    await stream.close()
    op.end()
    return Served(plan)


async def stream_body(served: Served) -> AsyncIterator[bytes]:
    """The body of a planned response, a chunk at a time (constant memory).

    A chunk that fails its check (or a whole file its SHA-256) raises ``CorruptFile``
    here, after the headers are sent: the adapter lets it through so the server cuts the
    connection instead of sending other bytes than the file's.
    """
    plan, stream, begun, op = served.plan, served.stream, served.begun, served.operation
    failure: BaseException | None = None
    try:
        if not plan.send_body:
            return
        if begun is not None:
            head, rest = begun
            if head:
                yield head
            async for data in rest:
                yield data
            return
        for piece in plan.pieces():
            if isinstance(piece, bytes):
                yield piece
            elif stream is not None:
                async for data in stream.iter_range(piece.start, piece.end):
                    yield data  # counted by the stream, into the request's operation
    except BaseException as exc:
        failure = exc
        raise
    finally:
        op.end(failure)
        if begun is not None:
            await begun[1].aclose()  # type: ignore[attr-defined]
        if stream is not None:
            await stream.close()
