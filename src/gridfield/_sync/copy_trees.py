# Generated from src/gridfield/_async/copy_trees.py by scripts/unasync.py: do not edit.
"""The folder trees a copy reads and writes besides buckets: a local directory and any fsspec
filesystem, behind one small set of blocking calls (the copy runs them off the event loop).

Every write is whole or absent: a local file is written under a temporary name in the
copy's ``.gridfield/partial/`` folder, flushed to disk and renamed into place; an object
store (S3, GCS, Azure) makes an object visible only when its upload completes; any other
fsspec filesystem gets the temporary name and a move.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol

from ..core.copy_plan import MANIFEST_DIR

__all__ = ["FsspecTree", "LocalTree", "Tree", "Writer", "open_tree"]

READ_BLOCK = 1024 * 1024
"""Bytes read from a file at a time."""

_PARTIAL = f"{MANIFEST_DIR}/partial"
# fsspec protocols whose objects appear only once their upload completes.
_ATOMIC_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az", "adl", "memory"})


class Writer(Protocol):
    """One file being written: whole once ``commit`` returns, absent after ``discard``."""

    def write(self, data: bytes) -> None:
        """Write the next bytes."""
        ...

    def commit(self, mtime: float | None) -> str:
        """Put the file in place (with ``mtime`` when given); return the SHA-256 of what it
        holds (read back where it is local)."""
        ...

    def discard(self) -> None:
        """Remove what was written; the file is as it was before."""
        ...


class Tree(Protocol):
    """A folder tree under one root; paths are relative, ``/``-separated."""

    url: str

    def walk(self, folder: str) -> Iterator[tuple[str, int, float]]:
        """Every file under ``folder`` (``""``: the root, but for the copy's own folder),
        in name order: (path from the root, size, mtime)."""
        ...

    def size(self, path: str) -> int | None:
        """The size of the file at ``path``, None when there is none."""
        ...

    def open_read(self, path: str) -> BinaryIO:
        """A binary reader over the file at ``path``."""
        ...

    def open_write(self, path: str) -> Writer:
        """A writer of the file at ``path``: whole once committed, absent until then."""
        ...

    def read_small(self, path: str) -> bytes | None:
        """The bytes of a small file (a manifest), None when there is none."""
        ...

    def write_small(self, path: str, data: bytes) -> None:
        """Write a small file whole."""
        ...

    def remove(self, path: str) -> None:
        """Remove the file at ``path`` (nothing when there is none)."""
        ...

    def check_writable(self) -> None:
        """Make the root (when missing) and fail now when it cannot be written."""
        ...

    def clear_partial(self) -> None:
        """Remove the files half written by copies that were killed (no copy is running)."""
        ...


def _sha256_of(reader: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := reader.read(READ_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def _partial_name(path: str) -> str:
    return f"{_PARTIAL}/{hashlib.sha256(path.encode('utf-8')).hexdigest()[:32]}"


class _LocalWriter:
    def __init__(self, partial: str, final: str) -> None:
        self._partial = partial
        self._final = final
        self._file: BinaryIO | None = open(partial, "wb")  # noqa: SIM115 -- closed by commit or discard

    def write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)

    def commit(self, mtime: float | None) -> str:
        assert self._file is not None
        out, self._file = self._file, None
        with out:
            out.flush()
            os.fsync(out.fileno())
        with open(self._partial, "rb") as back:
            written = _sha256_of(back)
        if mtime is not None:
            os.utime(self._partial, (mtime, mtime))
        os.makedirs(os.path.dirname(self._final), exist_ok=True)
        os.replace(self._partial, self._final)
        return written

    def discard(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError):
            os.remove(self._partial)


class _FsspecWriter:
    def __init__(self, fs: Any, target: str, final: str) -> None:
        self._fs = fs
        self._target = target
        self._final = final
        self._digest = hashlib.sha256()
        self._file: Any = fs.open(target, "wb")

    def write(self, data: bytes) -> None:
        self._digest.update(data)
        self._file.write(data)

    def commit(self, mtime: float | None) -> str:
        out, self._file = self._file, None
        out.close()  # an object store's upload completes here, and only here
        if self._target != self._final:
            self._fs.mv(self._target, self._final)
        return self._digest.hexdigest()

    def discard(self) -> None:
        if self._file is not None:
            # fsspec's buffered writers: drop the upload rather than complete it.
            with contextlib.suppress(Exception):
                discard = getattr(self._file, "discard", None)
                if discard is not None:
                    discard()
                else:
                    self._file.close()
            self._file = None
        if self._target != self._final:
            with contextlib.suppress(Exception):
                self._fs.rm(self._target)


class LocalTree:
    """A directory on this machine."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.url = self.root

    def _full(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/"))

    def walk(self, folder: str) -> Iterator[tuple[str, int, float]]:
        """Every file under ``folder``, in name order (links are not followed)."""
        for top, folders, files in os.walk(self._full(folder) if folder else self.root):
            relative = os.path.relpath(top, self.root)
            if relative == "." and not folder:
                folders[:] = [f for f in folders if f != MANIFEST_DIR]
            folders.sort()
            for name in sorted(files):
                full = os.path.join(top, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                stat = os.stat(full)
                rel = name if relative == "." else f"{relative.replace(os.sep, '/')}/{name}"
                yield rel, stat.st_size, stat.st_mtime

    def size(self, path: str) -> int | None:
        """The size of the file at ``path``, None when there is none (or a folder)."""
        full = self._full(path)
        return os.path.getsize(full) if os.path.isfile(full) else None

    def open_read(self, path: str) -> BinaryIO:
        """The file at ``path``, open for reading."""
        return open(self._full(path), "rb")

    def open_write(self, path: str) -> Writer:
        """A writer under a temporary name, renamed into place by ``commit``."""
        partial = self._full(_partial_name(path))
        os.makedirs(os.path.dirname(partial), exist_ok=True)
        return _LocalWriter(partial, self._full(path))

    def read_small(self, path: str) -> bytes | None:
        """The bytes of the file at ``path``, None when there is none."""
        try:
            with open(self._full(path), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write_small(self, path: str, data: bytes) -> None:
        """Write ``data`` whole (temporary name, rename)."""
        writer = self.open_write(path)
        try:
            writer.write(data)
            writer.commit(None)
        except BaseException:
            writer.discard()
            raise

    def remove(self, path: str) -> None:
        """Remove the file at ``path``, and the folders it leaves empty."""
        full = self._full(path)
        with contextlib.suppress(FileNotFoundError):
            os.remove(full)
        folder = os.path.dirname(full)
        while folder != self.root and folder.startswith(self.root):
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = os.path.dirname(folder)

    def check_writable(self) -> None:
        """Make the root and the copy's folder; OSError when that cannot be done."""
        os.makedirs(self._full(_PARTIAL), exist_ok=True)

    def clear_partial(self) -> None:
        """Remove every file in the copy's temporary folder."""
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self._full(_PARTIAL)):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


class FsspecTree:
    """A folder of any fsspec filesystem (``s3://bucket/folder``, ``sftp://host/path``...)."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        try:
            import fsspec
        except ImportError as exc:
            raise ImportError(
                'copying to or from an fsspec URL needs fsspec: pip install "gridfield[fsspec]"'
            ) from exc
        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.root = root.rstrip("/")
        protocol = self.fs.protocol
        protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
        self._atomic = any(p in _ATOMIC_PROTOCOLS for p in protocols)

    def _full(self, path: str) -> str:
        return f"{self.root}/{path}"

    def walk(self, folder: str) -> Iterator[tuple[str, int, float]]:
        """Every file under ``folder``, in name order."""
        top = self._full(folder) if folder else self.root
        if not self.fs.exists(top):
            return
        found = self.fs.find(top, detail=True)
        base = self.root
        for full in sorted(found):
            info = found[full]
            rel = full[len(base) :].lstrip("/") if full.startswith(base) else full
            hidden = not folder and rel.split("/")[0] == MANIFEST_DIR
            if not rel or hidden or info.get("type") != "file":
                continue
            modified = info.get("mtime") or info.get("LastModified") or info.get("created")
            stamp = modified.timestamp() if hasattr(modified, "timestamp") else modified
            yield rel, int(info.get("size") or 0), float(stamp or 0.0)

    def size(self, path: str) -> int | None:
        """The size of the file at ``path``, None when there is none."""
        try:
            info = self.fs.info(self._full(path))
        except FileNotFoundError:
            return None
        return int(info["size"]) if info.get("type") == "file" else None

    def open_read(self, path: str) -> BinaryIO:
        """The file at ``path``, open for reading."""
        return self.fs.open(self._full(path), "rb")  # type: ignore[no-any-return]

    def open_write(self, path: str) -> Writer:
        """Straight to an object store (visible once complete), else a temporary name."""
        final = self._full(path)
        target = final if self._atomic else self._full(_partial_name(path))
        return _FsspecWriter(self.fs, target, final)

    def read_small(self, path: str) -> bytes | None:
        """The bytes of the file at ``path``, None when there is none."""
        try:
            return self.fs.cat_file(self._full(path))  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None

    def write_small(self, path: str, data: bytes) -> None:
        """Write ``data`` whole."""
        writer = self.open_write(path)
        try:
            writer.write(data)
            writer.commit(None)
        except BaseException:
            writer.discard()
            raise

    def remove(self, path: str) -> None:
        """Remove the file at ``path``."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._full(path))

    def check_writable(self) -> None:
        """Make the root where folders exist, and fail now when it cannot be reached."""
        self.fs.makedirs(self.root, exist_ok=True)
        # An object store has no folders: a new prefix is fine once its bucket answers.
        self.fs.ls(self.root.split("/")[0] if self._atomic else self.root)

    def clear_partial(self) -> None:
        """Remove every file in the copy's temporary folder (none on an object store)."""
        if not self._atomic and self.fs.exists(self._full(_PARTIAL)):
            self.fs.rm(self._full(_PARTIAL), recursive=True)


def open_tree(location: str, storage_options: dict[str, Any] | None = None) -> Tree:
    """A local directory for a path or ``file://`` URL, else an fsspec filesystem."""
    if location.startswith("file://"):
        return LocalTree(location[len("file://") :])
    if "://" in location:
        return FsspecTree(location, storage_options)
    return LocalTree(location)
