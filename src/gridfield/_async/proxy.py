"""What ``doc.photo`` is: a handle on the GridFS file that a FileField holds."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import mongoengine

from .._twins import (
    AwaitableSelf,
    FlushOnAwait,
    awaited_call,
    refuse_unloaded,
    refuse_upload_outside_save,
)
from ..core.errors import FileNotLoaded, GridFSError, NoFile
from ..core.file_slot import FileSlot, SlotEvent
from ..core.files_document import DescribedFile, FileInfo, check_chunk_size
from ..core.http.intake import ReceivedFile
from ..core.position import ReadPosition, check_read_size
from ..core.store_defaults import FieldDefaults, StoreDefaults
from ..core.upload_options import UploadOptions
from .connection import get_db
from .document import Document
from .store import AsyncDownloadStream, AsyncFileStore, AsyncUploadStream

_HOLDS_A_FILE = "{where} already holds a file ({grid_id}): delete() or replace() it first"
_STAGED = "{where}: the assigned file is stored when the document is saved; save() it first"

# Attributes that are the proxy's own: never looked up in the stored file.
_OWN = frozenset({"grid_id", "key", "instance", "db_alias", "collection_name"})


class GridFSProxy(DescribedFile, FieldDefaults):
    """The file behind one FileField value: read it, stream into it, replace or delete it.

    Getting ``doc.photo`` does no I/O; only its methods reach the server. Attributes of the
    stored file (``length``, ``content_type``, ``metadata``, and the top-level fields other
    writers add, such as ``put()``'s extra keywords) are there once a method has loaded it:
    ``put``, ``close``, ``read`` or ``load``; the sync API loads them on first access, as
    MongoEngine does. A ``FileHolder`` (``gridfield.odm``): its owner's save and delete reach
    its files, and data assigned to the field is stored by the owner's save.
    """

    def __init__(
        self,
        grid_id: Any = None,
        *,
        key: str | None = None,
        instance: Any = None,
        db_alias: str = "default",
        collection_name: str = "fs",
        chunk_size: int | None = None,
        delete_with_owner: bool = True,
        defaults: StoreDefaults | None = None,
    ) -> None:
        self._slot = FileSlot(grid_id)
        self.defaults = StoreDefaults() if defaults is None else defaults
        """What the files this proxy writes get (the field's ``defaults``)."""
        self.key = key
        self.instance = instance
        self.db_alias = db_alias
        self.collection_name = collection_name
        self.upload_chunk_size = None if chunk_size is None else check_chunk_size(chunk_size)
        """The chunk size of files this proxy writes (None: the store's default)."""
        self.delete_with_owner = delete_with_owner
        """Whether the file goes when the owning document is deleted (the field's choice)."""
        self._store: AsyncFileStore | None = None
        self._info: FileInfo | None = None
        self._upload: AsyncUploadStream | None = None
        self._reader: AsyncDownloadStream | None = None
        self._position = ReadPosition()
        # A deleting sweep may be about to take the held file: it is claimed (store.claim)
        # before the owner's write when the field was given an existing file, or holds one
        # this proxy stored long ago (when, by the monotonic clock: _adopted); the hold is
        # released after that write.
        self._claim = False
        self._adopted: float | None = None
        self._holding: tuple[Any, Any] | None = None  # (file id, hold token)
        # A file a deduplicating upload of this proxy took as its answer, and when: its
        # mark is taken off once the owner's document names it.
        self._settle: tuple[Any, Any] | None = None
        self.from_storage = False
        """Whether the field made this proxy from a stored document's value (to_python)."""
        self._reading: Any = grid_id  # the file _info, _reader and _position are about

    # -- what the field holds: the slot (gridfield.core.file_slot) does the bookkeeping ------

    @property
    def grid_id(self) -> Any:
        """The id of the stored file this value names (None: an empty field, or data
        assigned and not yet stored)."""
        return self._slot.grid_id

    @grid_id.setter
    def grid_id(self, grid_id: Any) -> None:
        self._slot.hold(grid_id)

    def _follow(self, info: FileInfo | None = None) -> None:
        """After a change of the held file: what is known about reading it starts afresh."""
        if self._reading != self.grid_id or info is not None:
            self._reading = self.grid_id
            self._info = info
            self._reader = None
            self._position = ReadPosition()

    # -- identity -------------------------------------------------------------------------

    def __bool__(self) -> bool:
        return bool(self._slot)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GridFSProxy):
            return NotImplemented
        return (self.grid_id, self.collection_name, self.db_alias) == (
            other.grid_id,
            other.collection_name,
            other.db_alias,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like MongoEngine's proxy

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.grid_id}>"

    def __str__(self) -> str:
        """``<GridFSProxy: FILENAME (ID)>``, as MongoEngine prints it."""
        if self.grid_id is None:
            filename: Any = "<no file>"
        else:
            try:
                filename = self.info.filename
            except FileNotLoaded:
                filename = "<not loaded>"
            except NoFile:
                filename = "<no file>"
        return f"<{type(self).__name__}: {filename} ({self.grid_id})>"

    def __getattr__(self, name: str) -> Any:
        """A top-level field of the stored file that gridfield does not name (``put()``'s
        extra keywords, ``width`` of an image...), as MongoEngine reads it."""
        if name.startswith("_") or name in _OWN:
            raise AttributeError(name)
        if self.grid_id is None:
            raise AttributeError(f"{self._where()} holds no file, so no {name!r}")
        try:
            extra = self.info.extra
        except NoFile as exc:
            raise AttributeError(f"{self._where()}: {exc}") from exc
        if name in extra:
            return extra[name]
        raise AttributeError(f"{self._where()}: the stored file has no attribute {name!r}")

    def __copy__(self) -> GridFSProxy:
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        # The same file, without this proxy's open streams or pending deletions.
        twin._store = None
        twin._upload = None
        twin._reader = None
        twin._position = ReadPosition()
        twin._slot = self._slot.copy()
        twin._holding = None
        return twin

    def __deepcopy__(self, memo: dict[int, Any]) -> GridFSProxy:
        return copy.copy(self)

    # -- where the file lives ---------------------------------------------------------------

    @property
    def chunk_size(self) -> int | None:
        """The stored file's chunk size (as MongoEngine reads it); for an empty field, the
        chunk size it will write with (None: the store's default)."""
        if self.grid_id is None:
            return self.upload_chunk_size
        return self.info.chunk_size

    @property
    def fs(self) -> AsyncFileStore:
        """The file store (MongoEngine's name for it): ``list()``, ``exists()``, ``find()``..."""
        return self.store

    @property
    def newfile(self) -> AsyncUploadStream | None:
        """The upload ``new_file()`` started and ``close()`` has not finished, if any."""
        return self._upload

    @property
    def gridout(self) -> AsyncDownloadStream | None:
        """The download stream reads go through, once one is open."""
        return self._reader

    @property
    def store(self) -> AsyncFileStore:
        """The file store of this field's database alias and bucket."""
        if self._store is None:
            defaults = self.defaults
            if self.upload_chunk_size is not None:
                defaults = defaults.but(chunk_size=self.upload_chunk_size)
            # Errors name the field, whether its guards or a call's own refused the file.
            defaults = defaults.but(
                limits=dataclasses.replace(defaults.limits, label=self._where())
            )
            self._store = AsyncFileStore(
                get_db(self.db_alias), self.collection_name, defaults=defaults
            )
        return self._store

    def _where(self) -> str:
        owner = type(self.instance).__name__ if self.instance is not None else "this proxy"
        return f"{owner}.{self.key}" if self.key else owner

    def _mark_as_changed(self) -> None:
        if self.instance is not None and self.key:
            self.instance._mark_as_changed(self.key)

    def _adopt(self, info: FileInfo) -> None:
        self._settle = (info.file_id, info.matched) if info.matched is not None else None
        self._slot.hold(info.file_id)
        self._claim = False
        self._adopted = time.monotonic()
        self._follow(info)
        self._mark_as_changed()

    # -- what is known about the stored file -------------------------------------------------

    async def load(self) -> FileInfo | None:
        """Fetch the stored file's description; None for an empty field.

        Raises NoFile when the field names a file that is gone.
        """
        if self.grid_id is None:
            return None
        self._info = await self.store.get_info(self.grid_id)
        return self._info

    async def _fetch_info(self) -> FileInfo:
        return await self.store.get_info(self.grid_id)

    @property
    def info(self) -> FileInfo:
        """The description of the stored file (the async API: once loaded; the sync API
        loads it on first access, as MongoEngine does)."""
        if self._info is None or self._info.file_id != self.grid_id:
            if self.grid_id is None:
                raise FileNotLoaded(f"{self._where()} holds no file")
            load = awaited_call(f"{self.key or 'proxy'}.load()")
            self._info = refuse_unloaded(
                self._fetch_info,
                f"{self._where()}: the file is not loaded yet; {load} (or read()) first",
            )
        return self._info

    async def get(self, grid_id: Any = None) -> AsyncDownloadStream | None:
        """The stored file, opened for reading (``length``, ``read()``... as MongoEngine's
        ``get()`` returns); None for an empty field. ``grid_id`` makes this proxy hold that
        file first.

        Unlike MongoEngine, a file that is gone raises NoFile instead of answering None.
        """
        self._refuse_if_staged()
        if grid_id is not None:
            self.grid_id = grid_id
            self.note_reference()
        if self.grid_id is None:
            return None
        stream = await self.store.open_download(self.grid_id)
        self._info = stream.info
        return stream

    def _file_info(self) -> FileInfo:
        return self.info

    @property
    def metadata(self) -> dict[str, Any]:
        """User metadata, with ``content_type`` added when the file has one."""
        info = self.info
        found = dict(info.metadata or {})
        if info.content_type is not None:
            found.setdefault("content_type", info.content_type)
        return found

    # -- writing ------------------------------------------------------------------------------

    def _refuse_if_holding(self) -> None:
        if self.grid_id is not None:
            raise GridFSError(_HOLDS_A_FILE.format(where=self._where(), grid_id=self.grid_id))
        self._refuse_if_staged()

    def _refuse_if_staged(self) -> None:
        if self._slot.staged is not None:
            raise GridFSError(_STAGED.format(where=self._where()))

    async def put(
        self,
        data: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **more: Any,
    ) -> Any:
        """Store ``data`` (bytes, str, a binary file object or an iterable of bytes) as this
        field's file and return its id.

        Options are the store's (``file_id``, ``chunk_size``, ``checksum``, ``encoding``,
        ``aliases``, ``max_size``, ``content_types``, ``on_progress``: see
        ``gridfield.core.upload_options``); every other keyword is stored top-level in the
        files document, as MongoEngine and PyMongo store them, and read back as an attribute
        (``doc.photo.author``). ``metadata`` is GridFS's metadata subdocument. A field that
        already holds a file refuses, writing nothing."""
        options = _options(content_type, filename, metadata, more)
        self._refuse_if_holding()
        info = await self._store_file(data, options)
        self._adopt(info)
        return info.file_id

    async def _store_file(self, data: Any, options: UploadOptions) -> FileInfo:
        return await self.store.upload(data, options)

    def new_file(
        self,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **more: Any,
    ) -> AsyncNewFile:
        """Start a file to be written piece by piece with ``write`` and finished by ``close``
        (keywords as for ``put``).

        Used as a context manager, the result closes the file at the end of the block and
        aborts it (leaving nothing) on error; the async API also lets it be awaited.
        """
        options = _options(content_type, filename, metadata, more)
        self._refuse_if_holding()
        if self._upload is not None:
            raise GridFSError(f"{self._where()}: a new file is already being written")
        self._upload = self.store.start_upload(options)
        return AsyncNewFile(self)

    def _writable(self) -> AsyncUploadStream:
        if self._upload is None:
            self.new_file()
        assert self._upload is not None
        return self._upload

    def write(self, data: bytes | bytearray | memoryview | str) -> FlushOnAwait:
        """Add ``data`` to the file being written (one is started if none is)."""
        stream = self._writable()
        stream.buffer(data)
        return FlushOnAwait(stream.flush)

    def writelines(self, lines: Iterable[bytes | str]) -> FlushOnAwait:
        """Add every piece of ``lines`` to the file being written."""
        stream = self._writable()
        for line in lines:
            stream.buffer(line)
        return FlushOnAwait(stream.flush)

    async def close(self) -> None:
        """Finish the file being written: it becomes visible and this field holds it."""
        if self._upload is not None:
            self._slot.check(SlotEvent.HOLD)  # refused before the file is stored, not after
        upload, self._upload = self._upload, None
        if upload is not None:
            self._adopt(await upload.close())
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()

    async def abort(self) -> None:
        """Give up the file being written, removing what was stored of it."""
        upload, self._upload = self._upload, None
        if upload is not None:
            await upload.abort()

    async def replace(
        self,
        data: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **more: Any,
    ) -> Any:
        """Store ``data`` as this field's new file (keywords as for ``put``), then let go of
        the old one.

        The new file is written completely first; should that fail, the old file stays in
        place and readable. The old file is deleted when the owning document is saved with
        the new id, or at once when that document was never saved.
        """
        options = _options(content_type, filename, metadata, more)
        self._refuse_if_staged()
        info = await self._store_file(data, options)
        self._slot.replace_with(info.file_id)
        self._adopt(info)
        if not _saved_by_gridfield(self.instance):
            await self._drop(self._slot.saved())
        return info.file_id

    # -- assignment: staged now, stored at the owner's save ------------------------------------

    def take_place_of(self, previous: GridFSProxy) -> None:
        """Become the field's value instead of ``previous``, taking over what it was to delete
        after the next save and the file it held (deleted once this one is saved)."""
        self._slot.take_place_of(previous._slot)

    def hold_received(self, received: ReceivedFile) -> None:
        """Hold a file an HTTP request stored (``doc.photo = received.file("photo")``); the
        file held so far goes once the owner is saved.

        Refused (GridFSError) when the file is in another bucket than this field's, and
        (FileTooLarge, ContentTypeRefused) when it breaks the field's guards: the field
        then keeps what it held.
        """
        store = self.store
        if received.bucket != (store.db.name, store.collection_name):
            raise GridFSError(
                f"{self._where()} stores files in {store.db.name}.{store.collection_name};"
                f" the received file {received.file_id!r} is in"
                f" {received.bucket[0]}.{received.bucket[1]}"
            )
        limits = store.limits
        limits.check_size(received.length)
        if limits.content_types is not None:
            limits.check_type(received.content_type)
        # The slot took the field's previous file as the one replaced (take_place_of): it
        # goes at the owner's save, as an assignment's does.
        self._slot.hold(received.file_id)
        self._follow(received.info)

    def stage(self, data: Any) -> None:
        """Hold ``data`` (assigned to the field) to be stored when the owning document is
        saved, the file held so far to be deleted after that save.

        A document that does not store its files at save (a plain ``mongoengine.Document``)
        gets the file stored at once in the sync API, as MongoEngine does; in the async API
        that is a TypeError, as an assignment cannot be awaited.
        """
        self._slot.assign(data, _start_of(data))
        self._follow()
        if _stores_files_at_save(self.instance):
            return
        put = awaited_call(f"{self.key or 'proxy'}.put(data)")
        try:
            refuse_upload_outside_save(
                self._store_staged_now,
                f"{self._where()}: assigning data stores it when a gridfield Document is "
                f"saved; on this document use `{put}`",
            )
        except BaseException:
            self._slot.unassign()
            self._follow()
            raise

    async def _store_staged_now(self) -> None:
        await self.before_owner_save()
        await self.after_owner_save()

    def note_reference(self) -> None:
        """The field names an existing file now (given its id, or another document's
        proxy): the owner's next save claims it from any sweep under way first."""
        if self.grid_id is not None:
            self._claim = True

    async def claim_file(self) -> None:
        """Hold the field's file against deleting sweeps before a write names it (see
        ``AsyncFileStore.claim``): NoFile when it is gone. Nothing for an empty field or a
        file stored moments ago (no sweep may touch one younger than its smallest grace)."""
        if self.grid_id is None or self.grid_id == self._slot.stored_for_save:
            return
        store = self.store
        if not self._claim and self._adopted is not None:
            fresh = store.sweep_timing.register_after.total_seconds()
            if time.monotonic() - self._adopted < fresh:
                return
        await self.release_file()  # one left by an earlier attempt
        self._holding = (self.grid_id, await store.claim(self.grid_id))

    async def release_file(self) -> None:
        """Let go of the hold ``claim_file`` took: the owner's write is done or failed."""
        holding, self._holding = self._holding, None
        if holding is not None:
            await self.store.release(*holding)

    async def before_owner_save(self) -> None:
        """Store the data assigned to the field: files go before the document that names them.
        A file the field was given (or stored long ago) is claimed from a sweep first."""
        if self._slot.staged is None:
            if self._claim or self._adopted is not None:
                await self.claim_file()
            return
        if not self._slot.wants_storing():
            return
        assert self._slot.staged is not None
        info = await self._store_file(self._slot.staged.data, UploadOptions())
        self._settle = (info.file_id, info.matched) if info.matched is not None else None
        self._slot.stored(info.file_id)
        self._follow(info)

    async def owner_save_failed(self) -> None:
        """The owner's save failed after ``before_owner_save``: remove the file stored for it,
        keep the assigned data for the next save and the old file in place."""
        await self.release_file()
        staged = self._slot.staged
        doomed = self._slot.save_failed()
        self._follow()
        if staged is not None and staged.start is not None:
            staged.data.seek(staged.start)  # the next save reads it from where it was
        for grid_id in doomed:
            await self._delete_file(grid_id)

    async def after_owner_save(self) -> None:
        """The owner is saved: the assigned file is its file now; the files it replaced go."""
        self._claim = False  # the owner names the file now: a sweep sees it
        self._adopted = None
        await self.release_file()
        settle, self._settle = self._settle, None
        if settle is not None and settle[0] == self.grid_id:
            await self.store.settle(*settle)  # the document names the matched file now
        await self._drop(self._slot.saved())

    async def _drop(self, stale: tuple[Any, ...]) -> None:
        """Delete the files the field let go of, each struck off once it is gone (a failure
        leaves the rest for the next save)."""
        for grid_id in stale:
            await self._delete_file(grid_id)
            self._slot.dropped(grid_id)

    async def _delete_file(self, grid_id: Any) -> None:
        """Delete a file this value let go of, unless it is shared (a deduplicated file)
        and another stored document of the owner's collection still holds it."""
        owner = _owner_document(self.instance)
        if owner is None:
            try:
                await self.store.delete(grid_id)
            except NoFile:
                pass  # already gone: the outcome asked for
            return
        await self.store.delete_unless_held(grid_id, owner)

    # -- reading ------------------------------------------------------------------------------

    async def _open_reader(self) -> AsyncDownloadStream:
        """The download stream of the held file, reading at this proxy's one position."""
        self._refuse_if_staged()
        if self._reader is None or self._reader.file_id != self.grid_id:
            self._reader = await self.store.open_download(self.grid_id)
            self._reader.position = self._position
            self._info = self._reader.info
        return self._reader

    async def read(self, size: int = -1) -> bytes | None:
        """Read up to ``size`` bytes (all when negative) from the current position.

        None for an empty field; NoFile when the field names a file that is gone.
        """
        check_read_size(size)
        self._refuse_if_staged()
        if self.grid_id is None:
            return None
        return await (await self._open_reader()).read(size)

    async def readchunk(self) -> bytes | None:
        """Read the rest of the current chunk."""
        self._refuse_if_staged()
        if self.grid_id is None:
            return None
        return await (await self._open_reader()).readchunk()

    async def readline(self, size: int = -1) -> bytes | None:
        """Read up to and including the next newline, a chunk at a time."""
        check_read_size(size, "readline")
        self._refuse_if_staged()
        if self.grid_id is None:
            return None
        return await (await self._open_reader()).readline(size)

    def seek(self, pos: int, whence: int = 0) -> int:
        """Move the read position; seeking from the end (whence=2) needs the file loaded."""
        return self._position.seek(pos, whence, lambda: self.info.length)

    def tell(self) -> int:
        """The read position."""
        return self._position.offset

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the file's chunks from the current position (nothing for an empty field)."""
        if self.grid_id is None:
            return
        async for piece in await self._open_reader():
            yield piece

    # -- deleting -----------------------------------------------------------------------------

    async def delete(self) -> None:
        """Delete the stored file; the field is then empty (save the document to record it).

        A file already gone is not an error: the field ends empty either way.
        """
        if self.grid_id is None:
            return
        self._slot.check(SlotEvent.DELETE)  # refused before the file is deleted, not after
        await self._delete_file(self.grid_id)
        self._slot.emptied()
        self._follow()
        self._mark_as_changed()

    # -- the rest of the FileHolder protocol (gridfield.odm); after_owner_save is above -----

    async def after_owner_delete(self) -> None:
        """Delete the file of a document that was just deleted, unless the field opted out."""
        if self.delete_with_owner:
            for grid_id in self._slot.owner_deleted():
                await self._delete_file(grid_id)

    def held_file_ids(self) -> list[Any]:
        """The stored file this value names (none for an empty field)."""
        return self._slot.held_file_ids()


class AsyncNewFile(AwaitableSelf):
    """What ``new_file()`` returns: a context manager over the upload (async: also awaitable)."""

    def __init__(self, proxy: GridFSProxy) -> None:
        self.proxy = proxy

    async def __aenter__(self) -> GridFSProxy:
        return self.proxy

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            await self.proxy.close()
        else:
            await self.proxy.abort()


def _options(
    content_type: str | None,
    filename: str | None,
    metadata: Mapping[str, Any] | None,
    more: Mapping[str, Any],
) -> UploadOptions:
    """The upload options of a proxy's ``put``-like call: its options by the one list of
    ``gridfield.core.upload_options``, the other keywords extra top-level fields."""
    return UploadOptions.from_keywords(
        {"content_type": content_type, "filename": filename, "metadata": metadata, **more}
    )


def _start_of(data: Any) -> int | None:
    """Where a seekable file object is, so that a failed save can read it again from there."""
    try:
        return int(data.tell()) if hasattr(data, "read") else None
    except Exception:
        return None


def _owner_document(instance: Any) -> Any:
    """The top-level stored document a proxy's value is in (None: none, or not stored)."""
    top = instance
    while top is not None and getattr(top, "_instance", None) is not None:
        top = top._instance
    is_document = isinstance(top, mongoengine.Document) and hasattr(top, "_get_collection_name")
    return top if is_document else None


def _stores_files_at_save(instance: Any) -> bool:
    """Whether the document owning a proxy stores assigned files when it is saved: a gridfield
    Document does (files first); a plain MongoEngine one never will."""
    top = instance
    while top is not None and getattr(top, "_instance", None) is not None:
        top = top._instance
    return isinstance(top, Document)


def _saved_by_gridfield(instance: Any) -> bool:
    """Whether the document owning a proxy was saved and will call ``after_owner_save`` when
    saved again: a gridfield Document does; a plain MongoEngine one never will."""
    top = instance
    while top is not None and getattr(top, "_instance", None) is not None:
        top = top._instance
    return isinstance(top, Document) and top.pk is not None
