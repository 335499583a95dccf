# Generated from src/gridfield/_async/upload.py by scripts/unasync.py: do not edit.
"""Writing a file: chunks go in by batches as bytes arrive, the files document goes in last."""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from .. import telemetry
from .._twins import (
    clean_up_now,
    finish,
    nothing_in_flight,
    pieces_of,
    read_file,
    sync_iterable,
)
from ..core.chunks import ChunkBatcher, ChunkCutter, as_bytes, chunk_overhead
from ..core.content_types import content_type_of
from ..core.errors import CorruptFile, FileExists, FileTooLarge, add_note
from ..core.expiry import expiry_moment, is_expired
from ..core.files_document import FileInfo, upload_date
from ..core.guards import Progress, UploadLimits
from ..core.sweeping import expected_chunks, registration
from ..core.upload_options import UploadOptions
from ..core.upload_stage import UploadEvent, UploadStage, UploadStages
from .chunk_writer import ChunkWriter
from .closing import Closing
from .interfaces import StoreParts

# Bytes handed to the cutter at once when storing one big bytes object: bounds the chunk
# documents built ahead of their insert.
_SLICE = 16 * 1024 * 1024


class UploadStream(Closing):
    """A write-only file object that stores what is written as one GridFS file.

    Full chunks are inserted as batches fill up; ``close()`` writes the last chunk and then
    the files document, so the file is visible only once complete. An error, a cancellation
    or ``abort()`` removes the chunks already written.
    """

    def __init__(self, store: StoreParts, options: UploadOptions, *, limits: UploadLimits) -> None:
        """Made by the store's ``start_upload``, which resolves ``options.chunk_size`` and
        checks the metadata and extra fields against the database's codec options."""
        assert options.chunk_size is not None  # the store's default, when the caller had none
        self._store = store
        self.file_id: Any = ObjectId() if options.file_id is None else options.file_id
        self.filename = options.filename
        self.chunk_size = options.chunk_size
        # Open, writing, closing, closed or aborted: every method moves through its table.
        self._stages = UploadStages(self.file_id)
        self.info: FileInfo | None = None
        """The stored file's description, once ``close()`` has written it."""
        self._content_type = options.content_type
        self._metadata = dict(options.metadata or {})
        self._aliases = options.aliases
        self._extra = dict(options.extra)
        self._upload_date = options.upload_date
        self.encoding = options.encoding
        """How a written str is encoded."""
        # An encrypted file's SHA-256 is not stored (it would tell who holds the database
        # whether the file is one they can guess), so it is not computed either.
        self._encrypt = bool(options.encrypt)
        checksum = options.checksum and not self._encrypt
        self._cutter = ChunkCutter(self.file_id, self.chunk_size, checksum=checksum)
        self._batcher = ChunkBatcher(overhead=chunk_overhead(self.file_id))
        # Which chunks an abort may delete. A fresh ObjectId is ours alone, so all chunks of
        # it are. A caller's id may belong to an existing file, and the unique (files_id, n)
        # index that would keep our chunks apart from its may be missing (a dropped bucket,
        # an index made by another tool): then only the chunks we sent, by their _id.
        # The writer seals the chunks and records the data key when the file is encrypted.
        self._writer = ChunkWriter(
            store.bucket,
            self.file_id,
            owns_id=options.file_id is None,
            encryption=store.encryption if self._encrypt else None,
            chunk_size=self.chunk_size,
        )
        # Registry writes a cancellation left running: an abort waits for them.
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
        # The claim on this file's bytes it took (sha256, length, scope), until its files
        # document is in: an abort lets go of it.
        self._claim: tuple[str, int, str] | None = None

        # An upload open longer than the store's SweepTiming.register_after enters itself in
        # the registry of open uploads, so that a deleting sweep leaves its chunks alone.
        self._opened = time.monotonic()
        self._started = datetime.now(timezone.utc)
        self._entry: Any = None  # its registry entry's _id, once registered
        self._refreshed = 0.0  # when the entry was last written (monotonic)
        self._lapsed = False  # whether the entry ran out once while the upload was open
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

    @property
    def closed(self) -> bool:
        """Whether the upload has ended: closed (the file stored) or aborted."""
        return self._stages.ended

    @property
    def stage(self) -> UploadStage:
        """Where the upload is: open, writing, closing, closed or aborted."""
        return self._stages.stage

    # -- writing ------------------------------------------------------------------------------

    def buffer(self, data: bytes | bytearray | memoryview | str) -> None:
        """Append ``data`` to the upload without any I/O; ``write``, ``flush`` or ``close``
        send it. A str is encoded with the upload's encoding."""
        self._stages.check(UploadEvent.WRITE)
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
        self._stages.move(UploadEvent.WRITE)

    def write(self, data: bytes | bytearray | memoryview | str) -> None:
        """Append ``data``, inserting the chunks it completes once a batch is full.

        Over the upload's ``max_size``, FileTooLarge: the chunks already sent are removed.
        """
        with self._op.current():  # the commands it sends are the upload span's children
            self._write(data)

    def _write(self, data: bytes | bytearray | memoryview | str) -> None:
        self._stages.check(UploadEvent.WRITE)
        self._store.bucket.check_writable("upload a file")  # before the bytes join: nothing changes
        try:
            self.buffer(data)
        except FileTooLarge as exc:
            self._abort_after(exc)
            raise
        batches = self._batcher.ready()
        self._keep_registered(before=bool(batches))
        self._send(batches)

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview | str]) -> None:
        """Write each item of ``lines`` in turn (no separators are added)."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Insert every full chunk written so far (a partial last chunk waits for more)."""
        with self._op.current():
            self._flush()

    def _flush(self) -> None:
        self._stages.move(UploadEvent.FLUSH)
        self._store.bucket.check_writable("upload a file")
        batches = self._batcher.drain()
        self._keep_registered(before=bool(batches))
        self._send(batches)

    def close(self) -> FileInfo:
        """Insert the rest, then the files document; return the file's description.

        Calling it again returns the same description.
        """
        with self._op.current():
            try:
                info = self._close()
            except BaseException as exc:
                self._op.end(exc)
                raise
        self._op.set(file_id=info.file_id, length=info.length)
        self._op.moved(self._cutter.length, "uploaded")
        self._op.end()
        return info

    def _close(self) -> FileInfo:
        if self._stages.check(UploadEvent.CLOSE) is UploadStage.CLOSED:
            assert self.info is not None
            return self.info  # closed already: the same description
        # Refused with nothing changed (the upload stays open, its chunks kept): a session
        # bound since the upload began, now in a transaction, must not take its writes.
        self._store.bucket.check_writable("upload a file")
        self._stages.move(UploadEvent.CLOSE)
        try:
            self._check_type()
        except BaseException as exc:
            self._abort_after(exc)
            raise
        self._keep_registered()
        last = self._cutter.finish()
        if last is not None:
            self._batcher.add([last])
        # The whole file's SHA-256 is known now: with deduplication its claim is taken
        # before the chunks still held here are sent, so a file stored already costs none.
        try:
            info = self._describe()
            self._check_described(info)
            if self._dedup:
                existing = self._stored_copy(info)
                if existing is not None:
                    # The same bytes are stored in this scope: ours go, that file is the
                    # answer, as it is (its own name, metadata and id).
                    self._op.set(deduplicated=True)
                    self._remove_ours()
                    self.info = existing
                    self._stages.move(UploadEvent.FINISH)
                    self._progress.reached(info.length)
                    self._progress.finished()
                    return existing
        except BaseException as exc:
            self._abort_after(exc)
            raise
        self._send(self._batcher.drain())
        try:
            if self._entry is not None and self._lease_may_have_lapsed():
                self._check_chunks(info)
            info = self._writer.insert_file(info)  # with its encryption record, if any
        except DuplicateKeyError as exc:
            self._abort_after(exc)
            raise FileExists(
                f"file {self.file_id!r} already exists in {self._store.bucket.files.name}"
            ) from exc
        except BaseException as exc:
            self._abort_after(exc)
            raise
        self.info = info
        self._claim = None  # the files document it promised is in
        self._stages.move(UploadEvent.FINISH)
        # The file is whole and visible: should the entry stay behind, it only keeps a
        # sweep off chunks that have their files document anyway, until its lease runs out.
        with contextlib.suppress(Exception):
            self._unregister()
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

    def _stored_copy(self, info: FileInfo) -> FileInfo | None:
        """The file of this upload's scope holding the same bytes, if one is stored; else
        None, this upload's file holding the claim on them (``digests``): for new bytes,
        one insert."""
        assert info.sha256 is not None and self._scope is not None  # start_upload saw to it
        # Noted first: an abort (a cancellation during the take included) lets go of it.
        self._claim = (info.sha256, info.length, self._scope)
        take = self._store.digest_claims.take(
            self.file_id, info.sha256, info.length, self._scope, info.expire_at
        )
        found = finish(take, self._in_flight)
        if found is not None:
            self._claim = None  # the claim names that file: nothing of ours to let go of
        return found

    def stored_as_declared(self) -> FileInfo | None:
        """With deduplication and a declared SHA-256 and length, before any byte is written:
        the file of this upload's scope that holds them, closing this upload (nothing was
        sent); None when there is none (or nothing was declared)."""
        if self._declared is None or not self._dedup or self.length or self._writer.sent_any:
            return None
        sha256, length = self._declared
        assert length is not None and self._scope is not None
        moment = expiry_moment(self._expiry, datetime.now(timezone.utc))
        found = self._store.digest_claims.find(sha256, length, self._scope, moment)
        if found is None:
            return None
        self._stages.move(UploadEvent.FOUND)
        self.info = found
        return self.info

    # -- the registry of open uploads -----------------------------------------------------------

    def _keep_registered(self, *, before: bool = False) -> None:
        """Enter this upload in the registry before its first batch of chunks goes in while
        more may follow (``before``), or once it has been open long enough for a sweep to
        find its chunks old; refresh the entry while it writes. From its first chunk to
        the end of its lease, a deleting sweep leaves its chunks alone, whatever its pace.
        A small file, whose only chunks go in with its files document at ``close()``,
        costs no command here."""
        timing = self._store.sweep_timing
        every = timing.register_after.total_seconds()
        now = time.monotonic()
        if self._entry is None and not before and now - self._opened < every:
            return
        if self._entry is not None and now - self._refreshed < every:
            return
        try:
            self._register(timing.lease)
        except BaseException as exc:
            self._abort_after(exc)
            raise

    def _lease_may_have_lapsed(self) -> bool:
        """Whether the registry entry may have run out at some moment since it was first
        written (its chunks then had no protection from a sweep: they are counted before
        the files document goes in)."""
        lease = self._store.sweep_timing.lease.total_seconds()
        return self._lapsed or time.monotonic() - self._refreshed >= lease

    def _register(self, lease: timedelta) -> None:
        if self._entry is not None and self._lease_may_have_lapsed():
            self._lapsed = True  # silent past its lease once: a sweep may have been by
        entry = ObjectId() if self._entry is None else self._entry
        self._entry = entry
        self._refreshed = time.monotonic()
        doc = registration(entry, self.file_id, self._started, datetime.now(timezone.utc), lease)
        # An upsert: an entry a sweep removed once it expired comes back.
        insert = self._store.bucket.uploads.replace_one({"_id": entry}, doc, upsert=True)
        finish(insert, self._in_flight)

    def _check_chunks(self, info: FileInfo) -> None:
        """A long upload's chunks are all there before its files document goes in: a
        sweep may have taken them while the upload was silent past its lease."""
        want = expected_chunks(info.length, info.chunk_size)
        found = self._writer.count()
        if found != want:
            raise CorruptFile(
                f"upload of file {self.file_id!r}: {found} of its {want} chunks are in"
                f" {self._store.bucket.chunks.name} (removed while it was open, by a bucket sweep"
                " or by hand): nothing was stored"
            )

    def _unregister(self) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            self._store.bucket.uploads.delete_one({"_id": entry})

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

    def _describe(self) -> FileInfo:
        guessed = self._guessed_type()
        codec = self._store.db.codec_options
        now = upload_date(codec)
        # A given date (a copy keeping its source's) is stored; expiry counts from now.
        date = now if self._upload_date is None else upload_date(codec, self._upload_date)
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
            expire_at=expiry_moment(self._expiry, now),
            scope=self._scope,
        )

    def _send(self, batches: list[list[dict[str, Any]]]) -> None:
        if not batches:
            return
        try:
            self._check_type()
            for batch in batches:
                self._stored += self._writer.insert(batch)
                self._progress.reached(self._stored)
        except BaseException as exc:
            self._abort_after(exc)
            raise

    # -- giving up ------------------------------------------------------------------------------

    def abort(self) -> None:
        """Remove the chunks written so far and close the upload; a no-op once closed."""
        if self._stages.ended:
            return
        self._stages.move(UploadEvent.ABORT)
        self._op.set(aborted=True)
        self._op.end()  # an abort asked for (one after an error has ended it already)
        self._remove_ours()

    def _remove_ours(self) -> None:
        """Remove the chunks written so far (and a files document that may have gone in)."""
        # A write that a cancellation left running could land after the deletes below.
        nothing_in_flight(self._in_flight)
        try:
            self._writer.discard()
            if self._claim is not None:
                claim, self._claim = self._claim, None
                self._store.digest_claims.release(self.file_id, *claim)
        finally:
            # After the chunks are gone: until then the entry keeps a sweep off them.
            self._unregister()

    def _abort_after(self, error: BaseException) -> None:
        """Abort because of ``error``; a failing clean-up must not hide ``error``.

        The clean-up runs in a task of its own, so a cancellation (even one delivered again
        and again) does not stop it halfway; a cancelled caller waits for it only briefly.
        """
        self._op.end(error)  # a refusal by a limit is counted there
        try:
            clean_up_now(self.abort, error)
        except TimeoutError as late:
            add_note(error, f"removing the chunks of file {self.file_id!r}: {late}")
        except Exception as cleanup:
            add_note(
                error,
                f"removing the chunks of file {self.file_id!r} failed too: {cleanup!r};"
                " they stay until the bucket check finds them",
            )


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
    if not unordered and sync_iterable(data):
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


def write_source(stream: UploadStream, data: Any) -> None:
    """Write all of ``data`` (as accepted by ``check_source``) to ``stream``."""
    if isinstance(data, str):
        data = data.encode(stream.encoding)
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(as_bytes(data))
        for start in range(0, len(view), _SLICE):
            stream.write(view[start : start + _SLICE])
    elif callable(getattr(data, "read", None)):
        while True:
            block = read_file(data, stream.chunk_size)
            if isinstance(block, str):
                raise TypeError(
                    f"cannot store a text-mode file ({type(data).__name__}): its read() "
                    "returned str; open it in binary mode"
                )
            block = as_bytes(block, f"{type(data).__name__}.read() result")
            if not block:
                return
            stream.write(block)
    else:
        for piece in pieces_of(data):
            stream.write(piece)
