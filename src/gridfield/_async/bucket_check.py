"""Checking a bucket (fsck) and sweeping it: orphan chunks, damaged files, unreferenced files.

Everything streams: files and chunks are read in bounded batches, so memory grows with
what is found (and with the set of file ids the scanned documents hold, and the files that
name a thumbnail or variants), not with the bucket.

References are read from MongoEngine document classes and from raw holders (a collection
and the dotted path where its documents keep file ids: ``core.raw_holders``).

A deleting sweep holds its candidates (leaving those a save holds), reads their references
again and deletes only what is still unreferenced; the chunks of a registered open upload
stay (see ``core.sweeping`` for the whole protocol).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from ..core.bucket_report import (
    DEFAULT_GRACE,
    BucketReport,
    ChildFiles,
    DamagedFile,
    ExpiredFile,
    OrphanTracker,
    UnreferencedFile,
    check_grace,
    id_key,
    older_than,
)
from ..core.chunks import DEFAULT_BATCH_BYTES, ChunkCheck
from ..core.errors import CorruptFile
from ..core.expiry import expired_filter, is_expired
from ..core.files_document import FileInfo
from ..core.numbers import is_whole_number
from ..core.raw_holders import Holder, as_holder, values_at
from ..core.sweeping import SAVE, SWEEP
from ..odm.stored_refs import (
    collection_root,
    document_classes,
    file_paths,
    file_roots,
    stored_file_refs,
)
from .chunk_writer import delete_files, discard_files_chunks
from .connection import ConnectionFailure, get_db
from .holds import hold_for_sweep, let_go
from .interfaces import AsyncStoreParts
from .resumable import AsyncResumableStore

if TYPE_CHECKING:
    from .chunk_reader import AsyncChunkReader

__all__ = ["DEFAULT_GRACE", "check_bucket", "held_by_others", "sweep_bucket"]

_OBJECT_ID = {"$type": "objectId"}
_OTHER = {"$not": {"$type": "objectId"}}
# Files documents read at once; for ids other than ObjectIds, checked together by one
# chunks query.
_FILES_BATCH = 1000
# Chunk documents without data read at once (and looked up together when not ObjectIds).
_CHUNKS_BATCH = 1000
# File ids removed together by a sweep.
_DELETE_BATCH = 1000


async def check_bucket(
    store: AsyncStoreParts,
    documents: Iterable[Any] | str | None = None,
    *,
    grace: timedelta = DEFAULT_GRACE,
    chunks: bool = True,
    now: datetime | None = None,
) -> BucketReport:
    """Check ``store``'s bucket without changing anything; see ``AsyncFileStore.check``."""
    grace = check_grace(grace)
    report, _ = await _check(store, _Scan.of(documents), grace=grace, chunks=chunks, now=now)
    return report


async def _check(
    store: AsyncStoreParts,
    scan: _Scan | None,
    *,
    grace: timedelta,
    chunks: bool,
    now: datetime | None,
) -> tuple[BucketReport, ChildFiles]:
    """The check's report, and the files it found naming thumbnails and variants."""
    now = datetime.now(timezone.utc) if now is None else now
    report = BucketReport(bucket=f"{store.db.name}.{store.collection_name}", grace=grace)
    # References first: a file stored after this scan is younger than the grace period.
    referenced: set[Any] | None = None
    if scan is not None:
        referenced = await _referenced_ids(store, scan, report)
        report.references_found = len(referenced)
    walk = _FileWalk(report, referenced, now, check_chunks=chunks, reader=store.chunk_reader)
    tracker = OrphanTracker()
    await _merge_object_ids(store, walk, tracker)
    await _other_ids(store, walk, tracker)
    # The registry after the walk: an upload whose chunks the walk found old has been open
    # longer than the smallest grace, so it has registered by now (unless it went silent).
    open_uploads = await _open_uploads(store)
    report.open_uploads = len(open_uploads)
    report.orphan_chunks, report.in_flight = tracker.split(now, grace, open_uploads)
    # A thumbnail or variant is held through its image's files document, not a document.
    report.unreferenced_files = walk.children.resolve(report.unreferenced_files)
    return report, walk.children


async def sweep_bucket(
    store: AsyncStoreParts,
    documents: Iterable[Any] | str | None = None,
    *,
    delete: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
) -> BucketReport:
    """Check, then (with ``delete=True``) remove orphan chunks and unreferenced files."""
    grace = check_grace(grace)
    if delete:
        store.sweep_timing.check_sweep_grace(grace)
    # Read once: an iterator given as ``documents`` must serve both phases.
    scan = _Scan.of(documents)
    report, children = await _check(store, scan, grace=grace, chunks=False, now=now)
    if not delete:
        return report
    if report.documents_unscanned and report.unreferenced_files:
        # A file held only by an unscanned class would look unreferenced: remove nothing.
        raise ConnectionFailure(
            "sweep(delete=True) removes no file while document classes are unscanned "
            f"(their alias is not connected): {', '.join(report.documents_unscanned)}"
        )
    await _remove_expired(store, report, now)
    if report.unreferenced_files:
        assert scan is not None  # files are found unreferenced only against documents
        await _remove_unreferenced(store, scan, report, children)
    await _remove_orphans(store, report)
    # Entries whose lease ran out: their uploads are gone (a crashed process), and their
    # chunks were orphans like any other.
    await store.bucket.uploads.delete_many({"expires": {"$lte": datetime.now(timezone.utc)}})
    # Resumable uploads abandoned past their expiry: their entries and chunks.
    report.removed_resumable = await AsyncResumableStore(store).remove_expired(now)
    report.removed_holds = await _remove_orphan_holds(store)
    # Deduplication claims naming files that are gone (the ones just removed among them).
    report.removed_claims = await store.digest_claims.remove_stale()
    return report


async def _remove_orphan_holds(store: AsyncStoreParts) -> int:
    """Remove the holds on files that are gone (a save or a sweep killed after its delete
    reached the server never let go of them); how many. A hold protects a file that
    exists, so one on a gone file protects nothing, lapsed or not."""
    removed = 0
    holds = store.bucket.holds
    on_files = {"by": {"$in": [SAVE, SWEEP]}}
    ids = [doc["_id"] async for doc in holds.find(on_files, projection={"_id": 1})]

    async def remove(ids: list[Any]) -> int:
        found = store.bucket.files.find({"_id": {"$in": ids}}, projection={"_id": 1})
        present = {id_key(doc["_id"]) async for doc in found}
        gone = [file_id for file_id in ids if id_key(file_id) not in present]
        if not gone:
            return 0
        result = await holds.delete_many({"_id": {"$in": gone}, **on_files})
        return int(result.deleted_count)

    for start in range(0, len(ids), _DELETE_BATCH):
        removed += await remove(ids[start : start + _DELETE_BATCH])
    return removed


async def _remove_unreferenced(
    store: AsyncStoreParts, scan: _Scan, report: BucketReport, children: ChildFiles
) -> None:
    """Phase two, a batch at a time: hold the candidates (a save holding one keeps it),
    read the references to them again, delete those still unreferenced, let go.

    A save that held a file and let go has its document in, so the second read sees it; a
    save that comes while the sweep holds the file waits, then finds it gone (NoFile) or
    kept.
    """
    # Images before their thumbnails and variants, level by level: a child goes only once
    # every file naming it is gone (an image a save held meanwhile keeps its children too).
    levels: dict[int, list[Any]] = {}
    lineage: dict[Any, set[Any]] = {}
    for unreferenced in report.unreferenced_files:
        key = id_key(unreferenced.file_id)
        lineage[key] = children.ancestors(key)
        levels.setdefault(len(lineage[key]), []).append(unreferenced.file_id)
    deleted: set[Any] = set()
    for depth in sorted(levels):
        ids = levels[depth]
        for start in range(0, len(ids), _DELETE_BATCH):
            batch = ids[start : start + _DELETE_BATCH]
            token = ObjectId()
            held = await hold_for_sweep(store, batch, token)
            try:
                deleted |= await _delete_unheld(store, scan, held, lineage, deleted, report)
            finally:
                await let_go(store, held, token)


async def _delete_unheld(
    store: AsyncStoreParts,
    scan: _Scan,
    ids: list[Any],
    lineage: dict[Any, set[Any]],
    deleted: set[Any],
    report: BucketReport,
) -> set[Any]:
    """Read the references to ``ids`` (held by this sweep) again and delete those still
    unreferenced, files documents first, then their chunks; the keys of the files gone."""
    if not ids:
        return set()
    referenced = await _references_among(store, scan, ids)
    keys = {id_key(file_id): file_id for file_id in ids}
    ids = [
        file_id
        for key, file_id in keys.items()
        if key not in referenced and lineage[key] <= deleted
    ]
    if not ids:
        return set()
    files, chunks = await delete_files(store.bucket, ids)
    report.removed_files += files
    report.removed_chunks += chunks
    return {id_key(file_id) for file_id in ids}


async def _remove_orphans(store: AsyncStoreParts, report: BucketReport) -> None:
    orphans = [o.files_id for o in report.orphan_chunks]
    for start in range(0, len(orphans), _DELETE_BATCH):
        ids = orphans[start : start + _DELETE_BATCH]
        # Not an upload that registered since the check read the registry.
        registered = await _open_uploads(store, ids)
        ids = [files_id for files_id in ids if id_key(files_id) not in registered]
        if not ids:
            continue
        # Only ids whose files document is still missing: an upload may have reused one.
        found = store.bucket.files.find({"_id": {"$in": ids}}, projection={"_id": 1})
        present = {id_key(doc["_id"]) async for doc in found}
        missing = [files_id for files_id in ids if id_key(files_id) not in present]
        if missing:
            report.removed_chunks += await discard_files_chunks(store.bucket, missing)


async def _open_uploads(store: AsyncStoreParts, among: list[Any] | None = None) -> set[Any]:
    """Keys of the files ids of the registered uploads whose lease has not run out, and of
    the resumable uploads not yet expired (only those of ``among`` when given)."""
    now = datetime.now(timezone.utc)
    query: dict[str, Any] = {"expires": {"$gt": now}}
    if among is not None:
        query["files_id"] = {"$in": among}
    cursor = store.bucket.uploads.find(query, projection={"files_id": 1})
    found = {id_key(doc.get("files_id")) async for doc in cursor}
    # Resumable (tus) uploads keep their own registry, <bucket>.resumable (see resumable.py):
    # one not yet expired may be paused for hours between requests, its chunks old.
    resumable: dict[str, Any] = {"$or": [{"expires": None}, {"expires": {"$gt": now}}]}
    if among is not None:
        resumable["file_id"] = {"$in": among}
    paused = store.bucket.resumable.find(resumable, projection={"file_id": 1})
    found.update([id_key(doc.get("file_id")) async for doc in paused])
    return found


async def _remove_expired(
    store: AsyncStoreParts, report: BucketReport, now: datetime | None
) -> None:
    """Remove the expired files the check found: their files documents (only while still
    expired at the check's time), then the chunks of those whose files document is gone."""
    moment = datetime.now(timezone.utc) if now is None else now
    expired = [e.file_id for e in report.expired_files]
    for start in range(0, len(expired), _DELETE_BATCH):
        ids = expired[start : start + _DELETE_BATCH]
        query = {"_id": {"$in": ids}, **expired_filter(moment)}
        gone = await store.bucket.files.delete_many(query)
        report.removed_files += gone.deleted_count
        # A caller's own id may have been stored again since: its chunks stay.
        found = store.bucket.files.find({"_id": {"$in": ids}}, projection={"_id": 1})
        present = {id_key(doc["_id"]) async for doc in found}
        missing = [file_id for file_id in ids if id_key(file_id) not in present]
        if missing:
            report.removed_chunks += await discard_files_chunks(store.bucket, missing)


class _Scan:
    """Where references are read: document classes (one per collection) and raw holders;
    ``every`` when the classes are the registered ones."""

    def __init__(self, classes: list[Any], holders: list[Holder], *, every: bool) -> None:
        self.classes = classes
        self.holders = holders
        self.every = every

    @classmethod
    def of(cls, documents: Iterable[Any] | str | None) -> _Scan | None:
        """What ``documents`` names (None: no references checked); TypeError or ValueError
        for anything else, before any I/O."""
        if documents is None:
            return None
        if isinstance(documents, str):
            if documents != "registered":
                raise ValueError(
                    "documents must be Document classes or holders, 'registered' or None,"
                    f" not {documents!r}"
                )
            return cls(document_classes(None), [], every=True)
        classes: list[Any] = []
        holders: list[Holder] = []
        for item in documents:
            if isinstance(item, (Holder, tuple)):
                holders.append(as_holder(item))
            elif isinstance(item, type):
                classes.append(item)
            else:
                raise TypeError(
                    "documents must be Document classes or holders (a Holder, or a tuple"
                    f" (collection, path)), not {item!r}"
                )
        return cls(document_classes(classes), list(dict.fromkeys(holders)), every=False)


def _holder_collection(store: AsyncStoreParts, holder: Holder) -> Any:
    return store.bucket.collection(holder.collection, holder.db)


async def _referenced_ids(store: AsyncStoreParts, scan: _Scan, report: BucketReport) -> set[Any]:
    """Keys of the file ids in ``store``'s bucket that documents of ``scan``'s classes and
    holders hold.

    With the registered classes, a class whose alias is not connected is listed as
    unscanned; a class the caller named must be reachable.
    """
    found: set[Any] = set()
    report.documents_scanned = []
    ours = _InStore(store)
    for kind in scan.classes:
        alias = kind._meta.get("db_alias") or "default"
        try:
            collection = get_db(alias)[kind._get_collection_name()]
        except ConnectionFailure:
            if not scan.every:
                raise
            report.documents_unscanned.append(kind.__name__)
            continue
        report.documents_scanned.append(kind.__name__)
        async for key in _refs(kind, collection, {}, ours):
            found.add(key)
    for holder in scan.holders:
        report.documents_scanned.append(str(holder))
        async for key in _held(store, holder, {}):
            found.add(key)
    return found


async def held_by_others(
    store: AsyncStoreParts, owner: Any, file_id: Any, *, batch_size: int = _CHUNKS_BATCH
) -> bool:
    """Whether a stored document of ``owner``'s collection (its class tree), other than
    ``owner`` itself, holds ``file_id`` of ``store``'s bucket: the bucket check's reference
    walk, stopping at the first holder found. Read from the stored documents, so it counts
    what is saved, with no counter to race."""
    kind = collection_root(type(owner))
    roots = file_roots(kind)
    if not roots:
        return False
    alias = kind._meta.get("db_alias") or "default"
    db = get_db(alias)
    if db.name != store.db.name:
        return False
    query: dict[str, Any] = {} if owner.pk is None else {"_id": {"$ne": owner.pk}}
    projection = dict.fromkeys([*roots, "_cls"], 1)
    wanted = id_key(file_id)
    cursor = db[kind._get_collection_name()].find(query, projection=projection)
    try:
        async for raw in cursor.batch_size(batch_size):
            for ref in stored_file_refs(kind, raw):
                if ref.collection_name == store.collection_name and id_key(ref.file_id) == wanted:
                    return True
    finally:
        await cursor.close()
    return False


async def _references_among(store: AsyncStoreParts, scan: _Scan, ids: list[Any]) -> set[Any]:
    """Keys of those of ``ids`` that documents of ``scan`` hold now: one query per holder
    on its path, and per class on the paths where its files are (a scan of the class where
    no path says)."""
    wanted = {id_key(file_id) for file_id in ids}
    found: set[Any] = set()
    ours = _InStore(store)
    for holder in scan.holders:
        async for key in _held(store, holder, {holder.path: {"$in": ids}}):
            if key in wanted:
                found.add(key)
    for kind in scan.classes:
        collection = get_db(kind._meta.get("db_alias") or "default")[kind._get_collection_name()]
        paths = file_paths(kind)
        if paths == []:
            continue  # a class with no field that can hold a file holds none
        query = {} if paths is None else {"$or": [{path: {"$in": ids}} for path in paths]}
        async for key in _refs(kind, collection, query, ours):
            if key in wanted:
                found.add(key)
    return found


async def _held(
    store: AsyncStoreParts, holder: Holder, query: dict[str, Any]
) -> AsyncIterator[Any]:
    """Keys of the values at ``holder``'s path in the documents ``query`` finds there (read
    with a projection on the path, in batches)."""
    collection = _holder_collection(store, holder)
    steps = holder.steps
    cursor = collection.find(query, projection={holder.path: 1})
    async for raw in cursor.batch_size(_CHUNKS_BATCH):
        for value in values_at(raw, steps):
            if value is not None:  # a field set to null holds no file
                yield id_key(value)


class _InStore:
    """Whether a reference's alias and bucket are ``store``'s (each alias asked once)."""

    def __init__(self, store: AsyncStoreParts) -> None:
        self.store = store
        self.aliases: dict[str, bool] = {}  # alias -> whether it names store's database

    def __call__(self, alias: str, collection_name: str) -> bool:
        if collection_name != self.store.collection_name:
            return False
        if alias not in self.aliases:
            self.aliases[alias] = get_db(alias).name == self.store.db.name
        return self.aliases[alias]


async def _refs(
    kind: Any, collection: Any, query: dict[str, Any], ours: _InStore
) -> AsyncIterator[Any]:
    """Keys of the file ids of ``ours``'s bucket held by the documents ``query`` finds."""
    roots = file_roots(kind)
    if not roots:
        return  # a class with no field that can hold a file holds none
    projection = dict.fromkeys([*roots, "_cls"], 1)
    async for raw in collection.find(query, projection=projection).batch_size(_CHUNKS_BATCH):
        for ref in stored_file_refs(kind, raw):
            if ours(ref.db_alias, ref.collection_name):
                yield id_key(ref.file_id)


class _FileWalk:
    """What the check notes about each files document it passes."""

    def __init__(
        self,
        report: BucketReport,
        referenced: set[Any] | None,
        now: datetime,
        *,
        check_chunks: bool,
        reader: AsyncChunkReader,
    ) -> None:
        self.report = report
        self.reader = reader
        self.referenced = referenced
        self.now = now
        self.check_chunks = check_chunks
        self.children = ChildFiles()

    def start(self, doc: dict[str, Any]) -> ChunkCheck | None:
        """Note one files document; the check its chunks must pass (None: none to run)."""
        report = self.report
        report.files_checked += 1
        file_id = doc.get("_id")
        filename = doc.get("filename") if isinstance(doc.get("filename"), str) else None
        try:
            info: FileInfo | None = FileInfo.from_document(doc)
        except CorruptFile as exc:
            report.damaged_files.append(DamagedFile(file_id, filename, str(exc)))
            info = None
        if self.referenced is not None:
            self.children.note(doc)
        expire_at = FileInfo.expiry_of(doc)
        if expire_at is not None and is_expired(expire_at, self.now):
            report.expired_files.append(ExpiredFile(file_id, filename, expire_at))
        elif self.referenced is not None and id_key(file_id) not in self.referenced:
            date = doc.get("uploadDate")
            date = date if isinstance(date, datetime) else None
            if older_than(date, self.now, report.grace):
                length = info.length if info is not None else None
                report.unreferenced_files.append(UnreferencedFile(file_id, filename, length, date))
        if info is None or not self.check_chunks:
            return None
        return ChunkCheck(info)

    def accept(self, check: ChunkCheck | None, chunk: dict[str, Any], doc: dict[str, Any]) -> bool:
        """Run ``check`` on one more chunk; False once the file is found damaged."""
        if check is None:
            return True
        try:
            self.reader.payload(check, chunk)
        except CorruptFile as exc:
            self.damaged(doc, exc)
            return False
        return True

    def finish(self, check: ChunkCheck | None, doc: dict[str, Any]) -> None:
        """The file's chunks have run out: note it if some were never seen."""
        if check is None:
            return
        try:
            check.finish()
        except CorruptFile as exc:
            self.damaged(doc, exc)

    def damaged(self, doc: dict[str, Any], exc: CorruptFile) -> None:
        filename = doc.get("filename")
        name = filename if isinstance(filename, str) else None
        self.report.damaged_files.append(DamagedFile(doc.get("_id"), name, str(exc)))


async def _merge_object_ids(
    store: AsyncStoreParts, walk: _FileWalk, tracker: OrphanTracker
) -> None:
    """Files and chunks with ObjectId ids, both read once in id order and matched as they
    come (a merge join): linear on any server, with or without index pushdown."""
    files = store.bucket.files.find({"_id": _OBJECT_ID}).sort("_id", 1).batch_size(_FILES_BATCH)
    batch = await _chunk_batch(store) if walk.check_chunks else _CHUNKS_BATCH
    chunks = walk.reader.scan(
        {"files_id": _OBJECT_ID}, batch_size=batch, with_data=walk.check_chunks
    )
    doc = await anext(files, None)
    group: Any = None  # the files_id of the chunks at hand
    owner: dict[str, Any] | None = None  # their files document (None: orphans)
    check: ChunkCheck | None = None
    sound = True
    try:
        async for chunk in chunks:
            walk.report.chunks_checked += 1
            files_id = chunk["files_id"]
            if files_id != group:
                if owner is not None and sound:
                    walk.finish(check, owner)
                group, owner, check, sound = files_id, None, None, True
                while doc is not None and doc["_id"] < files_id:
                    walk.finish(walk.start(doc), doc)  # a file with no chunks at all
                    doc = await anext(files, None)
                if doc is not None and doc["_id"] == files_id:
                    owner, check = doc, walk.start(doc)
                    doc = await anext(files, None)
            if owner is None:
                tracker.add(chunk)
            elif sound:
                sound = walk.accept(check, chunk, owner)
        if owner is not None and sound:
            walk.finish(check, owner)
        while doc is not None:
            walk.finish(walk.start(doc), doc)
            doc = await anext(files, None)
    finally:
        await files.close()  # at once, not when collected, if the walk stops early


async def _other_ids(store: AsyncStoreParts, walk: _FileWalk, tracker: OrphanTracker) -> None:
    """Files and chunks whose ids are not ObjectIds (rare: a caller's own ids), matched by
    lookups in batches, as their order in Python need not be the server's."""
    batch: list[dict[str, Any]] = []
    async for doc in store.bucket.files.find({"_id": _OTHER}).batch_size(_FILES_BATCH):
        batch.append(doc)
        if len(batch) == _FILES_BATCH:
            await _check_batch(store, walk, batch)
            batch = []
    if batch:
        await _check_batch(store, walk, batch)
    pending: list[dict[str, Any]] = []
    cursor = walk.reader.scan({"files_id": _OTHER}, batch_size=_CHUNKS_BATCH, with_data=False)
    async for chunk in cursor:
        pending.append(chunk)
        if len(pending) == _CHUNKS_BATCH:
            await _track_missing(store, pending, tracker)
            pending = []
    if pending:
        await _track_missing(store, pending, tracker)


async def _chunk_batch(store: AsyncStoreParts) -> int:
    """Chunks with their data to read at once: a batch stays near DEFAULT_BATCH_BYTES even
    when the bucket holds files with large chunks."""
    largest = store.chunk_size
    cursor = store.bucket.files.find({}, projection={"chunkSize": 1}).sort("chunkSize", -1).limit(1)
    async for doc in cursor:
        size = doc.get("chunkSize")
        if (is_whole_number(size) or isinstance(size, float)) and size > largest:
            largest = int(size)
    return max(1, DEFAULT_BATCH_BYTES // largest)


async def _check_batch(
    store: AsyncStoreParts, walk: _FileWalk, batch: list[dict[str, Any]]
) -> None:
    """Run each file's chunk check over its chunks, in one query for the whole batch."""
    checks: dict[Any, tuple[ChunkCheck | None, dict[str, Any]]] = {
        id_key(doc.get("_id")): (walk.start(doc), doc) for doc in batch
    }
    if not walk.check_chunks:
        return
    failed: set[Any] = set()
    ids = [doc.get("_id") for doc in batch]
    cursor = walk.reader.scan({"files_id": {"$in": ids}}, batch_size=await _chunk_batch(store))
    async for chunk in cursor:
        walk.report.chunks_checked += 1
        key = id_key(chunk.get("files_id"))
        if key in failed or key not in checks:
            continue
        check, doc = checks[key]
        if not walk.accept(check, chunk, doc):
            failed.add(key)
    for key, (check, doc) in checks.items():
        if key not in failed:
            walk.finish(check, doc)


async def _track_missing(
    store: AsyncStoreParts, chunks: list[dict[str, Any]], tracker: OrphanTracker
) -> None:
    ids: dict[Any, Any] = {}
    for chunk in chunks:
        ids.setdefault(id_key(chunk.get("files_id")), chunk.get("files_id"))
    existing = store.bucket.files.find({"_id": {"$in": list(ids.values())}}, projection={"_id": 1})
    known = {id_key(doc["_id"]) async for doc in existing}
    for chunk in chunks:
        if id_key(chunk.get("files_id")) not in known:
            tracker.add(chunk)
