"""Resumable uploads into a bucket: the I/O the tus protocol (``core.tus``) asks for.

An upload's bytes go into the standard chunks of its future file as they arrive; its state
lives in the registry collection ``<bucket>.resumable`` beside the bucket (one document per
upload: ``_id`` the upload id, ``file_id``, the declared length, the offset, the partial
last chunk, metadata, ``created``/``expires`` and a ``lease``), so several app servers can
share uploads and a restarted one resumes them. The files document goes in at completion
only: readers never see a partial file.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from .. import telemetry
from .._twins import clean_up
from ..core.chunks import ChunkBatcher, chunk_overhead
from ..core.content_types import check_content_type
from ..core.files_document import FileInfo, check_files_document, check_metadata, upload_date
from ..core.queries import chunks_filter, file_filter
from ..core.tus import (
    BodyCut,
    Creation,
    FileNaming,
    PatchReceiver,
    PatchRequest,
    TusError,
    TusOptions,
    UploadState,
    aware,
    check_declared_type,
)
from .concatenation import join_uploads
from .store import AsyncFileStore

__all__ = ["AsyncResumableStore"]

# Running SHA-256 objects kept per store, so the hash of a file uploaded in many PATCHes
# served by this process needs no read back at completion; only an optimisation.
_HASHES_KEPT = 256

# Chunk _ids named per delete: far below the 16 MiB command limit.
_IDS_PER_DELETE = 50_000


_STORE = AsyncFileStore.__name__  # this twin's store class, for messages


def _now() -> datetime:
    return datetime.now(timezone.utc)


class AsyncResumableStore:
    """Resumable (tus) uploads into the bucket of ``store``, limited by ``options``.

    Each method is one protocol step: ``create``, ``concatenate`` (a final upload), ``get``
    (HEAD), ``patch``, ``terminate``; ``remove_expired`` removes abandoned uploads (their
    chunks and registry entries) and ``open_file_ids`` names the files unfinished uploads are
    writing, for a bucket sweep.
    """

    def __init__(self, store: AsyncFileStore, options: TusOptions | None = None) -> None:
        if not isinstance(store, AsyncFileStore):
            raise TypeError(f"expected {_STORE}, not {type(store).__name__}")
        if options is not None and not isinstance(options, TusOptions):
            raise TypeError(f"options must be a TusOptions, not {type(options).__name__}")
        if store.encryption is not None:
            # A resumable upload keeps its unfinished last chunk and its running SHA-256 in
            # the registry between requests, and joins parts by renumbering their chunks:
            # none of that is encrypted yet, so such a store is refused rather than leaking.
            raise ValueError(
                f"{store!r} encrypts its files: resumable (tus) uploads into it are not"
                " supported yet; give the tus app a store without encryption"
            )
        self.store = store
        self.options = options if options is not None else TusOptions()
        self.registry: Any = store.db[f"{store.collection_name}.resumable"]
        """The registry collection: one document per open (or recently finished) upload."""
        self._hashes: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.store.db.name}.{self.registry.name}>"

    # -- creating -----------------------------------------------------------------------------

    def _checked_naming(self, naming: FileNaming) -> FileNaming:
        """The naming, checked as a put() checks its arguments (400 when unstorable)."""
        options = self.store.db.codec_options
        try:
            if naming.filename is not None and not isinstance(naming.filename, str):
                raise TypeError(f"filename must be a str, not {type(naming.filename).__name__}")
            check_content_type(naming.content_type)
            metadata = check_metadata(naming.metadata, options)
            check_files_document(
                file_id=ObjectId(),
                chunk_size=self.store.chunk_size,
                filename=naming.filename,
                metadata=metadata,
                content_type=naming.content_type,
                codec_options=options,
            )
        except (TypeError, ValueError) as exc:
            raise TusError(400, f"Upload-Metadata: {exc}") from None
        check_declared_type(naming, self.options)
        return replace(naming, metadata=metadata)

    async def create(self, creation: Creation, naming: FileNaming) -> UploadState:
        """Register a new upload (an empty one is stored as a file at once, unless partial);
        return its state.

        415 when the endpoint's ``content_types`` refuse its declared type, 400 when its
        naming cannot be stored; nothing is written then.
        """
        self.store._check_writable("upload a file")
        naming = self._checked_naming(naming)
        now = _now()
        state = UploadState(
            upload_id=secrets.token_hex(16),
            file_id=ObjectId(),
            chunk_size=self.store.chunk_size,
            length=creation.length,
            metadata_header=creation.metadata_header,
            filename=naming.filename,
            content_type=naming.content_type,
            file_metadata=naming.metadata,
            created=now,
            concat="partial" if creation.concat is not None else None,
        ).renewed(now, self.options.expire_after)
        if creation.concat is not None and not creation.concat.partial:
            raise ValueError("a final upload is made by concatenate(), not create()")
        if state.length == 0:
            if not state.is_partial:
                await self._store_file(state, hashlib.sha256())
            state = replace(state, complete=True)
        await self.registry.insert_one(state.to_document())
        return state

    async def concatenate(
        self, part_ids: tuple[str, ...], header: str, naming: FileNaming
    ) -> UploadState:
        """Make a final upload of the partial uploads ``part_ids`` (in order; ``header`` its
        ``Upload-Concat`` as given) and store it as a file at once; return its state.

        The parts' chunks become the file's, renumbered in place, when every part but the
        last is a whole number of chunks long; else they are copied. The parts' registry
        entries are then removed. 400 when a part does not exist, is not a complete partial
        upload or belongs to another final upload; 413 over ``max_size``; nothing changes
        then.
        """
        self.store._check_writable("upload a file")
        naming = self._checked_naming(naming)
        return await join_uploads(self, part_ids, header, naming)

    # -- reading the state ----------------------------------------------------------------------

    async def get(self, upload_id: str) -> UploadState:
        """The upload's state; 404 if there is no such upload (never was, or terminated)."""
        if not isinstance(upload_id, str):
            raise TusError(404, "no such upload")
        doc = await self.registry.find_one({"_id": {"$eq": upload_id}})
        if doc is None:
            raise TusError(404, f"no upload {upload_id}")
        return UploadState.from_document(doc)

    # -- receiving bytes ------------------------------------------------------------------------

    async def patch(
        self, upload_id: str, request: PatchRequest, body: AsyncIterator[bytes]
    ) -> UploadState:
        """Apply one PATCH (or a creation's body): store the bytes of ``body`` at the upload's
        offset and return the new state, complete (its file stored) when they reach the length.

        Refusals (TusError) leave the upload as it was. A body that ends early with
        ``BodyCut`` (the client went away) keeps every byte received and returns the state.
        """
        self.store._check_writable("upload a file")
        state = request.applied_to(await self.get(upload_id), self.options, _now())
        if state.complete:
            return state  # a retry of the PATCH that completed it
        token = ObjectId()
        state = await self._take_lease(state, token)
        receiver = PatchReceiver(
            state, request, self._running_hash(state), max_size=self.options.max_size
        )
        writer = _ChunkWriter(self, state, token)
        try:
            try:
                async for piece in body:
                    await writer.add(receiver, receiver.feed(piece))
            except BodyCut:
                after = receiver.interrupted()
                if after is None:
                    raise TusError(
                        400, "the PATCH was cut short: its checksum cannot be verified"
                    ) from None
                await writer.add(receiver, [], drain=True)
                return await self._commit(after, token, receiver)
            finished = receiver.finish()
            await writer.add(receiver, [], drain=True)
            if not finished.state.complete:
                return await self._commit(finished.state, token, receiver)
            if finished.last_chunk is not None:
                await writer.insert([finished.last_chunk])
            if not finished.state.is_partial:  # a partial upload's bytes wait for a final one
                await self._store_file(finished.state, receiver.file_hash)
            writer.file_stored = True
            self._hashes.pop(upload_id, None)
            return await self._commit(finished.state, token, None)
        except BaseException as exc:
            await clean_up(writer.discard, exc)
            raise

    def _running_hash(self, state: UploadState) -> Any:
        """A copy of the file's running SHA-256 if this process holds it at ``state.offset``
        (a fresh one at offset 0); None: the chunks are read back at completion."""
        if state.offset == 0:
            return hashlib.sha256()
        kept = self._hashes.get(state.upload_id)
        if kept is None or kept[0] != state.offset:
            return None
        return kept[1].copy()

    async def _take_lease(self, state: UploadState, token: ObjectId) -> UploadState:
        """Hold the upload against other writers (423 while another holds it, 409 when it
        moved on); after a writer that died holding it, remove what it left."""
        now = _now()
        lease = {"token": token, "until": now + self.options.lease}
        before = await self.registry.find_one_and_update(
            {
                "_id": {"$eq": state.upload_id},
                "offset": {"$eq": state.offset},
                "complete": False,
                "$or": [{"lease": None}, {"lease.until": {"$lte": now}}],
            },
            {"$set": {"lease": lease}},
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            current = await self.get(state.upload_id)
            if current.offset != state.offset or current.complete:
                raise TusError(
                    409,
                    f"Upload-Offset {state.offset} does not match the upload's offset"
                    f" {current.offset}",
                )
            raise TusError(423, f"upload {state.upload_id} is being written by another request")
        if before.get("lease") is not None:
            # A writer died (or stalled past its lease) mid-PATCH. If it got as far as the
            # files document, the upload is complete: say so, and touch no chunk.
            if await self._has_file(state):
                await self.registry.update_one(
                    {"_id": {"$eq": state.upload_id}, "lease.token": token},
                    {
                        "$set": {"complete": True, "offset": state.length, "tail": b""},
                        "$unset": {"lease": ""},
                    },
                )
                raise TusError(
                    409,
                    f"Upload-Offset {state.offset} does not match the upload's offset"
                    f" {state.length}: it is complete",
                )
            # Else the chunks it inserted past the recorded offset are not counted, and
            # would collide with ours.
            await self.store.chunks.delete_many(
                chunks_filter(state.file_id, state.first_open_chunk)
            )
        return state

    async def _commit(
        self, state: UploadState, token: ObjectId, receiver: PatchReceiver | None
    ) -> UploadState:
        """Record the state a PATCH reached and release the lease; 409 if it was lost."""
        state = state.renewed(_now(), self.options.expire_after)
        result = await self.registry.update_one(
            {"_id": {"$eq": state.upload_id}, "lease.token": token},
            {"$set": state.progress_fields(), "$unset": {"lease": ""}},
        )
        if result.matched_count != 1:
            raise TusError(409, f"upload {state.upload_id} was taken over or terminated meanwhile")
        if receiver is not None and receiver.file_hash is not None:
            self._hashes[state.upload_id] = (state.offset, receiver.file_hash)
            self._hashes.move_to_end(state.upload_id)
            while len(self._hashes) > _HASHES_KEPT:
                self._hashes.popitem(last=False)
        return state

    async def _record(self, state: UploadState, token: ObjectId) -> None:
        """Record progress mid-PATCH (and renew the lease); 409 if the lease was lost."""
        now = _now()
        fields = {**state.progress_fields(), "lease.until": now + self.options.lease}
        result = await self.registry.update_one(
            {"_id": {"$eq": state.upload_id}, "lease.token": token}, {"$set": fields}
        )
        if result.matched_count != 1:
            raise TusError(409, f"upload {state.upload_id} was taken over or terminated meanwhile")

    async def _store_file(self, state: UploadState, running: Any) -> None:
        """Insert the files document of a complete upload, with the SHA-256 of its bytes."""
        with telemetry.begin(
            "tus.complete",
            bucket=self.store.collection_name,
            upload_id=state.upload_id,
            file_id=state.file_id,
            length=state.length or 0,
        ) as op:
            await self._insert_files_document(state, running)
            op.moved(state.length or 0, "uploaded")

    async def _insert_files_document(self, state: UploadState, running: Any) -> None:
        digest = running.hexdigest() if running is not None else await self._read_back(state)
        info = FileInfo.for_upload(
            file_id=state.file_id,
            length=state.length or 0,
            chunk_size=state.chunk_size,
            upload_date=upload_date(self.store.db.codec_options),
            filename=state.filename,
            metadata=state.file_metadata,
            content_type=state.content_type,
            sha256=digest,
        )
        await self.store._ensure_indexes_once()
        try:
            await self.store.files.insert_one(info.to_document())
        except DuplicateKeyError:
            pass  # stored by a writer that died before it could say so: the same file

    async def _read_back(self, state: UploadState) -> str:
        """The SHA-256 of the upload's chunks, read in order (one query)."""
        running = hashlib.sha256()
        cursor = self.store._chunk_reads.find(
            chunks_filter(state.file_id), projection={"n": 1, "data": 1}, sort=[("n", 1)]
        )
        expected = 0
        async for doc in cursor:
            if doc.get("n") != expected:
                raise TusError(500, f"upload {state.upload_id}: chunk {expected} is missing")
            running.update(doc["data"])
            expected = doc["n"] + 1
        return running.hexdigest()

    # -- ending ---------------------------------------------------------------------------------

    async def terminate(self, upload_id: str) -> None:
        """Remove an upload: its chunks and registry entry (a completed upload's file stays:
        it is the application's now). 404 if there is no such upload, 409 for a partial
        upload a final one is being made of."""
        state = await self.get(upload_id)
        gone = await self.registry.delete_one({"_id": {"$eq": upload_id}, "joined_into": None})
        if not gone.deleted_count:
            raise TusError(409, f"upload {upload_id} is part of final upload {state.joined_into}")
        if not state.complete or state.is_partial:
            await self.store.chunks.delete_many(chunks_filter(state.file_id))
        self._hashes.pop(upload_id, None)

    async def remove_expired(self, now: datetime | None = None) -> int:
        """Remove every upload past its expiry (unfinished: its chunks too; finished: only
        the registry entry, never the file); return how many. For a bucket check or sweep."""
        when = aware(now) if now is not None else _now()
        removed = 0
        # A partial upload claimed by a final one goes with it (its chunks may be the
        # final's by now), never on its own.
        query = {"expires": {"$lte": when}, "joined_into": None}
        async for doc in self.registry.find(query):
            state = UploadState.from_document(doc)
            gone = await self.registry.delete_one(
                {
                    "_id": {"$eq": state.upload_id},
                    "expires": {"$lte": when},
                    "joined_into": None,
                    "$or": [{"lease": None}, {"lease.until": {"$lte": when}}],
                }
            )
            removed += gone.deleted_count
            if not gone.deleted_count:
                continue
            if state.is_partial or (not state.complete and not await self._has_file(state)):
                await self.store.chunks.delete_many(chunks_filter(state.file_id))
            if state.is_final and not state.complete:  # a join abandoned mid-way
                removed += await self._remove_parts(state)
        return removed

    async def _remove_parts(self, final: UploadState) -> int:
        """Remove the partial uploads claimed by ``final`` and their chunks; how many."""
        removed = 0
        query = {"_id": {"$in": list(final.parts)}, "joined_into": {"$eq": final.upload_id}}
        async for doc in self.registry.find(query):
            part = UploadState.from_document(doc)
            await self.store.chunks.delete_many(chunks_filter(part.file_id))
            gone = await self.registry.delete_one(
                {"_id": {"$eq": part.upload_id}, "joined_into": {"$eq": final.upload_id}}
            )
            removed += gone.deleted_count
        return removed

    async def open_file_ids(self) -> list[Any]:
        """The file ids unfinished uploads (and partial ones, finished or not) hold chunks
        for: a sweep must spare them."""
        query = {"$or": [{"complete": False}, {"concat": "partial"}]}
        cursor = self.registry.find(query, projection={"file_id": 1})
        return [doc["file_id"] async for doc in cursor]

    async def _has_file(self, state: UploadState) -> bool:
        return await self.store.files.find_one(file_filter(state.file_id), {"_id": 1}) is not None


class _ChunkWriter:
    """Inserts a PATCH's chunks by batches, records durable progress after each, and can
    remove the chunks it inserted that no recorded state counts."""

    def __init__(self, owner: AsyncResumableStore, state: UploadState, token: ObjectId) -> None:
        self._owner = owner
        self._state = state
        self._token = token
        self._batcher = ChunkBatcher(overhead=chunk_overhead(state.file_id))
        self._uncounted: list[Any] = []  # _ids of the chunks inserted since the last record
        self._indexed = False
        self.file_stored = False
        """Set once the files document is in: from then on no chunk is ever removed."""

    async def insert(self, chunks: list[dict[str, Any]]) -> None:
        if not self._indexed:
            await self._owner.store._ensure_indexes_once()
            self._indexed = True
        self._uncounted.extend(doc["_id"] for doc in chunks)
        await self._owner.store.chunks.insert_many(chunks, ordered=True)

    async def add(
        self, receiver: PatchReceiver, chunks: list[dict[str, Any]], *, drain: bool = False
    ) -> None:
        """Queue ``chunks``; insert the batches that are full (all of them with ``drain``)."""
        self._batcher.add(chunks)
        batches = self._batcher.drain() if drain else self._batcher.ready()
        for batch in batches:
            await self.insert(batch)
            durable = receiver.durable(batch[-1]["n"])
            if durable is not None:
                await self._owner._record(durable, self._token)
                self._uncounted.clear()

    async def discard(self) -> None:
        """Remove this PATCH's chunks that no recorded state counts, by their _id (another
        writer may hold the upload by now), and release the lease if still held."""
        owner, state = self._owner, self._state
        if self._uncounted and not self.file_stored:
            for start in range(0, len(self._uncounted), _IDS_PER_DELETE):
                query = chunks_filter(state.file_id)
                query["_id"] = {"$in": self._uncounted[start : start + _IDS_PER_DELETE]}
                await owner.store.chunks.delete_many(query)
        await owner.registry.update_one(
            {"_id": {"$eq": state.upload_id}, "lease.token": self._token},
            {"$unset": {"lease": ""}},
        )
