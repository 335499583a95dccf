# Generated from src/gridfield/_async/download.py by scripts/unasync.py: do not edit.
"""Reading a stored file back: a stream over its chunks, each checked as it comes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import telemetry
from .._twins import refuse_unwritable_here, write_to
from ..core.chunks import (
    READ_BATCH_BYTES,
    STREAM_BATCH_BYTES,
    Assembly,
    ChunkSpan,
    SequentialChecksum,
    chunk_span,
    clamp_range,
)
from ..core.content_types import SNIFF_BYTES
from ..core.encryption import FileCipher
from ..core.errors import CorruptFile, NoFile
from ..core.files_document import DescribedFile, FileInfo
from ..core.guards import Progress, ProgressCallback, check_progress_callback
from ..core.position import ReadPosition, check_read_size
from ..telemetry import Operation
from .chunk_reader import Opened
from .closing import Closing
from .interfaces import StoreParts


class DownloadStream(DescribedFile, Closing):
    """A read-only, seekable file object over one stored file.

    Reads fetch only the chunks that cover the bytes asked for; iterating yields the
    chunks from the current position, streaming (constant memory). Every chunk is checked:
    a missing, extra, duplicated or wrongly sized one raises ``CorruptFile``; so does a
    SHA-256 mismatch once the whole file has been read in order.
    """

    def __init__(
        self,
        store: StoreParts,
        info: FileInfo,
        position: ReadPosition | None = None,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._store = store
        self._chunk_reader = store.chunk_reader
        self.info = info
        # on_progress(bytes read up to, length): the furthest point reached, never back.
        self._progress = Progress(check_progress_callback(on_progress), info.length)
        self.closed = False
        self.position = ReadPosition() if position is None else position
        """Where the next read starts; a proxy hands in its own, so the two share it."""
        self._checksum = SequentialChecksum(info)
        # The last chunk fetched, so small sequential reads do not fetch it again.
        self._cached: tuple[int, bytes] | None = None
        # Reads in order share one forward cursor (as PyMongo's GridOut does), so a file read
        # a piece at a time costs one query, not one per read. A read after a seek elsewhere
        # fetches exactly the chunks it covers instead.
        self._ahead: Iterator[tuple[int, bytes]] | None = None
        self._ahead_next = 0  # the chunk the forward cursor yields next
        self._read_end = 0  # where the last read stopped: a read starting here is in order
        self._end_checked = False  # no chunk lies past the file's end: seen by some read
        # One reader at a time: two interleaved reads would share one position and one
        # cursor, and hand out the same bytes twice. A lock taken without waiting refuses
        # the second at once, between tasks as between threads.
        self._reader = threading.Lock()
        # A cursor over the chunks from chunk 0 to the end, sent before this stream was made
        # (``open_download(..., eager=True)``), with the first document it brought back (None:
        # no chunk at all); the first read from chunk 0 to the end continues it.
        self._opened: tuple[Any, Any] | None = None
        self._file_cipher: FileCipher | None = None
        # Its telemetry: begun at the first read, ended by close(); or the operation of
        # whoever opened it for a request (serving), which ends it.
        self._op: Operation | None = None
        self._owns_op = True

    # Reads that hand everything over at once (read(), readline(), read_range()) ask for the
    # batches that cost the least CPU; reads that stream (a loop, iter_range: an HTTP body)
    # ask for small ones, so a reader stalled by a slow client holds little.

    def __repr__(self) -> str:
        return f"<{type(self).__name__} file_id={self.file_id!r} length={self.length}>"

    # -- what the files document says ----------------------------------------------------------

    def _file_info(self) -> FileInfo:
        return self.info

    def __getattr__(self, name: str) -> Any:
        """A top-level field of the files document that gridfield does not name (``put()``'s
        extra keywords, an image's ``width``...), as PyMongo's GridOut reads it."""
        info = self.__dict__.get("info")
        if name.startswith("_") or info is None or name not in info.extra:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        return info.extra[name]

    @property
    def file_id(self) -> Any:
        """The stored file's ``_id``."""
        return self.info.file_id

    @property
    def chunk_size(self) -> int:
        """Payload size of the file's chunks."""
        return self.info.chunk_size

    @property
    def metadata(self) -> dict[str, Any]:
        """The stored metadata document (empty if none)."""
        return self.info.metadata

    # -- position ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"download of file {self.file_id!r} is closed")

    def seek(self, pos: int, whence: int = 0) -> int:
        """Move to ``pos`` relative to the start (0), the current position (1) or the end (2)."""
        self._check_open()
        return self.position.seek(pos, whence, lambda: self.length)

    def tell(self) -> int:
        """The current position."""
        return self.position.offset

    def seekable(self) -> bool:
        """Always True."""
        return True

    def readable(self) -> bool:
        """Always True."""
        return True

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def _one_reader(self) -> Iterator[None]:
        """Hold the stream for one read; a damaged-looking file that is gone is NoFile."""
        if not self._reader.acquire(blocking=False):
            raise RuntimeError(
                f"download of file {self.file_id!r}: another read of this stream is in "
                "progress; a stream has one reader at a time (open a stream per reader)"
            )
        op = self._observed()
        try:
            with op.current():  # the commands a read sends are children of its operation
                try:
                    yield
                except CorruptFile as exc:
                    self._raise_if_vanished(exc)
                    raise
        except (CorruptFile, NoFile) as exc:
            if self._owns_op:  # the stream can read no further: its operation ends here
                op.end(exc)
            raise
        finally:
            self._reader.release()

    def _observed(self) -> Operation:
        """This stream's telemetry operation (begun now if need be)."""
        if self._op is None:
            self._op = telemetry.begin(
                "download",
                bucket=self._store.collection_name,
                file_id=self.info.file_id,
                length=self.info.length,
                encrypted=self.info.encrypted,
            )
        return self._op

    def observed_by(self, op: Operation) -> None:
        """Count this stream's reads into ``op`` (a served request's), which its owner
        ends, instead of an operation of its own."""
        self._op, self._owns_op = op, False

    def _raise_if_vanished(self, error: CorruptFile) -> None:
        """NoFile if the file was deleted or replaced since this stream described it: chunks
        missing under a reader are a delete (or ``put --replace``) racing it, not damage."""
        try:
            vanished = self._store.vanished(self.info)
        except Exception as late:  # the second look failed: report what the read found
            note = getattr(error, "add_note", None)  # Python 3.11+
            if note is not None:
                note(f"checking whether file {self.file_id!r} still exists failed: {late!r}")
            return
        if vanished:
            raise NoFile(
                f"file {self.file_id!r} in {self._store.bucket.files.name} was deleted or replaced "
                f"while being read ({error})"
            ) from error

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all the rest if negative) from the current position."""
        size = check_read_size(size)
        self._check_open()
        with self._one_reader():
            return self._read(size)

    def _read(self, size: int) -> bytes:
        end = None if size < 0 else self.position.offset + size
        if self.position.offset != self._read_end:
            data = self._read_range(self.position.offset, end)
        else:
            data = self._read_in_order(self.position.offset, end)
        self.position.offset += len(data)
        self._read_end = self.position.offset
        self._observed().moved(len(data), "downloaded")
        return data

    def _span(self, start: int, end: int | None) -> tuple[ChunkSpan | None, int]:
        """The chunks covering ``[start, end)`` (None if empty) and the clamped end."""
        start, end = clamp_range(start, end, self.length)
        span = chunk_span(start, end, self.chunk_size)
        if span is None and self.length == 0:
            self._checksum.feed(0, b"")  # an empty file is read whole by any read
        return span, end

    def _read_in_order(self, start: int, end: int | None) -> bytes:
        span, end = self._span(start, end)
        if span is None:
            if end == self.length:
                self._reach_end()
            return b""
        built = Assembly(span.skip, span.size)
        n = span.first
        while n <= span.last:
            built.add(self._chunk_in_order(n))
            n += 1
        if end == self.length:
            self._reach_end()
        return built.result()

    def _chunk_in_order(self, n: int) -> bytes:
        """Chunk ``n`` from the chunk in hand or the forward cursor (opened there if need be)."""
        if self._cached is not None and self._cached[0] == n:
            return self._cached[1]
        if self._ahead is None or self._ahead_next != n:
            self._drop_ahead()
            self._ahead = self._chunks(n, None, READ_BATCH_BYTES)
        try:
            got, data = next(self._ahead)
        except StopIteration:
            # Not reached on a sound file (the chunk check reports what is missing); never
            # let the iterator protocol's exception leave a read, where it would end the
            # caller's own loop as if the file had ended.
            self._ahead = None
            raise CorruptFile(f"file {self.file_id!r}: chunk {n} is missing") from None
        except BaseException:
            # A generator that raised is finished: the next read opens a new cursor where
            # the position still is (it moved only for bytes returned).
            self._ahead = None
            raise
        self._ahead_next = got + 1
        return data

    def _reach_end(self) -> None:
        """A read got to the file's end: make sure no chunk lies past it, once per stream."""
        if self._end_checked:
            return
        opened: Opened | None = None
        if self.info.chunk_count == 0 and self._opened is not None:
            # The cursor sent with the files query holds every chunk there is: all strays.
            opened = self._take_opened()
        self._chunk_reader.check_end(self.info, opened=opened)
        self._end_checked = True

    def _take_opened(self) -> tuple[Any, Any]:
        """The cursor opened ahead and its documents, from the first (taken: one read only)."""
        assert self._opened is not None
        (cursor, first), self._opened = self._opened, None
        return cursor, cursor if first is None else _after(first, cursor)

    def _drop_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.close()  # type: ignore[attr-defined]

    def read_range(self, start: int, end: int | None = None) -> bytes:
        """The bytes ``[start, end)`` of the file, without moving the position."""
        self._check_open()
        with self._one_reader():
            data = self._read_range(start, end)
        op = self._observed()
        op.set(range_start=start, range_end=start + len(data))
        op.moved(len(data), "downloaded")
        return data

    def _read_range(self, start: int, end: int | None) -> bytes:
        span, end = self._span(start, end)
        if span is None:
            if end == self.length:
                self._reach_end()
            return b""
        last = None if end == self.length else span.last
        built = Assembly(span.skip, span.size)
        for _, data in self._chunks(span.first, last, READ_BATCH_BYTES):
            built.add(data)
        return built.result()

    def iter_range(self, start: int, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes ``[start, end)`` of the file a chunk at a time (constant memory),
        from one cursor, without moving the position; checked as any read is (the end too,
        when the range reaches it, and the SHA-256 when it is the whole file).

        Like iterating over the stream, it holds it while each chunk is fetched (a second reader
        meanwhile is refused), and a file deleted under it is NoFile, not CorruptFile.
        """
        for piece in self._iter_range(start, end, None):
            yield piece

    def begin_range(
        self, start: int, end: int | None = None
    ) -> tuple[bytes, bytes, Iterator[bytes]]:
        """Start ``iter_range(start, end)`` and return the file's first bytes (up to
        ``SNIFF_BYTES``: what its content type is sniffed from), the range's first piece
        and an iterator over the rest of it (close it when done).

        Chunk 0 comes in the range's own cursor, whatever the range: a file whose type must
        be sniffed costs no extra query.
        """
        first_chunk: list[bytes] = []
        body = self._iter_range(start, end, first_chunk)
        try:
            piece = next(body, b"")
            # An empty range read no chunk: its file's head takes a read of its own.
            head = first_chunk[0][:SNIFF_BYTES] if first_chunk else self.read_range(0, SNIFF_BYTES)
        except BaseException:
            body.close()  # type: ignore[attr-defined]
            raise
        return head, piece, body

    def _iter_range(
        self, start: int, end: int | None, first_chunk: list[bytes] | None
    ) -> Iterator[bytes]:
        self._check_open()
        with self._one_reader():
            span, end = self._span(start, end)
            if span is None:
                if end == self.length:
                    self._reach_end()
                return
        last = None if end == self.length else span.last
        skip, left = span.skip, span.size
        chunks = self._chunks(span.first, last, STREAM_BATCH_BYTES, first_chunk)
        try:
            while True:
                with self._one_reader():
                    try:
                        _, data = next(chunks)
                    except StopIteration:
                        break
                piece = data[skip : skip + left] if skip or left < len(data) else data
                skip = 0
                left -= len(piece)
                self._observed().moved(len(piece), "downloaded")
                yield piece
        finally:
            chunks.close()  # type: ignore[attr-defined]

    def readchunk(self) -> bytes:
        """The rest of the chunk at the current position (empty at the end)."""
        self._check_open()
        with self._one_reader():
            if self.position.offset >= self.length:
                self._reach_end()
                return b""
            chunk_end = (self.position.offset // self.chunk_size + 1) * self.chunk_size
            return self._read(min(chunk_end, self.length) - self.position.offset)

    def readline(self, size: int = -1) -> bytes:
        """Read up to and including the next newline (at most ``size`` bytes if given).

        Scans a chunk at a time.
        """
        size = check_read_size(size, "readline")
        self._check_open()
        with self._one_reader():
            return self._readline(size)

    def _readline(self, size: int) -> bytes:
        limit = self.length if size < 0 else min(self.length, self.position.offset + size)
        parts: list[bytes] = []
        pos = self.position.offset
        while pos < limit:
            n = pos // self.chunk_size
            base = n * self.chunk_size
            data = self._chunk_in_order(n)
            stop = min(len(data), limit - base)
            newline = data.find(b"\n", pos - base, stop)
            end = newline + 1 if newline >= 0 else stop
            parts.append(data[pos - base : end])
            pos = base + end
            if newline >= 0:
                break
        if pos == self.length:
            self._reach_end()
        self.position.offset = self._read_end = pos
        line = b"".join(parts)
        self._observed().moved(len(line), "downloaded")
        return line

    def __iter__(self) -> Iterator[bytes]:
        """Yield the file's chunk payloads from the current position (the first one trimmed).

        The stream is held while each chunk is fetched, not while the caller has it: a loop
        left early leaves the stream free for the next read.
        """
        for piece in self._pieces(STREAM_BATCH_BYTES):
            yield piece

    def _pieces(self, batch_bytes: int) -> Iterator[bytes]:
        """The pieces iterating over the stream yields, from a cursor of ``batch_bytes`` batches."""
        self._check_open()
        if self.position.offset >= self.length:
            with self._one_reader():
                if self.length == 0:
                    self._checksum.feed(0, b"")
                self._reach_end()
            return
        first = self.position.offset // self.chunk_size
        skip = self.position.offset - first * self.chunk_size
        chunks = self._chunks(first, None, batch_bytes)
        try:
            while True:
                with self._one_reader():
                    try:
                        n, data = next(chunks)
                    except StopIteration:
                        break
                piece = data[skip:] if skip else data
                skip = 0
                self.position.offset = n * self.chunk_size + len(data)
                self._observed().moved(len(piece), "downloaded")
                yield piece
        finally:
            chunks.close()  # type: ignore[attr-defined]

    def _chunks(
        self,
        first: int,
        last: int | None,
        batch_bytes: int,
        first_chunk: list[bytes] | None = None,
    ) -> Iterator[tuple[int, bytes]]:
        """Chunks ``first`` to ``last`` (None: to the file's end, extra chunks reported),
        from the chunk in hand, the cursor sent ahead or a new one of ``batch_bytes``
        batches; each checked by the chunk reader and noted (checksum, progress) here.
        ``first_chunk`` receives chunk 0's bytes before anything is yielded."""
        if first_chunk is not None and self._cached is not None and self._cached[0] == 0:
            first_chunk.append(self._cached[1])
            first_chunk = None
        if self._cached is not None and self._cached[0] == first:
            yield self._cached
            first += 1
        opened: Opened | None = None
        cipher = self._cipher()
        if first == 0 and last is None and self._opened is not None:
            opened = self._take_opened()
        chunks = self._chunk_reader.chunks(
            self.info,
            first,
            last,
            opened=opened,
            batch_bytes=batch_bytes,
            first_chunk=first_chunk,
            cipher=cipher,
        )
        try:
            for held in chunks:
                self._note(held)
                if last is None and held[0] == self.info.chunk_count - 1:
                    # The reader hands out the last chunk once the cursor has ended behind
                    # it: no chunk lies past the file's end.
                    self._end_checked = True
                yield held
        finally:
            chunks.close()  # type: ignore[attr-defined]
        if last is None:
            self._end_checked = True

    def _note(self, chunk: tuple[int, bytes]) -> None:
        """A checked chunk is about to be handed out: hash it (the last one raises on a
        SHA-256 mismatch before anyone sees it), keep it, report the progress."""
        n, data = chunk
        self._checksum.feed(n * self.chunk_size, data)
        self._cached = chunk
        self._progress.reached(n * self.chunk_size + len(data))

    def _cipher(self) -> FileCipher | None:
        """The cipher of an encrypted file (its data key unwrapped once per stream)."""
        if self._file_cipher is None and self.info.encrypted:
            self._file_cipher = self._chunk_reader.cipher(self.info)
        return self._file_cipher

    # -- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the stream; reading afterwards raises ValueError."""
        self.closed = True
        if self._op is not None and self._owns_op:
            self._op.end()
        self._cached = None
        self._drop_ahead()
        if self._opened is not None:
            self._opened[0].close()
            self._opened = None


def _after(first: Any, cursor: Any) -> Iterator[Any]:
    yield first
    for doc in cursor:
        yield doc


def adopt_cursor(stream: DownloadStream, cursor: Any, first: Any) -> None:
    """Hand ``stream`` a cursor over its file's chunks from chunk 0 to the end, already sent,
    and the first document it brought back (None: it found none)."""
    stream._opened = (cursor, first)


def check_destination(destination: object) -> None:
    """TypeError unless this API can write to ``destination`` (checked before any I/O)."""
    refuse_unwritable_here(destination)


def copy_to(stream: DownloadStream, destination: Any) -> int:
    """Write the rest of ``stream`` to ``destination`` a chunk at a time, then close it;
    return the number of bytes written."""
    written = 0
    with stream:
        # A copy is a whole read: the batches that cost the least CPU.
        for piece in stream._pieces(READ_BATCH_BYTES):
            write_to(destination, piece)
            written += len(piece)
        stream._progress.finished()  # an empty file reports its end too
    return written
