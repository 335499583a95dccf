# Generated from src/gridfield/_async/resumable.py by scripts/unasync.py: do not edit.
"""Resumable uploads into a bucket: the I/O the tus protocol (``core.tus``) asks for.

An upload's bytes go into the standard chunks of its future file as they arrive; its state
lives in the registry collection ``<bucket>.resumable`` beside the bucket (one document per
upload: ``_id`` the upload id, ``file_id``, the declared length, the offset, the partial
last chunk, metadata, ``created``/``expires`` and a ``lease``), so several app servers can
share uploads and a restarted one resumes them. The files document goes in at completion
only: readers never see a partial file.

Into a store with encryption, an upload gets its file's data key when it is created, wrapped
by the store's key-encryption key in its registry entry (``file_key``): every request, in
whichever process, seals its chunks under that key through the chunk writer, and keeps the
partial last chunk sealed (``core.tus.patch``). No SHA-256 of an encrypted upload is kept or
stored, and its files document gets the same encryption record a ``put`` gives.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from .. import telemetry
from .._twins import clean_up_now
from ..core.chunks import ChunkBatcher, chunk_overhead
from ..core.content_types import check_content_type, content_type_of
from ..core.encryption import KeyUnavailable
from ..core.errors import ContentTypeRefused, CorruptFile
from ..core.expiry import expiry_moment
from ..core.files_document import FileInfo, check_files_document, check_metadata, upload_date
from ..core.queries import file_filter
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
    check_length,
)
from .bucket import Bucket
from .chunk_writer import ChunkWriter, discard_chunks
from .concatenation import join_uploads
from .file_keys import NewFileKey, new_file_key_for, recorded_file_key
from .interfaces import STORE_CLASS, StoreParts
from .leases import FieldLeases

__all__ = ["ResumableStore"]

# Running SHA-256 objects kept per store, so the hash of a file uploaded in many PATCHes
# served by this process needs no read back at completion; only an optimisation.
_HASHES_KEPT = 256


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _within(options: TusOptions, store: StoreParts) -> TusOptions:
    """``options`` with the store's size limit where it is the smaller (the store's
    defaults apply to every way a file comes in, tus too)."""
    limit = store.limits.max_size
    if limit is None or (options.max_size is not None and options.max_size <= limit):
        return options
    return replace(options, max_size=limit)


class ResumableStore:
    """Resumable (tus) uploads into the bucket of ``store``, limited by ``options``.

    Each method is one protocol step: ``create``, ``concatenate`` (a final upload), ``get``
    (HEAD), ``patch``, ``terminate``; ``remove_expired`` removes abandoned uploads (their
    chunks and registry entries) and ``open_file_ids`` names the files unfinished uploads are
    writing, for a bucket sweep.
    """

    def __init__(self, store: StoreParts, options: TusOptions | None = None) -> None:
        # A store is known by the bucket engine under it (its class lives above this module).
        if not isinstance(getattr(store, "bucket", None), Bucket):
            raise TypeError(f"expected {STORE_CLASS}, not {type(store).__name__}")
        if options is not None and not isinstance(options, TusOptions):
            raise TypeError(f"options must be a TusOptions, not {type(options).__name__}")
        self.store = store
        self.options = _within(options if options is not None else TusOptions(), store)
        """The endpoint's options, its ``max_size`` no larger than the store's limit."""
        self.registry: Any = store.bucket.resumable
        """The registry collection: one document per open (or recently finished) upload."""
        self.leases = FieldLeases(self.registry, self.options.lease)
        """The leases PATCHes and joins take on registry entries while they write."""
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
        try:  # the store's content types too, on the type the file will be stored with
            kind = content_type_of(naming.content_type, naming.filename, b"")
            self.store.limits.check_type(kind)
        except ContentTypeRefused as exc:
            raise TusError(415, str(exc)) from None
        return replace(naming, metadata=metadata)

    def create(self, creation: Creation, naming: FileNaming) -> UploadState:
        """Register a new upload (an empty one is stored as a file at once, unless partial);
        return its state.

        415 when the endpoint's ``content_types`` refuse its declared type, 400 when its
        naming cannot be stored; nothing is written then.
        """
        self.store.bucket.check_writable("upload a file")
        if creation.length is not None:
            check_length(creation.length, self.options)  # the store's limit included
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
        key = None
        encryption = self.store.encryption
        if encryption is not None:
            # The data key is made now and kept wrapped in the registry entry: whichever
            # process serves a later PATCH seals under the same key.
            key = new_file_key_for(encryption, state.file_id, state.chunk_size)
            state = replace(state, file_key=key.wrapped_document())
        if state.length == 0:
            if not state.is_partial:
                digest = None if key is not None else hashlib.sha256().hexdigest()
                stored = self.store_file(state, digest, key)
                state = replace(state, file_id=stored.file_id)
            state = replace(state, complete=True)
        self.registry.insert_one(state.to_document())
        return state

    def concatenate(
        self, part_ids: tuple[str, ...], header: str, naming: FileNaming
    ) -> UploadState:
        """Make a final upload of the partial uploads ``part_ids`` (in order; ``header`` its
        ``Upload-Concat`` as given) and store it as a file at once; return its state.

        The parts' chunks become the file's, renumbered in place, when every part but the
        last is a whole number of chunks long; else they are copied. Into a store with
        encryption they are always copied: each part's chunks opened with its own data key,
        and sealed again with the final file's. The parts' registry
        entries are then removed. 400 when a part does not exist, is not a complete partial
        upload or belongs to another final upload; 413 over ``max_size``; nothing changes
        then.
        """
        self.store.bucket.check_writable("upload a file")
        naming = self._checked_naming(naming)
        return join_uploads(self, part_ids, header, naming)

    # -- reading the state ----------------------------------------------------------------------

    def get(self, upload_id: str) -> UploadState:
        """The upload's state; 404 if there is no such upload (never was, or terminated)."""
        if not isinstance(upload_id, str):
            raise TusError(404, "no such upload")
        doc = self.registry.find_one({"_id": {"$eq": upload_id}})
        if doc is None:
            raise TusError(404, f"no upload {upload_id}")
        return UploadState.from_document(doc)

    # -- receiving bytes ------------------------------------------------------------------------

    def patch(self, upload_id: str, request: PatchRequest, body: Iterator[bytes]) -> UploadState:
        """Apply one PATCH (or a creation's body): store the bytes of ``body`` at the upload's
        offset and return the new state, complete (its file stored) when they reach the length.

        Refusals (TusError) leave the upload as it was. A body that ends early with
        ``BodyCut`` (the client went away) keeps every byte received and returns the state.
        """
        self.store.bucket.check_writable("upload a file")
        state = request.applied_to(self.get(upload_id), self.options, _now())
        if state.complete:
            return state  # a retry of the PATCH that completed it
        token = ObjectId()
        state = self._take_lease(state, token)
        try:
            key = self.file_key(state)
            receiver = self._receiver(state, request, key)
        except BaseException as exc:
            clean_up_now(lambda: self._let_go(state, token), exc)
            raise
        writer = _PatchWriter(self, state, token, key)
        try:
            try:
                for piece in body:
                    writer.add(receiver, receiver.feed(piece))
            except BodyCut:
                after = receiver.interrupted()
                if after is None:
                    raise TusError(
                        400, "the PATCH was cut short: its checksum cannot be verified"
                    ) from None
                writer.add(receiver, [], last=True)
                return self._commit(after, token, receiver)
            finished = receiver.finish()
            writer.add(receiver, [], last=True)
            if not finished.state.complete:
                return self._commit(finished.state, token, receiver)
            if finished.last_chunk is not None:
                writer.insert([finished.last_chunk])
            done = finished.state
            if not done.is_partial:  # a partial upload's bytes wait for a final one
                running = receiver.file_hash
                digest = running.hexdigest() if running is not None else None
                stored = self.store_file(done, digest, key)
                done = replace(done, file_id=stored.file_id)
            writer.file_stored = True
            self._hashes.pop(upload_id, None)
            # A partial upload's hash is the head of its final upload's: a join of it in
            # this process then reads back only the parts after it.
            committed = self._commit(done, token, receiver if done.is_partial else None)
            if done.file_id != finished.state.file_id:
                # The same bytes were stored in the store's dedup scope: the upload names
                # that file now, and its own chunks go.
                discard_chunks(self.store.bucket, finished.state.file_id)
            return committed
        except BaseException as exc:
            clean_up_now(writer.discard, exc)
            raise

    def _receiver(
        self, state: UploadState, request: PatchRequest, key: NewFileKey | None
    ) -> PatchReceiver:
        """The receiver of one PATCH: with the running SHA-256 of a clear upload, or the
        cipher of an encrypted one (which opens its sealed tail: 500 if that was altered)."""
        if key is None:
            running = self._running_hash(state)
            return PatchReceiver(state, request, running, max_size=self.options.max_size)
        try:
            return PatchReceiver(state, request, max_size=self.options.max_size, cipher=key.cipher)
        except CorruptFile as exc:
            raise TusError(500, f"upload {state.upload_id}: {exc}") from exc

    def _let_go(self, state: UploadState, token: ObjectId) -> None:
        self.leases.release(state.upload_id, token)

    def file_key(self, state: UploadState) -> NewFileKey | None:
        """The data key of the encrypted upload ``state`` (None: it is not encrypted),
        unwrapped from its registry entry; 500 when this store's keys cannot unwrap it (the
        error names the key id) or the entry's record of it is malformed."""
        if state.file_key is None:
            return None
        try:
            return recorded_file_key(
                self.store.encryption, state.file_key, state.file_id, state.chunk_size
            )
        except (KeyUnavailable, CorruptFile) as exc:
            raise TusError(500, f"upload {state.upload_id}: {exc}") from exc

    def kept_hash(self, upload_id: str, offset: int) -> Any:
        """A copy of the running SHA-256 of the first ``offset`` bytes of upload
        ``upload_id`` when this process holds it (it received them), else None."""
        kept = self._hashes.get(upload_id)
        if kept is None or kept[0] != offset:
            return None
        return kept[1].copy()

    def _running_hash(self, state: UploadState) -> Any:
        """A copy of the file's running SHA-256 if this process holds it at ``state.offset``
        (a fresh one at offset 0); None: the chunks are read back at completion."""
        if state.offset == 0:
            return hashlib.sha256()
        return self.kept_hash(state.upload_id, state.offset)

    def _take_lease(self, state: UploadState, token: ObjectId) -> UploadState:
        """Hold the upload against other writers (423 while another holds it, 409 when it
        moved on); after a writer that died holding it, remove what it left."""
        before = self.leases.take(
            state.upload_id, token, {"offset": {"$eq": state.offset}, "complete": False}
        )
        if before is None:
            current = self.get(state.upload_id)
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
            if self._has_file(state):
                self.leases.release(
                    state.upload_id,
                    token,
                    {"complete": True, "offset": state.length, "tail": b""},
                )
                raise TusError(
                    409,
                    f"Upload-Offset {state.offset} does not match the upload's offset"
                    f" {state.length}: it is complete",
                )
            # Else the chunks it inserted past the recorded offset are not counted, and
            # would collide with ours.
            discard_chunks(self.store.bucket, state.file_id, from_n=state.first_open_chunk)
        return state

    def _commit(
        self, state: UploadState, token: ObjectId, receiver: PatchReceiver | None
    ) -> UploadState:
        """Record the state a PATCH reached and release the lease; 409 if it was lost."""
        state = state.renewed(_now(), self.options.expire_after)
        fields = {**state.progress_fields(), "file_id": state.file_id}
        if not self.leases.release(state.upload_id, token, fields):
            raise TusError(409, f"upload {state.upload_id} was taken over or terminated meanwhile")
        if receiver is not None and receiver.file_hash is not None:
            self._hashes[state.upload_id] = (state.offset, receiver.file_hash)
            self._hashes.move_to_end(state.upload_id)
            while len(self._hashes) > _HASHES_KEPT:
                self._hashes.popitem(last=False)
        return state

    def _record(self, state: UploadState, token: ObjectId) -> None:
        """Record progress mid-PATCH (and renew the lease); 409 if the lease was lost."""
        if not self.leases.renew(state.upload_id, token, state.progress_fields()):
            raise TusError(409, f"upload {state.upload_id} was taken over or terminated meanwhile")

    def store_file(
        self, state: UploadState, digest: str | None, key: NewFileKey | None = None
    ) -> FileInfo:
        """Store the complete upload ``state`` as a file with the SHA-256 of its bytes
        (``digest``; None: its chunks are read back for it) and the store's defaults (its
        expiry, its dedup scope); the file stored: this one, or the one of the store's dedup
        scope that holds the same bytes already. A repeat is no error.

        An encrypted upload's file (``key``: its data key, if the caller holds it already)
        gets the encryption record a put gives, no SHA-256 (``digest`` is ignored, nothing
        is read back) and no deduplication."""
        with telemetry.begin(
            "tus.complete",
            bucket=self.store.collection_name,
            upload_id=state.upload_id,
            file_id=state.file_id,
            length=state.length or 0,
            encrypted=state.encrypted,
        ) as op:
            info = self._stored_file(state, digest, key)
            op.moved(state.length or 0, "uploaded")
        return info

    def _stored_file(
        self, state: UploadState, digest: str | None, key: NewFileKey | None
    ) -> FileInfo:
        if state.encrypted:
            # No digest of the plaintext is kept for an encrypted file (it would let whoever
            # holds the database confirm a guess of its content), so none is read back.
            digest = None
            if key is None:
                key = self.file_key(state)
        elif digest is None:
            digest = self._read_back(state)
        date = upload_date(self.store.db.codec_options)
        defaults = self.store.defaults
        expire_at = expiry_moment(defaults.expire_after, date)
        # An encrypted upload has no digest: it is never deduplicated.
        scope = defaults.dedup_scope if digest is not None else None
        if scope is not None and digest is not None:
            # The claim on these bytes: the file that holds them already, or this one's
            # from now on (a repeat finds its own claim and goes on).
            found = self.store.digest_claims.take(
                state.file_id, digest, state.length or 0, scope, expire_at
            )
            if found is not None:
                return found
        info = FileInfo.for_upload(
            file_id=state.file_id,
            length=state.length or 0,
            chunk_size=state.chunk_size,
            upload_date=date,
            filename=state.filename,
            metadata=state.file_metadata,
            content_type=state.content_type,
            sha256=digest,
            expire_at=expire_at,
            scope=scope,
        )
        # With its encryption record (the wrapped data key and the seal of the length).
        writer = ChunkWriter(self.store.bucket, state.file_id, owns_id=False, file_key=key)
        try:
            info = writer.insert_file(info)
        except DuplicateKeyError:
            pass  # stored by a writer that died before it could say so: the same file
        except Exception:
            # The file it promised is not in: the claim goes. (A cancelled insert goes on
            # to its end, and the file keeps its claim.)
            if scope is not None and digest is not None:
                self.store.digest_claims.release(state.file_id, digest, info.length, scope)
            raise
        return info

    def _read_back(self, state: UploadState) -> str:
        """The SHA-256 of the upload's chunks, read in order (one cursor), each checked."""
        described = FileInfo(
            file_id=state.file_id, length=state.length or 0, chunk_size=state.chunk_size
        )
        try:
            return self.store.chunk_reader.sha256(described)
        except CorruptFile as exc:
            raise TusError(500, f"upload {state.upload_id}: {exc}") from exc

    # -- ending ---------------------------------------------------------------------------------

    def terminate(self, upload_id: str) -> None:
        """Remove an upload: its chunks and registry entry (a completed upload's file stays:
        it is the application's now). 404 if there is no such upload, 409 for a partial
        upload a final one is being made of."""
        state = self.get(upload_id)
        gone = self.registry.delete_one({"_id": {"$eq": upload_id}, "joined_into": None})
        if not gone.deleted_count:
            raise TusError(409, f"upload {upload_id} is part of final upload {state.joined_into}")
        if not state.complete or state.is_partial:
            discard_chunks(self.store.bucket, state.file_id)
        self._hashes.pop(upload_id, None)

    def remove_expired(self, now: datetime | None = None) -> int:
        """Remove every upload past its expiry (unfinished: its chunks too; finished: only
        the registry entry, never the file); return how many. For a bucket check or sweep."""
        when = aware(now) if now is not None else _now()
        removed = 0
        # A partial upload claimed by a final one goes with it (its chunks may be the
        # final's by now), never on its own.
        query = {"expires": {"$lte": when}, "joined_into": None}
        for doc in self.registry.find(query):
            state = UploadState.from_document(doc)
            gone = self.registry.delete_one(
                {
                    "_id": {"$eq": state.upload_id},
                    "expires": {"$lte": when},
                    "joined_into": None,
                    **self.leases.free(when),
                }
            )
            removed += gone.deleted_count
            if not gone.deleted_count:
                continue
            if state.is_partial or (not state.complete and not self._has_file(state)):
                discard_chunks(self.store.bucket, state.file_id)
            if state.is_final and not state.complete:  # a join abandoned mid-way
                removed += self._remove_parts(state)
        return removed

    def _remove_parts(self, final: UploadState) -> int:
        """Remove the partial uploads claimed by ``final`` and their chunks; how many."""
        removed = 0
        query = {"_id": {"$in": list(final.parts)}, "joined_into": {"$eq": final.upload_id}}
        for doc in self.registry.find(query):
            part = UploadState.from_document(doc)
            if part.file_id != final.file_id:  # else they are the final file's chunks
                discard_chunks(self.store.bucket, part.file_id)
            gone = self.registry.delete_one(
                {"_id": {"$eq": part.upload_id}, "joined_into": {"$eq": final.upload_id}}
            )
            removed += gone.deleted_count
        return removed

    def open_file_ids(self) -> list[Any]:
        """The file ids unfinished uploads (and partial ones, finished or not) hold chunks
        for: a sweep must spare them."""
        query = {"$or": [{"complete": False}, {"concat": "partial"}]}
        cursor = self.registry.find(query, projection={"file_id": 1})
        return [doc["file_id"] for doc in cursor]

    def _has_file(self, state: UploadState) -> bool:
        return self.store.bucket.files.find_one(file_filter(state.file_id), {"_id": 1}) is not None


class _PatchWriter:
    """Inserts a PATCH's chunks by batches, records durable progress after each, and can
    remove the chunks it inserted that no recorded state counts."""

    def __init__(
        self,
        owner: ResumableStore,
        state: UploadState,
        token: ObjectId,
        key: NewFileKey | None,
    ) -> None:
        self._owner = owner
        self._state = state
        self._token = token
        self._batcher = ChunkBatcher(overhead=chunk_overhead(state.file_id))
        # Not the file id's only writer: another PATCH may hold the upload by now. An
        # encrypted upload's chunks are sealed under the key made at its creation.
        self._writer = ChunkWriter(owner.store.bucket, state.file_id, owns_id=False, file_key=key)
        self.file_stored = False
        """Set once the files document is in: from then on no chunk is ever removed."""

    def insert(self, chunks: list[dict[str, Any]]) -> None:
        self._writer.insert(chunks)

    def add(
        self, receiver: PatchReceiver, chunks: list[dict[str, Any]], *, last: bool = False
    ) -> None:
        """Queue ``chunks``; insert the batches that are full (all of them when the body has
        ended: ``last``), recording the progress each makes durable, but the last batch's:
        the state the PATCH ends in is recorded next, with its lease released."""
        self._batcher.add(chunks)
        batches = self._batcher.drain() if last else self._batcher.ready()
        for index, batch in enumerate(batches):
            self.insert(batch)
            if last and index == len(batches) - 1:
                return  # uncounted until then: a failure before that record discards it
            durable = receiver.durable(batch[-1]["n"])
            if durable is not None:
                self._owner._record(durable, self._token)
                self._writer.counted()

    def discard(self) -> None:
        """Remove this PATCH's chunks that no recorded state counts, by their _id (another
        writer may hold the upload by now), and release the lease if still held."""
        owner, state = self._owner, self._state
        if not self.file_stored:
            self._writer.discard()
        owner.leases.release(state.upload_id, self._token)
