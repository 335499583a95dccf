"""Serving stored files to WSGI apps (Flask, werkzeug, any WSGI framework): a response that
is itself a WSGI app, and an app that serves a whole bucket, to mount.

    from gridfield.web.wsgi import GridFSResponse

    @app.get("/animals/<pk>/photo")
    def photo(pk):
        return GridFSResponse(Animal.objects.get(id=pk).photo)

Flask runs a returned WSGI app as the response, streaming its body. Uses the sync API
(``gridfield.sync``); the ``flask`` extra brings Flask, but this module imports no framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from gridfield._sync.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield.core.http import MAX_RANGES, NO_ID, ServeOptions, object_id_or_none
from gridfield.sync import FileStore

__all__ = ["EnvironHeaders", "GridFSApp", "GridFSResponse", "object_id_or_none"]

StartResponse = Callable[..., Any]

_REASONS = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    416: "Range Not Satisfiable",
}


class EnvironHeaders:
    """Request headers of a WSGI environ, looked up case-insensitively."""

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._environ = environ

    def get(self, name: str, /) -> str | None:
        """The header's value, or None."""
        value = self._environ.get("HTTP_" + name.upper().replace("-", "_"))
        return value if isinstance(value, str) else None


def _respond(served: Served, start_response: StartResponse) -> Iterator[bytes]:
    plan = served.plan
    start_response(f"{plan.status} {_REASONS.get(plan.status, '')}".rstrip(), plan.headers)
    # A CorruptFile mid-body propagates out of the iterator: the server then cuts the
    # connection rather than let the client take a short body for the file.
    return stream_body(served)


class GridFSResponse:
    """A stored file as a WSGI response: ``GridFSResponse(store, file_id)`` or
    ``GridFSResponse(doc.photo)``, returned from a Flask view or called as a WSGI app.

    Answers ``Range`` (206, multipart/byteranges, 416), conditional requests (304, 412) and
    ``HEAD``, with a strong ``ETag`` and ``Last-Modified`` from the files document; the
    body streams in constant memory. A missing file is a 404. ``download=True`` sends it
    as an attachment.
    """

    def __init__(
        self,
        source: Any,
        file_id: Any = NO_ID,
        *,
        download: bool = False,
        filename: str | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        max_ranges: int = MAX_RANGES,
    ) -> None:
        self.store, self.file_id = resolve_source(source, file_id)
        self.options = ServeOptions(download, filename, content_type, cache_control, max_ranges)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        served = serve(
            self.store,
            self.file_id,
            environ.get("REQUEST_METHOD", "GET"),
            EnvironHeaders(environ),
            self.options,
        )
        return _respond(served, start_response)


class GridFSApp:
    """A WSGI app serving one bucket: ``/<file id>`` (ObjectId), or with
    ``lookup="filename"`` ``/<filename>`` (the newest revision). Mount it under a prefix
    (werkzeug's ``DispatcherMiddleware``, for one). Anything that names no file (an id that
    is not an ObjectId included) is a 404.
    """

    def __init__(
        self,
        store: FileStore,
        *,
        lookup: str = "id",
        download: bool = False,
        cache_control: str | None = None,
        max_ranges: int = MAX_RANGES,
    ) -> None:
        self.store = bucket_store(store, lookup)
        self.lookup = lookup
        self.options = ServeOptions(download, None, None, cache_control, max_ranges)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        # PEP 3333: PATH_INFO is percent-decoded by the server, its bytes then decoded as
        # latin-1; a UTF-8 filename comes back whole. It is not decoded again.
        segment = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        options = self.options.for_query(environ.get("QUERY_STRING", ""))
        headers = EnvironHeaders(environ)
        served = serve_path(self.store, self.lookup, segment, method, headers, options)
        return _respond(served, start_response)
