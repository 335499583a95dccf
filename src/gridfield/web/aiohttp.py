"""Serving stored files from aiohttp apps: a ``web.StreamResponse`` built for a request, and a
handler that serves a whole bucket; receiving uploads from the request's body stream
straight into the store (``receive_files``, ``receive_body``, the ``upload_errors``
middleware).

    from gridfield.web.aiohttp import gridfs_response

    async def photo(request):
        animal = await Animal.objects(id=request.match_info["pk"]).first()
        return await gridfs_response(request, animal.photo)

Needs the ``aiohttp`` extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from gridfield.core.extras import missing_extra

try:
    from aiohttp import web
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "aiohttp") from exc

from gridfield import AsyncFileStore, receive_multipart, receive_raw
from gridfield._async.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield.core.guards import ProgressCallback
from gridfield.core.http import (
    NO_ID,
    RequestUrl,
    ServeOptions,
    object_id_or_none,
    serve_options,
)
from gridfield.core.http.errors import ANSWERED_ERRORS, error_answer
from gridfield.core.http.intake import (
    INTAKE_ERRORS,
    IntakeLimits,
    error_status,
    intake_limits,
    raw_body_filename,
)

from .async_intake import Receiving

__all__ = [
    "ServeOptions",
    "error_answers",
    "gridfs_handler",
    "gridfs_response",
    "object_id_or_none",
    "receive_body",
    "receive_files",
    "upload_errors",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _request_url(request: web.Request) -> RequestUrl:
    """The request's decoded path and raw query: what a signed URL's signature covers."""
    return RequestUrl(request.path, request.rel_url.raw_query_string)


# Set on a request once a stored file's response has begun: an error after that cannot be
# answered, the connection is cut instead. A typed key where aiohttp has them (3.12+).
_STARTED: Any = (
    web.RequestKey("gridfield.response_started", bool)
    if hasattr(web, "RequestKey")
    else "gridfield.response_started"
)


async def _respond(request: web.Request, served: Served) -> web.StreamResponse:
    plan = served.plan
    response = web.StreamResponse(status=plan.status, headers=plan.headers)
    request[_STARTED] = True
    await response.prepare(request)
    # A CorruptFile mid-body propagates: aiohttp then cuts the connection rather than let
    # the client take a short body for the file.
    async for data in stream_body(served):
        await response.write(data)
    await response.write_eof()
    return response


async def gridfs_response(
    request: web.Request,
    source: Any,
    file_id: Any = NO_ID,
    options: ServeOptions | None = None,
    *,
    download: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
) -> web.StreamResponse:
    """Answer ``request`` with a stored file: ``(request, store, file_id)`` or
    ``(request, doc.photo)``; return the response (already sent), as a handler must.

    Answers ``Range`` (206, multipart/byteranges, 416), conditional requests (304, 412) and
    ``HEAD``, with a strong ``ETag`` and ``Last-Modified`` from the files document; the
    body streams in constant memory. A missing file is a 404. ``download=True`` sends it
    as an attachment.
    ``options`` (a ``ServeOptions``: cache control, ranges, active content...) is taken
    whole; ``download``, ``filename`` and ``content_type`` are shorthands that go into it.
    A type that can carry active content (HTML, SVG, XML, JavaScript) is sent as an
    attachment unless ``ServeOptions(inline_active=True)``; every answer says
    ``X-Content-Type-Options: nosniff``.
    """
    store, file_id = resolve_source(source, file_id)
    options = serve_options(
        options, download=download, filename=filename, content_type=content_type
    )
    url = _request_url(request)
    served = await serve(store, file_id, request.method, request.headers, options, url)
    return await _respond(request, served)


def gridfs_handler(
    store: AsyncFileStore,
    options: ServeOptions | None = None,
    *,
    lookup: str = "id",
    key: str = "name",
) -> Handler:
    """A handler serving one bucket by the route's ``key`` match: an ObjectId, or with
    ``lookup="filename"`` a filename (the newest revision)::

        app.router.add_get("/files/{name}", gridfs_handler(store))

    ``?download=1`` in the URL sends the file as an attachment. Anything that names no
    file (an id that is not an ObjectId included) is a 404.
    ``options`` (a ``ServeOptions``) apply to every file it serves; active content is sent
    as an attachment unless ``ServeOptions(inline_active=True)``.
    """
    bucket_store(store, lookup)
    options = serve_options(options)

    async def handler(request: web.Request) -> web.StreamResponse:
        segment = request.match_info.get(key, "")  # decoded by aiohttp
        wanted = options.for_query(request.query_string)
        url = _request_url(request)
        served = await serve_path(
            store, lookup, segment, request.method, request.headers, wanted, url
        )
        return await _respond(request, served)

    return handler


# -- receiving uploads --------------------------------------------------------------------

# Bytes taken from the request's body stream at a time: one body piece in memory.
PIECE = 64 * 1024

# aiohttp's own streaming body, request.content, goes through the shared driver rather than
# aiohttp's MultipartReader: one parser, so that a form over a limit, broken, cut short or
# left by its client gets the same answer and the same clean-up in every adapter, and the
# limits on parts, headers and field bytes are counted in one place (core/http/intake.py).


def receive_files(
    request: web.Request,
    store: AsyncFileStore,
    limits: IntakeLimits | None = None,
    *,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Receiving:
    """Store each file of the request's ``multipart/form-data`` body in ``store`` as it
    streams in from ``request.content`` (constant memory, no temporary file), and collect
    its text fields: ``await`` it, or ``async with`` it to remove the files should the block
    raise. Limits and errors as for the ASGI adapter's ``receive_files``; the
    ``upload_errors`` middleware answers them with 413, 415 or 400. Don't read the body
    otherwise first (``request.post()``, ``request.multipart()``).
    """
    wanted = intake_limits(limits, max_size=max_size, content_types=content_types)
    return Receiving(
        lambda: receive_multipart(
            request.content.iter_chunked(PIECE),
            store,
            content_type=request.headers.get("Content-Type"),
            content_length=request.headers.get("Content-Length"),
            limits=wanted,
            metadata=metadata,
            on_progress=on_progress,
        )
    )


def receive_body(
    request: web.Request,
    store: AsyncFileStore,
    limits: IntakeLimits | None = None,
    *,
    filename: str | None = None,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Receiving:
    """Store the request's raw body as one file, as it streams in: named ``filename``, else
    by ``Content-Disposition``, else by the URL path's last segment; typed by
    ``Content-Type`` (guessed or sniffed when that is absent or
    ``application/octet-stream``). Over ``max_size`` by ``Content-Length``: FileTooLarge
    before a byte is read. ``limits`` (an ``IntakeLimits``) as for ``receive_files``."""
    name = raw_body_filename(
        filename,
        request.headers.get("Content-Disposition"),
        request.path.rstrip("/").rsplit("/", 1)[-1],
    )
    wanted = intake_limits(limits, max_size=max_size, content_types=content_types)
    return Receiving(
        lambda: receive_raw(
            request.content.iter_chunked(PIECE),
            store,
            filename=name,
            content_type=request.headers.get("Content-Type"),
            content_length=request.headers.get("Content-Length"),
            limits=wanted,
            metadata=metadata,
            on_progress=on_progress,
        )
    )


@web.middleware
async def upload_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Middleware answering the upload errors raised anywhere in a handler (FileTooLarge from
    ``doc.photo.put(request.content)`` too) with 413, 415 or 400 instead of a 500:
    ``web.Application(middlewares=[upload_errors])``."""
    try:
        return await handler(request)
    except INTAKE_ERRORS as exc:
        status = error_status(exc)
        assert status is not None
        return web.Response(status=status, text=f"{exc}\n")


@web.middleware
async def error_answers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Middleware answering every gridfield error raised in a handler: the upload refusals
    as ``upload_errors`` does (a missing form field or file: 400), NoFile 404, FileExpired
    410, CorruptFile a bare 500 (its details logged, not sent; once a file's body has begun
    the connection is cut instead): ``web.Application(middlewares=[error_answers])``."""
    try:
        return await handler(request)
    except ANSWERED_ERRORS as exc:
        answer = error_answer(exc)
        if answer is None or request.get(_STARTED):
            raise
        return web.Response(status=answer.status, text=answer.text)
