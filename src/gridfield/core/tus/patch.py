"""The bytes of one PATCH, sans I/O: cut into the upload's chunks as they arrive, checked
against its length and checksum, and the upload's state after it, kept or refused whole."""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass
from typing import Any

from ..chunks import ChunkCutter, as_bytes
from ..encryption import FileCipher
from .headers import TusError
from .requests import PatchRequest
from .state import UploadState

__all__ = ["BodyCut", "Finished", "PatchReceiver"]


class BodyCut(Exception):
    """A request body ended before its end: the client went away. Web adapters raise it
    from the body they hand over; the bytes received until then are kept."""


Chunk = dict[str, Any]


@dataclass(frozen=True)
class Finished:
    """A PATCH received whole: the upload's state after it, and, when that completes the
    upload, the file's last (short) chunk still to store (None if whole chunks end it)."""

    state: UploadState
    last_chunk: Chunk | None = None


class PatchReceiver:
    """Takes the body of one PATCH against ``state`` (already checked by
    ``PatchRequest.applied_to``), a piece at a time.

    ``feed`` returns the whole chunks the bytes complete, for the caller to insert; the
    upload's state moves on only through ``durable``, ``interrupted`` or ``finish``. A
    refusal (bytes past the length: 413; a checksum mismatch: 460) leaves the state as it
    was: the caller then deletes the chunks from ``discard_from`` on, which the state never
    counted. ``file_hash`` (a hash object of every byte before ``state.offset``), when given,
    is updated with every byte received. While the length is deferred, ``max_size`` bounds
    the bytes taken. ``cipher``: the encrypted upload's (its file's), which opens the sealed
    tail here (CorruptFile if it was altered or swapped) and seals the tail of every state
    handed back.
    """

    def __init__(
        self,
        state: UploadState,
        request: PatchRequest,
        file_hash: Any | None = None,
        *,
        max_size: int | None = None,
        cipher: FileCipher | None = None,
    ) -> None:
        if state.complete:
            raise ValueError(f"upload {state.upload_id} is complete: it takes no more bytes")
        if state.encrypted != (cipher is not None):
            raise ValueError(
                f"upload {state.upload_id} is {'' if state.encrypted else 'not '}encrypted:"
                f" a receiver {'needs' if state.encrypted else 'takes no'} cipher"
            )
        self.state = state
        self.request = request
        self.received = 0
        self.file_hash = file_hash
        self._cipher = cipher
        tail = state.tail
        if cipher is not None and tail:
            tail = cipher.open_tail(state.offset, tail)
        self._cutter = ChunkCutter.resuming(state.file_id, state.chunk_size, state.offset, tail)
        self._check = request.checksum.hasher() if request.checksum is not None else None
        # Bytes this PATCH may carry: up to the length, or while it is deferred the limit.
        end = state.length if state.length is not None else max_size
        self._room = None if end is None else end - state.offset
        self.discard_from = state.first_open_chunk
        """The first chunk n this PATCH may write: a refusal deletes from there on."""

    @property
    def counts_as_it_goes(self) -> bool:
        """Whether the chunks stored so far may be counted before the body ends: not when a
        checksum must first be verified, nor when the body's size is unknown (it might run
        past the length and be refused whole)."""
        return self._check is None and self.request.content_length is not None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Chunk]:
        """Take the next bytes of the body; return the whole chunks they complete.

        413 when they run past the upload's length (the PATCH is refused whole).
        """
        view = as_bytes(data)
        size = len(view)
        if self._room is not None and self.received + size > self._room:
            raise TusError(
                413,
                f"the PATCH goes past the upload's length of {self.state.length} bytes"
                if self.state.length is not None
                else f"the PATCH goes past this server's limit of {self.state.offset + self._room}"
                " bytes",
            )
        self.received += size
        if self._check is not None:
            self._check.update(view)
        if self.file_hash is not None:
            self.file_hash.update(view)
        return self._cutter.feed(view)

    def durable(self, stored_through: int) -> UploadState | None:
        """The state once chunks up to n ``stored_through`` are on the server, to record
        while the body goes on (what a crash then keeps); None when it may not count yet."""
        if not self.counts_as_it_goes:
            return None
        offset = (stored_through + 1) * self.state.chunk_size
        return dataclasses.replace(self.state, offset=offset, tail=b"")

    def interrupted(self) -> UploadState | None:
        """The state after a body cut short (the client went away): every byte received
        counts, the partial chunk kept as the tail. None when a checksum was to be verified:
        the bytes are discarded, as the spec says."""
        if self._check is not None:
            return None
        offset = self.state.offset + self.received
        return dataclasses.replace(self.state, offset=offset, tail=self._kept_tail(offset))

    def _kept_tail(self, offset: int) -> bytes:
        """The tail to keep at ``offset`` as stored: sealed to it for an encrypted upload."""
        tail = self._cutter.tail
        if self._cipher is None or not tail:
            return tail
        return self._cipher.seal_tail(offset, tail)

    def finish(self) -> Finished:
        """The body has ended: 460 if it does not match its checksum; else the new state
        (complete, with the last chunk to store, when it reached the length)."""
        wanted = self.request.checksum
        digest = self._check.digest() if self._check is not None else None
        if (
            wanted is not None
            and digest is not None
            and not hmac.compare_digest(digest, wanted.digest)
        ):
            raise TusError(460, f"the PATCH's {wanted.algorithm} checksum does not match its body")
        offset = self.state.offset + self.received
        if self.state.length is not None and offset == self.state.length:
            last = self._cutter.finish()
            done = dataclasses.replace(self.state, offset=offset, tail=b"", complete=True)
            return Finished(done, last)
        return Finished(
            dataclasses.replace(self.state, offset=offset, tail=self._kept_tail(offset))
        )
