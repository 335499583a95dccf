"""Writing a file: chunks go in by batches as bytes arrive, the files document goes in last."""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .. import telemetry
from .._twins import (
    any_iterable,
    clean_up,
    finish_despite_cancel,
    pieces_of_any,
    read_any_file,
    wait_in_flight,
)
from ..core.chunks import ChunkBatcher, ChunkCutter, as_bytes, chunk_overhead
from ..core.content_types import content_type_of
from ..core.dedup import dedup_filter
from ..core.errors import CorruptFile, FileExists, FileTooLarge, add_note
from ..core.expiry import expiry_moment, is_expired
from ..core.files_document import FileInfo, upload_date
from ..core.guards import Progress, UploadLimits
from ..core.queries import chunks_filter
from ..core.sweeping import expected_chunks, registration
from ..core.upload_options import UploadOptions
from .file_keys import NewFileKey, new_file_key_for

if TYPE_CHECKING:
    from .store import AsyncFileStore

# Bytes handed to the cutter at once when storing one big bytes object: bounds the chunk
# documents built ahead of their insert.
_SLICE = 16 * 1024 * 1024

# Chunk _ids named per delete when an abort removes the chunks it sent by their _id: keeps
# each query far below the 16 MiB command limit (an ObjectId costs about 20 bytes in $in).
_IDS_PER_DELETE = 50_000


class AsyncUploadStream:
    """A write-only file object that stores what is written as one GridFS file.

    Full chunks are inserted as batches fill up; ``close()`` writes the last chunk and then
    the files document, so the file is visible only once complete. An error, a cancellation
    or ``abort()`` removes the chunks already written.
    """

    def __init__(
        self, store: AsyncFileStore, options: UploadOptions, *, limits: UploadLimits
    ) -> None:
        """Made by the store's ``start_upload``, which resolves ``options.chunk_size`` and
        checks the metadata and extra fields against the database's codec options."""
        assert options.chunk_size is not None  # the store's default, when the caller had none
        self._store = store
        self.file_id: Any = ObjectId() if options.file_id is None else options.file_id
        self.filename = options.filename
        self.chunk_size = options.chunk_size
        self.closed = False
        self.info: FileInfo | None = None
        """The stored file's description, once ``close()`` has written it."""
        self._content_type = options.content_type
        self._metadata = dict(options.metadata or {})
        self._aliases = options.aliases
        self._extra = dict(options.extra)
        self.encoding = options.encoding
        """How a written str is encoded."""
        # An encrypted file's SHA-256 is not stored (it would tell who holds the database
        # whether the file is one they can guess), so it is not computed either.
        self._encrypt = bool(options.encrypt)
        self._file_key: NewFileKey | None = None
        checksum = options.checksum and not self._encrypt
        self._cutter = ChunkCutter(self.file_id, self.chunk_size, checksum=checksum)
        self._batcher = ChunkBatcher(overhead=chunk_overhead(self.file_id))
        self._aborted = False
        # Which chunks an abort may delete. A fresh ObjectId is ours alone, so all chunks of
        # it are. A caller's id may belong to an existing file, and the unique (files_id, n)
        # index that would keep our chunks apart from its may be missing (a dropped bucket,
        # an index made by another tool): then only the chunks we sent, by their _id.
        self._owns_id = options.file_id is None
        self._sent_ids: list[Any] = []
        self._sent_any = False
        self._files_doc: dict[str, Any] | None = None
        # Inserts a cancellation left running: an abort waits for them before it deletes.
        self._in_flight: set[Any] = set()
        self._limits = limits
        self._type_checked = self._limits.content_types is None
        self._progress = Progress(options.on_progress, options.total)
        self._stored = 0  # bytes in chunks the server has taken
        # Resolved by the store's start_upload: its defaults applied, dedup True or False.
        self._expiry = options.expiry
        self._scope = options.scope
        self._dedup = bool(options.dedup)
        self._declared = None if options.sha256 is None else (options.sha256, options.length)

        # An upload open longer than the store's SweepTiming.register_after enters itself in
        # the registry of open uploads, so that a deleting sweep leaves its chunks alone.
        self._opened = time.monotonic()
        self._started = datetime.now(timezone.utc)
        self._entry: Any = None  # its registry entry's _id, once registered
        self._refreshed = 0.0  # when the entry was last written (monotonic)
        # Its telemetry, from now to its close or abort (gridfield.telemetry).
        self._op = telemetry.begin(
            "upload",
            bucket=store.collection_name,
            file_id=self.file_id,
            filename=self.filename,
            encrypted=self._encrypt,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} file_id={self.file_id!r} length={self.length}>"

    @property
    def length(self) -> int:
        """Bytes written so far."""
        return self._cutter.length

    def _check_open(self) -> None:
        if self.closed:
            state = "aborted" if self._aborted else "closed"
            raise ValueError(f"upload of file {self.file_id!r} is {state}")

    # -- writing ------------------------------------------------------------------------------

    def buffer(self, data: bytes | bytearray | memoryview | str) -> None:
        """Append ``data`` to the upload without any I/O; ``write``, ``flush`` or ``close``
        send it. A str is encoded with the upload's encoding."""
        self._check_open()
        if isinstance(data, str):
            data = data.encode(self.encoding)
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            if inspect.iscoroutine(data):  # a caller's mistake: no "never awaited" warning on top
                data.close()
            raise TypeError(
                f"write() takes bytes, bytearray, memoryview or str, not {type(data).__name__}"
            )
        # Refused before the bytes join the upload: a source is read no further than the
        # limit plus the block that crossed it.
        self._limits.check_size(self.length + memoryview(data).nbytes)
        self._batcher.add(self._cutter.feed(data))

    async def write(self, data: bytes | bytearray | memoryview | str) -> None:
        """Append ``data``, inserting the chunks it completes once a batch is full.

        Over the upload's ``max_size``, FileTooLarge: the chunks already sent are removed.
        """
        with self._op.current():  # the commands it sends are the upload span's children
            await self._write(data)

    async def _write(self, data: bytes | bytearray | memoryview | str) -> None:
        self._check_open()
        self._store._check_writable("upload a file")  # before the bytes join: nothing changes
        try:
            self.buffer(data)
        except FileTooLarge as exc:
            await self._abort_after(exc)
            raise
        await self._keep_registered()
        await self._send(self._batcher.ready())

    async def writelines(self, lines: Iterable[bytes | bytearray | memoryview | str]) -> None:
        """Write each item of ``lines`` in turn (no separators are added)."""
        for line in lines:
            await self.write(line)

    async def flush(self) -> None:
        """Insert every full chunk written so far (a partial last chunk waits for more)."""
        with self._op.current():
            await self._flush()

    async def _flush(self) -> None:
        self._check_open()
        self._store._check_writable("upload a file")
        await self._keep_registered()
        await self._send(self._batcher.drain())

    async def close(self) -> FileInfo:
        """Insert the rest, then the files document; return the file's description.

        Calling it again returns the same description.
        """
        with self._op.current():
            try:
                info = await self._close()
            except BaseException as exc:
                self._op.end(exc)
                raise
        self._op.set(file_id=info.file_id, length=info.length)
        self._op.moved(self._cutter.length, "uploaded")
        self._op.end()
        return info

    async def _close(self) -> FileInfo:
        if self.info is not None:
            return self.info
        self._check_open()
        # Refused with nothing changed (the upload stays open, its chunks kept): a session
        # bound since the upload began, now in a transaction, must not take its writes.
        self._store._check_writable("upload a file")
        try:
            self._check_type()
        except BaseException as exc:
            await self._abort_after(exc)
            raise
        await self._keep_registered()
        last = self._cutter.finish()
        if last is not None:
            self._batcher.add([last])
        await self._send(self._batcher.drain())
        try:
            info = self._describe(await self._encryption_record())
            self._check_described(info)
            if self._dedup:
                existing = await self._stored_copy(info)
                if existing is not None:
                    # The same bytes are stored in this scope: ours go, that file is the
                    # answer, as it is (its own name, metadata and id).
                    self._op.set(deduplicated=True)
                    await self._remove_ours()
                    self._aborted = False
                    self.info = existing
                    self._progress.reached(info.length)
                    self._progress.finished()
                    return existing
            doc = info.to_document()
            await self._store._ensure_indexes_once()
            if self._entry is not None:
                await self._check_chunks(info)
            self._files_doc = doc
            await finish_despite_cancel(self._store.files.insert_one(doc), self._in_flight)
        except DuplicateKeyError as exc:
            self._files_doc = None  # not ours: the file that was there first
            await self._abort_after(exc)
            raise FileExists(
                f"file {self.file_id!r} already exists in {self._store.files.name}"
            ) from exc
        except BaseException as exc:
            await self._abort_after(exc)
            raise
        self.info = info
        self.closed = True
        # The file is whole and visible: should the entry stay behind, it only keeps a
        # sweep off chunks that have their files document anyway, until its lease runs out.
        with contextlib.suppress(Exception):
            await self._unregister()
        self._progress.reached(info.length)
        self._progress.finished()
        return info

    def _check_described(self, info: FileInfo) -> None:
        """ValueError for bytes other than those declared, or an expiry already past."""
        if self._declared is not None and self._declared != (info.sha256, info.length):
            sha256, length = self._declared
            raise ValueError(
                f"file {self.file_id!r}: the bytes are not those declared (sha256 {info.sha256},"
                f" {info.length} bytes; declared sha256 {sha256}, {length} bytes)"
            )
        if info.expire_at is not None and is_expired(info.expire_at, datetime.now(timezone.utc)):
            raise ValueError(
                f"file {self.file_id!r}: expire_at {info.expire_at.isoformat()} passed while"
                " it was being uploaded"
            )

    async def _stored_copy(self, info: FileInfo) -> FileInfo | None:
        """The file of this upload's scope holding the same bytes, if one is stored: one
        lookup, on the deduplication index (``ensure_indexes``)."""
        assert info.sha256 is not None and self._scope is not None  # start_upload saw to it
        await self._store._ensure_indexes_once()
        query = dedup_filter(info.sha256, info.length, self._scope, info.expire_at)
        doc = await self._store.files.find_one(query)
        return None if doc is None else FileInfo.from_document(doc)

    async def stored_as_declared(self) -> FileInfo | None:
        """With deduplication and a declared SHA-256 and length, before any byte is written:
        the file of this upload's scope that holds them, closing this upload (nothing was
        sent); None when there is none (or nothing was declared)."""
        if self._declared is None or not self._dedup or self.length or self._sent_any:
            return None
        sha256, length = self._declared
        assert length is not None and self._scope is not None
        moment = expiry_moment(self._expiry, datetime.now(timezone.utc))
        await self._store._ensure_indexes_once()
        doc = await self._store.files.find_one(dedup_filter(sha256, length, self._scope, moment))
        if doc is None:
            return None
        self.info = FileInfo.from_document(doc)
        self.closed = True
        return self.info

    # -- the registry of open uploads -----------------------------------------------------------

    async def _keep_registered(self) -> None:
        """Enter (or refresh) this upload in the registry once it has been open long enough
        for a sweep to find its chunks old: a short upload costs no command here."""
        timing = self._store.sweep_timing
        every = timing.register_after.total_seconds()
        now = time.monotonic()
        if self._entry is None and now - self._opened < every:
            return
        if self._entry is not None and now - self._refreshed < every:
            return
        try:
            await self._register(timing.lease)
        except BaseException as exc:
            await self._abort_after(exc)
            raise

    async def _register(self, lease: timedelta) -> None:
        entry = ObjectId() if self._entry is None else self._entry
        self._entry = entry
        self._refreshed = time.monotonic()
        doc = registration(entry, self.file_id, self._started, datetime.now(timezone.utc), lease)
        # An upsert: an entry a sweep removed once it expired comes back.
        insert = self._store.uploads.replace_one({"_id": entry}, doc, upsert=True)
        await finish_despite_cancel(insert, self._in_flight)

    async def _check_chunks(self, info: FileInfo) -> None:
        """A long upload's chunks are all there before its files document goes in: a
        sweep may have taken them while the upload was silent past its lease."""
        want = expected_chunks(info.length, info.chunk_size)
        found = await self._store.chunks.count_documents(chunks_filter(self.file_id))
        if found != want:
            raise CorruptFile(
                f"upload of file {self.file_id!r}: {found} of its {want} chunks are in"
                f" {self._store.chunks.name} (removed while it was open, by a bucket sweep"
                " or by hand): nothing was stored"
            )

    async def _unregister(self) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            await self._store.uploads.delete_one({"_id": entry})

    def _guessed_type(self) -> str | None:
        # A type in the caller's metadata stays where they put it; only a guess is added there.
        given = self._metadata.get("contentType")
        guessed = given if isinstance(given, str) else None
        if self._content_type is None and guessed is None:
            guessed = content_type_of(None, self.filename, self._cutter.head)
        return guessed

    def _check_type(self) -> None:
        """ContentTypeRefused unless the upload's type is allowed; checked on the first bytes,
        before the first insert, so a refused file costs no server command."""
        if not self._type_checked:
            self._limits.check_type(self._content_type or self._guessed_type())
            self._type_checked = True

    def _describe(self, encryption: dict[str, Any] | None = None) -> FileInfo:
        guessed = self._guessed_type()
        date = upload_date(self._store.db.codec_options)
        return FileInfo.for_upload(
            file_id=self.file_id,
            length=self._cutter.length,
            chunk_size=self.chunk_size,
            upload_date=date,
            filename=self.filename,
            metadata=self._metadata,
            content_type=self._content_type,
            guessed_content_type=guessed,
            sha256=self._cutter.sha256(),
            aliases=self._aliases,
            extra=self._extra,
            expire_at=expiry_moment(self._expiry, date),
            scope=self._scope,
            encryption=encryption,
        )

    async def _send(self, batches: list[list[dict[str, Any]]]) -> None:
        if not batches:
            return
        try:
            self._check_type()
            await self._store._ensure_indexes_once()
            for plain in batches:
                batch = await self._stored_form(plain)
                if not self._owns_id:
                    self._sent_ids.extend(doc["_id"] for doc in batch)
                self._sent_any = True
                insert = self._store.chunks.insert_many(batch, ordered=True)
                await finish_despite_cancel(insert, self._in_flight)
                self._stored += sum(len(doc["data"]) for doc in plain)
                self._progress.reached(self._stored)
        except BulkWriteError as exc:
            await self._abort_after(exc)
            errors = exc.details.get("writeErrors") or [{}]
            if errors[0].get("code") == 11000:
                raise FileExists(
                    f"file {self.file_id!r} already has chunks in {self._store.chunks.name}"
                ) from exc
            raise
        except BaseException as exc:
            await self._abort_after(exc)
            raise

    # -- encryption -----------------------------------------------------------------------------

    async def _stored_form(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The chunk documents as they are stored: sealed with the file's data key when the
        upload is encrypted (the one place where chunk bytes become stored bytes)."""
        if not self._encrypt:
            return batch
        cipher = (await self._key()).cipher
        return [{**doc, "data": cipher.seal_chunk(doc["n"], doc["data"])} for doc in batch]

    async def _key(self) -> NewFileKey:
        if self._file_key is None:
            assert self._store.encryption is not None  # start_upload refused encrypt otherwise
            self._file_key = await new_file_key_for(
                self._store.encryption, self.file_id, self.chunk_size
            )
        return self._file_key

    async def _encryption_record(self) -> dict[str, Any] | None:
        """What the files document says of the file's encryption (None: not encrypted)."""
        if not self._encrypt:
            return None
        return (await self._key()).record(self._cutter.length)

    # -- giving up ------------------------------------------------------------------------------

    async def abort(self) -> None:
        """Remove the chunks written so far and close the upload; a no-op once closed."""
        if self.closed:
            return
        self._op.set(aborted=True)
        self._op.end()  # an abort asked for (one after an error has ended it already)
        await self._remove_ours()

    async def _remove_ours(self) -> None:
        """Remove the chunks written so far (and a files document that may have gone in)
        and close the upload."""
        self._aborted = True
        self.closed = True
        # A write that a cancellation left running could land after the deletes below.
        await wait_in_flight(self._in_flight)
        try:
            await self._remove_what_was_sent()
        finally:
            # After the chunks are gone: until then the entry keeps a sweep off them.
            await self._unregister()

    async def _remove_what_was_sent(self) -> None:
        if self._files_doc is not None:
            # The insert of the files document failed or was cancelled: it may have reached
            # the server all the same. Only a document exactly like ours is removed.
            doc, self._files_doc = self._files_doc, None
            await self._store.files.delete_one(
                {key: {"$eq": doc[key]} for key in ("_id", "length", "chunkSize", "uploadDate")}
            )
        if not self._sent_any:
            return
        if self._owns_id:
            await self._store.chunks.delete_many(chunks_filter(self.file_id))
            return
        for start in range(0, len(self._sent_ids), _IDS_PER_DELETE):
            query = chunks_filter(self.file_id)
            query["_id"] = {"$in": self._sent_ids[start : start + _IDS_PER_DELETE]}
            await self._store.chunks.delete_many(query)

    async def _abort_after(self, error: BaseException) -> None:
        """Abort because of ``error``; a failing clean-up must not hide ``error``.

        The clean-up runs in a task of its own, so a cancellation (even one delivered again
        and again) does not stop it halfway; a cancelled caller waits for it only briefly.
        """
        self._op.end(error)  # a refusal by a limit is counted there
        try:
            await clean_up(self.abort, error)
        except TimeoutError as late:
            add_note(error, f"removing the chunks of file {self.file_id!r}: {late}")
        except Exception as cleanup:
            add_note(
                error,
                f"removing the chunks of file {self.file_id!r} failed too: {cleanup!r};"
                " they stay until the bucket check finds them",
            )

    # -- context manager ------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncUploadStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            await self._abort_after(exc)
        else:
            await self.close()


def check_source(data: object) -> None:
    """TypeError unless ``put`` can store ``data``; checked before anything is written."""
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        return
    readable = callable(getattr(data, "read", None))
    if isinstance(data, io.TextIOBase) or (readable and "t" in str(getattr(data, "mode", ""))):
        raise TypeError(
            f"cannot store a text-mode file ({type(data).__name__}): open it in binary mode"
        )
    if readable:
        return
    if isinstance(data, (list, tuple)):
        # A sequence at hand is checked whole, so a bad item fails before any write.
        for i, item in enumerate(data):
            if not isinstance(item, (bytes, bytearray, memoryview, str)):
                raise TypeError(
                    f"cannot store item {i} of the {type(data).__name__}: expected bytes-like"
                    f" or str, not {type(item).__name__}"
                )
        return
    # A mapping or a set iterates, but not over the file's bytes in order.
    unordered = isinstance(data, (Mapping, set, frozenset))
    if not unordered and any_iterable(data):
        return
    if inspect.iscoroutine(data):  # the caller's, passed by mistake: no "never awaited" warning
        data.close()
    raise TypeError(
        f"cannot store {type(data).__name__}: expected bytes, str, a binary file object"
        " or an iterable of bytes"
    )


def source_size(data: object) -> int | None:
    """How many bytes ``put`` will store from ``data``, when that is known up front."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return memoryview(data).nbytes
    try:
        fileno, tell = data.fileno, data.tell  # type: ignore[attr-defined]
        size: int = os.fstat(fileno()).st_size - tell()
    except (AttributeError, OSError, TypeError, ValueError):
        return None  # a stream, a socket, an iterable: unknown until the end
    return max(0, size)


async def write_source(stream: AsyncUploadStream, data: Any) -> None:
    """Write all of ``data`` (as accepted by ``check_source``) to ``stream``."""
    if isinstance(data, str):
        data = data.encode(stream.encoding)
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(as_bytes(data))
        for start in range(0, len(view), _SLICE):
            await stream.write(view[start : start + _SLICE])
    elif callable(getattr(data, "read", None)):
        while True:
            block = await read_any_file(data, stream.chunk_size)
            if isinstance(block, str):
                raise TypeError(
                    f"cannot store a text-mode file ({type(data).__name__}): its read() "
                    "returned str; open it in binary mode"
                )
            block = as_bytes(block, f"{type(data).__name__}.read() result")
            if not block:
                return
            await stream.write(block)
    else:
        async for piece in pieces_of_any(data):
            await stream.write(piece)
