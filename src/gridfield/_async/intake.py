"""Receiving files over HTTP: a request body fed piece by piece to a multipart push parser,
each file part streamed into an upload of its own, form fields kept as text.

Memory stays constant: one body piece, the parser's events for it, and one chunk batch of
the upload being written; nothing goes to a temporary file. The adapters of
``gridfield.web`` hand this module the framework's body stream and its headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any

from .. import telemetry
from .._twins import clean_up
from ..core.errors import MalformedBody, MissingField, NoFile
from ..core.guards import Progress, ProgressCallback, check_progress_callback
from ..core.http.intake import (
    FormFields,
    FormTally,
    IntakeLimits,
    PartHead,
    ReceivedFile,
    check_declared_length,
    claimed_type,
    multipart_boundary,
    parse_part_head,
)
from .store import AsyncFileStore, AsyncUploadStream

__all__ = ["AsyncReceived", "receive_multipart", "receive_raw"]

_Event = tuple[str, bytes]


class AsyncReceived:
    """What a request brought: ``files`` (each a ``ReceivedFile``: field, filename, content
    type, the stored ``info``) and ``form`` (field name -> text; ``fields`` keeps every
    value in order, repeated names included).

    As a context manager it removes the stored files when the block raises, unless
    ``keep()`` was called; ``discard()`` removes them at any time.
    """

    def __init__(self, store: AsyncFileStore) -> None:
        self.store = store
        self.files: list[ReceivedFile] = []
        self.fields: list[tuple[str, str]] = []
        self.kept = False

    def __repr__(self) -> str:
        names = [part.filename for part in self.files]
        return f"<{type(self).__name__} files={names!r} form={sorted(self.form)!r}>"

    @property
    def form(self) -> FormFields:
        """The form's text fields, name -> value (the first of a repeated name); a name not
        sent is MissingField (a KeyError the ready error handlers answer with 400)."""
        return FormFields.of(self.fields)

    def file(self, field: str | None = None) -> ReceivedFile:
        """The file sent in form field ``field`` (the only file when None); MissingField (a
        KeyError, answered 400 by the ready error handlers) naming what was sent when there
        is no such file (or, for None, not exactly one)."""
        if field is None:
            if len(self.files) == 1:
                return self.files[0]
            raise MissingField(f"expected one file, the request brought {len(self.files)}")
        for part in self.files:
            if part.field == field:
                return part
        sent = sorted({str(part.field) for part in self.files})
        raise MissingField(f"no file in form field {field!r} (files came in: {sent})")

    def keep(self) -> None:
        """Keep the stored files even if the ``with`` block raises."""
        self.kept = True

    async def discard(self) -> None:
        """Remove every file received (a file already gone is no error)."""
        while self.files:
            try:
                await self.store.delete(self.files[-1].file_id)
            except NoFile:
                pass
            self.files.pop()

    async def __aenter__(self) -> AsyncReceived:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and not self.kept:
            await _discard_after(self, None, exc)


async def _discard_after(
    received: AsyncReceived, upload: AsyncUploadStream | None, error: BaseException
) -> None:
    """Remove what the request stored because of ``error``, which stays the error raised."""

    async def remove() -> None:
        if upload is not None:
            await upload.abort()
        await received.discard()

    try:
        await clean_up(remove, error)
    except Exception as cleanup:
        add_note = getattr(error, "add_note", None)  # Python 3.11+
        if add_note is not None:
            add_note(
                f"removing the files received failed too: {cleanup!r}; the bucket check"
                " finds what is left"
            )


class _Collector:
    """The parser's callbacks, noted as events for one body piece at a time."""

    def __init__(self) -> None:
        self.events: list[_Event] = []

    def callbacks(self) -> Any:  # python-multipart's MultipartCallbacks
        def mark(name: str) -> Any:
            return lambda: self.events.append((name, b""))

        def data(name: str) -> Any:
            return lambda buf, start, end: self.events.append((name, bytes(buf[start:end])))

        return {
            "on_part_begin": mark("part_begin"),
            "on_header_field": data("header_field"),
            "on_header_value": data("header_value"),
            "on_header_end": mark("header_end"),
            "on_headers_finished": mark("headers_finished"),
            "on_part_data": data("part_data"),
            "on_part_end": mark("part_end"),
            "on_end": mark("end"),
        }


class _Form:
    """The awaited side of the parse: what each event means for the store."""

    def __init__(
        self,
        store: AsyncFileStore,
        limits: IntakeLimits,
        received: AsyncReceived,
        metadata: Mapping[str, Any] | None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.received = received
        self.metadata = metadata
        self.tally = FormTally(limits)
        self.bucket = (store.db.name, store.collection_name)
        self.ended = False
        self.upload: AsyncUploadStream | None = None
        self._head: PartHead | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = bytearray()
        self._value = bytearray()
        self._field = bytearray()

    async def handle(self, events: list[_Event]) -> None:
        for kind, data in events:
            if kind == "part_data":
                await self._data(data)
            elif kind == "header_field":
                self.tally.header_bytes(len(data))
                self._name += data
            elif kind == "header_value":
                self.tally.header_bytes(len(data))
                self._value += data
            elif kind == "header_end":
                self._headers.append((bytes(self._name), bytes(self._value)))
                self._name, self._value = bytearray(), bytearray()
            elif kind == "part_begin":
                self.tally.part_begins()
                self._headers, self._head = [], None
            elif kind == "headers_finished":
                self._begin(parse_part_head(self._headers))
            elif kind == "part_end":
                await self._end()
            elif kind == "end":
                self.ended = True

    def _begin(self, head: PartHead) -> None:
        self._head = head
        if not head.is_file:
            self._field = bytearray()
            return
        self.tally.file_begins()
        self.upload = self.store.open_upload(
            filename=head.filename,
            content_type=head.content_type,
            metadata=self.metadata,
            max_size=self.limits.max_size,
            content_types=self.limits.content_types,
        )

    async def _data(self, data: bytes) -> None:
        head = self._head
        if head is None:
            raise MalformedBody("a multipart part's data came before its headers ended")
        if self.upload is not None:
            await self.upload.write(data)
        else:
            self.tally.field_bytes(head.name, len(data))
            self._field += data

    async def _end(self) -> None:
        head, self._head = self._head, None
        if head is None:
            raise MalformedBody("a multipart part ended before its headers did")
        upload, self.upload = self.upload, None
        if upload is None:
            try:
                text = bytes(self._field).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedBody(f"form field {head.name!r} is not UTF-8 text") from exc
            self.received.fields.append((head.name, text))
            self._field = bytearray()
            return
        if head.filename is None and upload.length == 0:
            # A file input left empty: browsers send a part with filename="" and no bytes.
            await upload.abort()  # nothing was sent: no I/O
            return
        self.upload = upload  # still ours to abort should close() fail
        info = await upload.close()
        self.upload = None
        self.received.files.append(
            ReceivedFile(head.name, head.filename, info.content_type, info, self.bucket)
        )


def _multipart_parser() -> tuple[Any, type[Exception]]:
    """python-multipart's push parser and its error: imported on first use, so that
    ``import gridfield`` needs neither (they come with the asgi, fastapi and flask extras)."""
    try:
        from python_multipart.exceptions import MultipartParseError
        from python_multipart.multipart import MultipartParser
    except ImportError as exc:
        raise ImportError(
            "receiving multipart/form-data bodies needs python-multipart: "
            "pip install 'gridfield[asgi]' (or fastapi, flask)"
        ) from exc
    return MultipartParser, MultipartParseError


async def receive_multipart(
    pieces: AsyncIterator[bytes],
    store: AsyncFileStore,
    *,
    content_type: str | None,
    content_length: str | None,
    limits: IntakeLimits | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> AsyncReceived:
    """Store every file of a ``multipart/form-data`` body in ``store`` and collect its text
    fields, reading ``pieces`` (the body, as the server hands it over) once.

    ``content_type`` and ``content_length`` are the request's headers. Before a byte is
    read: a body that is not multipart/form-data is ContentTypeRefused, a declared length
    over what ``limits`` allow FileTooLarge. While reading: a file over ``max_size``
    FileTooLarge, a refused type ContentTypeRefused (before that file's first write), too
    many parts or field bytes FormTooLarge, a broken or truncated body MalformedBody. Any
    failure (a disconnect too) removes every file this request stored. ``on_progress(done,
    total)`` is told the body bytes read after each piece (``total``: the declared length).
    """
    with telemetry.begin("intake", bucket=store.collection_name, body="multipart") as op:
        received = await _receive_multipart(
            pieces, store, content_type, content_length, limits, metadata, on_progress
        )
        op.set(files=len(received.files))
        return received


async def _receive_multipart(
    pieces: AsyncIterator[bytes],
    store: AsyncFileStore,
    content_type: str | None,
    content_length: str | None,
    limits: IntakeLimits | None,
    metadata: Mapping[str, Any] | None,
    on_progress: ProgressCallback | None,
) -> AsyncReceived:
    limits = limits if limits is not None else IntakeLimits()
    check_progress_callback(on_progress)
    boundary = multipart_boundary(content_type)
    declared = check_declared_length(content_length, limits.multipart_bound(boundary))
    MultipartParser, MultipartParseError = _multipart_parser()
    collector = _Collector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())
    except Exception as exc:  # a boundary the parser cannot use
        raise MalformedBody(f"the multipart boundary {boundary!r} is unusable: {exc}") from exc
    received = AsyncReceived(store)
    form = _Form(store, limits, received, metadata)
    progress = Progress(on_progress, declared)
    seen = 0
    try:
        async for piece in pieces:
            if not piece:
                continue
            seen += len(piece)
            _check_length(seen, declared, limits)
            if form.ended:
                continue  # an epilogue: read (the server frames the body), never stored
            try:
                parser.write(piece)
            except MultipartParseError as exc:
                raise MalformedBody(f"the multipart body is malformed: {exc}") from exc
            events, collector.events = collector.events, []
            await form.handle(events)
            progress.reached(seen)
        _check_complete(seen, declared)
        if not form.ended:
            raise MalformedBody(
                f"the multipart body ended after {seen} bytes, before its closing boundary"
            )
    except BaseException as exc:
        await _discard_after(received, form.upload, exc)
        raise
    progress.finished()
    return received


async def receive_raw(
    pieces: AsyncIterator[bytes],
    store: AsyncFileStore,
    *,
    filename: str | None,
    content_type: str | None,
    content_length: str | None,
    limits: IntakeLimits | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> AsyncReceived:
    """Store a raw request body (``PUT`` or ``POST`` of the file's bytes) as one file named
    ``filename``, of the ``content_type`` the client gave (guessed from the name or sniffed
    from the first bytes when it gave none or ``application/octet-stream``).

    A declared length over ``max_size`` is FileTooLarge before a byte is read; the body is
    read no further than the limit plus one piece, and a failure leaves nothing stored.
    ``on_progress(done, total)`` is told the body bytes read after each piece.
    """
    with telemetry.begin("intake", bucket=store.collection_name, body="raw") as op:
        received = await _receive_raw(
            pieces, store, filename, content_type, content_length, limits, metadata, on_progress
        )
        op.set(files=len(received.files))
        return received


async def _receive_raw(
    pieces: AsyncIterator[bytes],
    store: AsyncFileStore,
    filename: str | None,
    content_type: str | None,
    content_length: str | None,
    limits: IntakeLimits | None,
    metadata: Mapping[str, Any] | None,
    on_progress: ProgressCallback | None,
) -> AsyncReceived:
    limits = limits if limits is not None else IntakeLimits()
    check_progress_callback(on_progress)
    declared = check_declared_length(content_length, limits.raw_bound())
    received = AsyncReceived(store)
    upload = store.open_upload(
        filename=filename,
        content_type=claimed_type(content_type),
        metadata=metadata,
        max_size=limits.max_size,
        content_types=limits.content_types,
    )
    progress = Progress(on_progress, declared)
    try:
        seen = 0
        async for piece in pieces:
            seen += len(piece)
            _check_length(seen, declared, limits)
            await upload.write(piece)
            progress.reached(seen)
        _check_complete(seen, declared)
        info = await upload.close()
    except BaseException as exc:
        await _discard_after(received, upload, exc)
        raise
    progress.finished()
    bucket = (store.db.name, store.collection_name)
    received.files.append(ReceivedFile(None, filename, info.content_type, info, bucket))
    return received


def _check_length(seen: int, declared: int | None, limits: IntakeLimits) -> None:
    limits.check_body(seen)
    if declared is not None and seen > declared:
        raise MalformedBody(
            f"the request body is longer than its Content-Length of {declared} bytes"
        )


def _check_complete(seen: int, declared: int | None) -> None:
    if declared is not None and seen < declared:
        raise MalformedBody(
            f"the request body ended after {seen} of the {declared} bytes its"
            " Content-Length declared"
        )
