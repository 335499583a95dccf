"""The GridFS file store over one database: upload, download, delete, find, indexes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import telemetry
from .._twins import (
    CLEANUP_TIMEOUT,
    both_at_once,
    carry_on_despite_cancel,
    wait_for_background_work,
)
from ..core.bucket_report import DEFAULT_GRACE, BucketReport
from ..core.chunks import STREAM_BATCH_BYTES, clamp_range
from ..core.content_types import check_content_type
from ..core.dedup import (
    MATCHED_FIELD,
    SCOPE_FIELD,
    unmatched_filter,
)
from ..core.encryption import ENCRYPTION_FIELD, Encryption
from ..core.errors import FileExpired, NoFile
from ..core.expiry import (
    EXPIRE_AT_FIELD,
    expired_filter,
    expired_message,
    is_expired,
    not_expired_filter,
    with_filter,
)
from ..core.files_document import (
    CHECKSUM_KEY,
    FileInfo,
    check_extra_fields,
    check_file_id,
    check_files_document,
    check_metadata,
)
from ..core.folders import under_filter
from ..core.guards import ProgressCallback, UploadLimits, check_progress_callback
from ..core.numbers import is_whole_number
from ..core.queries import file_filter
from ..core.revisions import (
    OLDEST_FIRST,
    check_filename,
    describe_revision,
    name_filter,
    revision_query,
)
from ..core.store_defaults import StoreDefaults
from ..core.sweeping import DEFAULT_SWEEP_TIMING, SweepTiming
from ..core.topology import gone_or_replaced
from ..core.upload_options import UploadOptions
from ..telemetry import Operation
from .bucket import AsyncBucket
from .bucket_check import check_bucket, held_by_others, sweep_bucket
from .chunk_reader import AsyncChunkReader
from .chunk_writer import delete_files, discard_chunks
from .digests import AsyncDigestClaims
from .download import AsyncDownloadStream, adopt_cursor, check_destination, copy_to
from .file_keys import rewrapped, rewrapped_file_key
from .holds import hold_for_save, let_go
from .upload import AsyncUploadStream, check_source, source_size, write_source

__all__ = ["AsyncDownloadStream", "AsyncFileStore", "AsyncUploadStream", "wait_cleanups"]


def _defaults_of(
    defaults: StoreDefaults | None, collection_name: str, **fields: Any
) -> StoreDefaults:
    """The one ``StoreDefaults`` of a store given as a value or field by field; errors
    name the store."""
    given = {name: value for name, value in fields.items() if value is not None}
    if defaults is not None:
        if not isinstance(defaults, StoreDefaults):
            raise TypeError(f"defaults must be a StoreDefaults, not {type(defaults).__name__}")
        if given:
            raise TypeError(f"give defaults= or {', '.join(sorted(given))}, not both")
        return defaults
    if given.get("limits") is None:
        given["limits"] = UploadLimits(label=collection_name)
    return StoreDefaults(**given)


def _listed(content_types: Iterable[str] | None) -> tuple[str, ...] | None:
    """A call's ``content_types`` as UploadOptions holds them (a lone str is refused there)."""
    if content_types is None or isinstance(content_types, str):
        return content_types  # type: ignore[return-value]  # UploadLimits names the mistake
    return tuple(content_types)


async def wait_cleanups(timeout: float = CLEANUP_TIMEOUT) -> None:
    """Wait (up to ``timeout`` seconds) for the clean-ups that failed or cancelled uploads and
    deletes left running in the background, for example before the event loop ends.

    A cancelled caller returns promptly and never waits on a stalled server; the removal of
    what it wrote goes on without it. In the sync API nothing is left running: this returns
    at once.
    """
    await wait_for_background_work(timeout)


class AsyncFileStore:
    """GridFS file store over one database handle (PyMongo AsyncDatabase or Motor
    AsyncIOMotorDatabase), in the standard layout: ``<bucket>.files`` and ``<bucket>.chunks``,
    with ``<bucket>.uploads`` beside them for the uploads open long enough to register (and
    ``<bucket>.digests`` for the deduplication claims: which file holds given bytes).

    ``sweep_timing`` (a ``SweepTiming``) is what this store's uploads and deleting sweeps
    agree on: the smallest grace a deleting sweep accepts, when an upload registers, how
    long its lease holds. Every process that writes or sweeps a bucket should use the same.
    """

    def __init__(
        self,
        db: Any,
        collection_name: str = "fs",
        *,
        chunk_size: int | None = None,
        limits: UploadLimits | None = None,
        expire_after: timedelta | None = None,
        dedup_scope: str | None = None,
        sweep_timing: SweepTiming | None = None,
        encryption: Encryption | None = None,
        defaults: StoreDefaults | None = None,
    ) -> None:
        """``defaults`` (a ``StoreDefaults``) is what every file stored here gets unless its
        upload says otherwise; ``chunk_size``, ``limits``, ``expire_after`` and
        ``dedup_scope`` are its fields given one by one (not both ways). ``expire_after``
        makes every file stored here expire that long after its upload (unless a call gives
        its own expiry); ``dedup_scope`` makes every upload look for a stored file with the
        same bytes in that scope (a call may say ``dedup=False``, or name another
        ``scope``). See ``put``. ``encryption`` (an ``Encryption``, also a field of
        ``defaults``) encrypts every file stored here on the client (a call may say
        ``encrypt=False``) and opens the encrypted files whose keys it holds; such files are
        never deduplicated."""
        bucket = AsyncBucket(db, collection_name)
        self.defaults = _defaults_of(
            defaults,
            collection_name,
            chunk_size=chunk_size,
            limits=limits,
            expire_after=expire_after,
            dedup_scope=dedup_scope,
            encryption=encryption,
        )
        """What every upload here gets unless it says otherwise (one value, resolved once
        with each upload's options)."""
        if sweep_timing is not None and not isinstance(sweep_timing, SweepTiming):
            raise TypeError(
                f"sweep_timing must be a SweepTiming, not {type(sweep_timing).__name__}"
            )
        self.sweep_timing = DEFAULT_SWEEP_TIMING if sweep_timing is None else sweep_timing
        """When uploads register and how small a deleting sweep's grace may be."""
        self.db = db
        self.collection_name = collection_name
        self.bucket = bucket
        """The bucket's collections, index memory and writability check."""
        self.chunk_reader = AsyncChunkReader(bucket.chunk_reads, self.defaults.encryption)
        """The one reader of this bucket's chunk data: every read of a file's bytes, checked
        (from the primary when the database reads elsewhere: see chunks_read_preference)."""
        self.digest_claims = AsyncDigestClaims(bucket, self.sweep_timing)
        """The deduplication claims: which file holds given bytes in a scope."""

    # The bucket's collections, as the store has always shown them: setting one sets the
    # bucket's, which is what every read and write of the store uses.
    @property
    def files(self) -> Any:
        """The files documents (``<bucket>.files``)."""
        return self.bucket.files

    @files.setter
    def files(self, collection: Any) -> None:
        self.bucket.files = collection

    @property
    def chunks(self) -> Any:
        """The chunks (``<bucket>.chunks``)."""
        return self.bucket.chunks

    @chunks.setter
    def chunks(self, collection: Any) -> None:
        self.bucket.chunks = collection

    @property
    def uploads(self) -> Any:
        """The registry of uploads open long enough that a sweep must leave them alone."""
        return self.bucket.uploads

    @property
    def holds(self) -> Any:
        """The holds saves and deleting sweeps take on files (see ``claim``)."""
        return self.bucket.holds

    @property
    def chunk_size(self) -> int:
        """The chunk size of new files (``defaults.chunk_size``)."""
        return self.defaults.chunk_size

    @property
    def limits(self) -> UploadLimits:
        """The upload guards every upload of this store gets (a call may tighten them)."""
        return self.defaults.limits

    @property
    def expire_after(self) -> timedelta | None:
        """How long files stored here live by default (None: for ever)."""
        return self.defaults.expire_after

    @property
    def dedup_scope(self) -> str | None:
        """The scope every upload here deduplicates in by default (None: no deduplication)."""
        return self.defaults.dedup_scope

    @property
    def encryption(self) -> Encryption | None:
        """The keys and cipher of this store's encrypted files (None: it encrypts nothing
        and reads no encrypted file)."""
        return self.defaults.encryption

    @property
    def ttl_index(self) -> bool | None:
        """Whether the server keeps the TTL index on ``gridfield.expireAt`` (None: not asked
        yet). False where it refused one: the sweep alone removes expired files there."""
        return self.bucket.ttl_index

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.db.name}.{self.collection_name}>"

    def _operation(self, name: str, file_id: Any = None, **attributes: Any) -> Operation:
        """The telemetry of one operation on this bucket (``gridfield.telemetry``)."""
        return telemetry.begin(name, bucket=self.collection_name, file_id=file_id, **attributes)

    async def ensure_indexes(self) -> None:
        """Create the files ``(filename, uploadDate)`` and unique chunks ``(files_id, n)``
        indexes and the TTL index on ``gridfield.expireAt`` (idempotent; an index on the
        same keys made by another tool will do). Deduplication needs no index of its own:
        its claims (``<bucket>.digests``) are found by ``_id``.

        A server without TTL indexes (FerretDB v1 refuses the option) is remembered by this
        store, which then asks no more; ``ttl_index`` says which. Expired files are refused
        by reads either way, and the sweep removes them where no TTL monitor does.

        Uploads call it themselves, at most every 30 seconds per client and bucket; call it
        after dropping a bucket to have the indexes back at once.
        """
        await self.bucket.ensure_indexes()

    # -- what a deployment allows ----------------------------------------------------------------

    async def vanished(self, info: FileInfo) -> bool:
        """Whether the file ``info`` describes has been deleted or replaced since it was read
        (asked of the primary when reads go elsewhere): one query, on a read's error path."""
        doc = await self.bucket.files_recheck.find_one(
            file_filter(info.file_id), projection={"length": 1, "chunkSize": 1, "uploadDate": 1}
        )
        return gone_or_replaced(info, doc)

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
        expire_at: datetime | None = None,
        expire_after: timedelta | None = None,
        dedup: bool | None = None,
        scope: str | None = None,
        sha256: str | None = None,
        length: int | None = None,
        encrypt: bool | None = None,
        upload_date: datetime | None = None,
    ) -> AsyncUploadStream:
        """A new upload stream; nothing is sent until it is written to or closed.

        Arguments are checked here: a bad one raises TypeError or ValueError (naming the
        metadata key at fault) before any I/O. ``extra`` holds fields to store top-level in
        the files document, where MongoEngine and PyMongo's legacy API put ``put()``'s extra
        keywords.

        Guards, enforced while bytes stream in: past ``max_size`` bytes, FileTooLarge (what
        was sent is removed); a content type (given, guessed from the filename or sniffed
        from the first bytes) not in ``content_types`` (``"image/*"`` allowed), a
        ContentTypeRefused before anything is sent. ``on_progress(done, total)`` is called
        as chunks reach the server (``total`` as given here, else None). Expiry and
        deduplication are as for ``put`` (a declared ``sha256`` and ``length`` are checked
        when the stream closes), and so is ``upload_date``.
        """
        return self.start_upload(
            UploadOptions(
                filename=filename,
                content_type=content_type,
                metadata=metadata,
                file_id=file_id,
                chunk_size=chunk_size,
                checksum=checksum,
                encoding=encoding,
                aliases=aliases,
                max_size=max_size,
                content_types=_listed(content_types),
                on_progress=on_progress,
                total=total,
                extra=extra or {},
                expire_at=expire_at,
                expire_after=expire_after,
                dedup=dedup,
                scope=scope,
                sha256=sha256,
                length=length,
                encrypt=encrypt,
                upload_date=upload_date,
            )
        )

    def start_upload(self, options: UploadOptions) -> AsyncUploadStream:
        """``open_upload`` with its options as one value (``gridfield.core.upload_options``).

        The checks that need the database's codec options (metadata and extra fields are
        BSON, the files document fits in 16 MiB) and a content type refused outright fail
        here, before any I/O.
        """
        if not isinstance(options, UploadOptions):
            raise TypeError(f"options must be an UploadOptions, not {type(options).__name__}")
        options, limits = self.defaults.resolve(options)
        self.bucket.check_writable("upload a file")
        size = options.chunk_size
        assert size is not None  # resolved: the call's or the store's
        codec_options = self.db.codec_options
        stored = check_metadata(options.metadata, codec_options)
        if isinstance(stored.get("contentType"), str):
            # Where the GridFS spec keeps the type, and where serving reads it first.
            check_content_type(stored["contentType"], "metadata.contentType")
        top_level = check_extra_fields(options.extra, codec_options)
        check_files_document(
            file_id=options.file_id,
            chunk_size=size,
            filename=options.filename,
            metadata=stored,
            content_type=options.content_type,
            codec_options=codec_options,
            aliases=options.aliases,
            extra=top_level,
            scope=options.scope,
        )
        if options.content_type is not None:
            limits.check_type(options.content_type)  # a refused type given outright: no I/O
        return AsyncUploadStream(
            self,
            options.but(metadata=stored, extra=top_level),
            limits=limits,
        )

    async def put(
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
        expire_at: datetime | None = None,
        expire_after: timedelta | None = None,
        dedup: bool | None = None,
        scope: str | None = None,
        sha256: str | None = None,
        length: int | None = None,
        encrypt: bool | None = None,
        upload_date: datetime | None = None,
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

        Expiry: ``expire_at`` (an aware datetime in the future; a naive one is refused, as
        its time zone cannot be known) or ``expire_after`` (a positive timedelta from the
        moment the file is stored), never both, is stored as ``gridfield.expireAt``. From
        then on reads raise NoFile saying when it expired; the server's TTL index
        (``ensure_indexes``) or else ``sweep(delete=True)`` removes it. The store's
        ``expire_after`` applies when neither is given.

        Deduplication: with ``dedup=True`` (the default when the store has a
        ``dedup_scope``) and a ``scope`` (a str: who may share files, such as a tenant), the
        upload looks, when it closes, for a stored file of that scope with the same SHA-256
        and length that lives at least as long as asked (no expiry, or a later one). If
        there is one, the chunks just written are deleted and that file is returned as it
        is: this call's filename, metadata, content type and extra fields are not stored
        anywhere. Files share bytes only within a scope: no lookup ever crosses scopes, as
        one that did would tell any uploader whether others stored given bytes.
        ``sha256`` and ``length`` (both) declare the bytes beforehand: a matching file of the
        scope is returned without reading ``data``; otherwise ``data`` is stored and must be
        what was declared (ValueError, nothing left, if not).

        Encryption: with the store's ``encryption`` the chunks are encrypted on the client
        (``encrypt=False`` stores this file in clear; ``encrypt=True`` on a store without
        keys is a ValueError). An encrypted file stores no SHA-256 and is never
        deduplicated (``dedup=True`` with it is a ValueError).

        ``upload_date`` (an aware datetime; a naive one is refused) is stored as the file's
        ``uploadDate`` instead of the moment it is stored, at BSON's millisecond precision:
        a copy keeps its source's date this way. Revisions of a name are ordered by it.
        ``expire_after`` counts from the moment the file is stored all the same.
        """
        options = UploadOptions(
            filename=filename,
            content_type=content_type,
            metadata=metadata,
            file_id=file_id,
            chunk_size=chunk_size,
            checksum=checksum,
            encoding=encoding,
            aliases=aliases,
            max_size=max_size,
            content_types=_listed(content_types),
            on_progress=on_progress,
            extra=extra or {},
            expire_at=expire_at,
            expire_after=expire_after,
            dedup=dedup,
            scope=scope,
            sha256=sha256,
            length=length,
            encrypt=encrypt,
            upload_date=upload_date,
        )
        return await self.upload(data, options)

    async def upload(self, data: Any, options: UploadOptions) -> FileInfo:
        """``put`` with its options as one value (``gridfield.core.upload_options``).

        Without a ``total`` in ``options``, the one passed to ``on_progress`` is the size of
        ``data`` when that is known up front (bytes, a file on disk).
        """
        check_source(data)
        if options.on_progress is not None and options.total is None:
            options = options.but(total=source_size(data))
        stream = self.start_upload(options)
        declared = await stream.stored_as_declared()
        if declared is not None:
            return declared  # the source is not read
        async with stream:
            await write_source(stream, data)
        assert stream.info is not None  # close() has run
        return stream.info

    async def upload_from_stream(
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
        options = UploadOptions(
            filename=filename,
            file_id=file_id,
            chunk_size=chunk_size_bytes,
            metadata=metadata,
            content_type=content_type,
            aliases=aliases,
            max_size=max_size,
            content_types=_listed(content_types),
            on_progress=on_progress,
        )
        info = await self.upload(source, options)
        return info.file_id

    # -- reading ------------------------------------------------------------------------------

    async def get_info(self, file_id: Any) -> FileInfo:
        """The description of a stored file; NoFile if there is none with this id, or if it
        has expired (saying when), whether or not anything removed it yet."""
        info = await self.stored_info(file_id)
        if is_expired(info.expire_at, datetime.now(timezone.utc)):
            assert info.expire_at is not None
            raise FileExpired(
                expired_message(f"file {file_id!r} in {self.files.name}", info.expire_at),
                expire_at=info.expire_at,
            )
        return info

    async def stored_info(self, file_id: Any) -> FileInfo:
        """The description in a files document, expired or not; NoFile if there is none."""
        doc = await self.files.find_one(file_filter(file_id))
        if doc is None:
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")
        return FileInfo.from_document(doc)

    async def find_copy(
        self, sha256: str, length: int, scope: str, expire_at: datetime | None
    ) -> FileInfo | None:
        """The stored file of ``scope`` holding the bytes of SHA-256 ``sha256`` and
        ``length``, living at least until ``expire_at`` (None: for ever), if there is one:
        the claim on those bytes, then the file it names, both read by ``_id``.

        The lookup marks the file it answers as just matched, in the same command: a
        deletion of a shared file leaves one matched within ``sweep_timing.hold``, so the
        file is there when the upload returns it and while its caller saves a document
        naming it; a file deleted first is not found, and the upload keeps its own bytes."""
        return await self.digest_claims.find(sha256, length, scope, expire_at)

    async def settle(self, file_id: Any, matched: datetime) -> None:
        """A document now names the file a deduplicating upload took as its answer when
        ``find_copy`` marked it (at ``matched``): the mark goes, unless a later upload
        matched it again since."""
        await self.bucket.files.update_one(
            {**file_filter(file_id), MATCHED_FIELD: {"$eq": matched}},
            {"$unset": {MATCHED_FIELD: ""}},
        )

    async def open_download(
        self, file_id: Any, *, on_progress: ProgressCallback | None = None, eager: bool = False
    ) -> AsyncDownloadStream:
        """A read stream over a stored file; NoFile if there is none with this id.

        ``on_progress(done, length)`` is called as chunks arrive (``done`` the furthest
        byte read so far: it never goes back, even after a seek). ``eager=True``, for a
        reader about to read the whole file (an HTTP GET): the chunk cursor is sent with the
        files query (at the same time in the async API), and the first read from the start
        to the end (``read()``, iterating, ``iter_range(0)``) continues it, so the file
        costs the files query and one chunk cursor; the stream's other reads ignore it.
        """
        check_progress_callback(on_progress)
        if not eager:
            return AsyncDownloadStream(self, await self.get_info(file_id), on_progress=on_progress)
        # The file's chunk size is not known yet: batches are sized for this store's, and
        # for streaming (an HTTP body may be read slowly).
        cursor = self.chunk_reader.cursor(file_id, self.chunk_size, batch_bytes=STREAM_BATCH_BYTES)
        try:
            info, first = await both_at_once(self.get_info(file_id), anext(cursor, None))
        except BaseException:
            await cursor.close()
            raise
        stream = AsyncDownloadStream(self, info, on_progress=on_progress)
        adopt_cursor(stream, cursor, first)
        return stream

    async def get(self, file_id: Any) -> bytes:
        """All the bytes of a stored file."""
        with self._operation("download", file_id) as op:
            # Not closed: its buffers go back when it is collected, as they always did (a
            # close frees them at once, and the next read pays for fresh pages).
            stream = await self.open_download(file_id)
            stream.observed_by(op)
            return await stream.read()

    async def read_range(self, file_id: Any, start: int, end: int | None = None) -> bytes:
        """The bytes ``[start, end)`` of a stored file (clamped to its length), fetching only
        the chunks that hold them."""
        clamp_range(start, end, 0)  # bad bounds fail before any I/O
        with self._operation("download", file_id) as op:
            stream = await self.open_download(file_id)
            stream.observed_by(op)
            return await stream.read_range(start, end)

    async def download_to_stream(
        self, file_id: Any, destination: Any, *, on_progress: ProgressCallback | None = None
    ) -> int:
        """Write a stored file's bytes to ``destination`` (anything with a sync or async
        ``write(bytes)``), a chunk at a time; return the number of bytes written.
        ``on_progress(done, length)`` is called for each chunk (once for an empty file)."""
        check_destination(destination)
        stream = await self.open_download(file_id, on_progress=on_progress)
        return await copy_to(stream, destination)

    # -- by name -------------------------------------------------------------------------------

    async def get_info_by_name(self, filename: str, revision: int = -1) -> FileInfo:
        """The description of one revision of the files named ``filename``.

        Revisions count in upload order: 0 is the original, 1 the first revision, -1 the
        newest (the default), -2 the one before. NoFile, naming the filename and revision,
        when there is no such file.
        """
        query = revision_query(filename, revision)
        now = datetime.now(timezone.utc)
        # Expired revisions are not counted: they are gone as soon as anything removes them.
        live = with_filter(query.filter, not_expired_filter(now))
        cursor = self.files.find(live).sort(list(query.sort)).skip(query.skip).limit(1)
        async for doc in cursor:
            return FileInfo.from_document(doc)
        if revision in (0, -1):
            # Only on the way to NoFile: a second look, to say when an expired one expired.
            expired = with_filter(query.filter, expired_filter(now))
            found = self.files.find(expired).sort(EXPIRE_AT_FIELD, -1).limit(1)
            async for doc in found:
                moment = FileInfo.from_document(doc).expire_at
                if moment is not None:
                    name = f"the file named {filename!r} in {self.files.name}"
                    raise FileExpired(expired_message(name, moment), expire_at=moment)
            raise NoFile(f"no file named {filename!r} in {self.files.name}")
        raise NoFile(
            f"no {describe_revision(revision)} of the file named {filename!r} in {self.files.name}"
        )

    async def open_download_by_name(
        self,
        filename: str,
        revision: int = -1,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> AsyncDownloadStream:
        """A read stream over one revision of the files named ``filename`` (see
        ``get_info_by_name`` for how revisions count); NoFile when there is none."""
        check_progress_callback(on_progress)
        info = await self.get_info_by_name(filename, revision)
        return AsyncDownloadStream(self, info, on_progress=on_progress)

    async def read_by_name(self, filename: str, revision: int = -1) -> bytes:
        """All the bytes of one revision of the files named ``filename``."""
        stream = await self.open_download_by_name(filename, revision)
        return await stream.read()

    async def download_to_stream_by_name(
        self,
        filename: str,
        destination: Any,
        revision: int = -1,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """``download_to_stream`` for one revision of the files named ``filename``."""
        check_destination(destination)
        stream = await self.open_download_by_name(filename, revision, on_progress=on_progress)
        return await copy_to(stream, destination)

    async def delete_by_name(self, filename: str) -> int:
        """Delete every revision of the files named ``filename``; return how many.

        The files documents go first, then all their chunks in one query. NoFile when no
        file has this name.
        """
        self.bucket.check_writable("delete files")
        deleted = await self._delete_matching(name_filter(filename))
        if not deleted:
            raise NoFile(f"no file named {filename!r} in {self.files.name}")
        return deleted

    async def delete_other_revisions(self, filename: str, keep: Any) -> int:
        """Delete every revision of the files named ``filename`` but the file ``keep`` (an
        id); return how many went. What overwriting a name does once the new file is
        complete: the old bytes stay readable until then."""
        self.bucket.check_writable("delete files")
        check_file_id(keep)
        query = {"$and": [name_filter(filename), {"_id": {"$ne": keep}}]}
        return await self._delete_matching(query)

    async def _delete_matching(self, query: Mapping[str, Any]) -> int:
        """Delete the files matching ``query``: their files documents, then all their chunks
        in one query. Both run to their end even if the caller is cancelled meanwhile."""
        ids = [doc["_id"] async for doc in self.files.find(query, projection={"_id": 1})]
        if not ids:
            return 0
        return await carry_on_despite_cancel(self._delete_ids(ids))

    async def _delete_ids(self, ids: list[Any]) -> int:
        files, _ = await delete_files(self.bucket, ids)
        return files

    async def rename_by_name(self, filename: str, new_filename: str) -> int:
        """Give every revision of the files named ``filename`` the name ``new_filename``;
        return how many were renamed. NoFile when no file has this name."""
        check_filename(new_filename, "new_filename")
        self.bucket.check_writable("rename files")
        result = await self.files.update_many(
            name_filter(filename), {"$set": {"filename": new_filename}}
        )
        if result.matched_count == 0:
            raise NoFile(f"no file named {filename!r} in {self.files.name}")
        return int(result.matched_count)

    def find_by_name(self, filename: str) -> AsyncIterator[FileInfo]:
        """Every revision of the files named ``filename``, oldest first."""
        return self.find(name_filter(filename), sort=list(OLDEST_FIRST))

    async def exists(self, file_id: Any) -> bool:
        """Whether a files document has this id (and has not expired)."""
        # The expiry is read and judged here: the query stays an _id lookup.
        doc = await self.files.find_one(file_filter(file_id), projection={CHECKSUM_KEY: 1})
        if doc is None:
            return False
        return not is_expired(FileInfo.expiry_of(doc), datetime.now(timezone.utc))

    async def exists_by_name(self, filename: str, *, or_prefix: str | None = None) -> bool:
        """Whether a file is named ``filename`` or, with ``or_prefix``, any file's name starts
        with ``or_prefix`` (a folder: ``"photos/"``); one query either way."""
        query = name_filter(filename)
        if or_prefix:
            query = {"$or": [query, under_filter(or_prefix)]}
        query = with_filter(query, not_expired_filter(datetime.now(timezone.utc)))
        doc = await self.files.find_one(query, projection={"_id": 1})
        return doc is not None

    async def list(self, prefix: str = "") -> list[str]:
        """The distinct filenames of the stored files (files without one are left out), as
        PyMongo's ``GridFS.list()`` answers; with ``prefix``, only the names that start
        with it (one query anchored at the start of the name, which MongoDB answers from
        the ``filename`` index)."""
        live = with_filter(under_filter(prefix), not_expired_filter(datetime.now(timezone.utc)))
        names = await self.files.distinct("filename", live)
        return sorted(names)

    def find(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        filename: str | None = None,
        sort: str | Sequence[tuple[str, int]] | Mapping[str, int] | None = None,
        skip: int = 0,
        limit: int = 0,
        expired: bool = False,
    ) -> AsyncIterator[FileInfo]:
        """Iterate over the descriptions of the files matching ``filter`` (a PyMongo-style
        filter on the files collection, e.g. ``{"filename": "a.txt"}`` or
        ``{"length": {"$gt": 1024}}``), optionally sorted, skipped and limited.

        ``filename=`` adds an exact match on the name (its revisions come oldest first unless
        ``sort`` says otherwise). Expired files are left out (the server filters them, so
        ``skip`` and ``limit`` count the rest) unless ``expired=True``, which lists them
        too, as long as nothing has removed them yet.
        """
        if filter is not None and not isinstance(filter, Mapping):
            raise TypeError(f"filter must be a mapping, not {type(filter).__name__}")
        for name, value in (("skip", skip), ("limit", limit)):
            if not is_whole_number(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, not {value!r}")
        query = dict(filter or {})
        if filename is not None:
            named = name_filter(filename)
            query = {"$and": [query, named]} if query else named
            if sort is None:
                sort = list(OLDEST_FIRST)
        if not expired:
            query = with_filter(query, not_expired_filter(datetime.now(timezone.utc)))
        cursor = self.files.find(query)
        if sort is not None:
            cursor = cursor.sort(sort)
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return self._infos(cursor)

    async def _infos(self, cursor: Any) -> AsyncIterator[FileInfo]:
        async for doc in cursor:
            yield FileInfo.from_document(doc)

    # -- changing ------------------------------------------------------------------------------

    async def delete(self, file_id: Any) -> None:
        """Delete a stored file: its files document first, then its chunks.

        NoFile if there was no files document (stray chunks are removed all the same).
        """
        check_file_id(file_id)
        self.bucket.check_writable("delete a file")
        # Both deletes run to their end even if the caller is cancelled between them: a
        # files document gone with its chunks left would be chunks no one can reach.
        with self._operation("delete", file_id):
            if not await carry_on_despite_cancel(self._delete(file_id)):
                raise NoFile(f"no file with id {file_id!r} in {self.files.name}")

    async def delete_unless_held(self, file_id: Any, owner: Any) -> bool:
        """Delete a file let go of by one holder, unless it may be shared and another still
        holds it; return whether it was deleted (False too when it was already gone).

        Only a file stored with a deduplication scope can have several holders: any other
        goes at once, as ``delete`` does, in the same two commands. For a scoped one, the
        stored documents of ``owner``'s collection (a Document) other than ``owner`` are
        scanned first, and the file stays when one holds it.
        """
        check_file_id(file_id)
        self.bucket.check_writable("delete a file")
        unshared = {**file_filter(file_id), SCOPE_FIELD: {"$exists": False}}
        if await carry_on_despite_cancel(self._delete(file_id, unshared)):
            return True
        if await held_by_others(self, owner, file_id):
            return False
        # Shared and now held by no one else: gone, unless a deduplicating upload took it
        # as its answer lately (its document naming the file may be on its way).
        since = datetime.now(timezone.utc) - self.sweep_timing.hold
        unmatched = {**file_filter(file_id), **unmatched_filter(since)}
        if await carry_on_despite_cancel(self._delete_shared(file_id, unmatched)):
            return True
        if await self.bucket.files.find_one(file_filter(file_id), projection={"_id": 1}):
            return False  # matched lately: it stays
        # Gone already: as delete() does, its stray chunks go too.
        return bool(await carry_on_despite_cancel(self._delete(file_id)))

    async def _delete(self, file_id: Any, query: Mapping[str, Any] | None = None) -> bool:
        # By _id, the GridFS way (a delete command on each collection): a claim the file
        # held stays, and is taken over by the next upload of its bytes (digests.py).
        result = await self.files.delete_one(file_filter(file_id) if query is None else query)
        if query is None or result.deleted_count:
            await discard_chunks(self.bucket, file_id)
        return bool(result.deleted_count)

    async def _delete_shared(self, file_id: Any, query: Mapping[str, Any]) -> bool:
        """``_delete`` of a file stored with a scope, read as it goes (FerretDB takes no
        projection here: the whole document) so that the claim it holds goes with it and
        its bytes are new at once to the next upload."""
        doc = await self.files.find_one_and_delete(query)
        if doc is None:
            return False
        await discard_chunks(self.bucket, file_id)
        await self.digest_claims.forget(doc)
        return True

    async def drop(self) -> None:
        """Drop the whole bucket: its files and chunks collections (and their indexes)."""
        await self.bucket.drop()

    # -- keeping the bucket clean ----------------------------------------------------------------

    async def check(
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
        bucket. Beside classes, ``documents`` may name raw holders: a ``Holder`` or a tuple
        ``(collection, path)`` / ``(collection, path, db)``, e.g. ``("pages", "blocks.file")``;
        every id at the dotted path (through embedded documents and arrays) counts as held.
        Reads in bounded batches.
        """
        with self._operation("check"):
            return await check_bucket(self, documents, grace=grace, chunks=chunks)

    async def sweep(
        self,
        documents: Iterable[Any] | str | None = None,
        *,
        delete: bool = False,
        grace: timedelta = DEFAULT_GRACE,
    ) -> BucketReport:
        """Find orphan chunks, unreferenced and expired files as ``check`` does; with
        ``delete=True`` remove them (each file's files document first, then its chunks).
        Expired files go whatever ``grace`` and ``documents`` say: where the server has no
        TTL index (FerretDB) this is what removes them, and where it has one, the chunks
        its monitor leaves are orphans, removed once older than ``grace``. Damaged files
        are reported by ``check`` and never removed here.

        A deleting sweep works in two phases: it finds the unreferenced files, then a batch
        at a time holds them (leaving those a save holds: ``claim``), reads again which
        documents name them and deletes only those still unreferenced. A gridfield save
        that stores a reference to an existing file holds it first. Chunks of an upload in
        the registry of open uploads stay.
        ``grace`` must be at least ``sweep_timing.min_grace`` (ValueError otherwise, before
        any I/O).
        """
        if delete:
            self.bucket.check_writable("sweep the bucket")
        with self._operation("sweep", delete=delete) as op:
            report = await sweep_bucket(self, documents, delete=delete, grace=grace)
            op.swept(report.removed_files)
            return report

    async def claim(self, file_id: Any) -> Any:
        """Hold a stored file against deleting sweeps: a document naming it is about to be
        written. Returns the hold's token, for ``release`` once that write is done (or
        failed); a hold never released lapses after ``sweep_timing.hold``.

        Waits while a sweep holds the file (it decides and deletes within moments), then
        checks the file is there: NoFile, holding nothing, when it is gone (deleted, or
        removed by a sweep): a document written now would name nothing. A gridfield save
        calls it, files first, for each reference to an existing file it stores.
        """
        return await hold_for_save(self, file_id)

    async def release(self, file_id: Any, token: Any) -> None:
        """Let go of the hold ``claim`` returned ``token`` for."""
        await let_go(self, [file_id], token)

    async def rename(self, file_id: Any, new_filename: str) -> None:
        """Change a stored file's filename; NoFile if there is none with this id."""
        if not isinstance(new_filename, str):
            raise TypeError(f"new_filename must be a str, not {type(new_filename).__name__}")
        self.bucket.check_writable("rename a file")
        with self._operation("rename", file_id):
            result = await self.files.update_one(
                file_filter(file_id), {"$set": {"filename": new_filename}}
            )
            if result.matched_count == 0:
                raise NoFile(f"no file with id {file_id!r} in {self.files.name}")

    async def rewrap_keys(self) -> int:
        """Wrap the data key of every encrypted file here with the store's current
        key-encryption key (key rotation); return how many files changed.

        Only files documents change: no chunk is read or rewritten. A file whose key is
        not among the store's keys raises KeyUnavailable naming it (the files done so far
        stay done; run it again once the key is there). A file changed meanwhile (deleted,
        or re-wrapped by another process) is left as it now is. The data keys of encrypted
        resumable (tus) uploads not yet stored as files (unfinished, or partial uploads
        waiting for a join) are re-wrapped first, in their registry entries, and counted
        too; one that completes while this runs may keep the old wrapping, which the next
        run changes.
        """
        if self.encryption is None:
            raise ValueError("rewrap_keys() needs a store with encryption=Encryption(...)")
        self.bucket.check_writable("re-wrap data keys")
        changed = await self._rewrap_upload_keys(self.encryption)
        cursor = self.files.find({ENCRYPTION_FIELD: {"$exists": True}})
        async for doc in cursor:
            info = FileInfo.from_document(doc)
            record = await rewrapped(self.encryption, info)
            if record is None:
                continue
            result = await self.files.update_one(
                {"_id": info.file_id, ENCRYPTION_FIELD: info.encryption},
                {"$set": {ENCRYPTION_FIELD: record}},
            )
            changed += result.modified_count
        return changed

    async def _rewrap_upload_keys(self, encryption: Encryption) -> int:
        """Re-wrap the data keys the registry of resumable uploads keeps for files still to
        be stored; how many changed."""
        registry = self.bucket.resumable
        query = {"file_key": {"$ne": None}, "$or": [{"complete": False}, {"concat": "partial"}]}
        changed = 0
        async for doc in registry.find(query, projection={"file_key": 1}):
            upload_id, recorded = doc["_id"], doc["file_key"]
            key = await rewrapped_file_key(encryption, recorded, f"upload {upload_id}")
            if key is None:
                continue
            result = await registry.update_one(
                {"_id": upload_id, "file_key.wrappedKey": recorded.get("wrappedKey")},
                {"$set": {"file_key": key}},
            )
            changed += result.modified_count
        return changed
