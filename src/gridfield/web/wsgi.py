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
from datetime import timedelta
from typing import Any

from gridfield._sync.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield._sync.tus_endpoint import TusHooks, answer
from gridfield.core.http import MAX_RANGES, NO_ID, ServeOptions, object_id_or_none
from gridfield.core.tus import BodyCut, TusOptions
from gridfield.sync import FileStore, ResumableStore

__all__ = ["EnvironHeaders", "GridFSApp", "GridFSResponse", "TusApp", "object_id_or_none"]

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
        key = name.upper().replace("-", "_")
        # PEP 3333: these two come without the HTTP_ prefix.
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
        value = self._environ.get(key)
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


_BODY_STEP = 1024 * 1024  # bytes read from wsgi.input at once


def _request_body(environ: Mapping[str, Any]) -> Iterator[bytes]:
    """The request body as it arrives; BodyCut when it ends before its Content-Length."""
    stream = environ.get("wsgi.input")
    size_text = environ.get("CONTENT_LENGTH") or ""
    left = int(size_text) if size_text.isdigit() else None
    if stream is None or left == 0:
        return
    while left is None or left > 0:
        try:
            data = stream.read(_BODY_STEP if left is None else min(_BODY_STEP, left))
        except (OSError, ValueError):
            raise BodyCut from None
        if not data:
            if left is not None:
                raise BodyCut
            return
        if left is not None:
            left -= len(data)
        yield data


class TusApp:
    """A WSGI app taking resumable uploads (tus 1.0) into the bucket of ``store``, to mount
    (werkzeug's ``DispatcherMiddleware``, for one)::

        DispatcherMiddleware(flask_app, {"/uploads": TusApp(store, max_size=2**30)})

    As ``gridfield.web.asgi.TusApp``, on the sync API: hooks are plain functions.
    """

    def __init__(
        self,
        store: FileStore,
        *,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        expire_after: timedelta | None = timedelta(days=1),
        authorise: Any = None,
        name_file: Any = None,
        on_complete: Any = None,
    ) -> None:
        options = TusOptions.of(
            max_size=max_size, content_types=content_types, expire_after=expire_after
        )
        self.uploads = ResumableStore(store, options)
        """The resumable store: ``remove_expired()`` for a periodic clean-up."""
        self.hooks = TusHooks(authorise, name_file, on_complete)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        segment = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        root = environ.get("SCRIPT_NAME", "")
        upload_id = segment.strip("/") or None
        location = root if upload_id is not None else root + segment
        result = answer(
            self.uploads,
            self.hooks,
            environ.get("REQUEST_METHOD", "GET"),
            upload_id,
            location or "/",
            EnvironHeaders(environ),
            _request_body(environ),
        )
        if isinstance(result, Served):
            return _respond(result, start_response)
        reason = _TUS_REASONS.get(result.status, _REASONS.get(result.status, ""))
        start_response(f"{result.status} {reason}".rstrip(), list(result.headers))
        return [result.body]


_TUS_REASONS = {
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    423: "Locked",
    460: "Checksum Mismatch",
    500: "Internal Server Error",
}
