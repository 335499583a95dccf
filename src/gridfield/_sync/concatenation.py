# Generated from src/gridfield/_async/concatenation.py by scripts/unasync.py: do not edit.
"""The tus concatenation extension's I/O: a final upload joined from partial ones, their
chunks renumbered in place when they line up (``core.tus.concat``), copied otherwise.

The steps, each safe to repeat after a crash: the final upload's registry document goes in
holding a lease and naming its parts; the parts are claimed (``joined_into``); their chunks
are moved (or copied) into the final file; the files document goes in with the SHA-256 of
the whole; the final upload is marked complete and the parts' registry documents removed.
A retry of the same concatenation finds the parts claimed by a join whose lease ran out
and finishes that one.

An in-place join costs what rewriting chunk documents costs on the server, so it rewrites
as few as it can: the final file takes the first part's file id (recorded once the parts
are claimed), so that part's chunks stay as they are and only the later parts' move, one
``update`` per part. The SHA-256 of the whole is read from the parts' chunks, each part
under its own file id before they move (a query there matches that part's chunks only),
except the first part's bytes when this process received them and still holds their
running hash; a resumed join, whose chunks may have moved, reads the final file instead.

A copy (parts that are no whole number of chunks, tus-js-client's even split) borrows the
first part's file id too, when that part has the final file's chunk size: its whole chunks
stay as they are, its last, partial chunk is filled up with the next part's first bytes
(one update that keeps its ``_id``), and only the later parts are cut into new chunks after
it, so a two-part copy rewrites about half the bytes. The filled chunk still starts with the
first part's bytes, so a resumed copy reads them from it whether it was filled or not,
drops whatever chunks past it a copy that died wrote, and carries on; the SHA-256 is taken
from the bytes as they are copied (the first part's whole chunks read only when this
process holds no running hash of them).

Into a store with encryption the final upload gets its file's data key when its registry
document goes in (wrapped there, as a created upload's), and the join is always a copy:
each part's chunks are opened through the chunk reader with the part's own key, and sealed
again through the chunk writer with the final file's, under its id and its chunk numbers.
A sealed chunk is never moved to another file or number (it would no longer open).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any

from bson import ObjectId

from ..core.chunks import ChunkBatcher, ChunkCutter, chunk_overhead
from ..core.errors import CorruptFile
from ..core.files_document import FileInfo
from ..core.leases import LEASE_FIELD
from ..core.tus import ConcatPlan, FileNaming, TusError, UploadState, plan_concatenation
from .chunk_writer import ChunkWriter, discard_chunks, move_chunks
from .file_keys import NewFileKey, new_file_key_for
from .interfaces import UploadRegistry

__all__ = ["join_uploads"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _states(resumable: UploadRegistry, ids: tuple[str, ...]) -> list[Any]:
    """The registry states of ``ids`` in order (None for one there is not), in one query."""
    found = {}
    for doc in resumable.registry.find({"_id": {"$in": sorted(set(ids))}}):
        found[str(doc["_id"])] = UploadState.from_document(doc)
    return [found.get(i) for i in ids]


def join_uploads(
    resumable: UploadRegistry, ids: tuple[str, ...], header: str, naming: FileNaming
) -> UploadState:
    """Make the final upload ``header`` (its ``Upload-Concat``) names from the partial uploads
    ``ids``, stored as a file named by ``naming``; return its (complete) state."""
    now = _now()
    parts = _states(resumable, ids)
    claimed = {p.joined_into for p in parts if p is not None and p.joined_into is not None}
    if len(claimed) == 1:
        resumed = _resumable_join(resumable, claimed.pop(), ids)
        if resumed is not None:
            return resumed
    store = resumable.store
    encrypting = store.encryption is not None
    plan = plan_concatenation(
        ids, parts, resumable.options, store.chunk_size, now, encrypting=encrypting
    )
    for part in plan.parts:
        # 500 now, before anything changes, when an encrypted part's key is not at hand.
        resumable.file_key(part)
    token = ObjectId()
    file_id = ObjectId()
    key = None
    if store.encryption is not None:
        key = new_file_key_for(store.encryption, file_id, plan.chunk_size)
    final = UploadState(
        upload_id=secrets.token_hex(16),
        file_id=file_id,
        chunk_size=plan.chunk_size,
        length=plan.length,
        filename=naming.filename,
        content_type=naming.content_type,
        file_metadata=naming.metadata,
        metadata_header=None,
        created=now,
        concat=header,
        parts=ids,
        file_key=None if key is None else key.wrapped_document(),
    ).renewed(now, resumable.options.expire_after)
    doc = final.to_document()
    doc[LEASE_FIELD] = resumable.leases.value(token, now)
    resumable.registry.insert_one(doc)
    distinct = sorted(set(ids))
    resumable.registry.update_many(
        {"_id": {"$in": distinct}, "joined_into": None, "complete": True},
        {"$set": {"joined_into": final.upload_id}},
    )
    mine = resumable.registry.count_documents(
        {"_id": {"$in": distinct}, "joined_into": {"$eq": final.upload_id}}
    )
    if mine != len(distinct):  # another final upload claimed one of them meanwhile
        resumable.registry.update_many(
            {"_id": {"$in": distinct}, "joined_into": {"$eq": final.upload_id}},
            {"$set": {"joined_into": None}},
        )
        resumable.registry.delete_one({"_id": {"$eq": final.upload_id}})
        raise TusError(409, "Upload-Concat: a partial upload was joined by another request")
    if plan.keeps_first:
        final = _borrow_first_part(resumable, final, plan, token)
    return _finish(resumable, final, plan, token, key, fresh=True)


def _borrow_first_part(
    resumable: UploadRegistry, final: UploadState, plan: ConcatPlan, token: ObjectId
) -> UploadState:
    """``final`` with the first part's file id, recorded in its registry document: that
    part's chunks (its whole ones, for a copy) are the final file's first ones as they are.
    Done once the parts are claimed, so an abandoned join removes them with it; never on a
    resumed join (chunks may have moved, or been copied, to the id it has)."""
    first = plan.parts[0]
    if plan.in_place:
        # A chunk past the part's end is stale (a refused PATCH's): it would stand where
        # the next part's first chunk goes. (A copy learns of one in the query that reads
        # the part's partial chunk, and clears it then.)
        count = -(-(first.length or 0) // first.chunk_size)
        discard_chunks(resumable.store.bucket, first.file_id, from_n=count)
    if not resumable.leases.renew(final.upload_id, token, {"file_id": first.file_id}):
        raise TusError(409, f"final upload {final.upload_id} was taken over meanwhile")
    return dataclasses.replace(final, file_id=first.file_id)


def _resumable_join(
    resumable: UploadRegistry, final_id: str, ids: tuple[str, ...]
) -> UploadState | None:
    """The final upload ``final_id`` when it is this same concatenation: finished already
    (a retry), or taken over and finished when its writer died; None when it is another
    concatenation (the plan then refuses the claimed parts)."""
    doc = resumable.registry.find_one({"_id": {"$eq": final_id}})
    if doc is None:
        return None
    final = UploadState.from_document(doc)
    if final.parts != ids:
        return None
    if final.complete:
        _release_parts(resumable, final)  # a crash may have kept them
        return final
    token = ObjectId()
    taken = resumable.leases.take(final_id, token, {"complete": False})
    if taken is None:
        raise TusError(423, f"final upload {final_id} is being joined by another request")
    parts = _states(resumable, ids)
    plan = plan_concatenation(
        ids,
        parts,
        resumable.options,
        final.chunk_size,
        _now(),
        joined=final_id,
        encrypting=final.encrypted,
    )
    key = resumable.file_key(final)
    return _finish(resumable, final, plan, token, key)


def _finish(
    resumable: UploadRegistry,
    final: UploadState,
    plan: ConcatPlan,
    token: ObjectId,
    key: NewFileKey | None,
    *,
    fresh: bool = False,
) -> UploadState:
    """Join the parts into the final file, store its files document, mark it complete
    (``key``: the data key of an encrypted final file). ``fresh``: no chunk has moved yet
    (not a resumed join)."""
    digest: str | None
    if plan.in_place and fresh:
        # Each part is read under its own file id, where only its chunks match, before
        # they move; the moves then must find every chunk read.
        digest = _hash_parts(resumable, plan)
        _move(resumable, final, plan, check=True)
    elif plan.in_place:
        _move(resumable, final, plan, check=False)
        digest = _hash_of(resumable, final, plan)
    elif plan.keeps_first and final.file_id == plan.parts[0].file_id:
        digest = _copy_after_first(resumable, final, plan, token, resumed=not fresh)
    else:
        digest = _copy(resumable, final, plan, token, key)
    stored = resumable.store_file(final, digest, key)
    done = dataclasses.replace(final, offset=plan.length, complete=True, file_id=stored.file_id)
    fields = {**done.progress_fields(), "file_id": done.file_id}
    if not resumable.leases.release(final.upload_id, token, fields):
        raise TusError(409, f"final upload {final.upload_id} was taken over meanwhile")
    _release_parts(resumable, done)
    if done.file_id != final.file_id:
        # The same bytes were stored in the store's dedup scope: the final upload names
        # that file now, and the joined chunks go.
        discard_chunks(resumable.store.bucket, final.file_id)
    return done


def _release_parts(resumable: UploadRegistry, final: UploadState) -> None:
    """Remove the registry documents of the parts a finished join consumed (and, when they
    were copied, their chunks)."""
    query = {"_id": {"$in": sorted(set(final.parts))}, "joined_into": {"$eq": final.upload_id}}
    for doc in resumable.registry.find(query, projection={"file_id": 1}):
        if doc["file_id"] != final.file_id:
            discard_chunks(resumable.store.bucket, doc["file_id"])
    resumable.registry.delete_many(query)


def _move(resumable: UploadRegistry, final: UploadState, plan: ConcatPlan, *, check: bool) -> None:
    """Renumber the later parts' chunks into the final file, one update per part; with
    ``check``, 500 unless each moves every chunk of its part."""
    for move in plan.moves():
        if move.source == final.file_id:
            continue  # the first part's chunks: the final file's already
        # Keyed on the old files_id: a repeat moves only what has not moved yet.
        moved = move_chunks(
            resumable.store.bucket, move.source, move.count, final.file_id, move.base
        )
        if check and moved != move.count:
            raise TusError(
                500,
                f"final upload {final.upload_id}: {moved} of the {move.count} chunks of a"
                " part were there to join",
            )


def _hash_parts(resumable: UploadRegistry, plan: ConcatPlan) -> str:
    """The SHA-256 of the parts' bytes in order, each part's chunks read through the chunk
    reader (one cursor per part, each chunk checked), but the first part's when this
    process holds its running hash."""
    head = plan.parts[0]
    kept = resumable.kept_hash(head.upload_id, head.length or 0)
    running = kept if kept is not None else hashlib.sha256()
    for part in plan.parts[1:] if kept is not None else plan.parts:
        described = FileInfo(
            file_id=part.file_id, length=part.length or 0, chunk_size=part.chunk_size
        )
        if not described.chunk_count:
            continue
        try:
            for _, data in resumable.store.chunk_reader.chunks(
                described, 0, described.chunk_count - 1
            ):
                running.update(data)
        except CorruptFile as exc:
            raise TusError(500, f"partial upload {part.upload_id}: {exc}") from exc
    return str(running.hexdigest())


def _hash_of(resumable: UploadRegistry, final: UploadState, plan: ConcatPlan) -> str:
    """The SHA-256 of the final file of an in-place join. Its chunks are read in order
    through the chunk reader (one cursor), which checks that they are every chunk and every
    byte from where it starts: from the first, or past the first part when this process
    holds that part's running hash (its bytes were hashed as they arrived)."""
    described = FileInfo(
        file_id=final.file_id, length=final.length or 0, chunk_size=final.chunk_size
    )
    head = plan.parts[0]
    running = resumable.kept_hash(head.upload_id, head.length or 0)
    first = 0
    if running is None:
        running = hashlib.sha256()
    else:
        first = -(-(head.length or 0) // head.chunk_size)
    try:
        if first < described.chunk_count:
            for _, data in resumable.store.chunk_reader.chunks(described, first):
                running.update(data)
        else:  # nothing after the first part: still, no chunk may lie past the end
            resumable.store.chunk_reader.check_end(described)
    except CorruptFile as exc:
        raise TusError(500, f"final upload {final.upload_id}: {exc}") from exc
    return str(running.hexdigest())


def _copy(
    resumable: UploadRegistry,
    final: UploadState,
    plan: ConcatPlan,
    token: ObjectId,
    key: NewFileKey | None,
) -> str | None:
    """Copy the parts' bytes, in order, into new chunks of the final file (one that keeps
    none of the first part's: encrypted, or of another chunk size); their SHA-256
    (None for an encrypted final file: its chunks sealed under ``key``, no digest kept).
    An encrypted part is opened with its own data key."""
    store = resumable.store
    # A copy that died part way left chunks no one counts: start again from none.
    discard_chunks(store.bucket, final.file_id)
    writer = ChunkWriter(store.bucket, final.file_id, owns_id=True, file_key=key)
    cutter = ChunkCutter(final.file_id, plan.chunk_size)
    batcher = ChunkBatcher(overhead=chunk_overhead(final.file_id))
    running = hashlib.sha256() if key is None else None

    def insert(batches: list[list[dict[str, Any]]]) -> None:
        for batch in batches:
            writer.insert(batch)
            # The lease lasts while the copy goes on.
            resumable.leases.renew(final.upload_id, token)

    for part in plan.parts:
        # 500 when this store's keys cannot open an encrypted part.
        part_key = resumable.file_key(part)
        length = part.length or 0
        described = FileInfo(
            file_id=part.file_id,
            length=length,
            chunk_size=part.chunk_size,
            encryption=None if part_key is None else part_key.record(length),
        )
        cipher = None if part_key is None else part_key.cipher
        # Chunks 0 to the part's last, each checked (and opened); a stale chunk past its
        # end is never asked for.
        last_n = described.chunk_count - 1
        try:
            for _, data in store.chunk_reader.chunks(described, 0, last_n, cipher=cipher):
                if running is not None:
                    running.update(data)
                batcher.add(cutter.feed(data))
                insert(batcher.ready())
        except CorruptFile as exc:
            raise TusError(500, f"partial upload {part.upload_id}: {exc}") from exc
    last = cutter.finish()
    if last is not None:
        batcher.add([last])
    insert(batcher.drain())
    return None if running is None else running.hexdigest()


def _first_part(
    resumable: UploadRegistry, plan: ConcatPlan, *, resumed: bool
) -> tuple[Any, bytes, Any, bool]:
    """For a copy that keeps the first part's whole chunks: the running SHA-256 of that
    part's bytes; the bytes and ``_id`` of its last, partial chunk (none when it is whole
    chunks long); whether chunks past that one (or past its whole ones) may be stored.

    The partial chunk comes in one query that reaches every chunk past it too, and the
    whole chunks are read (a cursor of their own) only when this process does not hold the
    part's running hash. On a resumed join that chunk may be the final file's already (a
    copy that died had filled it with the next part's first bytes): the part's bytes are
    its first ones either way."""
    head = plan.parts[0]
    length = head.length or 0
    whole = plan.first_whole_chunks
    own = FileInfo(file_id=head.file_id, length=length, chunk_size=plan.chunk_size)
    kept = resumable.kept_hash(head.upload_id, length)
    running = kept if kept is not None else hashlib.sha256()
    reader = resumable.store.chunk_reader
    try:
        if kept is None and whole:
            for _, data in reader.chunks(own, 0, whole - 1):
                running.update(data)
        if whole == own.chunk_count:
            return running, b"", None, True  # no partial chunk: nothing read past them
        try:
            tail_id, tail, after = reader.chunk_and_after(own, whole)
        except CorruptFile:
            if not resumed:
                raise
            joined = FileInfo(file_id=head.file_id, length=plan.length, chunk_size=plan.chunk_size)
            tail_id, filled, after = reader.chunk_and_after(joined, whole)
            tail = filled[: length - whole * plan.chunk_size]
    except CorruptFile as exc:
        raise TusError(500, f"partial upload {head.upload_id}: {exc}") from exc
    if kept is None:
        running.update(tail)
    return running, tail, tail_id, after


def _copy_after_first(
    resumable: UploadRegistry,
    final: UploadState,
    plan: ConcatPlan,
    token: ObjectId,
    *,
    resumed: bool,
) -> str:
    """Copy the parts' bytes into the final file, which has the first part's file id, from
    that part's last partial chunk on: its whole chunks stay as they are, that chunk is
    filled up with the next bytes (it keeps its ``_id``), the later parts are cut into new
    chunks after it. The SHA-256 of the whole."""
    store = resumable.store
    head = plan.parts[0]
    running, tail, tail_id, after = _first_part(resumable, plan, resumed=resumed)
    whole = plan.first_whole_chunks
    if after:
        # A stale chunk past the first part's end (a refused PATCH's), or what a copy that
        # died wrote: start again from there (the partial chunk, filled up or not, starts
        # with the part's bytes).
        discard_chunks(store.bucket, final.file_id, from_n=whole + (1 if tail else 0))
    writer = ChunkWriter(store.bucket, final.file_id, owns_id=False)
    cutter = ChunkCutter.resuming(final.file_id, plan.chunk_size, head.length or 0, tail)
    batcher = ChunkBatcher(overhead=chunk_overhead(final.file_id))

    def insert(chunks: list[dict[str, Any]]) -> None:
        fills = bool(tail) and bool(chunks) and chunks[0]["n"] == whole
        if fills and not writer.rewrite({**chunks.pop(0), "_id": tail_id}):
            raise TusError(
                500, f"partial upload {head.upload_id}: its last chunk was not there to fill"
            )
        batcher.add(chunks)
        for batch in batcher.ready():
            writer.insert(batch)
            # The lease lasts while the copy goes on.
            resumable.leases.renew(final.upload_id, token)

    for part in plan.parts[1:]:
        length = part.length or 0
        described = FileInfo(file_id=part.file_id, length=length, chunk_size=part.chunk_size)
        try:
            for _, data in store.chunk_reader.chunks(described, 0, described.chunk_count - 1):
                running.update(data)
                insert(cutter.feed(data))
        except CorruptFile as exc:
            raise TusError(500, f"partial upload {part.upload_id}: {exc}") from exc
    last = cutter.finish()
    insert([] if last is None else [last])
    for batch in batcher.drain():
        writer.insert(batch)
        resumable.leases.renew(final.upload_id, token)
    return str(running.hexdigest())
