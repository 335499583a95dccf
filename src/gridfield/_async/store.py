"""The GridFS file store over one database: upload, download, delete, find, indexes."""

from __future__ import annotations

import codecs
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pymongo.errors import OperationFailure

from ..core.chunks import clamp_range
from ..core.errors import NoFile
from ..core.metadata import (
    DEFAULT_CHUNK_SIZE,
    FileInfo,
    check_chunk_size,
    check_file_id,
    check_files_document,
    check_metadata,
)
from ..core.queries import chunks_filter, file_filter
from .download import AsyncDownloadStream
from .upload import AsyncUploadStream, check_source, write_source

__all__ = ["AsyncDownloadStream", "AsyncFileStore", "AsyncUploadStream"]

# (database name, bucket) pairs whose indexes are known to exist, per client. Concurrent
# first uploads may each create them: createIndexes is idempotent, so no lock is needed;
# a pair is recorded only once its indexes are in.
_INDEXED: weakref.WeakKeyDictionary[Any, set[tuple[str, str]]] = weakref.WeakKeyDictionary()

# createIndexes codes for "an index on these keys exists already, with other options or
# another name" (made by another tool): the lookups it serves are there, so it will do.
_INDEX_EXISTS_CODES = frozenset({85, 86})


def _indexed(client: Any) -> set[tuple[str, str]] | None:
    try:
        return _INDEXED.setdefault(client, set())
    except TypeError:  # a client that cannot be weakly referenced: no cache
        return None


async def _create_index(collection: Any, keys: list[tuple[str, int]], **options: Any) -> None:
    try:
        await collection.create_index(keys, **options)
    except OperationFailure as exc:
        if exc.code not in _INDEX_EXISTS_CODES:
            raise


class AsyncFileStore:
    """GridFS file store over one database handle (PyMongo AsyncDatabase or Motor
    AsyncIOMotorDatabase), in the standard layout: ``<bucket>.files`` and ``<bucket>.chunks``.
    """

    def __init__(
        self, db: Any, collection_name: str = "fs", *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        if not isinstance(collection_name, str) or not collection_name:
            raise ValueError(f"collection_name must be a non-empty str, not {collection_name!r}")
        self.db = db
        self.collection_name = collection_name
        self.chunk_size = check_chunk_size(chunk_size)
        self.files: Any = db[f"{collection_name}.files"]
        self.chunks: Any = db[f"{collection_name}.chunks"]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.db.name}.{self.collection_name}>"

    async def ensure_indexes(self) -> None:
        """Create the files ``(filename, uploadDate)`` and unique chunks ``(files_id, n)``
        indexes, once per client, database and bucket."""
        done = _indexed(self.db.client)
        key = (self.db.name, self.collection_name)
        if done is not None and key in done:
            return
        await _create_index(self.files, [("filename", 1), ("uploadDate", 1)])
        await _create_index(self.chunks, [("files_id", 1), ("n", 1)], unique=True)
        if done is not None:
            done.add(key)

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
    ) -> AsyncUploadStream:
        """A new upload stream; nothing is sent until it is written to or closed.

        Arguments are checked here: a bad one raises TypeError or ValueError (naming the
        metadata key at fault) before any I/O.
        """
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"filename must be a str, not {type(filename).__name__}")
        if content_type is not None and not isinstance(content_type, str):
            raise TypeError(f"content_type must be a str, not {type(content_type).__name__}")
        check_file_id(file_id)
        size = self.chunk_size if chunk_size is None else check_chunk_size(chunk_size)
        codecs.lookup(encoding)  # LookupError now, not at the first str written
        options = self.db.codec_options
        stored = check_metadata(metadata, options)
        check_files_document(
            file_id=file_id,
            chunk_size=size,
            filename=filename,
            metadata=stored,
            content_type=content_type,
            codec_options=options,
        )
        return AsyncUploadStream(
            self,
            file_id=file_id,
            filename=filename,
            content_type=content_type,
            metadata=stored,
            chunk_size=size,
            checksum=bool(checksum),
            encoding=encoding,
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
    ) -> FileInfo:
        """Store ``data`` as a new file and return its description.

        ``data`` is bytes-like, a str (encoded with ``encoding``), a binary file object
        (sync or async ``read``; read ``chunk_size`` bytes at a time) or a sync or async
        iterable of bytes. Anything else is a TypeError, raised before anything is
        written; any failure later removes what was written. ``checksum`` (on by
        default) stores the SHA-256 of the bytes, computed as they pass: reads of the whole
        file check it, and HTTP responses use it as the ``ETag``.
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
        )
        async with stream:
            await write_source(stream, data)
        assert stream.info is not None  # close() has run
        return stream.info

    # -- reading ------------------------------------------------------------------------------

    async def get_info(self, file_id: Any) -> FileInfo:
        """The description of a stored file; NoFile if there is none with this id."""
        doc = await self.files.find_one(file_filter(file_id))
        if doc is None:
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")
        return FileInfo.from_document(doc)

    async def open_download(self, file_id: Any) -> AsyncDownloadStream:
        """A read stream over a stored file; NoFile if there is none with this id."""
        return AsyncDownloadStream(self, await self.get_info(file_id))

    async def get(self, file_id: Any) -> bytes:
        """All the bytes of a stored file."""
        stream = await self.open_download(file_id)
        return await stream.read()

    async def read_range(self, file_id: Any, start: int, end: int | None = None) -> bytes:
        """The bytes ``[start, end)`` of a stored file (clamped to its length), fetching only
        the chunks that hold them."""
        clamp_range(start, end, 0)  # bad bounds fail before any I/O
        stream = await self.open_download(file_id)
        return await stream.read_range(start, end)

    async def exists(self, file_id: Any) -> bool:
        """Whether a files document has this id."""
        doc = await self.files.find_one(file_filter(file_id), projection={"_id": 1})
        return doc is not None

    def find(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: str | Sequence[tuple[str, int]] | Mapping[str, int] | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> AsyncIterator[FileInfo]:
        """Iterate over the descriptions of the files matching ``filter`` (on the files
        collection), optionally sorted, skipped and limited."""
        if filter is not None and not isinstance(filter, Mapping):
            raise TypeError(f"filter must be a mapping, not {type(filter).__name__}")
        for name, value in (("skip", skip), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, not {value!r}")
        cursor = self.files.find(dict(filter or {}))
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
        result = await self.files.delete_one(file_filter(file_id))
        await self.chunks.delete_many(chunks_filter(file_id))
        if result.deleted_count == 0:
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")

    async def rename(self, file_id: Any, new_filename: str) -> None:
        """Change a stored file's filename; NoFile if there is none with this id."""
        if not isinstance(new_filename, str):
            raise TypeError(f"new_filename must be a str, not {type(new_filename).__name__}")
        result = await self.files.update_one(
            file_filter(file_id), {"$set": {"filename": new_filename}}
        )
        if result.matched_count == 0:
            raise NoFile(f"no file with id {file_id!r} in {self.files.name}")
