"""A bucket seen as a filesystem: what ``gridfield.fsspec`` needs, through the store.

Paths are filenames, folders are name prefixes split at ``/`` (``core.fs_paths``); a name's
newest revision is what a path reads unless it names another. Every byte goes through the
store's public streams, so its limits, content types, expiry and chunk checks hold here as
for any other way in or out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..core.errors import NoFile
from ..core.files_document import FileInfo
from ..core.folders import SEPARATOR, under_filter
from ..core.fs_paths import (
    Version,
    absolute_range,
    check_path,
    directory_entry,
    file_entry,
    listing,
    newest_per_name,
    split_version,
)
from .download import AsyncDownloadStream
from .interfaces import STORE_CLASS
from .store import AsyncFileStore
from .upload import AsyncUploadStream

__all__ = ["AsyncGridFiles"]

Progress = Callable[[int, int | None], None]
"""``(bytes done, total bytes or None)``, as the store's ``on_progress`` is called."""

_LOCAL_BLOCK = 1024 * 1024  # bytes read from a local file at a time by put_file


def _names(store: AsyncFileStore, name: str) -> str:
    return f"{name!r} in {store.bucket.files.name}"


class AsyncGridFiles:
    """The files of one bucket by path: listings, reads, writes, renames and deletes, each
    a few store calls (see ``gridfield.fsspec`` for the filesystem built on it)."""

    def __init__(self, store: AsyncFileStore) -> None:
        if not isinstance(store, AsyncFileStore):
            raise TypeError(f"expected {STORE_CLASS} as the store, not {type(store).__name__}")
        self.store = store

    def __repr__(self) -> str:
        return f"<{type(self).__name__} over {self.store!r}>"

    # -- finding ---------------------------------------------------------------------------

    def _under(self, folder: str) -> Mapping[str, Any]:
        return under_filter(folder + SEPARATOR if folder else "")

    async def _newest_under(self, folder: str) -> dict[str, FileInfo]:
        """The newest revision of every name under ``folder`` (``""``: the whole bucket),
        from one query on the files collection."""
        infos = [info async for info in self.store.find(self._under(folder))]
        return newest_per_name(infos)

    async def _resolve(self, name: str, version: Version) -> FileInfo:
        """The stored file a path means; FileNotFoundError (IsADirectoryError for a folder)
        when there is none."""
        if not name:
            raise IsADirectoryError(f"the top of {self.store.bucket.files.name} is a folder")
        if version.version_id is not None:
            async for info in self.store.find_by_name(name):
                if str(info.file_id) == version.version_id:
                    return info
            raise FileNotFoundError(
                f"no revision with version_id {version.version_id!r} of the file named "
                f"{_names(self.store, name)}"
            )
        revision = -1 if version.revision is None else version.revision
        try:
            return await self.store.get_info_by_name(name, revision)
        except NoFile as exc:
            if version.newest and await self._is_folder(name):
                raise IsADirectoryError(
                    f"{name!r} is a folder in {self.store.bucket.files.name}, not a file"
                ) from None
            raise FileNotFoundError(str(exc)) from None

    async def _is_folder(self, name: str) -> bool:
        """Whether some file's name starts with ``name/`` (one query)."""
        if not name:
            return True
        async for _ in self.store.find(self._under(name), limit=1):
            return True
        return False

    async def info(self, path: str) -> dict[str, Any]:
        """The entry of a file (its newest revision, or the one the path names) or a folder;
        FileNotFoundError if neither."""
        name, version = split_version(path)
        name = check_path(name)
        if not name:
            return directory_entry("")
        try:
            info = await self._resolve(name, version)
        except IsADirectoryError:
            return directory_entry(name)
        return file_entry(name, info)

    async def ls(self, path: str) -> list[dict[str, Any]]:
        """The entries directly inside a folder (a file's own entry for a file's path);
        FileNotFoundError if there is neither."""
        name = check_path(path)
        files = await self._newest_under(name)
        if name and not files:
            return [await self.info(name)]  # not a folder: a file, or nothing
        return listing(name, files)

    async def find(
        self, path: str, *, maxdepth: int | None = None, withdirs: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Every file under a folder (with ``withdirs``, its folders too), or the file a path
        names, by name; ``maxdepth`` counts levels below ``path`` (1: directly inside)."""
        name = check_path(path)
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        found: dict[str, dict[str, Any]] = {}
        if name:
            try:
                entry = await self.info(name)
            except FileNotFoundError:
                return found
            if entry["type"] == "file":
                found[name] = entry
        files = await self._newest_under(name)
        prefix = name + SEPARATOR if name else ""
        for stored, info in files.items():
            rest = stored[len(prefix) :].split(SEPARATOR)
            if "" in rest:
                continue  # "a//b": written by another tool, no path names it
            if maxdepth is not None and len(rest) > maxdepth:
                if withdirs:
                    rest = rest[:maxdepth]
                    found.setdefault(prefix + "/".join(rest), directory_entry(""))
                continue
            found[stored] = file_entry(stored, info)
            if withdirs:
                for depth in range(1, len(rest)):
                    folder = prefix + SEPARATOR.join(rest[:depth])
                    found.setdefault(folder, directory_entry(folder))
        for key, entry in found.items():
            entry["name"] = key
        if withdirs and name and files and name not in found:
            found[name] = directory_entry(name)
        return {key: found[key] for key in sorted(found)}

    async def exists(self, path: str) -> bool:
        """Whether a path names a file (or the revision it names) or a folder."""
        try:
            await self.info(path)
        except FileNotFoundError:
            return False
        return True

    async def revisions(self, path: str) -> list[dict[str, Any]]:
        """Every revision of the file a path names, oldest first, each entry with its
        ``revision`` number and ``version_id``; FileNotFoundError if there is none."""
        name = check_path(path)
        infos = [info async for info in self.store.find_by_name(name)] if name else []
        if not infos:
            raise FileNotFoundError(f"no file named {_names(self.store, name)}")
        return [file_entry(name, info, revision) for revision, info in enumerate(infos)]

    async def created(self, path: str) -> datetime | None:
        """When the file a path names was first stored (its original revision's upload)."""
        name = check_path(path)
        try:
            info = await self.store.get_info_by_name(name, 0) if name else None
        except NoFile as exc:
            raise FileNotFoundError(str(exc)) from None
        if info is None:
            raise IsADirectoryError(f"the top of {self.store.bucket.files.name} is a folder")
        return info.upload_date

    async def modified(self, path: str) -> datetime | None:
        """When the newest revision (or the one the path names) was stored."""
        name, version = split_version(path)
        info = await self._resolve(check_path(name), version)
        return info.upload_date

    # -- reading ---------------------------------------------------------------------------

    async def open_reader(self, path: str) -> AsyncDownloadStream:
        """A read stream over the file a path names (one query for its files document)."""
        name, version = split_version(path)
        name = check_path(name)
        if version.version_id is not None or not name:
            info = await self._resolve(name, version)
            return await self.store.open_download(info.file_id)
        revision = -1 if version.revision is None else version.revision
        try:
            return await self.store.open_download_by_name(name, revision)
        except NoFile:
            pass
        raise await self._missing(name, version)

    async def _missing(self, name: str, version: Version) -> OSError:
        """The error for a path that names no stored file: a folder's or a missing one's."""
        try:
            await self._resolve(name, version)
        except OSError as exc:
            return exc
        return FileNotFoundError(f"the file named {_names(self.store, name)} went meanwhile")

    async def read_span(
        self, stream: AsyncDownloadStream, start: int, end: int, *, in_order: bool
    ) -> bytes:
        """The bytes ``[start, end)`` of an open stream: ``in_order`` continues its forward
        cursor (one query for a whole sequential read), otherwise only the chunks holding
        them are fetched."""
        if not in_order:
            return await stream.read_range(start, end)
        stream.seek(start)
        return await stream.read(end - start)

    async def cat_file(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes ``[start, end)`` of a file (fsspec's conventions: None for its ends,
        negative from its end), fetching only the chunks that hold them; the whole file is
        checked against its SHA-256."""
        async with await self.open_reader(path) as stream:
            first, last = absolute_range(start, end, stream.length)
            if first == 0 and last == stream.length:
                return await stream.read()
            return await stream.read_range(first, last)

    async def cat_ranges(
        self,
        paths: Sequence[str],
        starts: Sequence[int | None],
        ends: Sequence[int | None],
    ) -> list[bytes]:
        """``cat_file`` of each (path, start, end); a file is looked up once for all its
        ranges, and each range fetches only its own chunks."""
        if not len(paths) == len(starts) == len(ends):
            raise ValueError("paths, starts and ends must be as long as one another")
        streams: dict[str, AsyncDownloadStream] = {}
        try:
            out = []
            for path, start, end in zip(paths, starts, ends, strict=True):
                stream = streams.get(path)
                if stream is None:
                    stream = streams[path] = await self.open_reader(path)
                first, last = absolute_range(start, end, stream.length)
                out.append(await stream.read_range(first, last))
            return out
        finally:
            for stream in streams.values():
                await stream.close()

    async def get_file(self, path: str, local_path: str, on_progress: Progress | None) -> int:
        """Write a file's bytes to ``local_path``, a chunk at a time; nothing stays there
        if the read fails."""
        stream = await self.open_reader(path)
        try:
            with open(local_path, "wb") as target:
                if on_progress is not None:
                    on_progress(0, stream.length)
                done = 0
                async for piece in stream:
                    target.write(piece)
                    done += len(piece)
                    if on_progress is not None:
                        on_progress(done, stream.length)
        except BaseException:
            await stream.close()
            try:
                os.remove(local_path)
            except OSError:
                pass
            raise
        await stream.close()
        return done

    # -- writing ---------------------------------------------------------------------------

    def _writable_name(self, path: str) -> str:
        name, version = split_version(path)
        if version != Version():
            raise ValueError(f"gridfs path {path!r}: a new file cannot name a revision")
        name = check_path(name)
        if not name:
            raise IsADirectoryError(f"the top of {self.store.bucket.files.name} is a folder")
        return name

    async def check_new(self, path: str) -> None:
        """FileExistsError if a file has the name ``path`` (an exclusive create)."""
        name = self._writable_name(path)
        if await self.store.exists_by_name(name):
            raise FileExistsError(f"a file is named {_names(self.store, name)}")

    def open_writer(
        self,
        path: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        on_progress: Progress | None = None,
        total: int | None = None,
    ) -> AsyncUploadStream:
        """An upload stream for a new revision of ``path``: the name shows it only once the
        stream closes, and an abort leaves nothing."""
        return self.store.open_upload(
            filename=self._writable_name(path),
            content_type=content_type,
            metadata=metadata,
            on_progress=on_progress,
            total=total,
        )

    async def pipe_file(
        self,
        path: str,
        data: bytes,
        *,
        exclusive: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store ``data`` as the newest revision of ``path`` (with ``exclusive``, only if no
        file has that name: FileExistsError otherwise); return its entry."""
        if exclusive:
            await self.check_new(path)
        stream = self.open_writer(path, content_type=content_type, metadata=metadata)
        async with stream:
            await stream.write(data)
        assert stream.info is not None  # closed without error
        return file_entry(self._writable_name(path), stream.info)

    async def put_file(
        self,
        local_path: str,
        path: str,
        on_progress: Progress | None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store the local file ``local_path`` as the newest revision of ``path``, streaming."""
        total = os.path.getsize(local_path)
        stream = self.open_writer(
            path,
            content_type=content_type,
            metadata=metadata,
            on_progress=on_progress,
            total=total,
        )
        async with stream:
            with open(local_path, "rb") as source:
                while block := source.read(_LOCAL_BLOCK):
                    await stream.write(block)
        if on_progress is not None and total == 0:
            on_progress(0, 0)
        assert stream.info is not None
        return file_entry(self._writable_name(path), stream.info)

    async def cp_file(self, source: str, target: str) -> dict[str, Any]:
        """Copy the file ``source`` names (its newest revision, or the one named) to a new
        revision of ``target``, with its content type and metadata, a chunk at a time."""
        reader = await self.open_reader(source)
        async with reader:
            metadata = {k: v for k, v in reader.info.metadata.items() if k != "contentType"}
            stream = self.open_writer(
                target, content_type=reader.info.content_type, metadata=metadata or None
            )
            async with stream:
                async for piece in reader:
                    await stream.write(piece)
        assert stream.info is not None
        return file_entry(self._writable_name(target), stream.info)

    # -- changing --------------------------------------------------------------------------

    async def rm_file(self, path: str) -> int:
        """Delete every revision of the file a path names (only the named one when it
        names a revision); return how many went. FileNotFoundError if none."""
        name, version = split_version(path)
        name = check_path(name)
        if version == Version():
            if not name:
                raise IsADirectoryError(f"the top of {self.store.bucket.files.name} is a folder")
            try:
                return await self.store.delete_by_name(name)
            except NoFile as exc:
                if await self._is_folder(name):
                    raise IsADirectoryError(
                        f"{name!r} is a folder in {self.store.bucket.files.name}: remove it with "
                        "recursive=True"
                    ) from None
                raise FileNotFoundError(str(exc)) from None
        info = await self._resolve(name, version)
        try:
            await self.store.delete(info.file_id)
        except NoFile as exc:
            raise FileNotFoundError(str(exc)) from None
        return 1

    async def rm_under(self, path: str) -> int:
        """Delete every revision of every file under a folder; return how many went."""
        name = check_path(path)
        names = sorted(await self._newest_under(name))
        deleted = 0
        for stored in names:
            try:
                deleted += await self.store.delete_by_name(stored)
            except NoFile:
                continue  # removed meanwhile by someone else: gone as asked
        return deleted

    async def mv_file(self, source: str, target: str) -> int:
        """Rename every revision of the file ``source`` names to ``target``; the revisions
        ``target`` had before are deleted once the rename is done, so ``target`` then holds
        ``source``'s history. Return how many revisions moved."""
        name = check_path(source)
        new = self._writable_name(target)
        if not name:
            raise IsADirectoryError(f"the top of {self.store.bucket.files.name} is a folder")
        if name == new:
            if not await self.store.exists_by_name(name):
                raise FileNotFoundError(f"no file named {_names(self.store, name)}")
            return 0
        replaced = [info.file_id async for info in self.store.find_by_name(new)]
        try:
            moved = await self.store.rename_by_name(name, new)
        except NoFile as exc:
            if await self._is_folder(name):
                raise IsADirectoryError(f"{name!r} is a folder: move it recursively") from None
            raise FileNotFoundError(str(exc)) from None
        for file_id in replaced:
            try:
                await self.store.delete(file_id)
            except NoFile:
                continue
        return moved
