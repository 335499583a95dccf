"""Moving files between the local disk and a bucket, safely.

A put with ``replace`` removes the older revisions only once the new file is complete; a
get writes through a temporary file beside the destination and renames it into place, so
a failure leaves no partial file and an existing file is kept unless overwriting was asked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, BinaryIO

from ..core.errors import NoFile
from ..core.files_document import FileInfo
from ..sync import FileStore
from .progress import NamedSource, TransferBar

__all__ = ["Download", "TransferError", "Upload", "download", "plan_uploads", "upload"]

STDIO = "-"
"""The local name that means stdin (put) or stdout (get), as in mongofiles."""


class TransferError(Exception):
    """A transfer that cannot be done as asked; the message says why, in one line."""


@dataclasses.dataclass(frozen=True)
class Upload:
    """One local file (or stdin) to store under ``filename``; ``size`` when known."""

    local: str
    filename: str
    size: int | None


def _size_of(path: str) -> int | None:
    if path == STDIO:
        return None
    try:
        info = os.stat(path)
    except OSError as exc:
        raise TransferError(f"cannot read {path!r}: {exc.strerror}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise TransferError(f"{path!r} is a folder: add --recursive to put what it holds")
    # A FIFO or a device has no size worth showing: the bar counts without a total.
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _stored_name(path: str) -> str:
    """A local path as a GridFS filename: as typed, with '/' between folders."""
    return path.replace(os.sep, "/") if os.sep != "/" else path


def plan_uploads(names: Sequence[str], local: str | None, recursive: bool) -> list[Upload]:
    """What ``put NAMES`` stores, checked before anything is sent.

    With ``local`` there is one name, read from ``local`` (``-``: stdin). Otherwise each
    name is a local path stored under that name; with ``recursive`` a folder stands for
    the files under it (in name order), stored as ``folder/inner/path``.
    """
    if local is not None:
        if len(names) != 1:
            raise TransferError("--local takes exactly one filename to store it under")
        return [Upload(local, names[0], _size_of(local))]
    plan: list[Upload] = []
    for name in names:
        if name == STDIO:
            raise TransferError("to read stdin, give the name to store it under: put NAME -l -")
        if recursive and os.path.isdir(name):
            for root, folders, files in os.walk(name):
                folders.sort()
                for file in sorted(files):
                    path = os.path.join(root, file)
                    plan.append(Upload(path, _stored_name(path), _size_of(path)))
        else:
            plan.append(Upload(name, _stored_name(name), _size_of(name)))
    return plan


@contextmanager
def _opened(local: str) -> Iterator[BinaryIO]:
    if local == STDIO:
        yield sys.stdin.buffer
        return
    try:
        source = open(local, "rb")  # noqa: SIM115 -- closed below, after the yield
    except OSError as exc:
        raise TransferError(f"cannot read {local!r}: {exc.strerror}") from exc
    with source:
        yield source


def upload(
    store: FileStore,
    item: Upload,
    bar: TransferBar,
    *,
    content_type: str | None = None,
    file_id: Any = None,
    replace: bool = False,
    expire_after: timedelta | None = None,
) -> tuple[FileInfo, int]:
    """Store one file; return its description and how many older revisions were removed.

    ``content_type`` goes in ``metadata.contentType``, where mongofiles' ``--type`` puts
    it. With ``replace``, the files of the same name that were there before the upload
    are deleted after it has completed (files document first, then chunks), so a failed
    upload leaves them all in place.
    """
    older = [info.file_id for info in store.find(filename=item.filename)] if replace else []
    bar.name(item.filename)
    metadata = {"contentType": content_type} if content_type else None
    with _opened(item.local) as source:
        info = store.put(
            NamedSource(source, "stdin" if item.local == STDIO else repr(item.local)),
            filename=item.filename,
            metadata=metadata,
            file_id=file_id,
            checksum=True,
            on_progress=bar.for_file(),
            expire_after=expire_after,
        )
    removed = 0
    for old in older:
        try:
            store.delete(old)
            removed += 1
        except NoFile:  # removed meanwhile by someone else: the same outcome
            pass
    return info, removed


@dataclasses.dataclass(frozen=True)
class Download:
    """One stored file to write to ``local`` (``-``: stdout)."""

    info: FileInfo
    local: str


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_destination(local: str, overwrite: bool) -> None:
    if local == STDIO:
        return
    if os.path.lexists(local) and not overwrite:
        raise TransferError(f"{local!r} exists already (add --overwrite-local to replace it)")
    parent = os.path.dirname(local) or "."
    if not os.path.isdir(parent):
        raise TransferError(f"cannot write {local!r}: folder {parent!r} does not exist")


def check_destinations(items: Sequence[Download], overwrite: bool) -> None:
    """Every reason a get would fail at its destination, before anything is fetched."""
    for item in items:
        _check_destination(item.local, overwrite)


def _copy(
    store: FileStore, info: FileInfo, out: BinaryIO, bar: TransferBar, sha256: str | None
) -> None:
    digest = hashlib.sha256() if sha256 is not None else None
    with store.open_download(info.file_id, on_progress=bar.for_file()) as stream:
        for piece in stream:
            out.write(piece)
            if digest is not None:
                digest.update(piece)
    if digest is not None and sha256 is not None and digest.hexdigest() != sha256.lower():
        raise TransferError(
            f"{info.filename!r}: SHA-256 is {digest.hexdigest()}, expected {sha256.lower()}"
        )


def _place(temporary: str, local: str, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, local)
        return
    try:
        # A hard link fails if the name was taken meanwhile: no overwrite by a race.
        os.link(temporary, local)
    except FileExistsError as exc:
        raise TransferError(
            f"{local!r} exists already (add --overwrite-local to replace it)"
        ) from exc
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(local):
            raise TransferError(
                f"{local!r} exists already (add --overwrite-local to replace it)"
            ) from None
        os.replace(temporary, local)
        return
    os.unlink(temporary)


def download(
    store: FileStore,
    item: Download,
    bar: TransferBar,
    *,
    overwrite: bool = False,
    sha256: str | None = None,
) -> None:
    """Write one stored file to its destination; on any failure nothing is left there.

    Every chunk is checked as it comes (and the stored SHA-256, when there is one); a
    ``sha256`` given here must match too before the file is put in place.
    """
    bar.name(item.info.filename or str(item.info.file_id))
    if item.local == STDIO:
        out = sys.stdout.buffer
        _copy(store, item.info, out, bar, sha256)
        out.flush()
        return
    _check_destination(item.local, overwrite)
    folder, base = os.path.split(item.local)
    handle, temporary = tempfile.mkstemp(prefix=f".{base}.", suffix=".part", dir=folder or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            _copy(store, item.info, out, bar, sha256)
        os.chmod(temporary, 0o666 & ~_umask())  # as a plain open() would have made it
        _place(temporary, item.local, overwrite)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
