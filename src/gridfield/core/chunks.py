"""Chunk documents: cutting writes into them, batching inserts, checking reads, range math."""

from __future__ import annotations

import hashlib
import inspect
import io
from collections.abc import Mapping
from typing import Any, NamedTuple

import bson
from bson import ObjectId

from .content_types import SNIFF_BYTES
from .encryption import CHUNK_OVERHEAD, FileCipher
from .errors import CorruptFile
from .files_document import FileInfo
from .numbers import is_whole_number, whole_number

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "DEFAULT_BATCH_COUNT",
    "READ_BATCH_BYTES",
    "STREAM_BATCH_BYTES",
    "Assembly",
    "ChunkBatcher",
    "ChunkCheck",
    "ChunkCutter",
    "ChunkSpan",
    "SequentialChecksum",
    "as_bytes",
    "assemble",
    "chunk_overhead",
    "chunk_span",
    "chunks_per_batch",
    "clamp_range",
]

DEFAULT_BATCH_BYTES = 8 * 1024 * 1024
"""Most payload bytes per insert or read batch: few round trips, and memory stays bounded
(an insert holds its batch about three times over: the documents, their BSON, the message)."""

DEFAULT_BATCH_COUNT = 1000
"""Most chunk documents per insert."""

READ_BATCH_BYTES = 8 * 1024 * 1024
"""Most payload bytes per batch a read that hands its bytes over at once asks for (``read()``,
``read_range()``, a copy). Small enough that the client's allocator serves each reply, and
the chunks decoded from it, from the memory the reply before gave back; few enough round
trips. Measured in ``./dev bench`` (client CPU, reads of 16 and 64 MiB in worker processes,
the result built as the chunks arrive: ``Assembly``): with 32 MiB batches a whole read
touched about two fresh pages per page of the file (a page fault each, near half the read's
CPU); with 8 MiB ones, none at 16 MiB and only the result's own at 64 MiB, and it cost less
CPU than with 2 MiB ones (more replies, each a command's work). Batches are split evenly
over what the span has left (``chunks_per_batch``): no small reply at the end."""

STREAM_BATCH_BYTES = 2 * 1024 * 1024
"""Most payload bytes per batch a streaming read asks for (an HTTP body, a range, a loop
over a stream): a reader stalled by a slow client holds about one such batch on the
server's side and one in the client."""


def chunks_per_batch(batch_bytes: int, chunk_size: int, wanted: int | None = None) -> int:
    """How many chunks of ``chunk_size`` bytes to ask for per batch: at most what about
    ``batch_bytes`` holds (one at least); when ``wanted`` documents are all there is to
    fetch, as few batches as that allows, of about equal size (no small reply at the end),
    and one more than wanted when one batch fetches them all, so the server can say the
    cursor is done in the same reply."""
    most = max(1, batch_bytes // max(1, chunk_size))
    if wanted is None or wanted <= 0:
        return most
    if wanted < most:
        return wanted + 1
    batches = -(-wanted // most)
    return -(-wanted // batches)


Chunk = dict[str, Any]


def as_bytes(data: object, what: str = "data") -> bytes | memoryview:
    """Return bytes-like ``data`` as bytes or a flat byte memoryview; TypeError for anything else.

    A view that is not contiguous is copied into bytes, element order kept.

    ``what`` names the value in the error. A coroutine (an async source handed to a sync
    API) is closed so it does not warn about never being awaited.
    """
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        view = memoryview(data)
        if not view.c_contiguous:
            return view.tobytes()  # a strided view (b[::2]): one copy, in logical order
        return view if view.format == "B" and view.ndim == 1 else view.cast("B")
    if inspect.iscoroutine(data):
        data.close()
        raise TypeError(f"{what} is a coroutine: an async source needs the async API")
    raise TypeError(f"{what} must be bytes-like, not {type(data).__name__}")


def chunk_overhead(files_id: Any) -> int:
    """Encoded size of a chunk document of ``files_id`` apart from its payload (an upper bound)."""
    empty = {"_id": ObjectId(), "files_id": files_id, "n": 2**40, "data": b""}
    return len(bson.encode(empty))


class ChunkCutter:
    """Cuts a stream of writes of any size into chunk documents.

    Only the partial tail is buffered; a large write is sliced through a memoryview,
    so each payload byte is copied once, into its chunk.
    """

    def __init__(self, files_id: Any, chunk_size: int, *, checksum: bool = False) -> None:
        self.files_id = files_id
        self.chunk_size = chunk_size
        self.length = 0
        """Bytes fed so far."""
        self.n = 0
        """The n of the next chunk to come out."""
        self.head = b""
        """The first few bytes fed (for content type sniffing)."""
        self._tail = bytearray()
        self._hash = hashlib.sha256() if checksum else None

    @classmethod
    def resuming(cls, files_id: Any, chunk_size: int, offset: int, tail: bytes) -> ChunkCutter:
        """A cutter that carries on a file already ``offset`` bytes long, whose last
        ``len(tail)`` bytes (less than a chunk) are ``tail`` and not yet in a chunk."""
        if len(tail) >= chunk_size or offset % chunk_size != len(tail):
            raise ValueError(
                f"a tail of {len(tail)} bytes does not end a file of {offset} bytes"
                f" in chunks of {chunk_size}"
            )
        cutter = cls(files_id, chunk_size)
        cutter.n = offset // chunk_size
        cutter.length = offset
        cutter._tail += tail
        return cutter

    def _chunk(self, payload: bytes) -> Chunk:
        doc = {"_id": ObjectId(), "files_id": self.files_id, "n": self.n, "data": payload}
        self.n += 1
        return doc

    def feed(self, data: bytes | bytearray | memoryview) -> list[Chunk]:
        """Take more bytes; return the chunk documents they complete (maybe none)."""
        data = as_bytes(data)
        view = memoryview(data)
        size = len(view)
        if not size:
            return []
        if len(self.head) < SNIFF_BYTES:
            self.head += bytes(view[: SNIFF_BYTES - len(self.head)])
        if self._hash is not None:
            self._hash.update(view)
        self.length += size
        out: list[Chunk] = []
        start = 0
        if self._tail:
            start = min(self.chunk_size - len(self._tail), size)
            self._tail += view[:start]
            if len(self._tail) < self.chunk_size:
                return out
            out.append(self._chunk(bytes(self._tail)))
            self._tail.clear()
        if start == 0 and size == self.chunk_size and isinstance(data, bytes):
            # Exactly one chunk of immutable bytes (a file read chunk_size at a time): no copy.
            out.append(self._chunk(data))
            start = size
        while size - start >= self.chunk_size:
            out.append(self._chunk(bytes(view[start : start + self.chunk_size])))
            start += self.chunk_size
        if start < size:
            self._tail += view[start:]
        return out

    @property
    def pending(self) -> int:
        """Bytes held back for a chunk not yet full."""
        return len(self._tail)

    @property
    def tail(self) -> bytes:
        """The bytes held back for a chunk not yet full."""
        return bytes(self._tail)

    def finish(self) -> Chunk | None:
        """The last, short chunk (None if the bytes fed fill whole chunks)."""
        if not self._tail:
            return None
        doc = self._chunk(bytes(self._tail))
        self._tail = bytearray()
        return doc

    def sha256(self) -> str | None:
        """Hex SHA-256 of every byte fed, if asked for."""
        return self._hash.hexdigest() if self._hash is not None else None


class ChunkBatcher:
    """Groups chunk documents into insert batches bounded by payload bytes and count."""

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_BATCH_BYTES,
        max_count: int = DEFAULT_BATCH_COUNT,
        overhead: int = 0,
    ) -> None:
        if max_bytes <= 0 or max_count <= 0:
            raise ValueError("batch bounds must be positive")
        self.max_bytes = max_bytes
        self.max_count = max_count
        self.overhead = overhead
        self._docs: list[Chunk] = []
        self._bytes = 0
        self._ready: list[list[Chunk]] = []

    def add(self, docs: list[Chunk]) -> None:
        """Queue chunk documents in order; a batch that is full becomes ready."""
        for doc in docs:
            size = len(doc["data"]) + self.overhead
            if self._docs and self._bytes + size > self.max_bytes:
                self._seal()
            self._docs.append(doc)
            self._bytes += size
            if len(self._docs) >= self.max_count or self._bytes >= self.max_bytes:
                self._seal()

    def _seal(self) -> None:
        self._ready.append(self._docs)
        self._docs = []
        self._bytes = 0

    def ready(self) -> list[list[Chunk]]:
        """Take the full batches (oldest first), leaving the one still filling."""
        out, self._ready = self._ready, []
        return out

    def drain(self) -> list[list[Chunk]]:
        """Take every queued batch, the one still filling included."""
        if self._docs:
            self._seal()
        return self.ready()

    def __len__(self) -> int:
        """Number of chunk documents queued."""
        return len(self._docs) + sum(len(b) for b in self._ready)


class ChunkSpan(NamedTuple):
    """The chunks that hold a byte range: numbers ``first`` to ``last`` inclusive, the range
    starting ``skip`` bytes into chunk ``first`` and ``size`` bytes long."""

    first: int
    last: int
    skip: int
    size: int


def clamp_range(start: int, end: int | None, length: int) -> tuple[int, int]:
    """Normalise ``[start, end)`` of a file of ``length`` bytes; ValueError on negatives."""
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            whole_number(value, name)
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    stop = length if end is None else min(end, length)
    begin = min(start, length)
    return begin, max(begin, stop)


def chunk_span(start: int, end: int, chunk_size: int) -> ChunkSpan | None:
    """Which chunks cover ``[start, end)`` (already clamped); None for an empty range."""
    if end <= start:
        return None
    first = start // chunk_size
    last = (end - 1) // chunk_size
    return ChunkSpan(first, last, start - first * chunk_size, end - start)


class ChunkCheck:
    """Checks the chunks of one file as a read receives them, in order.

    Expects exactly chunks ``first`` to ``last`` (default: the file's last chunk), each with
    the next n and the size the file's length dictates (plus the cipher's overhead for an
    encrypted file); anything else is a ``CorruptFile`` naming the file and the chunk.
    """

    def __init__(
        self,
        info: FileInfo,
        first: int = 0,
        last: int | None = None,
        *,
        cipher: FileCipher | None = None,
    ) -> None:
        self.file_id = info.file_id
        self.length = info.length
        self.chunk_size = info.chunk_size
        self.count = info.chunk_count
        self.next = first
        self.last = self.count - 1 if last is None else last
        self.overhead = CHUNK_OVERHEAD if info.encrypted else 0
        """Bytes a stored chunk holds beyond its share of the file."""
        self.cipher = cipher
        """What opens the chunks of an encrypted file (None: a clear file, or a check of
        the chunks' sizes and order alone, as a bucket check without keys does)."""

    def expected_size(self, n: int) -> int:
        """Payload size of chunk ``n`` in a sound file."""
        if n < self.count - 1:
            return self.chunk_size
        return self.length - (self.count - 1) * self.chunk_size

    def _corrupt(self, message: str) -> CorruptFile:
        return CorruptFile(f"file {self.file_id!r}: {message}")

    def accept(self, doc: Mapping[str, Any]) -> bytes:
        """Check the next chunk document and return its payload."""
        n = doc.get("n")
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if not is_whole_number(n):
            raise self._corrupt(f"chunk after {self.next - 1} has no valid n: {n!r}")
        if n >= self.count:
            raise self._corrupt(f"extra chunk {n}: the file has {self.count} chunks")
        if n > self.last:
            raise self._corrupt(f"chunk {n} was not asked for (reading up to {self.last})")
        if n < self.next:
            raise self._corrupt(f"chunk {n} is duplicated or out of order")
        if n > self.next:
            raise self._corrupt(f"chunk {self.next} is missing")
        data = doc.get("data")
        if not isinstance(data, bytes):
            raise self._corrupt(f"chunk {n} has no binary data: {type(data).__name__}")
        want = self.expected_size(n) + self.overhead
        if len(data) != want:
            raise self._corrupt(f"chunk {n} is {len(data)} bytes, expected {want}")
        self.next += 1
        return data

    @property
    def done(self) -> bool:
        """Every expected chunk has been accepted."""
        return self.next > self.last

    def finish(self) -> None:
        """The chunks have run out: CorruptFile if some were never received."""
        if not self.done:
            raise self._corrupt(f"chunk {self.next} is missing")


class SequentialChecksum:
    """Verifies a file's SHA-256 when a reader happens to see all of it in order from byte 0."""

    def __init__(self, info: FileInfo) -> None:
        self.file_id = info.file_id
        self.expected = info.sha256.lower() if info.sha256 is not None else None
        self.length = info.length
        self._hash = hashlib.sha256()
        self._pos = 0

    def feed(self, offset: int, data: bytes | memoryview) -> None:
        """Note bytes read at ``offset``; CorruptFile when the whole file is seen and differs."""
        if self.expected is None or offset != self._pos or self._pos > self.length:
            return
        self._hash.update(data)
        self._pos += len(data)
        if self._pos == self.length:
            self._pos += 1  # verified once: later reads are not hashed again
            got = self._hash.hexdigest()
            if got != self.expected:
                raise CorruptFile(
                    f"file {self.file_id!r}: SHA-256 {got} does not match"
                    f" the stored {self.expected}"
                )


class Assembly:
    """The ``size`` bytes that start ``skip`` bytes into the first of a run of chunk
    payloads, built as the payloads arrive: each one's share is copied in at once, so a
    read of many chunks never holds them all besides the result (a whole read of a large
    file touches its size in fresh memory once, not twice)."""

    def __init__(self, skip: int, size: int) -> None:
        self._out = io.BytesIO()
        if size > 0:
            # The result's memory taken once, at its size (what growing it piece by piece
            # would reallocate, and fault in, again and again); result() hands it over
            # without a copy.
            self._out.seek(size - 1)
            self._out.write(b"\0")
            self._out.seek(0)
        self._skip = skip
        self._left = size

    def add(self, data: bytes) -> None:
        """The next payload of the run."""
        if self._left <= 0:
            return
        with memoryview(data) as view:
            piece = view[self._skip : self._skip + self._left]
            self._out.write(piece)
            self._left -= len(piece)
            piece.release()
        self._skip = 0

    def result(self) -> bytes:
        """The span's bytes, once the run's last payload is in."""
        return self._out.getvalue()


def assemble(parts: list[bytes], skip: int, size: int) -> bytes:
    """Join chunk payloads into the ``size`` bytes that start ``skip`` bytes into the first."""
    if not parts:
        return b""
    if len(parts) == 1:
        return parts[0][skip : skip + size]
    views = [memoryview(p) for p in parts]
    views[0] = views[0][skip:]
    excess = sum(len(v) for v in views) - size
    if excess > 0:
        views[-1] = views[-1][: len(views[-1]) - excess]
    return b"".join(views)
