"""Django uploads streamed straight into GridFS: an upload handler for
``FILE_UPLOAD_HANDLERS``, the uploaded file it hands the view, and the middleware that
answers refusals (413, 415) and removes what a failed request stored.

    # settings.py
    FILE_UPLOAD_HANDLERS = ["gridfield.web.django_uploads.GridFSUploadHandler"]
    MIDDLEWARE = ["gridfield.web.django_uploads.GridFSUploadMiddleware", ...]
    GRIDFIELD_UPLOADS = {"alias": "default", "max_size": 10 * 2**20}

Uses the sync API (``gridfield.sync``). Needs the ``django`` extra.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gridfield.core.extras import missing_extra

try:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.files.uploadedfile import UploadedFile
    from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
    from django.http import HttpRequest, HttpResponse
    from django.http.multipartparser import MultiPartParserError
    from django.utils.datastructures import MultiValueDictKeyError
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "django") from exc

from gridfield.core.content_types import SNIFF_BYTES, content_type_of
from gridfield.core.errors import ContentTypeRefused, FileTooLarge, MalformedBody, NoFile
from gridfield.core.files_document import FileInfo
from gridfield.core.guards import UploadLimits, part_content_type
from gridfield.core.http.errors import error_answer
from gridfield.shared_clients import shared_client
from gridfield.sync import DownloadStream, FileStore, UploadStream, get_db

__all__ = [
    "SETTING",
    "GridFSUploadHandler",
    "GridFSUploadMiddleware",
    "GridFSUploadedFile",
    "UploadIncomplete",
    "UploadMalformed",
    "UploadTooLarge",
    "UploadTypeRefused",
    "discard_uploads",
    "refusal_response",
]

SETTING = "GRIDFIELD_UPLOADS"
"""The Django setting the handler reads when it is given no store: a dict with ``alias`` (a
``gridfield.sync.connect`` alias, ``"default"`` when neither it nor ``uri`` is given) or
``uri`` and ``db``; ``bucket`` (default ``"fs"``), ``max_size`` and ``content_types``."""

# The handlers made for one request, on the request: the middleware finds what they stored.
_HANDLERS = "_gridfield_upload_handlers"

_TEXT = "text/plain; charset=utf-8"

_KEYS = frozenset({"alias", "uri", "db", "bucket", "max_size", "content_types"})


class UploadTooLarge(FileTooLarge, MultiPartParserError):  # type: ignore[misc]  # Django has no type hints
    """A part of the request went over the handler's ``max_size``: the request's files are
    removed. Also a MultiPartParserError, so Django answers 400 where no middleware of
    ours turns it into a 413 (the body read by another middleware, before the view)."""


class UploadTypeRefused(ContentTypeRefused, MultiPartParserError):  # type: ignore[misc]  # Django has no type hints
    """A part's content type is not one of the handler's ``content_types``: nothing of it
    was stored and the request's other files are removed."""


class UploadMalformed(MalformedBody, MultiPartParserError):  # type: ignore[misc]  # Django has no type hints
    """A part's headers are not what HTTP allows (a Content-Type that is no media type):
    nothing of it was stored, the request's other files are removed, and the answer is a
    400 naming the part."""


class UploadIncomplete(MultiPartParserError):  # type: ignore[misc]  # Django has no type hints
    """The request body ended inside a file (the client went away, or a truncated body):
    the request's files are removed and Django answers 400."""


def _configured() -> dict[str, Any]:
    config = getattr(settings, SETTING, None)
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ImproperlyConfigured(f"{SETTING} must be a dict, not {type(config).__name__}")
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING}: unknown key(s) {', '.join(map(repr, unknown))}"
            f" (known: {', '.join(sorted(_KEYS))})"
        )
    return dict(config)


def _store_from(config: Mapping[str, Any]) -> FileStore:
    bucket = config.get("bucket", "fs")
    if "uri" in config:
        if "alias" in config:
            raise ImproperlyConfigured(f"{SETTING}: give 'uri' or 'alias', not both")
        client = shared_client(config["uri"])
        name = config.get("db")
        db = client[name] if name else client.get_default_database()
    else:
        db = get_db(config.get("alias", "default"))
        if config.get("db"):
            db = db.client[config["db"]]
    return FileStore(db, bucket)


def refusal_response(error: FileTooLarge | ContentTypeRefused | MalformedBody) -> HttpResponse:
    """The answer to a refused upload: 413 for FileTooLarge, 415 for ContentTypeRefused,
    400 for MalformedBody, the error's message as plain text."""
    if isinstance(error, FileTooLarge):
        status = 413
    else:
        status = 415 if isinstance(error, ContentTypeRefused) else 400
    return HttpResponse(str(error), status=status, content_type=_TEXT)


class GridFSUploadedFile(UploadedFile):  # type: ignore[misc]  # Django has no type hints
    """A file the handler stored in GridFS: what ``request.FILES[...]`` holds.

    ``info`` is its FileInfo, ``file_id`` its id, ``store`` the FileStore holding it.
    Reading (``read()``, ``chunks()``, ``seek()``) reads it back from GridFS, so Django's
    forms and validators work on it. It is already stored: keep it by assigning
    ``file_id`` to a FileField of the same bucket (``doc.photo = upload.file_id``), or
    rename it (``store.rename(upload.file_id, name)``); nothing is copied.
    """

    def __init__(
        self,
        store: FileStore,
        info: FileInfo,
        *,
        field_name: str,
        content_type: str | None,
        charset: str | None,
        content_type_extra: dict[str, Any] | None,
    ) -> None:
        self._stream: DownloadStream | None = None
        self.store = store
        self.info = info
        self.field_name = field_name
        self.kept = False
        """Set by ``keep()``: the middleware then leaves the file alone whatever the view
        answered."""
        super().__init__(
            None,
            name=info.filename,
            content_type=content_type or info.content_type,
            size=info.length,
            charset=charset,
            content_type_extra=content_type_extra,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name} ({self.content_type}) id={self.file_id}>"

    @property
    def file_id(self) -> Any:
        """The stored file's id (an ObjectId)."""
        return self.info.file_id

    @property
    def file(self) -> DownloadStream:
        """The stored file opened for reading, on first use."""
        if self._stream is None or self._stream.closed:
            self._stream = self.store.open_download(self.info.file_id)
        return self._stream

    @file.setter
    def file(self, value: Any) -> None:
        # Django's File.__init__ assigns the file object it is given (None here).
        if value is not None:
            raise AttributeError("a GridFSUploadedFile reads its stored file")

    @property
    def closed(self) -> bool:
        return self._stream is None or self._stream.closed

    def open(self, mode: str | None = None) -> GridFSUploadedFile:
        """Read from the start again."""
        self.file.seek(0)
        return self

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def keep(self) -> None:
        """Keep the file even if the view answers with an error status."""
        self.kept = True

    def discard(self) -> None:
        """Delete the stored file (its files document, then its chunks); no error if it is
        gone already."""
        self.close()
        try:
            self.store.delete(self.info.file_id)
        except NoFile:
            pass


class GridFSUploadHandler(FileUploadHandler):  # type: ignore[misc]  # Django has no type hints
    """An upload handler that writes each file part straight into GridFS as it arrives.

    Nothing goes to a temporary file or to memory beyond one batch of chunks: the handler
    consumes every chunk (later handlers get none, and their ``new_file`` is not called).
    ``store``, ``max_size`` and ``content_types`` default to the ``GRIDFIELD_UPLOADS``
    setting; per view::

        request.upload_handlers = [GridFSUploadHandler(request, store=store, max_size=2**20)]

    A part over ``max_size``, or of a refused content type (its ``Content-Type``, else
    guessed from its filename or first bytes when it claims none or
    ``application/octet-stream``), stops the upload (``StopUpload(connection_reset=True)``:
    Django reads no more of the body) and reading ``request.FILES`` raises UploadTooLarge
    or UploadTypeRefused; every file of the request is removed. A body that ends inside a
    file raises UploadIncomplete, also removing them.
    """

    def __init__(
        self,
        request: HttpRequest | None = None,
        *,
        store: FileStore | None = None,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
    ) -> None:
        super().__init__(request)
        config = _configured()
        if store is None:
            store = _store_from(config)
        elif not isinstance(store, FileStore):
            raise TypeError(f"store must be a gridfield.sync.FileStore, not {type(store).__name__}")
        if max_size is None:
            max_size = config.get("max_size")
        if content_types is None:
            content_types = config.get("content_types")
        self.store = store
        self.limits = store.limits.merged(max_size, content_types)
        self.stored: list[GridFSUploadedFile] = []
        """The files this handler stored for the request, in the order they came."""
        self.completed = False
        """Whether Django's parser got to the end (``upload_complete``)."""
        self.refusal: FileTooLarge | ContentTypeRefused | MalformedBody | None = None
        self._upload: UploadStream | None = None
        self._part_limits = self.limits
        self._claim: str | None = None
        self._interrupted = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        # Django's parser starts with this handler: from here on, the middleware answers for
        # what it stores (a handler made but replaced before the parse never gets here).
        if self.request is not None:
            self.request.__dict__.setdefault(_HANDLERS, []).append(self)
        return None

    # -- one file part -------------------------------------------------------------------------

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, Any] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self._part_limits = UploadLimits(
            self.limits.max_size, self.limits.content_types, label=f"{field_name} ({file_name})"
        )
        try:
            self._claim = part_content_type(content_type, f"{field_name} ({file_name})")
        except MalformedBody as exc:
            self._refuse(exc)
        if self._claim is not None:
            self._refuse_on(self._part_limits.check_type, self._claim)
        if content_length is not None:
            self._refuse_on(self._part_limits.check_size, content_length)
        self._upload = self.store.open_upload(
            filename=file_name,
            content_type=self._claim,
            max_size=self.limits.max_size,
            content_types=self.limits.content_types,
        )
        raise StopFutureHandlers  # no temporary file, no memory file from the handlers after

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        upload = self._upload
        if upload is None:  # refused already: Django stops at StopUpload, this is a guard
            return None
        if start == 0 and self._claim is None:
            # Sniffed from the first bytes before anything is sent to the server.
            kind = content_type_of(None, self.file_name, raw_data[:SNIFF_BYTES])
            self._refuse_on(self._part_limits.check_type, kind)
        self._refuse_on(self._part_limits.check_size, start + len(raw_data))
        upload.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> GridFSUploadedFile | None:
        upload, self._upload = self._upload, None
        if upload is None:
            return None
        try:
            info = upload.close()  # an empty file's type is checked here
        except (FileTooLarge, ContentTypeRefused) as exc:
            self._refuse(exc)
        uploaded = GridFSUploadedFile(
            self.store,
            info,
            field_name=self.field_name,
            content_type=self.content_type,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        self.stored.append(uploaded)
        return uploaded

    # -- the end of the body -------------------------------------------------------------------

    def upload_interrupted(self) -> None:
        self._interrupted = True
        self._abort_open()

    def upload_complete(self) -> None:
        self.completed = True
        self._abort_open()
        if self.refusal is not None:
            self.discard()
            raise self.refusal
        if self._interrupted:
            self.discard()
            raise UploadIncomplete("the request body ended inside a file: nothing of it was kept")

    # -- giving up -----------------------------------------------------------------------------

    def discard(self) -> None:
        """Remove what this handler stored for the request: the file being written and
        every file it handed over (unless kept)."""
        self._abort_open()
        for uploaded in self.stored:
            if not uploaded.kept:
                uploaded.discard()

    def _abort_open(self) -> None:
        upload, self._upload = self._upload, None
        if upload is not None:
            upload.abort()

    def _refuse_on(self, check: Any, value: Any) -> None:
        try:
            check(value)
        except (FileTooLarge, ContentTypeRefused) as exc:
            self._refuse(exc)

    def _refuse(self, error: FileTooLarge | ContentTypeRefused | MalformedBody) -> Any:
        self._abort_open()
        refusal: FileTooLarge | ContentTypeRefused | MalformedBody
        if isinstance(error, FileTooLarge):
            refusal = UploadTooLarge(str(error), limit=error.limit, seen=error.seen)
        elif isinstance(error, MalformedBody):
            refusal = UploadMalformed(str(error))
        else:
            refusal = UploadTypeRefused(str(error))
        self.refusal = refusal
        raise StopUpload(connection_reset=True) from error


def discard_uploads(request: HttpRequest) -> None:
    """Remove every file the request's GridFS upload handlers stored (except those kept):
    for a view that answers an error itself and runs without the middleware."""
    for handler in request.__dict__.get(_HANDLERS, ()):
        handler.discard()


class GridFSUploadMiddleware:
    """Answers FileTooLarge with 413 and ContentTypeRefused with 415 (raised by the view or
    by the upload handler), never a 500; and removes the files the upload handler stored
    for a request that failed: the view raised, the body could not be parsed (too many
    files or fields, a body that ended early, a refused part), or the response's status is
    400 or more. A file the view means to keep whatever it answers: ``upload.keep()``.

    Place it before any middleware that reads ``request.POST`` (CsrfViewMiddleware): a
    refusal met while such a middleware reads the body is still answered 413 or 415.

    It answers the other errors a view meets too: a form field or file the request lacks
    (``request.FILES["photo"]``, ``request.POST["name"]``) 400, NoFile 404, FileExpired 410,
    CorruptFile a bare 500 (its details logged, not sent).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        try:
            response = self.get_response(request)
        except BaseException:
            discard_uploads(request)
            raise
        handlers = request.__dict__.get(_HANDLERS, ())
        refusal = next((h.refusal for h in handlers if h.refusal is not None), None)
        if refusal is not None and response.status_code == 400:
            # Refused while a middleware read the body: Django answered the parse error.
            response = refusal_response(refusal)
        if response.status_code >= 400 or not all(h.completed for h in handlers):
            discard_uploads(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if isinstance(exception, (FileTooLarge, ContentTypeRefused, MalformedBody)):
            return refusal_response(exception)
        if isinstance(exception, UploadIncomplete):
            return HttpResponse(str(exception), status=400, content_type=_TEXT)
        return _error_response(exception)


def _error_response(error: Exception) -> HttpResponse | None:
    """The answer to a missing form field or file and to the gridfield errors a view meets."""
    if isinstance(error, MultiValueDictKeyError):
        # Django's own missing key of request.FILES / request.POST: its argument is the name.
        name = error.args[0] if error.args else ""
        return HttpResponse(
            f"the request has no form field or file {name!r}\n", status=400, content_type=_TEXT
        )
    answer = error_answer(error)
    if answer is None:
        return None
    return HttpResponse(answer.text, status=answer.status, content_type=_TEXT)
