# Generated from src/gridfield/_async/chunk_writer.py by scripts/unasync.py: do not edit.
"""The one writer of a bucket's chunks and files documents.

Every way a file comes in (the upload stream, a tus PATCH and its completion, a tus
concatenation, an image's variants through the upload stream) inserts its chunks and its
files document here, and every removal of chunks (an abort, a discarded PATCH, a join's
leftovers, a delete, a sweep) goes through ``_delete_chunks``. Two hooks see all of it:
``chunk_documents`` (where a batch of chunks becomes what is stored) and ``files_document``
(where a file's description becomes its files document). An encrypted file's chunks are
sealed in the first, and its data key recorded in the second (``core/encryption.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pymongo.errors import BulkWriteError

from .._twins import finish, nothing_in_flight
from ..core.encryption import Encryption, FileCipher
from ..core.errors import FileExists
from ..core.files_document import FileInfo
from ..core.queries import chunks_filter
from .bucket import Bucket
from .file_keys import NewFileKey, new_file_key_for

__all__ = [
    "ChunkWriter",
    "chunk_documents",
    "delete_files",
    "discard_chunks",
    "discard_files_chunks",
    "files_document",
    "move_chunks",
]

Chunk = dict[str, Any]

# Ids named per delete when chunks are removed by their _id, or files by theirs: keeps each
# query far below the 16 MiB command limit (an ObjectId costs about 20 bytes in $in).
_IDS_PER_DELETE = 50_000


def chunk_documents(batch: list[Chunk], cipher: FileCipher | None = None) -> list[Chunk]:
    """The documents stored for a batch of cut chunks (``_id``, ``files_id``, ``n``,
    ``data``): every chunk passes here on its way to the server. With ``cipher`` (an
    encrypted file's) each chunk's data is sealed, bound to its file and number: the one
    place where chunk bytes become stored bytes."""
    if cipher is None:
        return batch
    return [{**doc, "data": cipher.seal_chunk(doc["n"], doc["data"])} for doc in batch]


def files_document(info: FileInfo, key: NewFileKey | None = None) -> FileInfo:
    """The description stored for ``info`` (its files document: ``to_document()``): every
    file passes here once complete. With ``key`` (an encrypted file's) it records the
    wrapped data key and the seal of the file's length (no key material in clear)."""
    if key is None:
        return info
    return dataclasses.replace(info, encryption=key.record(info.length))


def _delete_chunks(bucket: Bucket, query: Mapping[str, Any]) -> int:
    """The one delete of the chunks collection; how many chunks went."""
    result = bucket.chunks.delete_many(query)
    return int(result.deleted_count)


def discard_chunks(
    bucket: Bucket, file_id: Any, *, from_n: int = 0, ids: list[Any] | None = None
) -> int:
    """Remove the chunks of ``file_id`` from chunk ``from_n`` on, or only those whose
    ``_id`` is among ``ids`` (the chunks one writer sent, when others may share the file
    id); how many went."""
    if ids is None:
        return _delete_chunks(bucket, chunks_filter(file_id, from_n))
    removed = 0
    for start in range(0, len(ids), _IDS_PER_DELETE):
        query = chunks_filter(file_id, from_n)
        query["_id"] = {"$in": ids[start : start + _IDS_PER_DELETE]}
        removed += _delete_chunks(bucket, query)
    return removed


def delete_files(bucket: Bucket, ids: list[Any]) -> tuple[int, int]:
    """Delete the files ``ids``: their files documents first, then all their chunks;
    (files, chunks) removed."""
    gone = bucket.files.delete_many({"_id": {"$in": ids}})
    return int(gone.deleted_count), discard_files_chunks(bucket, ids)


def discard_files_chunks(bucket: Bucket, file_ids: list[Any]) -> int:
    """Remove every chunk of the files ``file_ids`` (their files documents gone already);
    how many chunks went."""
    removed = 0
    for start in range(0, len(file_ids), _IDS_PER_DELETE):
        batch = file_ids[start : start + _IDS_PER_DELETE]
        removed += _delete_chunks(bucket, {"files_id": {"$in": batch}})
    return removed


def move_chunks(bucket: Bucket, source: Any, count: int, target: Any, base: int) -> int:
    """Make chunks 0 to ``count - 1`` of ``source`` chunks ``base`` on of ``target``, in
    place (a join of whole-chunk parts): one update, no chunk data sent; keyed on the old
    files id, so a repeat moves only what has not moved yet. How many moved."""
    result = bucket.chunks.update_many(
        chunks_filter(source, 0, count - 1),
        {"$set": {"files_id": target}, "$inc": {"n": base}},
    )
    return int(result.matched_count)


class ChunkWriter:
    """Writes the chunks, then the files document, of one file, and can take back what it
    wrote.

    ``owns_id``: the file id is this writer's alone (a fresh ObjectId), so a discard may
    remove every chunk of it; otherwise only the chunks it sent, by their ``_id`` (another
    file may have that id, and the unique ``(files_id, n)`` index that would keep the two
    apart may be missing). Inserts finish under the cancellation shield: a cancelled caller
    returns at once, and ``discard`` waits for what it left running first.
    """

    def __init__(
        self,
        bucket: Bucket,
        file_id: Any,
        *,
        owns_id: bool,
        encryption: Encryption | None = None,
        chunk_size: int | None = None,
        file_key: NewFileKey | None = None,
    ) -> None:
        """``encryption`` (with the file's ``chunk_size``): the file is encrypted, under a
        fresh data key made on the first write and wrapped by its key-encryption key.
        ``file_key``: the file is encrypted under this key, made before (a resumable
        upload's, made when it was created)."""
        if encryption is not None and chunk_size is None:
            raise ValueError("an encrypted file's writer needs its chunk_size")
        self.bucket = bucket
        self.file_id = file_id
        self.owns_id = owns_id
        self.sent_any = False
        """Whether any chunk insert was attempted (it may have reached the server)."""
        self._sent_ids: list[Any] = []
        self._files_doc: dict[str, Any] | None = None
        self._indexed = False
        self._encryption = encryption
        self._chunk_size = chunk_size
        self._file_key = file_key
        # Inserts a cancellation left running: a discard waits for them before it deletes.
        self._in_flight: set[Any] = set()

    def _indexes(self) -> None:
        if not self._indexed:
            self.bucket.ensure_indexes_once()
            self._indexed = True

    def _key(self) -> NewFileKey | None:
        """The file's data key (None: the file is not encrypted), made once."""
        if self._file_key is None and self._encryption is not None:
            assert self._chunk_size is not None  # checked in __init__
            self._file_key = new_file_key_for(self._encryption, self.file_id, self._chunk_size)
        return self._file_key

    def insert(self, batch: list[Chunk]) -> int:
        """Insert one batch of chunks, in order; the payload bytes it held.

        FileExists when a chunk of the same ``(files_id, n)`` is stored already."""
        self._indexes()
        if not self.owns_id:
            self._sent_ids.extend(doc["_id"] for doc in batch)
        self.sent_any = True
        key = self._key()
        docs = chunk_documents(batch, None if key is None else key.cipher)
        try:
            finish(self.bucket.chunks.insert_many(docs, ordered=True), self._in_flight)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or [{}]
            if errors[0].get("code") == 11000:
                raise FileExists(
                    f"file {self.file_id!r} already has chunks in {self.bucket.chunks.name}"
                ) from exc
            raise
        return sum(len(doc["data"]) for doc in batch)

    def rewrite(self, chunk: Chunk) -> bool:
        """Store ``chunk``'s data in the stored chunk of the same ``_id`` (read as this
        file's chunk ``n`` by the caller; a join that keeps its first part's chunks fills
        that part's last, partial chunk with the next part's first bytes): one update by
        ``_id`` (the one filter FerretDB finds by index) and file id (a sharded bucket's
        route). Whether that chunk was there.
        Written again, the same data leaves the same chunk."""
        self._indexes()
        key = self._key()
        doc = chunk_documents([chunk], None if key is None else key.cipher)[0]
        result = finish(
            self.bucket.chunks.update_one(
                {"_id": {"$eq": chunk["_id"]}, "files_id": {"$eq": self.file_id}},
                {"$set": {"data": doc["data"]}},
            ),
            self._in_flight,
        )
        return bool(result.matched_count)

    def counted(self) -> None:
        """The chunks sent so far are recorded as the file's (a tus upload's durable
        offset): a discard leaves them."""
        self._sent_ids.clear()
        self.sent_any = False

    def count(self) -> int:
        """How many chunks of the file are stored (a long upload checks its own before
        its files document goes in)."""
        return int(self.bucket.chunks.count_documents(chunks_filter(self.file_id)))

    def insert_file(self, info: FileInfo) -> FileInfo:
        """Insert the files document of ``info``, under the cancellation shield: the file
        is visible from here on; the description stored (an encrypted file's names its
        wrapped data key). DuplicateKeyError when a file has this id already."""
        self.bucket.ensure_indexes_once()
        info = files_document(info, self._key())
        doc = info.to_document()
        self._files_doc = doc
        try:
            finish(self.bucket.files.insert_one(doc), self._in_flight)
        except BaseException as exc:
            if getattr(exc, "code", None) == 11000:
                self._files_doc = None  # not ours: the file that was there first
            raise
        self._files_doc = None  # in: a discard no longer touches it
        return info

    def discard(self) -> None:
        """Take back what this writer wrote and no one counted: a files document whose
        insert failed or was cancelled (only one exactly like it), then the chunks."""
        # A write that a cancellation left running could land after the deletes below.
        nothing_in_flight(self._in_flight)
        if self._files_doc is not None:
            doc, self._files_doc = self._files_doc, None
            self.bucket.files.delete_one(
                {key: {"$eq": doc[key]} for key in ("_id", "length", "chunkSize", "uploadDate")}
            )
        if not self.sent_any:
            return
        if self.owns_id:
            discard_chunks(self.bucket, self.file_id)
        elif self._sent_ids:
            discard_chunks(self.bucket, self.file_id, ids=self._sent_ids)
        self._sent_ids = []
        self.sent_any = False
