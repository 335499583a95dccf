# Generated from src/gridfield/_async/chunk_reader.py by scripts/unasync.py: do not edit.
"""Reading chunk data: the one place a stored file's chunk documents become its bytes, each
checked (``core/chunks.py``) on the way."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from ..core.chunks import READ_BATCH_BYTES, ChunkCheck, chunks_per_batch
from ..core.encryption import Encryption, FileCipher
from ..core.errors import CorruptFile
from ..core.files_document import FileInfo
from ..core.queries import chunks_filter, chunks_with_first_filter
from .file_keys import cipher_for

__all__ = ["ChunkReader", "Opened"]

Opened = tuple[Any, Any]
"""A cursor already sent and what to iterate for its documents (the first one it brought
back put in front): ``(cursor, documents)``."""


class ChunkReader:
    """Reads the chunks of stored files from one chunks collection.

    ``chunks`` is the collection the bytes come from (with the read preference reads of
    chunk data need). Every chunk read goes through ``payload``, which checks it and turns
    it into the file's bytes. ``encryption``: the store's keys, which open its encrypted
    files (None: an encrypted file is refused with KeyUnavailable naming its key id).
    """

    def __init__(self, chunks: Any, encryption: Encryption | None = None) -> None:
        self.collection = chunks
        """The chunks collection read."""
        self.encryption = encryption
        """The keys that open the encrypted files read here (None: none)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.collection.name}>"

    # -- the one hook ----------------------------------------------------------------------------

    def payload(self, check: ChunkCheck, doc: Mapping[str, Any]) -> bytes:
        """Chunk document ``doc`` checked as the next one ``check`` expects, as file bytes.

        Every chunk any read hands out passes here: a rule about chunk data (decrypting,
        counting) goes here once. A check with a cipher (an encrypted file's) opens the
        chunk, bound to its file and place: a chunk moved, swapped or cut is a CorruptFile.
        """
        data = check.accept(doc)
        if check.cipher is not None:
            return check.cipher.open_chunk(check.next - 1, data)
        return data

    def cipher(self, info: FileInfo) -> FileCipher | None:
        """The cipher that opens the chunks of the file ``info`` describes (None: it is not
        encrypted); its data key unwrapped once per call, so a reader of many spans keeps
        it. KeyUnavailable naming the key id when these keys cannot unwrap it."""
        return cipher_for(self.encryption, info)

    # -- cursors ---------------------------------------------------------------------------------

    def cursor(
        self,
        file_id: Any,
        chunk_size: int,
        first: int = 0,
        last: int | None = None,
        *,
        batch_bytes: int = READ_BATCH_BYTES,
        with_first_chunk: bool = False,
        expected: int | None = None,
    ) -> Any:
        """A cursor (not yet sent) over chunks ``first`` to ``last`` (None: to the end,
        extra chunks included) of a file whose chunks hold ``chunk_size`` bytes, in order,
        in batches of about ``batch_bytes``; ``with_first_chunk``: chunk 0 too, in front,
        whatever the span (the content type is sniffed from it), in the same cursor.
        ``expected``: how many documents an open-ended cursor should bring (a sound file's
        chunks from ``first``), to size its batches evenly."""
        extra = 1 if with_first_chunk and first > 0 else 0
        if extra:
            query = chunks_with_first_filter(file_id, first, last)
        else:
            query = chunks_filter(file_id, first, last)
        cursor = self.collection.find(query).sort("n", 1)
        if last is not None:
            # One more than asked for: only a duplicate can be there, and it must be seen.
            limit = last - first + 2 + extra
            cursor = cursor.limit(limit)
            per_batch = min(chunks_per_batch(batch_bytes, chunk_size, limit), limit)
        else:
            per_batch = chunks_per_batch(batch_bytes, chunk_size, expected)
        return cursor.batch_size(per_batch)

    def chunks(
        self,
        info: FileInfo,
        first: int = 0,
        last: int | None = None,
        *,
        opened: Opened | None = None,
        batch_bytes: int = READ_BATCH_BYTES,
        first_chunk: list[bytes] | None = None,
        cipher: FileCipher | None = None,
    ) -> Iterator[tuple[int, bytes]]:
        """Yield ``(n, bytes)`` for chunks ``first`` to ``last`` of the file ``info``
        describes (None: to its end, a chunk past it reported), each checked.

        A chunk is yielded only once the next document (or the end of the cursor) has been
        checked too: a duplicate, stored before or after it, is reported before either
        copy's bytes are handed out. ``opened``: continue that cursor instead of sending
        one. ``first_chunk``: a list that receives chunk 0's bytes (checked) before
        anything is yielded, read by the same cursor when the span starts later.
        ``cipher``: the one an encrypted file's chunks open with, if the caller holds it
        already (otherwise it is unwrapped here).
        """
        if cipher is None and info.encrypted:
            cipher = self.cipher(info)
        check = ChunkCheck(info, first, last, cipher=cipher)
        if check.done and first_chunk is None:
            if opened is not None:
                opened[0].close()
            return
        if opened is not None:
            cursor, docs = opened
        else:
            with_first = first_chunk is not None and first > 0
            cursor = self.cursor(
                info.file_id,
                info.chunk_size,
                first,
                last,
                batch_bytes=batch_bytes,
                with_first_chunk=with_first,
                expected=info.chunk_count - first if last is None else None,
            )
            docs = cursor
        held: tuple[int, bytes] | None = None
        try:
            if first_chunk is not None and first > 0:
                doc = next(docs, None)
                head = ChunkCheck(info, 0, 0, cipher=cipher)
                if doc is None or doc.get("n") != 0:
                    head.finish()  # chunk 0 is missing
                else:
                    first_chunk.append(self.payload(head, doc))
            for doc in docs:
                data = self.payload(check, doc)
                if held is None and first_chunk is not None and not first_chunk:
                    first_chunk.append(data)  # the span starts at chunk 0: it is its head
                if held is not None:
                    yield held
                held = (check.next - 1, data)
        finally:
            cursor.close()  # at once, not when collected, when a reader stops early
        check.finish()
        if held is not None:
            yield held

    def check_end(self, info: FileInfo, *, opened: Opened | None = None) -> None:
        """CorruptFile if a chunk lies past the end of the file ``info`` describes (one
        query for the first two, or ``opened``: a cursor over every chunk there is)."""
        count = info.chunk_count
        if opened is not None:
            cursor, strays = opened
        else:
            # An empty file's strays come with their data: one empty chunk 0 is not a stray.
            projection = {"n": 1, "_id": 0, **({"data": 1} if count == 0 else {})}
            query = {**chunks_filter(info.file_id), "n": {"$gte": count}}
            found = self.collection.find(query, projection=projection)
            strays = cursor = found.sort("n", 1).limit(2)
        try:
            for stray in strays:
                # Some writers stored one empty chunk 0 for an empty file: the GridFS spec
                # reads such a file as empty, so that chunk (and only it) is not extra.
                if count == 0 and stray.get("n") == 0 and stray.get("data") == b"":
                    continue
                raise CorruptFile(
                    f"file {info.file_id!r}: extra chunk {stray.get('n')!r}:"
                    f" the file has {count} chunks"
                )
        finally:
            cursor.close()

    def chunk_and_after(self, info: FileInfo, n: int) -> tuple[Any, bytes, bool]:
        """Chunk ``n`` of the file ``info`` describes, checked: its ``_id``, its bytes, and
        whether a chunk lies past it. One query over chunks ``n`` on (a file whose last
        chunk is to be filled up in place, by ``_id``, learns in it whether anything past
        that chunk must go first)."""
        check = ChunkCheck(info, n, n)
        cursor = self.collection.find(chunks_filter(info.file_id, n)).sort("n", 1).limit(3)
        found: tuple[Any, bytes] | None = None
        after = False
        try:
            for doc in cursor:
                if found is not None and doc.get("n") != n:
                    after = True
                    break
                found = (doc.get("_id"), self.payload(check, doc))
        finally:
            cursor.close()
        check.finish()
        assert found is not None  # finish() reports a missing chunk
        return found[0], found[1], after

    def sha256(self, info: FileInfo) -> str:
        """The hex SHA-256 of the whole file ``info`` describes, every chunk checked (one
        cursor)."""
        running = hashlib.sha256()
        for _, data in self.chunks(info):
            running.update(data)
        return running.hexdigest()

    def scan(self, query: Mapping[str, Any], *, batch_size: int, with_data: bool = True) -> Any:
        """A cursor over the chunk documents of many files matching ``query``, ordered by
        ``(files_id, n)``, ``batch_size`` at a time; without their data unless
        ``with_data``. For a bucket check, which hands each to ``payload`` with its file's
        check."""
        projection = None if with_data else {"_id": 1, "files_id": 1, "n": 1}
        cursor = self.collection.find(dict(query), projection=projection)
        return cursor.sort([("files_id", 1), ("n", 1)]).batch_size(max(1, batch_size))
