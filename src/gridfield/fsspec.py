"""GridFS as an fsspec filesystem: ``gridfs://folder/name.csv`` for pandas, pyarrow, DuckDB,
dask and everything else that reads and writes through fsspec.

``GridFSFileSystem`` runs on the sync API (``gridfield.sync``), ``AsyncGridFSFileSystem``
(fsspec's ``AsyncFileSystem``) on the async one; both are translations of the filesystem
view of a bucket (``_async/filesystem.py`` and its sync twin) into fsspec's classes. The
protocol ``gridfs`` names ``GridFSFileSystem`` through fsspec's entry point, so
``fsspec.open("gridfs://...", uri=...)`` and pandas' ``storage_options=`` need no import.

The URL holds only the file's name (folders split at ``/``); where the files are comes from
the storage options: ``uri`` (a MongoDB URI whose path names the database) or ``client``,
``database`` (overriding the URI's), ``bucket`` (default ``fs``), ``encryption`` (an
``Encryption``: files written are encrypted, encrypted files read back in clear).
``name?revision=N`` and
``name?version_id=ID`` name one revision of a file; a bare name means the newest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from .core.extras import missing_extra

try:
    from fsspec.asyn import AbstractAsyncStreamedFile, AsyncFileSystem, sync, sync_wrapper
    from fsspec.callbacks import DEFAULT_CALLBACK, Callback
    from fsspec.spec import AbstractBufferedFile, AbstractFileSystem
    from fsspec.utils import tokenize
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "fsspec") from exc

from ._async.filesystem import AsyncGridFiles
from ._async.store import AsyncFileStore
from ._sync.filesystem import GridFiles
from ._sync.store import FileStore
from .core.encryption import Encryption
from .core.fs_paths import split_version
from .core.guards import UploadLimits

__all__ = ["AsyncGridFSFile", "AsyncGridFSFileSystem", "GridFSFile", "GridFSFileSystem"]

PROTOCOL = "gridfs"
DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024
"""How far a sequential read reads ahead (random reads fetch only the chunks they touch)."""


def _strip(path: str) -> str:
    if path.startswith(f"{PROTOCOL}://"):
        path = path[len(PROTOCOL) + 3 :]
    return path.strip("/")


def _expiry(expire_after: timedelta | float | None) -> timedelta | None:
    if expire_after is None or isinstance(expire_after, timedelta):
        return expire_after
    return timedelta(seconds=float(expire_after))


def _store_options(
    bucket: str,
    chunk_size: int | None,
    max_size: int | None,
    content_types: Iterable[str] | None,
    expire_after: timedelta | float | None,
    encryption: Encryption | None,
) -> dict[str, Any]:
    if encryption is not None and not isinstance(encryption, Encryption):
        raise TypeError(
            f"gridfs: encryption must be a gridfield Encryption, not {type(encryption).__name__}"
        )
    options: dict[str, Any] = {
        "limits": UploadLimits(
            max_size=max_size,
            content_types=None if content_types is None else tuple(content_types),
            label=bucket,
        ),
        "expire_after": _expiry(expire_after),
        "encryption": encryption,
    }
    if chunk_size is not None:
        options["chunk_size"] = chunk_size
    return options


def _database(client: Any, database: str | None) -> Any:
    if database is not None:
        return client[database]
    try:
        return client.get_default_database()
    except Exception as exc:  # pymongo's ConfigurationError: no database in the URI
        raise ValueError(
            "gridfs: name the database, with database= or in the URI (mongodb://host/NAME)"
        ) from exc


def _progress(callback: Callback) -> Callable[[int, int | None], None]:
    """The store's ``on_progress(done, total)`` as calls of an fsspec callback."""
    sized = False

    def report(done: int, total: int | None) -> None:
        nonlocal sized
        if not sized and total is not None:
            callback.set_size(total)
            sized = True
        callback.absolute_update(done)

    return report


def _version_key(entry: Mapping[str, Any]) -> str:
    sha256 = entry.get("sha256")
    if isinstance(sha256, str):
        return sha256
    # Written without a checksum (by another tool): the revision's identity stands in.
    return str(tokenize(entry["version_id"], entry["size"], str(entry.get("mtime"))))


def _checksum(entry: Mapping[str, Any]) -> int:
    """fsspec's checksum: an int that changes with the bytes (from the stored SHA-256)."""
    return int(_version_key(entry)[:32], 16)


_BY_IDENTITY = ("store", "encryption", "client")
"""Storage options that fsspec's instance cache must tell apart by identity, not by their
text: an ``Encryption`` shows only its key ids, so two rings with the same ids and other
keys (or two stores of one bucket) would otherwise share one filesystem."""


class _CachedByIdentity(type(AbstractFileSystem)):  # type: ignore[misc]
    """fsspec's instance cache (the metaclass of its filesystems), its token also naming
    the objects of ``_BY_IDENTITY`` given (each stays alive while its filesystem is
    cached, so its id is not reused meanwhile)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        held = tuple(id(kwargs[name]) for name in _BY_IDENTITY if kwargs.get(name) is not None)
        if held:
            kwargs["instance_of"] = held
        return super().__call__(*args, **kwargs)


class _Common:
    """What both filesystems share: fsspec's path rules for gridfs paths."""

    protocol = PROTOCOL
    root_marker = ""

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return _strip(str(path))

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        return {}

    @classmethod
    def _parent(cls, path: str) -> str:
        name, _ = split_version(cls._strip_protocol(path))
        return name.rpartition("/")[0]

    def unstrip_protocol(self, name: str) -> str:
        return f"{PROTOCOL}://{_strip(name)}"


class GridFSFileSystem(_Common, AbstractFileSystem, metaclass=_CachedByIdentity):  # type: ignore[misc]
    """A GridFS bucket as an fsspec filesystem, on the sync API.

    Storage options: ``uri`` (a MongoDB URI; its path names the database) or ``client`` (a
    PyMongo ``MongoClient``), ``database`` (overrides the URI's), ``bucket`` (default
    ``"fs"``) or a ready ``store`` (a ``gridfield.sync.FileStore``, whose limits, expiry,
    deduplication and encryption then apply); for a new store, ``chunk_size``, ``max_size``,
    ``content_types`` and ``expire_after`` (a timedelta or seconds) bound every write, and
    ``encryption`` (a ``gridfield.Encryption``) encrypts every file written and reads the
    encrypted files whose keys it holds;
    ``default_block_size`` is how far sequential reads read ahead and
    ``default_cache_type`` the fsspec cache of opened files (``"none"``: reads fetch only the
    chunks they touch).
    """

    cachable = True

    def __init__(
        self,
        uri: str | None = None,
        *,
        client: Any = None,
        database: str | None = None,
        bucket: str = "fs",
        store: FileStore | None = None,
        chunk_size: int | None = None,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        expire_after: timedelta | float | None = None,
        encryption: Encryption | None = None,
        default_block_size: int = DEFAULT_BLOCK_SIZE,
        default_cache_type: str = "none",
        instance_of: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if store is not None and encryption is not None:
            raise ValueError(
                "gridfs: give encryption= to the store you pass (store= brings its own)"
            )
        if store is None:
            if client is None:
                if uri is None:
                    raise ValueError("gridfs: give uri= (a MongoDB URI) or client= or store=")
                from pymongo import MongoClient

                client = MongoClient(uri)
            store = FileStore(
                _database(client, database),
                bucket,
                **_store_options(
                    bucket, chunk_size, max_size, content_types, expire_after, encryption
                ),
            )
        self.files = GridFiles(store)
        self.default_block_size = default_block_size
        self.default_cache_type = default_cache_type

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    # -- listing ---------------------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        entries = self.files.ls(self._strip_protocol(path))
        return entries if detail else [entry["name"] for entry in entries]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.files.info(self._strip_protocol(path))

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        found = self.files.find(self._strip_protocol(path), maxdepth=maxdepth, withdirs=withdirs)
        return found if detail else sorted(found)

    def exists(self, path: str, **kwargs: Any) -> bool:
        return bool(self.files.exists(self._strip_protocol(path)))

    def revisions(self, path: str) -> list[dict[str, Any]]:
        """Every revision of a file, oldest first (``revision`` and ``version_id`` in each)."""
        return self.files.revisions(self._strip_protocol(path))

    def created(self, path: str) -> datetime | None:
        return self.files.created(self._strip_protocol(path))

    def modified(self, path: str) -> datetime | None:
        return self.files.modified(self._strip_protocol(path))

    def checksum(self, path: str) -> int:
        return _checksum(self.info(path))

    def ukey(self, path: str) -> str:
        return _version_key(self.info(path))

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Nothing to do: a folder exists while a file's name starts with it."""

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Nothing to do: a folder exists while a file's name starts with it."""

    def rmdir(self, path: str) -> None:
        """Nothing to do: a folder goes with its last file."""

    # -- reading ---------------------------------------------------------------------------

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        return self.files.cat_file(self._strip_protocol(path), start, end)

    def cat_ranges(
        self,
        paths: list[str],
        starts: Any,
        ends: Any,
        max_gap: int | None = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        starts, ends = _ranges(paths, starts, ends)
        return self.files.cat_ranges(self._strip_protocol(list(paths)), starts, ends)

    def get_file(
        self,
        rpath: str,
        lpath: str,
        callback: Callback = DEFAULT_CALLBACK,
        outfile: Any = None,
        **kwargs: Any,
    ) -> None:
        path = self._strip_protocol(rpath)
        if self.isdir(path):
            os.makedirs(lpath, exist_ok=True)
            return
        local = os.fspath(lpath)
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        self.files.get_file(path, local, _progress(callback))

    # -- writing ---------------------------------------------------------------------------

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        self.files.pipe_file(
            self._strip_protocol(path),
            value,
            exclusive=mode == "create",
            content_type=kwargs.get("content_type"),
            metadata=kwargs.get("metadata"),
        )

    def put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Callback = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        if os.path.isdir(lpath):
            return  # folders exist only as name prefixes
        path = self._strip_protocol(rpath)
        if mode == "create":
            self.files.check_new(path)
        self.files.put_file(
            os.fspath(lpath),
            path,
            _progress(callback),
            content_type=kwargs.get("content_type"),
            metadata=kwargs.get("metadata"),
        )

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        try:
            self.files.cp_file(self._strip_protocol(path1), self._strip_protocol(path2))
        except IsADirectoryError:
            return  # a folder: it exists once a file is copied into it

    # -- changing --------------------------------------------------------------------------

    def rm_file(self, path: str) -> None:
        self.files.rm_file(self._strip_protocol(path))

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        for name in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            try:
                self.files.rm_file(name)
            except (IsADirectoryError, FileNotFoundError):
                continue  # a folder: it went with its last file

    def mv(
        self,
        path1: Any,
        path2: Any,
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        target = _rename_target(self, path1, path2)
        if target is None:
            super().mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)
        else:
            self.files.mv_file(self._strip_protocol(path1), target)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> GridFSFile:
        return GridFSFile(
            self,
            path,
            mode,
            block_size=block_size or self.default_block_size,
            autocommit=autocommit,
            cache_type=kwargs.pop("cache_type", self.default_cache_type),
            cache_options=cache_options,
            **kwargs,
        )


def _ranges(paths: list[str], starts: Any, ends: Any) -> tuple[list[Any], list[Any]]:
    count = len(paths)
    if not isinstance(starts, list):
        starts = [starts] * count
    if not isinstance(ends, list):
        ends = [ends] * count
    if not len(starts) == len(ends) == count:
        raise ValueError("paths, starts and ends must be as long as one another")
    return starts, ends


def _rename_target(fs: Any, path1: Any, path2: Any) -> str | None:
    """The name a one-file ``mv`` renames to, or None when ``mv`` is fsspec's copy and
    remove (a folder, a glob, a list)."""
    if not isinstance(path1, str) or not isinstance(path2, str):
        return None
    source = fs._strip_protocol(path1)
    if any(char in source for char in "*?[") or not fs.isfile(source):
        return None
    target = fs._strip_protocol(path2)
    if path2.endswith("/") or (target and fs.isdir(target) and not fs.isfile(target)):
        target = f"{target}/{source.rpartition('/')[2]}" if target else source
    return str(target)


class AsyncGridFSFileSystem(_Common, AsyncFileSystem, metaclass=_CachedByIdentity):  # type: ignore[misc]
    """A GridFS bucket as fsspec's ``AsyncFileSystem``, on the async API.

    The storage options are ``GridFSFileSystem``'s; ``client`` is a PyMongo
    ``AsyncMongoClient`` and ``store`` a ``gridfield.AsyncFileStore``. With
    ``asynchronous=True`` (inside a running event loop) await its ``_``-methods
    (``await fs._cat_file(path)``); otherwise its sync methods run them on fsspec's loop.
    """

    cachable = True

    def __init__(
        self,
        uri: str | None = None,
        *,
        client: Any = None,
        database: str | None = None,
        bucket: str = "fs",
        store: AsyncFileStore | None = None,
        chunk_size: int | None = None,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        expire_after: timedelta | float | None = None,
        encryption: Encryption | None = None,
        default_block_size: int = DEFAULT_BLOCK_SIZE,
        default_cache_type: str = "none",
        instance_of: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if store is not None and encryption is not None:
            raise ValueError(
                "gridfs: give encryption= to the store you pass (store= brings its own)"
            )
        if store is None:
            if client is None:
                if uri is None:
                    raise ValueError("gridfs: give uri= (a MongoDB URI) or client= or store=")
                from pymongo import AsyncMongoClient

                client = AsyncMongoClient(uri)
            store = AsyncFileStore(
                _database(client, database),
                bucket,
                **_store_options(
                    bucket, chunk_size, max_size, content_types, expire_after, encryption
                ),
            )
        self.files = AsyncGridFiles(store)
        self.default_block_size = default_block_size
        self.default_cache_type = default_cache_type

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return sync(self.loop, method, *args, **kwargs)

    # -- listing ---------------------------------------------------------------------------

    async def _ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        entries = await self.files.ls(self._strip_protocol(path))
        return entries if detail else [entry["name"] for entry in entries]

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.files.info(self._strip_protocol(path))

    async def _find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        **kwargs: Any,
    ) -> Any:
        found = await self.files.find(
            self._strip_protocol(path), maxdepth=maxdepth, withdirs=withdirs
        )
        return found if kwargs.get("detail") else sorted(found)

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        return bool(await self.files.exists(self._strip_protocol(path)))

    async def _revisions(self, path: str) -> list[dict[str, Any]]:
        return await self.files.revisions(self._strip_protocol(path))

    revisions = sync_wrapper(_revisions)

    async def _created(self, path: str) -> datetime | None:
        return await self.files.created(self._strip_protocol(path))

    created = sync_wrapper(_created)

    async def _modified(self, path: str) -> datetime | None:
        return await self.files.modified(self._strip_protocol(path))

    modified = sync_wrapper(_modified)

    async def _checksum(self, path: str) -> int:
        return _checksum(await self._info(path))

    checksum = sync_wrapper(_checksum)

    async def _ukey(self, path: str) -> str:
        return _version_key(await self._info(path))

    ukey = sync_wrapper(_ukey)

    async def _mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Nothing to do: a folder exists while a file's name starts with it."""

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Nothing to do: a folder exists while a file's name starts with it."""

    def rmdir(self, path: str) -> None:
        """Nothing to do: a folder goes with its last file."""

    # -- reading ---------------------------------------------------------------------------

    async def _cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        return await self.files.cat_file(self._strip_protocol(path), start, end)

    async def _cat_ranges(
        self,
        paths: list[str],
        starts: Any,
        ends: Any,
        max_gap: int | None = None,
        batch_size: int | None = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        starts, ends = _ranges(paths, starts, ends)
        return await self.files.cat_ranges(self._strip_protocol(list(paths)), starts, ends)

    async def _get_file(
        self, rpath: str, lpath: str, callback: Callback = DEFAULT_CALLBACK, **kwargs: Any
    ) -> None:
        path = self._strip_protocol(rpath)
        if await self._isdir(path):
            os.makedirs(lpath, exist_ok=True)
            return
        await self.files.get_file(path, os.fspath(lpath), _progress(callback))

    # -- writing ---------------------------------------------------------------------------

    async def _pipe_file(
        self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        await self.files.pipe_file(
            self._strip_protocol(path),
            value,
            exclusive=mode == "create",
            content_type=kwargs.get("content_type"),
            metadata=kwargs.get("metadata"),
        )

    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Callback = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        if os.path.isdir(lpath):
            return  # folders exist only as name prefixes
        path = self._strip_protocol(rpath)
        if mode == "create":
            await self.files.check_new(path)
        await self.files.put_file(
            os.fspath(lpath),
            path,
            _progress(callback),
            content_type=kwargs.get("content_type"),
            metadata=kwargs.get("metadata"),
        )

    async def _cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        try:
            await self.files.cp_file(self._strip_protocol(path1), self._strip_protocol(path2))
        except IsADirectoryError:
            return  # a folder: it exists once a file is copied into it

    # -- changing --------------------------------------------------------------------------

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        await self.files.rm_file(self._strip_protocol(path))

    async def _rm(
        self, path: Any, recursive: bool = False, maxdepth: int | None = None, **kwargs: Any
    ) -> None:
        paths = await self._expand_path(path, recursive=recursive, maxdepth=maxdepth)
        for name in reversed(paths):
            try:
                await self.files.rm_file(name)
            except (IsADirectoryError, FileNotFoundError):
                continue  # a folder: it went with its last file

    async def _mv(
        self,
        path1: Any,
        path2: Any,
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        target = await _rename_target_async(self, path1, path2)
        if target is None:
            await self._copy(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)
            await self._rm(path1, recursive=recursive)
        else:
            await self.files.mv_file(self._strip_protocol(path1), target)

    mv = sync_wrapper(_mv)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> GridFSFile:
        return GridFSFile(
            self,
            path,
            mode,
            block_size=block_size or self.default_block_size,
            autocommit=autocommit,
            cache_type=kwargs.pop("cache_type", self.default_cache_type),
            cache_options=cache_options,
            **kwargs,
        )

    async def open_async(self, path: str, mode: str = "rb", **kwargs: Any) -> AsyncGridFSFile:
        """An opened file for async code: ``await f.read(n)``, ``await f.write(data)``,
        ``async with``; as ``open()`` but without fsspec's caches or compression."""
        if "b" not in mode or kwargs.get("compression"):
            raise ValueError("open_async opens files in binary mode, without compression")
        path = self._strip_protocol(path)
        kwargs.setdefault("block_size", self.default_block_size)
        if mode == "rb":
            reader = await self.files.open_reader(path)
            return AsyncGridFSFile(self, path, mode, reader=reader, **kwargs)
        if mode == "xb":
            await self.files.check_new(path)
        elif mode != "wb":
            raise NotImplementedError("gridfs files cannot be appended to: write a new one")
        return AsyncGridFSFile(self, path, "wb", **kwargs)


async def _rename_target_async(fs: AsyncGridFSFileSystem, path1: Any, path2: Any) -> str | None:
    if not isinstance(path1, str) or not isinstance(path2, str):
        return None
    source = fs._strip_protocol(path1)
    if any(char in source for char in "*?[") or not await fs._isfile(source):
        return None
    target = fs._strip_protocol(path2)
    if path2.endswith("/") or (target and await fs._isdir(target) and not await fs._isfile(target)):
        target = f"{target}/{source.rpartition('/')[2]}" if target else source
    return str(target)


class GridFSFile(AbstractBufferedFile):  # type: ignore[misc]
    """An opened GridFS file of either filesystem.

    Reading (``rb``): seekable; a sequential read continues one chunk cursor and reads
    ``block_size`` ahead, any other read fetches only the chunks it touches; fsspec's
    ``cache_type`` options work over that. Writing (``wb``, ``xb``): bytes stream to the
    server as they come; the name shows the new revision only once the file closes, and
    leaving a ``with`` block by an exception, ``discard()``, or dropping an unclosed file
    removes what was sent.
    """

    def __init__(self, fs: Any, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._upload: Any = None
        self._options = {
            "content_type": kwargs.pop("content_type", None),
            "metadata": kwargs.pop("metadata", None),
        }
        path = fs._strip_protocol(path)
        if mode == "rb":
            self._reader = fs._call(fs.files.open_reader, path)
            self._window: tuple[int, bytes] = (0, b"")
            self._next = 0
            self._streaming = True
            self._details = None
            kwargs["size"] = self._reader.length
        elif mode == "xb":
            fs._call(fs.files.check_new, path)
        elif mode == "ab":
            raise NotImplementedError("gridfs files cannot be appended to: write a new one")
        super().__init__(fs, path, mode, **kwargs)

    @property
    def details(self) -> dict[str, Any]:
        if self._details is None:
            self._details = self.fs.info(self.path)
        return self._details  # type: ignore[return-value]

    @details.setter
    def details(self, value: dict[str, Any]) -> None:
        self._details = value  # type: ignore[assignment]
        self.size = value["size"]

    # -- reading ---------------------------------------------------------------------------

    def _fetch_range(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        if start >= end:
            return b""
        first, data = self._window
        held_end = first + len(data)
        if first <= start and end <= held_end:
            return data[start - first : end - first]
        if first <= start < held_end:
            return data[start - first :] + self._fetch_range(held_end, end)
        sequential = start == self._next and (self._streaming or start == 0)
        if sequential:
            stop = min(self.size, max(end, start + self.blocksize))
            got = self.fs._call(self.fs.files.read_span, self._reader, start, stop, in_order=True)
            self._window = (start, got)
        else:
            size = self._reader.chunk_size
            first = start // size * size
            stop = min(self.size, -(-end // size) * size)
            got = self.fs._call(self.fs.files.read_span, self._reader, first, stop, in_order=False)
            self._window = (first, got)
        # Two reads in a row, each where the last stopped: a reader going through in order.
        self._streaming = sequential or start == self._next
        self._next = self._window[0] + len(self._window[1])
        first, data = self._window
        return data[start - first : end - first]

    # -- writing ---------------------------------------------------------------------------

    def _initiate_upload(self) -> None:
        self._upload = self.fs.files.open_writer(self.path, **self._options)

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if data:
            self.fs._call(self._upload.write, data)
        if final and self.autocommit:
            self.commit()
        return True

    def commit(self) -> None:
        """Close the upload: the name now shows the new revision."""
        if self._upload is not None:
            self.fs._call(self._upload.close)

    def discard(self) -> None:
        """Remove what was sent: the name shows no new revision."""
        upload, self._upload = self._upload, None
        if upload is not None:
            self.fs._call(upload.abort)
        self.closed = True

    def close(self) -> None:
        try:
            super().close()
        finally:
            reader = getattr(self, "_reader", None)
            if reader is not None:
                self._reader = None
                self.fs._call(reader.close)

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is not None and self.writable():
            self.discard()
        else:
            self.close()

    def __del__(self) -> None:
        if not hasattr(self, "mode"):
            return  # refused while being opened: nothing was started
        if self.writable():
            try:
                self.discard()
            except Exception:
                pass
        elif not self.closed:
            self.close()


class AsyncGridFSFile(AbstractAsyncStreamedFile):  # type: ignore[misc]
    """A GridFS file opened by ``AsyncGridFSFileSystem.open_async``.

    Reading: ``await f.read(n)`` after ``f.seek(pos)``; reads in order continue one chunk
    cursor, any other fetches only the chunks it touches. Writing: bytes go to the server a
    block at a time; the name shows the new revision once ``await f.close()`` (or the end of
    ``async with``) returns, and leaving ``async with`` by an exception or
    ``await f.discard()`` removes what was sent.
    """

    def __init__(self, fs: Any, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._upload: Any = None
        self._reader: Any = kwargs.pop("reader", None)
        self._options = {
            "content_type": kwargs.pop("content_type", None),
            "metadata": kwargs.pop("metadata", None),
        }
        if self._reader is not None:
            kwargs["size"] = self._reader.length
        super().__init__(fs, path, mode, **kwargs)

    async def _fetch_range(self, start: int, end: int) -> bytes:
        data: bytes = await self.fs.files.read_span(
            self._reader, start, min(end, self.size), in_order=True
        )
        return data

    async def _initiate_upload(self) -> None:
        self._upload = self.fs.files.open_writer(self.path, **self._options)

    async def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if data:
            await self._upload.write(data)
        if final:
            await self._upload.close()
        return True

    async def discard(self) -> None:
        """Remove what was sent: the name shows no new revision."""
        upload, self._upload = self._upload, None
        if upload is not None:
            await upload.abort()
        self.closed = True

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            reader, self._reader = self._reader, None
            if reader is not None:
                await reader.close()

    async def __aexit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is not None and self.writable():
            await self.discard()
        else:
            await self.close()

    def __del__(self) -> None:
        """Nothing: closing needs the event loop (an unclosed upload is never completed)."""
