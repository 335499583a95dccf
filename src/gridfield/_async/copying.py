"""Copying files between GridFS buckets, local directories and fsspec URLs, through the
store's public streams: every file verified against its SHA-256, a killed copy resumed by
running it again.

Where progress is kept: in the destination itself. A bucket shows a file only once its
files document is written, after its chunks; a directory or fsspec folder only once the
file is renamed into place (or its object upload completes). So a name that holds the
first revisions of the source with the same SHA-256 is done as far as it goes, and a run
again copies only the rest. A copy into a bucket gives each file an id derived from the
source file and the destination name: the run after a kill meets the chunks the killed
upload left under that id, removes them and writes the file again. A folder keeps what a
path cannot hold (content type, upload date, metadata, older revisions) in ``.gridfield/``
beside the files (``gridfield.core.copy_plan``), and a copy back into a bucket reads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from pymongo.errors import PyMongoError

from .._twins import run_off_loop, work_through
from ..core.content_types import guess_content_type
from ..core.copy_plan import (
    MANIFEST_DIR,
    Action,
    CopyOptions,
    CopyRefused,
    CopyReport,
    Outcome,
    SourceFile,
    as_utc,
    copied_file_id,
    decide,
    destination_names,
    dump_manifest,
    from_timestamp,
    in_order_dates,
    manifest_path,
    manifest_record,
    read_manifest,
    revision_path,
    timestamp,
)
from ..core.errors import FileExists, GridFSError, NoFile
from ..core.files_document import FileInfo
from ..core.folders import under_filter
from ..core.revisions import OLDEST_FIRST
from .copy_trees import READ_BLOCK, Tree, Writer, open_tree
from .store import AsyncFileStore

__all__ = ["AsyncBucketSide", "AsyncTreeSide", "copy_files", "side_of"]

ByteSource = Callable[[], AsyncIterator[bytes]]
"""Opens the bytes of one source file again (a retried write starts from the start)."""
Check = Callable[[], None]
"""Called once every byte has passed, before the copy is made visible: raises to refuse."""


class CopyFailed(Exception):
    """One file could not be copied or verified; the message says which and why."""


class AsyncBucketSide:
    """A GridFS bucket as a copy's source or destination: the files whose names start with
    ``prefix`` (taken off the names as a source, put on them as a destination)."""

    paths = False

    def __init__(self, store: AsyncFileStore, prefix: str = "") -> None:
        if not isinstance(store, AsyncFileStore):
            raise TypeError(f"store must be a file store, not {type(store).__name__}")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
        self.store = store
        self.prefix = prefix
        self.label = f"{store.db.name}.{store.collection_name}" + (f":{prefix}" if prefix else "")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    async def check(self, *, write: bool) -> None:
        """Fail now, with CopyRefused, when the bucket cannot be reached."""
        try:
            async for _ in self.store.find(limit=1):
                break
        except PyMongoError as exc:
            # The driver's text goes on with its timeouts and topology: the cause comes first.
            cause = str(exc).split(" (configured timeouts")[0].split(", Timeout:")[0]
            raise CopyRefused(f"{self.label} cannot be reached: {cause}") from exc

    async def list_files(self, *, newest_only: bool) -> list[SourceFile]:
        """The files under the prefix, each name's revisions oldest first."""
        by_name: dict[str, list[FileInfo]] = {}
        async for info in self.store.find(under_filter(self.prefix), sort=list(OLDEST_FIRST)):
            if info.filename is not None:
                by_name.setdefault(info.filename, []).append(info)
        files: list[SourceFile] = []
        for name, infos in by_name.items():
            chosen = infos[-1:] if newest_only else infos
            for info in chosen:
                files.append(
                    SourceFile(
                        name=name[len(self.prefix) :],
                        revision=infos.index(info),
                        revisions=len(infos),
                        length=info.length,
                        sha256=info.sha256,
                        content_type=info.content_type,
                        upload_date=info.upload_date,
                        metadata=info.metadata,
                        key=f"{self.label}\x00{info.file_id!r}",
                        handle=info.file_id,
                        aliases=info.aliases,
                        extra=info.extra,
                    )
                )
        return files

    async def pieces(self, file: SourceFile) -> AsyncIterator[bytes]:
        """The bytes of a source file, a chunk at a time, every chunk checked."""
        stream = await self.store.open_download(file.handle)
        async for piece in stream:
            yield piece

    async def present(self, name: str, count: int) -> list[str | None]:
        """The SHA-256 of each revision of ``name`` here, oldest first (computed by reading
        a file another writer stored without one)."""
        return [await self._sha256(info) async for info in self.store.find(filename=name)]

    async def _sha256(self, info: FileInfo) -> str:
        """The SHA-256 a file keeps, or that of its bytes read back (a file another writer
        stored without one, or an encrypted file: decrypted, every chunk's tag checked)."""
        if info.sha256 is not None:
            return info.sha256
        digest = hashlib.sha256()
        stream = await self.store.open_download(info.file_id)
        async for piece in stream:
            digest.update(piece)
        return digest.hexdigest()

    async def write(
        self,
        name: str,
        file: SourceFile,
        position: int,
        count: int,
        source: ByteSource,
        check: Check,
        file_id: Any,
    ) -> str:
        """Store the file under ``name`` with the id ``file_id``; return its SHA-256.

        Chunks a killed copy left under that id (no files document) are removed and the
        upload made again; a file under that id that is already whole (a run killed after
        storing it, before recording the rest) is taken as it is when its name and bytes are
        this file's."""
        try:
            return await self._upload(name, file, source, check, file_id)
        except FileExists:
            whole = [
                info async for info in self.store.find({"_id": {"$eq": file_id}}, expired=True)
            ]
            if whole:
                info = whole[0]
                if info.filename != name:
                    raise
                async for _ in source():  # the source's checksum, to compare with it
                    pass
                check()
                return await self._sha256(info)
            try:
                await self.store.delete(file_id)  # no files document: removes the chunks
            except NoFile:
                pass
            return await self._upload(name, file, source, check, file_id)

    async def _upload(
        self, name: str, file: SourceFile, source: ByteSource, check: Check, file_id: Any
    ) -> str:
        extra = {k: v for k, v in file.extra.items() if k != "contentType"}
        stream = self.store.open_upload(
            filename=name,
            content_type=file.content_type,
            metadata=file.metadata,
            file_id=file_id,
            aliases=list(file.aliases) if file.aliases is not None else None,
            extra=extra,
            upload_date=as_utc(file.upload_date),
        )
        # An encrypted file stores no SHA-256 (it would let whoever holds the database
        # confirm a guess of its bytes): the digest is then that of the clear bytes the
        # encrypting writer took, as a clear file's is of the bytes its writer took.
        taken = None if self.store.encryption is None else hashlib.sha256()
        async with stream:
            async for piece in source():
                if taken is not None:
                    taken.update(piece)
                await stream.write(piece)
            check()  # raising here aborts the upload: nothing becomes visible
        assert stream.info is not None
        if stream.info.sha256 is not None:
            return stream.info.sha256
        assert taken is not None  # a clear upload of the copy keeps its checksum
        return taken.hexdigest()

    async def keep_only(self, name: str, keep: list[Any]) -> None:
        """Delete the revisions of ``name`` other than the files ``keep`` (ids)."""
        async for info in self.store.find(filename=name):
            if info.file_id not in keep:
                try:
                    await self.store.delete(info.file_id)
                except NoFile:
                    pass

    async def delete(self, file: SourceFile) -> None:
        """Delete a source file (its copy is verified)."""
        await self.store.delete(file.handle)

    async def finish_name(self, name: str, records: list[dict[str, Any]]) -> None:
        """Nothing to record beside a bucket's files: its files documents hold it all."""

    async def forget_name(self, name: str) -> None:
        """Nothing to forget once a name's files are deleted from a bucket."""

    async def finish(self) -> None:
        """Nothing left to tidy in a bucket: a failed upload removes its own chunks."""


class AsyncTreeSide:
    """A local directory or an fsspec folder as a copy's source or destination; what a
    path cannot hold is kept in ``.gridfield/`` at its root."""

    paths = True
    prefix = ""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.label = tree.url

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    async def check(self, *, write: bool) -> None:
        """Fail now, with CopyRefused, when the folder cannot be written (or read)."""
        try:
            if write:
                await run_off_loop(self.tree.check_writable)
            else:
                await run_off_loop(lambda: list(self.tree.walk(MANIFEST_DIR + "/files")))
        except OSError as exc:
            raise CopyRefused(f"{self.label} cannot be used: {exc}") from exc

    async def list_files(self, *, newest_only: bool) -> list[SourceFile]:
        """The files under the folder: those a manifest describes with what it says (and
        their older revisions), every other one as a file of one revision."""
        return await run_off_loop(self._scan, newest_only)

    def _scan(self, newest_only: bool) -> list[SourceFile]:
        sizes = {path: (size, mtime) for path, size, mtime in self.tree.walk("")}
        described: set[str] = set()
        files: list[SourceFile] = []
        for path, _, _ in self.tree.walk(MANIFEST_DIR + "/files"):
            data = self.tree.read_small(path)
            if data is None:
                continue
            name, records = read_manifest(data, path)
            for record in records:
                described.add(record["path"])
            if not records or records[-1]["path"] not in sizes:
                continue  # its newest is gone from the folder: a manifest left behind
            chosen = records[-1:] if newest_only else records
            for record in chosen:
                stored = self.tree.size(record["path"])
                if stored is None:
                    raise CopyRefused(f"{path} names {record['path']!r}, which is missing")
                files.append(
                    SourceFile(
                        name=name,
                        revision=records.index(record),
                        revisions=len(records),
                        length=stored,
                        sha256=record.get("sha256"),
                        content_type=record.get("contentType"),
                        upload_date=record.get("uploadDate"),
                        metadata=record.get("metadata") or {},
                        key=f"{self.label}\x00{record['path']}",
                        handle=record["path"],
                        aliases=record.get("aliases"),
                        extra=record.get("extra") or {},
                    )
                )
        for path, (size, mtime) in sizes.items():
            if path in described:
                continue
            files.append(
                SourceFile(
                    name=path,
                    revision=0,
                    revisions=1,
                    length=size,
                    sha256=None,
                    content_type=guess_content_type(path),
                    upload_date=from_timestamp(mtime),
                    metadata={},
                    key=f"{self.label}\x00{path}\x00{size}\x00{mtime}",
                    handle=path,
                )
            )
        return files

    async def pieces(self, file: SourceFile) -> AsyncIterator[bytes]:
        """The bytes of a file, a block at a time."""
        reader = await run_off_loop(self.tree.open_read, file.handle)
        try:
            while True:
                block = await run_off_loop(reader.read, READ_BLOCK)
                if not block:
                    return
                yield block
        finally:
            await run_off_loop(reader.close)

    async def present(self, name: str, count: int) -> list[str | None]:
        """The SHA-256 of what the folder holds at the paths of ``name``'s ``count``
        revisions, oldest first, up to the first missing one; a file at ``name`` alone
        (with more revisions wanted) counts as one other file."""
        digests: list[str | None] = []
        for position in range(count):
            digest = await self._digest(revision_path(name, position, count))
            if digest is None:
                break
            digests.append(digest)
        if not digests and count > 1:
            newest = await self._digest(name)
            if newest is not None:
                digests.append(newest)
        return digests

    async def _digest(self, path: str) -> str | None:
        if await run_off_loop(self.tree.size, path) is None:
            return None
        digest = hashlib.sha256()
        reader = await run_off_loop(self.tree.open_read, path)
        try:
            while block := await run_off_loop(reader.read, READ_BLOCK):
                digest.update(block)
        finally:
            await run_off_loop(reader.close)
        return digest.hexdigest()

    async def write(
        self,
        name: str,
        file: SourceFile,
        position: int,
        count: int,
        source: ByteSource,
        check: Check,
        file_id: Any,
    ) -> str:
        """Write the file at its revision's path, whole or not at all; its upload date
        becomes the file's modification time."""
        path = revision_path(name, position, count)
        writer: Writer = await run_off_loop(self.tree.open_write, path)
        try:
            async for piece in source():
                await run_off_loop(writer.write, piece)
            check()
            written: str = await run_off_loop(writer.commit, timestamp(file.upload_date))
        except BaseException:
            await run_off_loop(writer.discard)
            raise
        return written

    async def keep_only(self, name: str, keep: list[Any]) -> None:
        """Nothing to delete: the copies took the paths of the files they replace."""

    async def delete(self, file: SourceFile) -> None:
        """Delete a source file (its copy is verified)."""
        await run_off_loop(self.tree.remove, file.handle)

    async def finish_name(self, name: str, records: list[dict[str, Any]]) -> None:
        """Write the manifest of ``name``: what its revisions' paths cannot hold."""
        await run_off_loop(self.tree.write_small, manifest_path(name), dump_manifest(name, records))

    async def forget_name(self, name: str) -> None:
        """Remove the manifest of ``name`` once its files are deleted."""
        await run_off_loop(self.tree.remove, manifest_path(name))

    async def finish(self) -> None:
        """Remove what killed copies left half written under temporary names."""
        await run_off_loop(self.tree.clear_partial)


Side = AsyncBucketSide | AsyncTreeSide


def side_of(location: Any, prefix: str = "", **storage_options: Any) -> Side:
    """A copy's side: a store (with an optional name ``prefix``), a local path, or any
    fsspec URL (``storage_options`` passed to its filesystem)."""
    if isinstance(location, (AsyncBucketSide, AsyncTreeSide)):
        return location
    if isinstance(location, AsyncFileStore):
        return AsyncBucketSide(location, prefix)
    if isinstance(location, str):
        return AsyncTreeSide(open_tree(location, storage_options or None))
    raise TypeError(
        "a copy's source or destination is a file store, a path or an fsspec "
        f"URL, not {type(location).__name__}"
    )


async def copy_files(
    source: Any,
    destination: Any,
    options: CopyOptions | None = None,
    *,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> CopyReport:
    """Copy every file of ``source`` to ``destination`` (each a store, a ``BucketSide`` for
    a store with a name prefix, a local path or an fsspec URL) and report what was done.

    Names keep their folders (``a/b.txt`` is the file ``b.txt`` in the folder ``a``); the
    content type, metadata, aliases and extra fields, and the upload date (a bucket's
    ``uploadDate``, a folder's modification time) go with the bytes. Each file is verified
    against the source's SHA-256 (computed as it streams where the source keeps none)
    before it is made visible. Encrypted files are read through the source store's keys
    and written through the destination store's encryption: an encrypted copy, which keeps
    no SHA-256, is verified by that of the clear bytes its writer took. A name the
    destination holds with the same bytes is skipped; with other bytes it is left and
    reported, or replaced with ``options.overwrite``. Run the same copy again after a
    failure or a kill: it copies only what is missing.

    Refused before anything is copied (CopyRefused): a name a path cannot hold, two source
    files taking one destination name, a destination that cannot be reached. A file that
    fails later is reported in its ``Outcome`` and the others go on. ``on_outcome`` hears of
    each file as it is done; ``on_bytes`` of the bytes as they pass.
    """
    options = CopyOptions() if options is None else options
    if not isinstance(options, CopyOptions):
        raise TypeError(f"options must be a CopyOptions, not {type(options).__name__}")
    source_side, destination_side = side_of(source), side_of(destination)
    await source_side.check(write=False)
    files = await source_side.list_files(newest_only=not options.all_revisions)
    named = destination_names(files, destination_side.prefix, paths=destination_side.paths)
    await destination_side.check(write=not options.dry_run)
    report = CopyReport(source_side.label, destination_side.label, dry_run=options.dry_run)
    copier = _Copier(source_side, destination_side, options, report, on_outcome, on_bytes)
    await work_through(list(named.items()), copier.copy_name, options.workers)
    if not options.dry_run:
        await destination_side.finish()
    return report


class _Copier:
    def __init__(
        self,
        source: Side,
        destination: Side,
        options: CopyOptions,
        report: CopyReport,
        on_outcome: Callable[[Outcome], None] | None,
        on_bytes: Callable[[int], None] | None,
    ) -> None:
        self.source = source
        self.destination = destination
        self.options = options
        self.report = report
        self.on_outcome = on_outcome
        self.on_bytes = on_bytes

    def _tell(self, outcome: Outcome) -> None:
        self.report.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    async def copy_name(self, item: tuple[str, list[SourceFile]]) -> None:
        name, files = item
        try:
            await self._copy_name(name, files)
        except (PyMongoError, OSError, ValueError, CopyFailed, GridFSError) as exc:
            # One name's failure is its own: reported, and the other names go on.
            done = {id(o.source) for o in self.report.outcomes}
            for file in files:
                if id(file) not in done:
                    self._tell(Outcome(file, name, Action.COPY, error=_why(exc)))

    async def _copy_name(self, name: str, files: list[SourceFile]) -> None:
        count = len(files)
        present = await self.destination.present(name, count)
        if not self.options.all_revisions:
            present = present[-1:]  # the newest is what a copy of the newest is compared with
        wanted: list[str | None] = [file.sha256 for file in files]
        if present:
            # Only a name the destination has already needs the source's checksums now.
            for position, file in enumerate(files[: len(present)]):
                if wanted[position] is None:
                    wanted[position] = await self._digest(file)
        action, done = decide(wanted, present, overwrite=self.options.overwrite)
        # A bucket keeps the source's dates, each revision's after the one before.
        dates = None if self.destination.paths else in_order_dates([f.upload_date for f in files])
        records: list[dict[str, Any]] = []
        kept: list[Any] = []
        for position, file in enumerate(files):
            path = revision_path(name, position, count)
            if action is Action.CONFLICT:
                self._tell(Outcome(file, name, action))
                continue
            if position < done:
                digest = wanted[position]
                assert digest is not None
                records.append(manifest_record(file, path=path, sha256=digest))
                outcome = Outcome(file, name, Action.SKIP, verified=True)
            else:
                outcome = Outcome(file, name, action)
                if not self.options.dry_run:
                    file_id = copied_file_id(file.key, self.destination.label, name, position)
                    stored = file
                    if dates is not None and dates[position] != as_utc(file.upload_date):
                        stored = dataclasses.replace(file, upload_date=dates[position])
                    digest = await self._copy_one(name, stored, position, count, file_id)
                    records.append(manifest_record(file, path=path, sha256=digest))
                    kept.append(file_id)
                    outcome.verified = True
            if outcome.verified and self.options.delete_source and not self.options.dry_run:
                await self.source.delete(file)
                outcome.deleted_source = True
            self._tell(outcome)
        if action is Action.CONFLICT or self.options.dry_run:
            return
        if action is Action.OVERWRITE:
            await self.destination.keep_only(name, kept)
        await self.destination.finish_name(name, records)
        if self.options.delete_source and len(files) == files[-1].revisions:
            await self.source.forget_name(files[0].name)

    async def _digest(self, file: SourceFile) -> str:
        digest = hashlib.sha256()
        async for piece in self.source.pieces(file):
            digest.update(piece)
        return digest.hexdigest()

    async def _copy_one(
        self, name: str, file: SourceFile, position: int, count: int, file_id: Any
    ) -> str:
        digest = hashlib.sha256()
        length = 0

        async def source_bytes() -> AsyncIterator[bytes]:
            nonlocal digest, length
            digest, length = hashlib.sha256(), 0  # a retried write starts again
            async for piece in self.source.pieces(file):
                digest.update(piece)
                length += len(piece)
                if self.on_bytes is not None:
                    self.on_bytes(len(piece))
                yield piece

        def check() -> None:
            got = digest.hexdigest()
            if file.sha256 is not None and got != file.sha256:
                raise CopyFailed(
                    f"{file.name!r}: the source's bytes have the SHA-256 {got}, not the "
                    f"{file.sha256} it records (changed or damaged): not copied"
                )
            if length != file.length:
                raise CopyFailed(
                    f"{file.name!r}: {length} bytes read, the source says {file.length} "
                    "(changed while copied?): not copied"
                )

        written = await self.destination.write(
            name, file, position, count, source_bytes, check, file_id
        )
        if written != digest.hexdigest() and (file.sha256 is None or written != file.sha256):
            raise CopyFailed(
                f"{name!r}: the destination holds bytes with the SHA-256 {written}, the "
                f"source's are {digest.hexdigest()}"
            )
        return written


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename!r}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return first
