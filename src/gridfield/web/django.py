"""Serving stored files from Django views: a ``StreamingHttpResponse`` for a request, and a
view that serves a whole bucket.

    from gridfield.web.django import gridfs_response

    def photo(request, pk):
        return gridfs_response(request, Animal.objects.get(id=pk).photo)

Uploads stream into GridFS through ``gridfield.web.django_uploads``. Uses the sync API
(``gridfield.sync``). Needs the ``django`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridfield.core.extras import missing_extra

try:
    from django.http import HttpRequest, StreamingHttpResponse
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "django") from exc

from gridfield._sync.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield.core.http import (
    NO_ID,
    RequestUrl,
    ServeOptions,
    object_id_or_none,
    serve_options,
)
from gridfield.sync import FileStore

__all__ = ["ServeOptions", "gridfs_response", "gridfs_view", "object_id_or_none"]


def _request_url(request: HttpRequest) -> RequestUrl:
    """The request's decoded path and raw query: what a signed URL's signature covers."""
    return RequestUrl(request.path, request.META.get("QUERY_STRING", ""))


def _respond(served: Served) -> StreamingHttpResponse:
    plan = served.plan
    # A CorruptFile mid-body propagates out of the iterator: the server then cuts the
    # connection rather than let the client take a short body for the file.
    response = StreamingHttpResponse(stream_body(served), status=plan.status)
    if plan.header("Content-Type") is None:
        del response.headers["Content-Type"]  # Django's default (text/html) says nothing true
    for name, value in plan.headers:
        response.headers[name] = value
    return response


def gridfs_response(
    request: HttpRequest,
    source: Any,
    file_id: Any = NO_ID,
    options: ServeOptions | None = None,
    *,
    download: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
) -> StreamingHttpResponse:
    """Answer ``request`` with a stored file: ``(request, store, file_id)`` or
    ``(request, doc.photo)``.

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
    method = request.method or "GET"
    url = _request_url(request)
    return _respond(serve(store, file_id, method, request.headers, options, url))


def gridfs_view(
    store: FileStore,
    options: ServeOptions | None = None,
    *,
    lookup: str = "id",
) -> Callable[[HttpRequest, str], StreamingHttpResponse]:
    """A view serving one bucket, called with the URL's ``name``: an ObjectId, or with
    ``lookup="filename"`` a filename (the newest revision)::

        path("files/<path:name>", gridfs_view(store))

    ``?download=1`` in the URL sends the file as an attachment. Anything that names no
    file (an id that is not an ObjectId included) is a 404.
    ``options`` (a ``ServeOptions``) apply to every file it serves; active content is sent
    as an attachment unless ``ServeOptions(inline_active=True)``.
    """
    bucket_store(store, lookup)
    options = serve_options(options)

    def view(request: HttpRequest, name: str) -> StreamingHttpResponse:
        method = request.method or "GET"  # ``name``: decoded by Django's URL resolver
        wanted = options.for_query(request.META.get("QUERY_STRING", ""))
        url = _request_url(request)
        return _respond(serve_path(store, lookup, name, method, request.headers, wanted, url))

    return view
