"""Serving stored files to WSGI apps (Flask, werkzeug, any WSGI framework): a response that
is itself a WSGI app, and an app that serves a whole bucket, to mount.

    from gridfield.web.wsgi import GridFSResponse

    @app.get("/animals/<pk>/photo")
    def photo(pk):
        return GridFSResponse(Animal.objects.get(id=pk).photo)

Flask runs a returned WSGI app as the response, streaming its body. Uploads stream from the
WSGI input straight into the store: ``receive_files(request, store, max_size=...)`` (a Flask
request or a WSGI environ), ``receive_body(...)`` for a raw body, and
``register_error_handlers(app)`` to answer refusals with 413, 415 or 400. Uses the sync API
(``gridfield.sync``); the ``flask`` extra brings Flask, but this module imports no framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from gridfield._sync.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield._sync.tus_endpoint import TusHooks, answer
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
    IntakeLimits,
    check_declared_length,
    intake_limits,
    raw_body_filename,
)
from gridfield.core.tus import BodyCut, TusOptions, tus_options
from gridfield.sync import FileStore, Received, ResumableStore, receive_multipart, receive_raw

__all__ = [
    "EnvironHeaders",
    "GridFSApp",
    "GridFSResponse",
    "ServeOptions",
    "TusApp",
    "TusOptions",
    "object_id_or_none",
    "receive_body",
    "receive_files",
    "register_error_handlers",
    "upload_error_response",
]

StartResponse = Callable[..., Any]
_App = TypeVar("_App")

_REASONS = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    403: "Forbidden",
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


def _request_url(environ: Mapping[str, Any]) -> RequestUrl:
    """The request's path (SCRIPT_NAME and PATH_INFO, decoded as PEP 3333 leaves them) and
    raw query: what a signed URL's signature covers."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return RequestUrl(
        path.encode("latin-1").decode("utf-8", "replace"), environ.get("QUERY_STRING", "")
    )


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
    ``options`` (a ``ServeOptions``: cache control, ranges, active content...) is taken
    whole; ``download``, ``filename`` and ``content_type`` are shorthands that go into it.
    A type that can carry active content (HTML, SVG, XML, JavaScript) is sent as an
    attachment unless ``ServeOptions(inline_active=True)``; every answer says
    ``X-Content-Type-Options: nosniff``.
    """

    def __init__(
        self,
        source: Any,
        file_id: Any = NO_ID,
        options: ServeOptions | None = None,
        *,
        download: bool = False,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.store, self.file_id = resolve_source(source, file_id)
        self.options = serve_options(
            options, download=download, filename=filename, content_type=content_type
        )

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        served = serve(
            self.store,
            self.file_id,
            environ.get("REQUEST_METHOD", "GET"),
            EnvironHeaders(environ),
            self.options,
            _request_url(environ),
        )
        return _respond(served, start_response)


class GridFSApp:
    """A WSGI app serving one bucket: ``/<file id>`` (ObjectId), or with
    ``lookup="filename"`` ``/<filename>`` (the newest revision). Mount it under a prefix
    (werkzeug's ``DispatcherMiddleware``, for one). Anything that names no file (an id that
    is not an ObjectId included) is a 404.
    ``options`` (a ``ServeOptions``) apply to every file it serves; active content is sent
    as an attachment unless ``ServeOptions(inline_active=True)``.
    """

    def __init__(
        self,
        store: FileStore,
        options: ServeOptions | None = None,
        *,
        lookup: str = "id",
    ) -> None:
        self.store = bucket_store(store, lookup)
        self.lookup = lookup
        self.options = serve_options(options)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        # PEP 3333: PATH_INFO is percent-decoded by the server, its bytes then decoded as
        # latin-1; a UTF-8 filename comes back whole. It is not decoded again.
        segment = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        options = self.options.for_query(environ.get("QUERY_STRING", ""))
        headers = EnvironHeaders(environ)
        url = _request_url(environ)
        served = serve_path(self.store, self.lookup, segment, method, headers, options, url)
        return _respond(served, start_response)


# -- receiving uploads --------------------------------------------------------------------

# Bytes asked of the WSGI input at a time: one body piece in memory.
PIECE = 64 * 1024


def _environ(source: Any) -> Mapping[str, Any]:
    environ = getattr(source, "environ", source)  # a Flask or werkzeug request, or an environ
    if not isinstance(environ, Mapping) or "wsgi.input" not in environ:
        raise TypeError(
            f"expected a WSGI environ or a request with one (Flask's), not {type(source).__name__}"
        )
    return environ


def _pieces(environ: Mapping[str, Any]) -> Iterator[bytes]:
    """The body from ``wsgi.input``: ``Content-Length`` bytes, or with none, to the end when
    the server says the input ends there (``wsgi.input_terminated``, a chunked body)."""
    stream = environ["wsgi.input"]
    left = check_declared_length(environ.get("CONTENT_LENGTH") or None, None)
    if left is None and not environ.get("wsgi.input_terminated"):
        return  # PEP 3333: without a length, reading past the body may block
    while left is None or left > 0:
        block = stream.read(PIECE if left is None else min(PIECE, left))
        if not block:
            return  # ended early: the driver says the body was cut
        if left is not None:
            left -= len(block)
        yield block


def receive_files(
    request: Any,
    store: FileStore,
    limits: IntakeLimits | None = None,
    *,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Received:
    """Store each file of a ``multipart/form-data`` request (a Flask request or a WSGI
    environ) in ``store`` as it streams in from ``wsgi.input`` (constant memory, no
    temporary file of ours), and collect its text fields.

    Returns the ``Received`` (``files``, ``form``); ``with receive_files(...) as received:``
    removes the stored files should the block raise. Limits as for the ASGI adapter's
    ``receive_files``; FileTooLarge and FormTooLarge (413), ContentTypeRefused (415) and
    MalformedBody (400) leave nothing stored, and ``register_error_handlers(app)`` answers
    them. Don't touch ``request.form`` or ``request.files`` first: the body is read once.
    """
    environ = _environ(request)
    wanted = intake_limits(limits, max_size=max_size, content_types=content_types)
    return receive_multipart(
        _pieces(environ),
        store,
        content_type=environ.get("CONTENT_TYPE") or None,
        content_length=environ.get("CONTENT_LENGTH") or None,
        limits=wanted,
        metadata=metadata,
        on_progress=on_progress,
    )


def receive_body(
    request: Any,
    store: FileStore,
    limits: IntakeLimits | None = None,
    *,
    filename: str | None = None,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Received:
    """Store a request's raw body (``PUT``/``POST`` of the file's bytes) as one file, as it
    streams in: named ``filename``, else by ``Content-Disposition``, else by the URL path's
    last segment; typed by ``Content-Type`` (guessed or sniffed when that is absent or
    ``application/octet-stream``). Over ``max_size`` by ``Content-Length``: FileTooLarge
    before a byte is read. ``limits`` (an ``IntakeLimits``) as for ``receive_files``."""
    environ = _environ(request)
    raw_path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    name = raw_body_filename(
        filename,
        EnvironHeaders(environ).get("Content-Disposition"),
        raw_path.rstrip("/").rsplit("/", 1)[-1],
    )
    return receive_raw(
        _pieces(environ),
        store,
        filename=name,
        content_type=environ.get("CONTENT_TYPE") or None,
        content_length=environ.get("CONTENT_LENGTH") or None,
        limits=intake_limits(limits, max_size=max_size, content_types=content_types),
        metadata=metadata,
        on_progress=on_progress,
    )


def upload_error_response(error: Exception) -> tuple[str, int]:
    """A Flask error handler's answer to a gridfield error: a refused upload's message and
    413, 415 or 400 (a missing form field or file too); NoFile 404, FileExpired 410,
    CorruptFile a bare 500 (its details logged, not sent)."""
    answer = error_answer(error)
    if answer is None:
        raise error
    return answer.text, answer.status


def register_error_handlers(app: _App) -> _App:
    """Have a Flask app answer the gridfield errors raised anywhere in a view instead of a
    500: the upload errors (FileTooLarge from ``doc.photo.put(request.stream)`` too) with
    413, 415 or 400, a missing form field or file with 400, NoFile with 404, FileExpired
    with 410, CorruptFile with a bare 500; returns the app
    (``app = register_error_handlers(Flask(__name__))``)."""
    for kind in ANSWERED_ERRORS:
        app.register_error_handler(kind, upload_error_response)  # type: ignore[attr-defined]
    return app


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

    As ``gridfield.web.asgi.TusApp`` (``options`` a ``TusOptions``, ``max_size`` and
    ``content_types`` shorthands that go into it), on the sync API: hooks are plain functions.
    """

    def __init__(
        self,
        store: FileStore,
        options: TusOptions | None = None,
        *,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        authorise: Any = None,
        name_file: Any = None,
        on_complete: Any = None,
    ) -> None:
        options = tus_options(options, max_size=max_size, content_types=content_types)
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
