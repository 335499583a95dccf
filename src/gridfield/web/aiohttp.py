"""Serving stored files from aiohttp apps: a ``web.StreamResponse`` built for a request, and a
handler that serves a whole bucket.

    from gridfield.web.aiohttp import gridfs_response

    async def photo(request):
        animal = await Animal.objects(id=request.match_info["pk"]).first()
        return await gridfs_response(request, animal.photo)

Needs the ``aiohttp`` extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gridfield import AsyncFileStore
from gridfield._async.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield.core.http import MAX_RANGES, NO_ID, ServeOptions, object_id_or_none

__all__ = ["gridfs_handler", "gridfs_response", "object_id_or_none"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _respond(request: web.Request, served: Served) -> web.StreamResponse:
    plan = served.plan
    response = web.StreamResponse(status=plan.status, headers=plan.headers)
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
    *,
    download: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
    cache_control: str | None = None,
    max_ranges: int = MAX_RANGES,
) -> web.StreamResponse:
    """Answer ``request`` with a stored file: ``(request, store, file_id)`` or
    ``(request, doc.photo)``; return the response (already sent), as a handler must.

    Answers ``Range`` (206, multipart/byteranges, 416), conditional requests (304, 412) and
    ``HEAD``, with a strong ``ETag`` and ``Last-Modified`` from the files document; the
    body streams in constant memory. A missing file is a 404. ``download=True`` sends it
    as an attachment.
    """
    store, file_id = resolve_source(source, file_id)
    options = ServeOptions(download, filename, content_type, cache_control, max_ranges)
    served = await serve(store, file_id, request.method, request.headers, options)
    return await _respond(request, served)


def gridfs_handler(
    store: AsyncFileStore,
    *,
    lookup: str = "id",
    key: str = "name",
    download: bool = False,
    cache_control: str | None = None,
    max_ranges: int = MAX_RANGES,
) -> Handler:
    """A handler serving one bucket by the route's ``key`` match: an ObjectId, or with
    ``lookup="filename"`` a filename (the newest revision)::

        app.router.add_get("/files/{name}", gridfs_handler(store))

    ``?download=1`` in the URL sends the file as an attachment. Anything that names no
    file (an id that is not an ObjectId included) is a 404.
    """
    bucket_store(store, lookup)
    options = ServeOptions(download, None, None, cache_control, max_ranges)

    async def handler(request: web.Request) -> web.StreamResponse:
        segment = request.match_info.get(key, "")  # decoded by aiohttp
        wanted = options.for_query(request.query_string)
        served = await serve_path(store, lookup, segment, request.method, request.headers, wanted)
        return await _respond(request, served)

    return handler
