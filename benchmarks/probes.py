"""What the benchmarks measure with: command counting and the bytes they move (RSS: rss.py)."""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pymongo import monitoring

MiB = 1024 * 1024
KiB = 1024
PIECE = MiB  # uploads are fed in pieces of this size
BLOCKS = 8  # distinct random blocks the data cycles through
SEED = 20240611

# Commands a driver sends on its own (monitoring, handshakes, session clean-up): not the
# cost of an operation.
DRIVER_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "endSessions", "saslStart", "saslContinue"}
)


def _make_blocks() -> list[bytes]:
    rng = random.Random(SEED)
    return [rng.randbytes(PIECE) for _ in range(BLOCKS)]


_BLOCKS = _make_blocks()


def pieces(size: int) -> Iterator[bytes]:
    """The benchmark data of `size` bytes, as PIECE-sized pieces (the last may be shorter)."""
    sent = 0
    index = 0
    while sent < size:
        piece = _BLOCKS[index % BLOCKS]
        take = min(PIECE, size - sent)
        yield piece if take == PIECE else piece[:take]
        sent += take
        index += 1


def expected_slice(start: int, length: int) -> bytes:
    """Bytes [start, start + length) of the benchmark data (of any total size)."""
    out = bytearray()
    pos = start
    end = start + length
    while pos < end:
        block = _BLOCKS[(pos // PIECE) % BLOCKS]
        offset = pos % PIECE
        take = min(PIECE - offset, end - pos)
        out += block[offset : offset + take]
        pos += take
    return bytes(out)


def small_payload(index: int, size: int) -> bytes:
    """A distinct small file: a slice of the benchmark data starting at `index` * 97 bytes."""
    return expected_slice((index * 97) % (BLOCKS * PIECE - size), size)


class PieceReader(io.RawIOBase):
    """A read-only binary file object producing the benchmark data without holding it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        left = self._size - self._pos
        if size is None or size < 0:
            size = left  # callers asking for "everything" get it, as a real file would
        size = min(size, left)
        if size <= 0:
            return b""
        data = expected_slice(self._pos, size)
        self._pos += size
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class CommandCounter(monitoring.CommandListener):
    """Counts the commands an operation sends and the chunk documents the server returns.

    Registered on each client of a system; counts only while `active` is true, so set-up
    and clean-up traffic stays out of the numbers.
    """

    def __init__(self) -> None:
        self.active = False
        self.commands: Counter[str] = Counter()
        self.chunk_docs = 0
        self._chunk_requests: set[int] = set()

    def reset(self) -> None:
        self.commands = Counter()
        self.chunk_docs = 0
        self._chunk_requests.clear()

    @property
    def total(self) -> int:
        return sum(self.commands.values())

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.active or event.command_name in DRIVER_COMMANDS:
            return
        self.commands[event.command_name] += 1
        if event.command_name in ("find", "getMore"):
            target = event.command.get("find") or event.command.get("collection")
            if isinstance(target, str) and target.endswith(".chunks"):
                self._chunk_requests.add(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id not in self._chunk_requests:
            return
        self._chunk_requests.discard(event.request_id)
        cursor = event.reply.get("cursor") or {}
        batch = cursor.get("firstBatch", cursor.get("nextBatch", []))
        self.chunk_docs += len(batch)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._chunk_requests.discard(event.request_id)
