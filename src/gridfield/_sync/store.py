# Generated from src/gridfield/_async/store.py by scripts/unasync.py: do not edit.
"""The GridFS file store over one database: upload, download, delete, find, indexes."""

from __future__ import annotations

import codecs
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from pymongo.errors import OperationFailure

from .._twins import CLEANUP_TIMEOUT, carried, no_background_work
from ..core.bucket_report import DEFAULT_GRACE, BucketReport
from ..core.chunks import clamp_range
from ..core.errors import NoFile
from ..core.guards import ProgressCallback, UploadLimits, check_progress_callback
from ..core.metadata import (
    DEFAULT_CHUNK_SIZE,
    FileInfo,
    check_aliases,
    check_chunk_size,
    check_extra_fields,
    check_file_id,
    check_files_document,
    check_metadata,
)
from ..core.queries import chunks_filter, file_filter
from ..core.revisions import (
    OLDEST_FIRST,
    check_filename,
    describe_revision,
    name_filter,
    revision_query,
)
from ..core.sweeping import DEFAULT_SWEEP_TIMING, HOLDS_SUFFIX, UPLOADS_SUFFIX, SweepTiming
from .bucket_check import check_bucket, sweep_bucket
from .download import DownloadStream, check_destination, copy_to
from .holds import hold_for_save, let_go
from .upload import UploadStream, check_source, source_size, write_source

__all__ = ["DownloadStream", "FileStore", "UploadStream", "wait_cleanups"]

# When the indexes of a (database name, bucket) pair were last made, per client object.
# Keyed by identity: two PyMongo clients with the same settings compare equal, and one made
# later must not trust what another saw. The cache only saves round trips: no upload's
# correctness depends on the indexes (an upload's clean-up removes only chunks it inserted),
# so an entry older than _INDEX_RECHECK seconds is checked again, which brings the indexes
# back after a bucket or database was dropped behind a live client.
_INDEXED: dict[int, tuple[weakref.ref[Any], dict[tuple[str, str], float]]] = {}
_INDEX_RECHECK = 30.0

# createIndexes codes for "an index on these keys exists already, with other options or
# another name" (made by another tool): the lookups it serves are there, so it will do.
_INDEX_EXISTS_CODES = frozenset({85, 86})


def _forget(key: int, dead: weakref.ref[Any]) -> None:
    entry = _INDEXED.get(key)
    if entry is not None and entry[0] is dead:  # not a newer client given the same id
        del _INDEXED[key]


def _indexed(client: Any) -> dict[tuple[str, str], float] | None:
    key = id(client)
    entry = _INDEXED.get(key)
    if entry is not None and entry[0]() is client:
        return entry[1]
    try:
        ref = weakref.ref(client, lambda dead: _forget(key, dead))
    except TypeError:  # a client that cannot be weakly referenced: no cache
        return None
    made: dict[tuple[str, str], float] = {}
    _INDEXED[key] = (ref, made)
    return made


def _create_index(collection: Any, keys: list[tuple[str, int]], **options: Any) -> None:
    try:
        collection.create_index(keys, **options)
    except OperationFailure as exc:
        if exc.code not in _INDEX_EXISTS_CODES:
            raise


def wait_cleanups(timeout: float = CLEANUP_TIMEOUT) -> None:
    """Wait (up to ``timeout`` seconds) for the clean-ups that failed or cancelled uploads and
    deletes left running in the background, for example before the event loop ends.

    A cancelled caller returns promptly and never waits on a stalled server; the removal of
    what it wrote goes on without it. In the sync API nothing is left running: this returns
    at once.
    """
    no_background_work(timeout)


class FileStore:
    """GridFS file store over one database handle (PyMongo AsyncDatabase or Motor
    AsyncIOMotorDatabase), in the standard layout: ``<bucket>.files`` and ``<bucket>.chunks``,
    with ``<bucket>.uploads`` beside them for the uploads open long enough to register.

    ``sweep_timing`` (a ``SweepTiming``) is what this store's uploads and deleting sweeps
    agree on: the smallest grace a deleting sweep accepts, when an upload registers, how
    long its lease holds. Every process that writes or sweeps a bucket should use the same.
    """

    def __init__(
        self,
        db: Any,
        collection_name: str = "fs",
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        limits: UploadLimits | None = None,
        sweep_timing: SweepTiming | None = None,
    ) -> None:
        if not isinstance(collection_name, str) or not collection_name:
            raise ValueError(f"collection_name must be a non-empty str, not {collection_name!r}")
        if limits is not None and not isinstance(limits, UploadLimits):
            raise TypeError(f"limits must be an UploadLimits, not {type(limits).__name__}")
        self.limits = limits if limits is not None else UploadLimits(label=collection_name)
        """The upload guards every upload of this store gets (a call may tighten them)."""
        if sweep_timing is not None and not isinstance(sweep_timing, SweepTiming):
            raise TypeError(
                f"sweep_timing must be a SweepTiming, not {type(sweep_timing).__name__}"
            )
        self.sweep_timing = DEFAULT_SWEEP_TIMING if sweep_timing is None else sweep_timing
        """When uploads register and how small a deleting sweep's grace may be."""
        self.db = db
        self.collection_name = collection_name
        self.chunk_size = check_chunk_size(chunk_size)
        self.files: Any = db[f"{collection_name}.files"]
        self.chunks: Any = db[f"{collection_name}.chunks"]
        self.uploads: Any = db[f"{collection_name}.{UPLOADS_SUFFIX}"]
        """The registry of uploads open long enough that a sweep must leave them alone."""
        self.holds: Any = db[f"{collection_name}.{HOLDS_SUFFIX}"]
        """The holds saves and deleting sweeps take on files (see ``claim``)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.db.name}.{self.collection_name}>"

    def ensure_indexes(self) -> None:
        """Create the files ``(filename, uploadDate)`` and unique chunks ``(files_id, n)``
        indexes (idempotent; an index on the same keys made by another tool will do).

        Uploads call it themselves, at most every 30 seconds per client and bucket; call it
        after dropping a bucket to have the indexes back at once.
        """
        _create_index(self.files, [("filename", 1), ("uploadDate", 1)])
        _create_index(self.chunks, [("files_id", 1), ("n", 1)], unique=True)
        made = _indexed(self.db.client)
        if made is not None:
            made[(self.db.name, self.collection_name)] = time.monotonic()

    def _ensure_indexes_once(self) -> None:
        """``ensure_indexes`` unless this client made them in the last few seconds."""
        made = _indexed(self.db.client)
        since = made.get((self.db.name, self.collection_name)) if made is not None else None
        if since is None or time.monotonic() - since >= _INDEX_RECHECK:
            self.ensure_indexes()

    # -- writing ------------------------------------------------------------------------------

    def open_upload(
        self,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        file_id: Any = None,
        chunk_size: int | None = None,
        checksum: bool = True,
        encoding: str = "utf-8",
        aliases: list[str] | None = None,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        on_progress: ProgressCallback | None = None,
        total: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> UploadStream:
        """A new upload stream; nothing is sent until it is written to or closed.

        Arguments are checked here: a bad one raises TypeError or ValueError (naming the
        metadata key at fault) before any I/O. ``extra`` holds fields to store top-level in
        the files document, where MongoEngine and PyMongo's legacy API put ``put()``'s extra
        keywords.

        Guards, enforced while bytes stream in: past ``max_size`` bytes, FileTooLarge (what
        was sent is removed); a content type (given, guessed from the filename or sniffed
        from the first bytes) not in ``content_types`` (``"image/*"`` allowed), a
        ContentTypeRefused before anything is sent. ``on_progress(done, total)`` is called
        as chunks reach the server (``total`` as given here, else None).
        """
        limits = self.limits.merged(max_size, content_types)
        check_progress_callback(on_progress)
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"filename must be a str, not {type(filename).__name__}")
        if content_type is not None and not isinstance(content_type, str):
            raise TypeError(f"content_type must be a str, not {type(content_type).__name__}")
        check_file_id(file_id)
        names = check_aliases(aliases)
        size = self.chunk_size if chunk_size is None else check_chunk_size(chunk_size)
        codecs.lookup(encoding)  # LookupError now, not at the first str written
        options = self.db.codec_options
        stored = check_metadata(metadata, options)
        top_level = check_extra_fields(extra, options)
        check_files_document(
            file_id=file_id,
            chunk_size=size,
            filename=filename,
            metadata=stored,
            content_type=content_type,
            codec_options=options,
            aliases=names,
            extra=top_level,
        )
        if content_type is not None:
            limits.check_type(content_type)  # a refused type given outright: no I/O at all
        return UploadStream(
            self,
            file_id=file_id,
            filename=filename,
            content_type=content_type,
            metadata=stored,
            chunk_size=size,
            checksum=bool(checksum),
            encoding=encoding,
            aliases=names,
            limits=limits,
            on_progress=on_progress,
            total=total,
            extra=top_level,
        )

    def put(
        self,
        data: Any,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        file_id: Any = None,
        chunk_size: int | None = None,
        encoding: str = "utf-8",
        checksum: bool = True,
        aliases: list[str] | None = None,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        on_progress: ProgressCallback | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> FileInfo:
        """Store ``data`` as a new file and return its description.

        ``data`` is bytes-like, a str (encoded with ``encoding``), a binary file object
        (sync or async ``read``; read ``chunk_size`` bytes at a time) or a sync or async
        iterable of bytes. Anything else is a TypeError, raised before anything is
        written; any failure later removes what was written. ``checksum`` (on by
        default) stores the SHA-256 of the bytes, computed as they pass: reads of the whole
        file check it, and HTTP responses use it as the ``ETag``. ``max_size``,
        ``content_types`` and ``on_progress`` are as for ``open_upload`` (the total passed
        to ``on_progress`` is known for bytes and for files on disk).
        """
        check_source(data)
        stream = self.open_upload(
            filename=filename,
            content_type=content_type,
            metadata=metadata,
            file_id=file_id,
            chunk_size=chunk_size,
            checksum=checksum,
            encoding=encoding,
            aliases=aliases,
            max_size=max_size,
            content_types=content_types,
            on_progress=on_progress,
            total=source_size(data) if on_progress is not None else None,
            extra=extra,
        )
        with stream:
            write_source(stream, data)
        assert stream.info is not None  # close() has run
        return stream.info

    def upload_from_stream(
        self,
        filename: str,
        source: Any,
        *,
        file_id: Any = None,
        chunk_size_bytes: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        aliases: list[str] | None = None,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Any:
        """Store ``source`` under ``filename`` with the GridFS spec's upload options; return
        the new file's id. ``put`` with the spec's names, for code written against it."""
        if not isinstance(filename, str):
            raise TypeError(f"filename must be a str, not {type(filename).__name__}")
        info = self.put(
            source,
            filename=filename,
            file_id=file_id,
            chunk_size=chunk_size_bytes,
            metadata=metadata,
            content_type=content_type,
            aliases=aliases,
            max_size=max_size,
            content_types=content_types,
            on_progress=on_progress,
        )
        return info.file_id

    # -- reading ------------------------------------------------------------------------------

    def get_info(self, file_id: Any) -> FileInfo:
        """The description of a stored file; NoFile if there is none with this id."""
        doc = self.files.find_one(file_filter(file_id))
        if doc is None:
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")
        return FileInfo.from_document(doc)

    def open_download(
        self, file_id: Any, *, on_progress: ProgressCallback | None = None
    ) -> DownloadStream:
        """A read stream over a stored file; NoFile if there is none with this id.

        ``on_progress(done, length)`` is called as chunks arrive (``done`` the furthest
        byte read so far: it never goes back, even after a seek).
        """
        check_progress_callback(on_progress)
        return DownloadStream(self, self.get_info(file_id), on_progress=on_progress)

    def get(self, file_id: Any) -> bytes:
        """All the bytes of a stored file."""
        stream = self.open_download(file_id)
        return stream.read()

    def read_range(self, file_id: Any, start: int, end: int | None = None) -> bytes:
        """The bytes ``[start, end)`` of a stored file (clamped to its length), fetching only
        the chunks that hold them."""
        clamp_range(start, end, 0)  # bad bounds fail before any I/O
        stream = self.open_download(file_id)
        return stream.read_range(start, end)

    def download_to_stream(
        self, file_id: Any, destination: Any, *, on_progress: ProgressCallback | None = None
    ) -> int:
        """Write a stored file's bytes to ``destination`` (anything with a sync or async
        ``write(bytes)``), a chunk at a time; return the number of bytes written.
        ``on_progress(done, length)`` is called for each chunk (once for an empty file)."""
        check_destination(destination)
        stream = self.open_download(file_id, on_progress=on_progress)
        return copy_to(stream, destination)

    # -- by name -------------------------------------------------------------------------------

    def get_info_by_name(self, filename: str, revision: int = -1) -> FileInfo:
        """The description of one revision of the files named ``filename``.

        Revisions count in upload order: 0 is the original, 1 the first revision, -1 the
        newest (the default), -2 the one before. NoFile, naming the filename and revision,
        when there is no such file.
        """
        query = revision_query(filename, revision)
        cursor = self.files.find(query.filter).sort(list(query.sort)).skip(query.skip).limit(1)
        for doc in cursor:
            return FileInfo.from_document(doc)
        if revision in (0, -1):
            raise NoFile(f"no file named {filename!r} in {self.files.name}")
        raise NoFile(
            f"no {describe_revision(revision)} of the file named {filename!r} in {self.files.name}"
        )

    def open_download_by_name(
        self,
        filename: str,
        revision: int = -1,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> DownloadStream:
        """A read stream over one revision of the files named ``filename`` (see
        ``get_info_by_name`` for how revisions count); NoFile when there is none."""
        check_progress_callback(on_progress)
        info = self.get_info_by_name(filename, revision)
        return DownloadStream(self, info, on_progress=on_progress)

    def read_by_name(self, filename: str, revision: int = -1) -> bytes:
        """All the bytes of one revision of the files named ``filename``."""
        stream = self.open_download_by_name(filename, revision)
        return stream.read()

    def download_to_stream_by_name(
        self,
        filename: str,
        destination: Any,
        revision: int = -1,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """``download_to_stream`` for one revision of the files named ``filename``."""
        check_destination(destination)
        stream = self.open_download_by_name(filename, revision, on_progress=on_progress)
        return copy_to(stream, destination)

    def delete_by_name(self, filename: str) -> int:
        """Delete every revision of the files named ``filename``; return how many.

        The files documents go first, then all their chunks in one query. NoFile when no
        file has this name.
        """
        query = name_filter(filename)
        ids = [doc["_id"] for doc in self.files.find(query, projection={"_id": 1})]
        if not ids:
            raise NoFile(f"no file named {filename!r} in {self.files.name}")
        result = self.files.delete_many({"_id": {"$in": ids}})
        self.chunks.delete_many({"files_id": {"$in": ids}})
        return int(result.deleted_count)

    def rename_by_name(self, filename: str, new_filename: str) -> int:
        """Give every revision of the files named ``filename`` the name ``new_filename``;
        return how many were renamed. NoFile when no file has this name."""
        check_filename(new_filename, "new_filename")
        result = self.files.update_many(name_filter(filename), {"$set": {"filename": new_filename}})
        if result.matched_count == 0:
            raise NoFile(f"no file named {filename!r} in {self.files.name}")
        return int(result.matched_count)

    def find_by_name(self, filename: str) -> Iterator[FileInfo]:
        """Every revision of the files named ``filename``, oldest first."""
        return self.find(name_filter(filename), sort=list(OLDEST_FIRST))

    def exists(self, file_id: Any) -> bool:
        """Whether a files document has this id."""
        doc = self.files.find_one(file_filter(file_id), projection={"_id": 1})
        return doc is not None

    def list(self) -> list[str]:
        """The distinct filenames of the stored files (files without one are left out), as
        PyMongo's ``GridFS.list()`` answers."""
        names = self.files.distinct("filename", {"filename": {"$type": "string"}})
        return sorted(names)

    def find(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        filename: str | None = None,
        sort: str | Sequence[tuple[str, int]] | Mapping[str, int] | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> Iterator[FileInfo]:
        """Iterate over the descriptions of the files matching ``filter`` (a PyMongo-style
        filter on the files collection, e.g. ``{"filename": "a.txt"}`` or
        ``{"length": {"$gt": 1024}}``), optionally sorted, skipped and limited.

        ``filename=`` adds an exact match on the name (its revisions come oldest first unless
        ``sort`` says otherwise).
        """
        if filter is not None and not isinstance(filter, Mapping):
            raise TypeError(f"filter must be a mapping, not {type(filter).__name__}")
        for name, value in (("skip", skip), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, not {value!r}")
        query = dict(filter or {})
        if filename is not None:
            named = name_filter(filename)
            query = {"$and": [query, named]} if query else named
            if sort is None:
                sort = list(OLDEST_FIRST)
        cursor = self.files.find(query)
        if sort is not None:
            cursor = cursor.sort(sort)
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return self._infos(cursor)

    def _infos(self, cursor: Any) -> Iterator[FileInfo]:
        for doc in cursor:
            yield FileInfo.from_document(doc)

    # -- changing ------------------------------------------------------------------------------

    def delete(self, file_id: Any) -> None:
        """Delete a stored file: its files document first, then its chunks.

        NoFile if there was no files document (stray chunks are removed all the same).
        """
        # Both deletes run to their end even if the caller is cancelled between them: a
        # files document gone with its chunks left would be chunks no one can reach.
        if not carried(self._delete(file_id)):
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")

    def _delete(self, file_id: Any) -> bool:
        result = self.files.delete_one(file_filter(file_id))
        self.chunks.delete_many(chunks_filter(file_id))
        return bool(result.deleted_count)

    def drop(self) -> None:
        """Drop the whole bucket: its files and chunks collections (and their indexes)."""
        self.files.drop()
        self.chunks.drop()
        self.uploads.drop()
        self.holds.drop()
        made = _indexed(self.db.client)
        if made is not None:
            made.pop((self.db.name, self.collection_name), None)

    # -- keeping the bucket clean ----------------------------------------------------------------

    def check(
        self,
        documents: Iterable[Any] | str | None = None,
        *,
        grace: timedelta = DEFAULT_GRACE,
        chunks: bool = True,
    ) -> BucketReport:
        """Check the bucket (fsck) and report, changing nothing.

        Reports (a) chunks whose files document is missing, older than ``grace`` (an upload
        in flight is younger and left alone); (b) with ``chunks=True``, files whose chunks
        are missing, short, extra or duplicated; (c) files older than ``grace`` that no
        document holds, when ``documents`` names the Document classes to scan (or is
        ``"registered"``: every registered class whose fields may hold files). Top-level,
        embedded and list FileFields count, whatever their alias, when they store in this
        bucket. Reads in bounded batches.
        """
        return check_bucket(self, documents, grace=grace, chunks=chunks)

    def sweep(
        self,
        documents: Iterable[Any] | str | None = None,
        *,
        delete: bool = False,
        grace: timedelta = DEFAULT_GRACE,
    ) -> BucketReport:
        """Find orphan chunks and unreferenced files as ``check`` does; with
        ``delete=True`` remove them (each file's files document first, then its chunks).
        Damaged files are reported by ``check`` and never removed here.

        A deleting sweep works in two phases: it finds the unreferenced files, then a batch
        at a time holds them (leaving those a save holds: ``claim``), reads again which
        documents name them and deletes only those still unreferenced. A gridfield save
        that stores a reference to an existing file holds it first. Chunks of an upload in
        the registry of open uploads stay.
        ``grace`` must be at least ``sweep_timing.min_grace`` (ValueError otherwise, before
        any I/O).
        """
        return sweep_bucket(self, documents, delete=delete, grace=grace)

    def claim(self, file_id: Any) -> Any:
        """Hold a stored file against deleting sweeps: a document naming it is about to be
        written. Returns the hold's token, for ``release`` once that write is done (or
        failed); a hold never released lapses after ``sweep_timing.hold``.

        Waits while a sweep holds the file (it decides and deletes within moments), then
        checks the file is there: NoFile, holding nothing, when it is gone (deleted, or
        removed by a sweep): a document written now would name nothing. A gridfield save
        calls it, files first, for each reference to an existing file it stores.
        """
        return hold_for_save(self, file_id)

    def release(self, file_id: Any, token: Any) -> None:
        """Let go of the hold ``claim`` returned ``token`` for."""
        let_go(self, [file_id], token)

    def rename(self, file_id: Any, new_filename: str) -> None:
        """Change a stored file's filename; NoFile if there is none with this id."""
        if not isinstance(new_filename, str):
            raise TypeError(f"new_filename must be a str, not {type(new_filename).__name__}")
        result = self.files.update_one(file_filter(file_id), {"$set": {"filename": new_filename}})
        if result.matched_count == 0:
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")
