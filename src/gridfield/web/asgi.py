"""Serving stored files to ASGI apps: a response for Starlette and FastAPI route handlers, and
an app that serves a whole bucket, to mount; and receiving uploads straight into the store.

    from gridfield.web.asgi import GridFSResponse, UPLOAD_ERROR_HANDLERS, receive_files

    app = FastAPI(exception_handlers=UPLOAD_ERROR_HANDLERS)   # 413, 415, 400

    @app.get("/animals/{pk}/photo")
    async def photo(pk: str):
        animal = await Animal.objects(id=pk).first()
        return GridFSResponse(animal.photo)

    @app.post("/animals/{pk}/photo")
    async def upload(pk: str, request: Request):
        async with receive_files(request, store, max_size=10 * 2**20) as received:
            ...

Needs the ``asgi`` extra (Starlette; FastAPI builds on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from gridfield.core.extras import missing_extra

try:
    from starlette.datastructures import Headers
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import PlainTextResponse, Response
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "asgi", "fastapi") from exc

from gridfield import AsyncFileStore, receive_multipart, receive_raw
from gridfield._async.resumable import AsyncResumableStore
from gridfield._async.serving import (
    Served,
    bucket_store,
    resolve_source,
    serve,
    serve_path,
    stream_body,
)
from gridfield._async.tus_endpoint import TusHooks, answer
from gridfield.core.chunks import STREAM_BATCH_BYTES
from gridfield.core.errors import MalformedBody
from gridfield.core.guards import ProgressCallback
from gridfield.core.http import (
    NO_ID,
    RequestUrl,
    ResponsePlan,
    ServeOptions,
    object_id_or_none,
    serve_options,
)
from gridfield.core.http.errors import ANSWERED_ERRORS, FILE_ERRORS, error_answer
from gridfield.core.http.intake import (
    INTAKE_ERRORS,
    IntakeLimits,
    error_status,
    intake_limits,
    raw_body_filename,
)
from gridfield.core.tus import BodyCut, TusOptions, tus_options

from .async_intake import Receiving

__all__ = [
    "ERROR_HANDLERS",
    "FILE_ERROR_HANDLERS",
    "UPLOAD_ERROR_HANDLERS",
    "ClientGone",
    "GridFSApp",
    "GridFSResponse",
    "ServeOptions",
    "TusApp",
    "TusOptions",
    "error_response",
    "object_id_or_none",
    "receive_body",
    "receive_files",
    "upload_error_response",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _raw_headers(plan: ResponsePlan) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in plan.headers]


def _request_url(scope: Scope) -> RequestUrl:
    """The request's path as the app sees it (mount prefix included) and its raw query: what
    a signed URL's signature covers."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    full = path if not root or path.startswith(root) else root + path
    return RequestUrl(full, scope.get("query_string", b"").decode("latin-1"))


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_body(served: Served, send: Send) -> None:
    """The body's pieces as ASGI messages, the last one saying so (no empty message after
    it): the plan knows the body's length, and every check of the file (its chunks, its
    end, its SHA-256) is made before the last piece is handed out."""
    left = served.plan.content_length if served.plan.send_body else 0
    ended = False
    async for data in stream_body(served):
        left -= len(data)
        ended = left <= 0
        await send({"type": "http.response.body", "body": data, "more_body": not ended})
    if not ended:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _reads_for_long(served: Served) -> bool:
    """Whether sending the body may wait on the server for long: more than one streaming
    batch of the file to read. A shorter one comes in one reply (or is in the plan), so
    the client's going away need not be watched for: its one read ends soon anyway."""
    return served.stream is not None and served.plan.content_length > STREAM_BATCH_BYTES


async def _respond(
    served: Served, scope: Scope, receive: Receive, send: Send, extra: list[tuple[bytes, bytes]]
) -> None:
    """Send a planned response; stop reading the file as soon as the client goes away."""
    plan = served.plan
    await send(
        {
            "type": "http.response.start",
            "status": plan.status,
            "headers": _raw_headers(plan) + extra,
        }
    )
    if not _reads_for_long(served):
        await _send_body(served, send)
        return
    sending = asyncio.ensure_future(_send_body(served, send))
    watching = asyncio.ensure_future(_until_disconnect(receive))
    try:
        await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, watching):
            task.cancel()  # a no-op on a finished task
        await asyncio.wait({sending, watching})
    if not sending.cancelled():
        # A CorruptFile mid-body propagates: the server then cuts the connection rather
        # than let the client take a short body for the file.
        sending.result()


class GridFSResponse(Response):
    """A stored file as the response of a Starlette or FastAPI handler.

    ``GridFSResponse(store, file_id)`` or ``GridFSResponse(doc.photo)``. Answers ``Range``
    (206, multipart/byteranges, 416), conditional requests (304, 412) and ``HEAD``, with a
    strong ``ETag`` and ``Last-Modified`` from the files document; the body streams in
    constant memory. A missing file is a 404. ``download=True`` sends it as an attachment.
    ``options`` (a ``ServeOptions``: cache control, ranges, active content...) is taken
    whole; ``download``, ``filename`` and ``content_type`` are shorthands that go into it.
    A type that can carry active content (HTML, SVG, XML, JavaScript) is sent as an
    attachment unless ``ServeOptions(inline_active=True)``; every answer says
    ``X-Content-Type-Options: nosniff``.
    Headers added to ``response.headers`` (cookies...) are sent too.
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
        self.status_code = 200  # until a request decides
        self.background = None
        self.raw_headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        served = await serve(
            self.store,
            self.file_id,
            scope["method"],
            Headers(scope=scope),
            self.options,
            _request_url(scope),
        )
        self.status_code = served.plan.status
        await _respond(served, scope, receive, send, self.raw_headers)
        if self.background is not None:
            await self.background()


class GridFSApp:
    """An ASGI app serving one bucket: ``/<file id>`` (ObjectId), or with
    ``lookup="filename"`` ``/<filename>`` (the newest revision). Mount it under a prefix::

        app.mount("/files", GridFSApp(store))

    ``?download=1`` in the URL sends the file as an attachment. Anything that names no
    file (an id that is not an ObjectId included) is a 404.
    ``options`` (a ``ServeOptions``) apply to every file it serves; active content is sent
    as an attachment unless ``ServeOptions(inline_active=True)``.
    """

    def __init__(
        self,
        store: AsyncFileStore,
        options: ServeOptions | None = None,
        *,
        lookup: str = "id",
    ) -> None:
        self.store = bucket_store(store, lookup)
        self.lookup = lookup
        self.options = serve_options(options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan and websockets: nothing to do
        # The server has percent-decoded the path already: it is used as it comes.
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        segment = path[len(root) :] if root and path.startswith(root) else path
        options = self.options.for_query(scope.get("query_string", b"").decode("latin-1"))
        served = await serve_path(
            self.store,
            self.lookup,
            segment,
            scope["method"],
            Headers(scope=scope),
            options,
            _request_url(scope),
        )
        await _respond(served, scope, receive, send, [])


# -- receiving uploads --------------------------------------------------------------------

_log = logging.getLogger("gridfield.web")


class ClientGone(MalformedBody, HTTPException):
    """The client went away before its request body ended: what it had sent is removed.

    A MalformedBody (400, which nobody reads), and a Starlette HTTPException too, so an app
    answers it without a traceback whether or not it installed ``UPLOAD_ERROR_HANDLERS``:
    a client that leaves is no failure of the server's.
    """

    def __init__(self, message: str) -> None:
        MalformedBody.__init__(self, message)
        HTTPException.__init__(self, 400, message)

    def __str__(self) -> str:
        return str(self.detail)


async def _body_of(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives; ClientGone (noted at info) when the client leaves."""
    seen = 0
    try:
        async for piece in request.stream():
            seen += len(piece)
            yield piece
    except ClientDisconnect:
        _log.info(
            "%s %s: the client went away after %d body bytes; what it sent is removed",
            request.method,
            request.url.path,
            seen,
        )
        raise ClientGone(
            f"the client went away after {seen} bytes of the request body: what it sent is removed"
        ) from None


def receive_files(
    request: Request,
    store: AsyncFileStore,
    limits: IntakeLimits | None = None,
    *,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Receiving:
    """Store each file of the request's ``multipart/form-data`` body in ``store`` as it
    streams in (constant memory, no temporary file), and collect its text fields.

    ``received = await receive_files(...)``, or ``async with receive_files(...) as received:``
    to have the stored files removed should the block raise. ``received.files`` (each with
    ``field``, ``filename``, ``content_type``, ``info``; ``doc.photo = received.file("photo")``)
    and ``received.form``. ``limits`` (an ``IntakeLimits``: per file, files, parts, fields,
    body) is taken whole; ``max_size`` and ``content_types`` are shorthands that go into it.
    Limits are checked against ``Content-Length`` before the body is read and as it
    arrives: FileTooLarge and
    FormTooLarge (413), ContentTypeRefused (415), MalformedBody (400), each leaving nothing
    stored; ``UPLOAD_ERROR_HANDLERS`` answers them. Don't read the form with Starlette too
    (``request.form()``, FastAPI's ``UploadFile``): the body can be read once.
    """
    wanted = intake_limits(limits, max_size=max_size, content_types=content_types)
    return Receiving(
        lambda: receive_multipart(
            _body_of(request),
            store,
            content_type=request.headers.get("content-type"),
            content_length=request.headers.get("content-length"),
            limits=wanted,
            metadata=metadata,
            on_progress=on_progress,
        )
    )


def receive_body(
    request: Request,
    store: AsyncFileStore,
    limits: IntakeLimits | None = None,
    *,
    filename: str | None = None,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Receiving:
    """Store the request's raw body (``PUT``/``POST`` of the file's bytes) as one file, as
    it streams in; awaited or entered as ``receive_files`` is.

    Named ``filename``, else by the ``Content-Disposition`` header, else by the URL path's
    last segment; typed by ``Content-Type``, guessed from the name or sniffed from the first
    bytes when that is absent or ``application/octet-stream``. Over ``max_size`` by
    ``Content-Length``: FileTooLarge before a byte is read; by the bytes sent: as they pass.
    ``limits`` (an ``IntakeLimits``; ``max_body`` counts here too) as for ``receive_files``.
    """
    wanted = intake_limits(limits, max_size=max_size, content_types=content_types)
    name = raw_body_filename(
        filename,
        request.headers.get("content-disposition"),
        request.url.path.rstrip("/").rsplit("/", 1)[-1],
    )
    return Receiving(
        lambda: receive_raw(
            _body_of(request),
            store,
            filename=name,
            content_type=request.headers.get("content-type"),
            content_length=request.headers.get("content-length"),
            limits=wanted,
            metadata=metadata,
            on_progress=on_progress,
        )
    )


async def upload_error_response(request: Request, exc: Exception) -> Response:
    """The answer to an upload refused anywhere in a route: 413 (FileTooLarge,
    FormTooLarge), 415 (ContentTypeRefused) or 400 (MalformedBody), the error's message as
    plain text. The connection closes: what the client still sends is not read."""
    status = error_status(exc)
    if status is None:
        raise exc
    return PlainTextResponse(f"{exc}\n", status_code=status)


UPLOAD_ERROR_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    kind: upload_error_response for kind in INTAKE_ERRORS
}
"""Exception handlers for Starlette and FastAPI apps: ``FastAPI(exception_handlers=
UPLOAD_ERROR_HANDLERS)`` answers the upload errors raised anywhere in a route (FileTooLarge
from ``doc.photo.put(request.stream())`` too) with 413, 415 or 400 instead of a 500."""


async def error_response(request: Request, exc: Exception) -> Response:
    """The answer to a gridfield error raised in a route: the upload refusals as
    ``upload_error_response`` answers them (a missing form field or file: 400), NoFile 404,
    FileExpired 410, CorruptFile a bare 500 (its details logged, not sent)."""
    answer = error_answer(exc)
    if answer is None:
        raise exc
    return PlainTextResponse(answer.text, status_code=answer.status)


FILE_ERROR_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    kind: error_response for kind in FILE_ERRORS
}
"""Exception handlers for a stored file's errors: NoFile 404, FileExpired 410, CorruptFile 500."""

ERROR_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    kind: error_response for kind in ANSWERED_ERRORS
}
"""Every ready answer: ``FastAPI(exception_handlers=ERROR_HANDLERS)`` answers the upload
errors (413, 415, 400, a missing form field or file included) and a stored file's (404,
410, 500) raised anywhere in a route."""


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives; BodyCut when the client goes away before its end."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyCut
        data = message.get("body", b"")
        if data:
            yield data
        if not message.get("more_body", False):
            return


class TusApp:
    """An ASGI app taking resumable uploads (tus 1.0) into the bucket of ``store``, to mount::

        app.mount("/uploads", TusApp(store, max_size=2**30, content_types=["video/*"]))
        app.mount("/clips", TusApp(store, TusOptions(expire_after=None, max_parts=8)))

    ``options`` (a ``TusOptions``) holds the endpoint's limits; ``max_size`` and
    ``content_types`` are shorthands that go into it.

    POST creates an upload (``Location: /uploads/<id>``), HEAD reports its offset, PATCH adds
    bytes, DELETE terminates it; a GET of a completed upload serves its file. Extensions:
    creation, creation-with-upload, creation-defer-length, termination, checksum (sha1,
    sha256, md5), expiration (``TusOptions.expire_after``, None for none) and concatenation.
    Hooks (coroutine functions): ``authorise``, ``name_file`` and ``on_complete``, as
    ``TusHooks`` describes.
    """

    def __init__(
        self,
        store: AsyncFileStore,
        options: TusOptions | None = None,
        *,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        authorise: Any = None,
        name_file: Any = None,
        on_complete: Any = None,
    ) -> None:
        options = tus_options(options, max_size=max_size, content_types=content_types)
        self.uploads = AsyncResumableStore(store, options)
        """The resumable store: ``remove_expired()`` for a periodic clean-up."""
        self.hooks = TusHooks(authorise, name_file, on_complete)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        segment = path[len(root) :] if root and path.startswith(root) else path
        upload_id = segment.strip("/") or None
        location = root if upload_id is not None else root + segment
        result = await answer(
            self.uploads,
            self.hooks,
            scope["method"],
            upload_id,
            location or "/",
            Headers(scope=scope),
            _request_body(receive),
        )
        if isinstance(result, Served):
            await _respond(result, scope, receive, send, [])
            return
        await send(
            {
                "type": "http.response.start",
                "status": result.status,
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in result.headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": result.body, "more_body": False})
