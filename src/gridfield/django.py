"""Django's file storage in GridFS: ``GridFSStorage``, a ``django.core.files.storage.Storage``
whose names are GridFS filenames, and the signal handlers that delete a model's files with it.

    # settings.py
    STORAGES = {
        "default": {
            "BACKEND": "gridfield.django.GridFSStorage",
            "OPTIONS": {"uri": "mongodb://localhost:27017/media", "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

Uses the sync API (``gridfield.sync``). Needs the ``django`` extra.
"""

from __future__ import annotations

import dataclasses
import io
import os
import posixpath
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import cached_property
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

from bson import ObjectId

from .core.extras import missing_extra

try:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
    from django.core.files.base import File
    from django.core.files.storage import Storage
    from django.core.files.storage.mixins import StorageSettingsMixin
    from django.core.signals import setting_changed
    from django.db import models, transaction
    from django.utils._os import safe_join
    from django.utils.deconstruct import deconstructible
    from django.utils.encoding import filepath_to_uri
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "django") from exc
from mongoengine.connection import ConnectionFailure
from pymongo.errors import ConfigurationError

from gridfield._sync.leases import Leases
from gridfield.core.encryption import Encryption
from gridfield.core.errors import NoFile
from gridfield.core.files_document import DEFAULT_CHUNK_SIZE, FileInfo
from gridfield.core.folders import folder_prefix, split_listing
from gridfield.core.guards import UploadLimits
from gridfield.core.http.options import ServeOptions
from gridfield.core.http.signing import FileRef, UrlSigning
from gridfield.shared_clients import shared_client
from gridfield.sync import DownloadStream, FileStore, UploadStream, get_db

# How long a save waits for another save's turn at a name, and when a turn left by a crashed
# process lapses.
_TURN_WAIT = 30.0
_TURN_LAPSE = timedelta(minutes=1)

__all__ = [
    "GridFSFile",
    "GridFSStorage",
    "delete_files_with_model",
    "delete_replaced_files",
    "keep_files_in_step",
]

# Names are checked as FileSystemStorage checks them against its location, by Django's own
# safe_join, against this stand-in root: a pure path computation, no file system access.
_ROOT = os.path.abspath(os.sep + "gridfs")

_READ_MODES = frozenset({"r", "rb", "rt"})
_WRITE_MODES = frozenset({"w", "wb", "wt"})


def _writing(mode: str) -> bool:
    """Whether ``mode`` writes; ValueError for a mode this storage does not offer."""
    if mode in _READ_MODES:
        return False
    if mode in _WRITE_MODES:
        return True
    raise ValueError(
        f"GridFSStorage.open(): mode {mode!r} is not supported: GridFS files are written once,"
        " whole; open with 'rb' or 'r' to read, 'wb' or 'w' to write a new content"
        " (stored when the file is closed)"
    )


class _RawReader(io.RawIOBase):
    """A download stream as a raw binary stream, for ``io.TextIOWrapper`` (text mode)."""

    def __init__(self, stream: DownloadStream) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._stream.seek(pos, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        self._stream.close()
        super().close()


class GridFSFile(File):  # type: ignore[misc]  # Django has no type hints
    """What ``GridFSStorage.open()`` returns: a Django ``File`` over a stored file.

    Read modes (``"rb"``, ``"r"`` for text in UTF-8) read the newest revision through the
    download stream: every chunk checked, ``seek()`` and ranged reads fetching only the chunks
    they need. Write modes (``"wb"``, ``"w"``) stream what is written into a new upload,
    stored when the file is closed (the name's older revisions go then, not before); leaving
    a ``with`` block by an exception aborts it and stores nothing. ``open()`` after
    ``close()`` opens the name again.
    """

    def __init__(self, storage: GridFSStorage, name: str, mode: str, file: Any) -> None:
        super().__init__(file, name)
        self.mode = mode
        self._storage = storage
        self._writing = _writing(mode)

    @property
    def info(self) -> FileInfo | None:
        """The stored file's description (for a write, once closed)."""
        source = self._download if not self._writing else self.file
        return None if source is None else source.info

    @property
    def _download(self) -> DownloadStream | None:
        file = self.file
        if isinstance(file, io.TextIOWrapper):
            file = file.buffer.raw._stream
        stream: DownloadStream | None = file
        return stream

    @property
    def size(self) -> int:
        if self._writing:
            return int(self.file.length)
        download = self._download
        assert download is not None
        return download.length

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> GridFSFile:
        """Rewind an open file; reopen a closed one by its name (the newest revision)."""
        if args or kwargs:
            raise TypeError("GridFSFile.open() takes only a mode")
        if not self.closed and (mode is None or mode == self.mode):
            if not self._writing:
                self.seek(0)
            return self
        if not self.closed:
            self.close()
        again = self._storage.open(self.name, mode or self.mode)
        self.file, self.mode, self._writing = again.file, again.mode, again._writing
        return self

    def close(self) -> None:
        """Close a read; store a write (then the name's older revisions go)."""
        file = self.file
        if file is None or file.closed:
            return
        if not self._writing:
            file.close()
            return
        info = file.close()
        self._storage.store.delete_other_revisions(self.name, info.file_id)

    def abort(self) -> None:
        """Drop a write: nothing of it is stored. A no-op for reads and closed files."""
        if self._writing and not self.file.closed:
            self.file.abort()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and self._writing:
            self.abort()
        else:
            self.close()


@deconstructible(path="gridfield.django.GridFSStorage")
class GridFSStorage(StorageSettingsMixin, Storage):  # type: ignore[misc]
    """Django file storage in a GridFS bucket; every option may be left out.

    The database: ``alias``, a ``gridfield.sync.connect()`` (or ``mongoengine.connect()``)
    alias connected before the storage is made (ImproperlyConfigured otherwise),
    ``"default"`` unless ``uri`` is given instead, a MongoDB connection string (one
    client per string for the process); ``db`` picks another database than the alias's or
    the string's. ``bucket`` (default ``"fs"``) and ``chunk_size`` are GridFS's.
    ``base_url`` (default ``MEDIA_URL``) is where ``url()`` points: serve it with
    ``storage.view()`` (``gridfield.web.django.gridfs_view`` by filename).
    ``allow_overwrite`` saves over an existing name instead of finding a free one, as
    FileSystemStorage's does. ``max_size`` and ``content_types`` are the upload guards
    every save gets (``FileTooLarge``, ``ContentTypeRefused``; nothing is stored).
    ``encryption`` (a ``gridfield.Encryption``) encrypts every saved file on the client and
    opens them for ``open()`` and the view.
    ``signing`` (a ``UrlSigning``, or a mapping of key id -> secret, the first signing) makes
    ``url()`` signed URLs that work for ``url_expires`` (a timedelta or seconds, default an
    hour; sooner when the file expires sooner), and ``view()`` answer only those.

    Names are GridFS filenames, ``/``-separated; folders are name prefixes. Names are
    checked as FileSystemStorage checks them (``..``, absolute paths and names leading
    outside raise ``SuspiciousFileOperation``) before any I/O.
    """

    def __init__(
        self,
        alias: str | None = None,
        *,
        uri: str | None = None,
        db: str | None = None,
        bucket: str = "fs",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        base_url: str | None = None,
        allow_overwrite: bool = False,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        encryption: Encryption | None = None,
        signing: UrlSigning | dict[str, str | bytes] | None = None,
        url_expires: timedelta | int = 3600,
    ) -> None:
        if alias is not None and uri is not None:
            raise ImproperlyConfigured("GridFSStorage: give alias or uri, not both")
        for what, value in (("alias", alias), ("uri", uri), ("db", db)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ImproperlyConfigured(
                    f"GridFSStorage: {what} must be a non-empty str, not {value!r}"
                )
        if not isinstance(bucket, str) or not bucket:
            raise ImproperlyConfigured(
                f"GridFSStorage: bucket must be a non-empty str, not {bucket!r}"
            )
        self._alias = alias
        self._uri = uri
        self._db_name = db
        self._bucket = bucket
        self._chunk_size = chunk_size
        self._base_url = base_url
        self._allow_overwrite = bool(allow_overwrite)
        self._limits = UploadLimits(
            max_size, None if content_types is None else tuple(content_types), label=bucket
        )
        if encryption is not None and not isinstance(encryption, Encryption):
            raise ImproperlyConfigured(
                f"GridFSStorage: encryption must be an Encryption, not {type(encryption).__name__}"
            )
        self._encryption = encryption
        self._signing = _signing(signing)
        self._url_expires = _lifetime(url_expires)
        self._check_connection()
        setting_changed.connect(self._clear_cached_properties)

    # -- where ---------------------------------------------------------------------------------

    @cached_property
    def store(self) -> FileStore:
        """The ``gridfield.sync.FileStore`` of the bucket (connected on first use)."""
        return FileStore(
            self._database(),
            self._bucket,
            chunk_size=self._chunk_size,
            limits=self._limits,
            encryption=self._encryption,
        )

    def _check_connection(self) -> None:
        """ImproperlyConfigured now, when the storage is made, rather than at its first use,
        if it names no connection: an alias nothing connected, a uri naming no database.
        No I/O (a client connects on its first command)."""
        if self._uri is not None:
            self._database()
            return
        alias = self._alias or "default"
        try:
            get_db(alias)
        except ConnectionFailure:
            raise ImproperlyConfigured(
                f"GridFSStorage: no database is connected under alias {alias!r}: call"
                f" gridfield.sync.connect(..., alias={alias!r}) (or mongoengine.connect) before"
                " the storage is made, or give it uri="
            ) from None

    def _database(self) -> Any:
        if self._uri is not None:
            client = shared_client(self._uri)
            if self._db_name is not None:
                return client[self._db_name]
            try:
                return client.get_default_database()
            except ConfigurationError:
                raise ImproperlyConfigured(
                    "GridFSStorage: the uri names no database: add one to it or give db"
                ) from None
        db = get_db(self._alias or "default")
        return db if self._db_name is None else db.client[self._db_name]

    @cached_property
    def base_url(self) -> str | None:
        """``base_url`` as given (a ``/`` added at its end), else ``MEDIA_URL``."""
        given = self._base_url
        if given is not None and not str(given).endswith("/"):
            given = f"{given}/"
        return self._value_or_setting(given, settings.MEDIA_URL)  # type: ignore[no-any-return]

    def view(self, options: ServeOptions | None = None) -> Callable[..., Any]:
        """The Django view serving this storage's ``url()``s (by filename, the newest
        revision), for ``path(f"{base_url}<path:name>", storage.view())``; ``options`` (a
        ``ServeOptions``) go to ``gridfield.web.django.gridfs_view``, with this storage's
        ``signing`` unless they name their own."""
        from gridfield.web.django import gridfs_view

        wanted = options if options is not None else ServeOptions()
        if wanted.signing is None and self._signing is not None:
            wanted = dataclasses.replace(wanted, signing=self._signing)
        return gridfs_view(self.store, wanted, lookup="filename")

    # -- names ---------------------------------------------------------------------------------

    def _name(self, name: Any) -> str:
        """The GridFS filename of ``name`` (``""`` for the top folder), addressing what
        FileSystemStorage's ``path(name)`` would; SuspiciousFileOperation, as Django's
        safe_join raises it there, for a name leading outside. No I/O."""
        if name is None:
            raise TypeError("a file name is needed, not None")
        text = os.fspath(name)
        if not isinstance(text, str):
            raise TypeError(f"a file name must be a str or a path, not {type(name).__name__}")
        if "\0" in text:
            raise ValueError(f"embedded null byte in the file name {text!r}")
        try:
            safe_join(_ROOT, text)
        except SuspiciousFileOperation:
            raise SuspiciousFileOperation(
                f"the name {text!r} leads outside the storage (FileSystemStorage refuses it too)"
            ) from None
        stored = posixpath.normpath(text.replace(os.sep, "/")) if text else "."
        return "" if stored == "." else stored

    def _file_name(self, name: Any) -> str:
        stored = self._name(name)
        if not stored:
            raise IsADirectoryError(f"{name!r} is the storage's top folder, not a file")
        return stored

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        """Free when no file or folder has this name, or always with ``allow_overwrite``
        (within ``max_length`` either way), as FileSystemStorage decides."""
        if self._allow_overwrite:
            return not (max_length and len(name) > max_length)
        return bool(super().is_name_available(name, max_length=max_length))

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        """Django's random suffix; with ``allow_overwrite`` the name itself (only shortened
        to fit ``max_length``), as FileSystemStorage does."""
        if self._allow_overwrite:
            return f"{file_root}{file_ext}"
        return str(super().get_alternative_name(file_root, file_ext))

    # -- reading -------------------------------------------------------------------------------

    def _missing(self, stored: str) -> OSError:
        """FileNotFoundError for a missing name, IsADirectoryError when it is a folder."""
        if self.store.exists_by_name(stored, or_prefix=f"{stored}/"):
            return IsADirectoryError(f"{stored!r} is a folder in {self.store.bucket.files.name}")
        return FileNotFoundError(f"no file named {stored!r} in {self.store.bucket.files.name}")

    def _open(self, name: str, mode: str = "rb") -> GridFSFile:
        writing = _writing(mode)
        stored = self._file_name(name)
        if writing:
            upload = self.store.open_upload(filename=stored)
            return GridFSFile(self, stored, mode, upload)
        try:
            stream = self.store.open_download_by_name(stored)
        except NoFile:
            raise self._missing(stored) from None
        file: Any = stream
        if "b" not in mode:
            file = io.TextIOWrapper(io.BufferedReader(_RawReader(stream)), encoding="utf-8")
        return GridFSFile(self, stored, mode, file)

    def _info(self, name: str, revision: int) -> FileInfo:
        stored = self._file_name(name)
        try:
            return self.store.get_info_by_name(stored, revision)
        except NoFile:
            raise FileNotFoundError(
                f"no file named {stored!r} in {self.store.bucket.files.name}"
            ) from None

    def exists(self, name: str) -> bool:
        """Whether a file has this name or the name is a folder (a prefix of stored names)."""
        stored = self._name(name)
        if not stored:
            return True
        return self.store.exists_by_name(stored, or_prefix=f"{stored}/")

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """The folders and files directly in ``path``: one query on the name prefix.
        FileNotFoundError for a folder no stored name is in, NotADirectoryError for a file."""
        stored = self._name(path)
        prefix = folder_prefix(stored)
        folders, files = split_listing(prefix, self.store.list(prefix))
        if stored and not folders and not files:
            if self.store.exists_by_name(stored):
                raise NotADirectoryError(f"{stored!r} is a file, not a folder")
            raise FileNotFoundError(f"no folder {stored!r} in {self.store.bucket.files.name}")
        return folders, files

    def size(self, name: str) -> int:
        """The length of the newest revision."""
        return self._info(name, -1).length

    def url(self, name: str | None) -> str:
        """``base_url`` followed by the name, percent-encoded as FileSystemStorage encodes it;
        with ``signing``, signed for the newest revision of that name until ``url_expires``
        from now (or the file's own expiry, if sooner: one query)."""
        if self.base_url is None:
            raise ValueError("This file is not accessible via a URL.")
        path: str | None = filepath_to_uri(name)
        if path is not None:
            path = path.lstrip("/")
        plain = urljoin(self.base_url, path)
        if self._signing is None or not name:
            return plain
        stored = self._file_name(name)
        try:
            file_expires = self.store.get_info_by_name(stored).expire_at
        except NoFile:
            file_expires = None  # signed all the same: the view answers 404 until it exists
        ref = FileRef(filename=stored)
        return self._signing.sign_for(plain, ref, self._url_expires, file_expires=file_expires)

    def get_created_time(self, name: str) -> datetime:
        """The upload date of the name's first revision: aware in UTC with ``USE_TZ``,
        naive local time without, as FileSystemStorage answers."""
        return _moment(self._info(name, 0).upload_date)

    def get_modified_time(self, name: str) -> datetime:
        """The upload date of the name's newest revision (see ``get_created_time``)."""
        return _moment(self._info(name, -1).upload_date)

    def get_accessed_time(self, name: str) -> datetime:
        """GridFS keeps no access time: NotImplementedError, as Django documents for a
        storage that cannot say."""
        raise NotImplementedError("GridFS keeps no access time: GridFSStorage cannot tell it")

    # -- writing -------------------------------------------------------------------------------

    def _handler_upload(self, content: Any) -> Any:
        """The GridFSUploadedFile behind ``content`` when gridfield's upload handler stored
        it (in any bucket), else None."""
        from gridfield.web.django_uploads import GridFSUploadedFile

        return content if isinstance(content, GridFSUploadedFile) else None

    def _same_bucket(self, upload: Any) -> bool:
        """Whether the handler stored ``upload`` in this very bucket (it is then moved by a
        rename, not copied)."""
        theirs, ours = upload.store, self.store
        return bool(
            theirs.collection_name == ours.collection_name
            and theirs.db.name == ours.db.name
            and (
                theirs.db.client is ours.db.client
                or theirs.db.client.address == ours.db.client.address
            )
        )

    def _save(self, name: str, content: Any) -> str:
        stored = self._file_name(name)
        received = self._handler_upload(content)
        if received is not None and self._same_bucket(received):
            # Moved, not copied: this storage's own limits are checked on what was stored
            # (the refusal a copy would meet, before anything changes).
            self.store.limits.check_size(received.info.length)
            self.store.limits.check_type(received.info.content_type)
            self.store.rename(received.file_id, stored)
            received.keep()  # the request's clean-up must leave it now: a model names it
            if self._allow_overwrite:
                return self._keep_newest(stored)
            return self._claim(stored, received.info)
        upload: UploadStream = self.store.open_upload(filename=stored)
        with upload:
            for chunk in content.chunks():
                upload.write(chunk)
        info = upload.info
        assert info is not None
        if received is not None:
            # Another bucket: copied, so the handler's original goes now, or no row would
            # ever name it (one file per upload).
            received.discard()
        if self._allow_overwrite:
            return self._keep_newest(stored)
        return self._claim(stored, info)

    def _keep_newest(self, name: str) -> str:
        """Overwrite: of the revisions of ``name``, keep the newest and delete the others.

        Not "every revision but mine": two saves racing for one name would each delete the
        other's file. The saves of one name decide in turns (``_name_turn``), each once its
        own file is visible, and agree on which revision is newest (upload date, then id):
        the last to decide sees both files, so exactly one stays, the newest."""
        with self._name_turn(name):
            sort = [("uploadDate", -1), ("_id", -1)]
            for info in self.store.find(filename=name, sort=sort, limit=1):
                self.store.delete_other_revisions(name, info.file_id)
        return name

    def _claim(self, name: str, info: FileInfo) -> str:
        """Keep the name only if the new file is the one file of that name: another save of
        the same name may have raced this one (as ``O_EXCL`` makes FileSystemStorage find
        another name); else rename it to the next free name and check that one in turn.

        The checks of one name take turns (a lock document in the bucket's ``holds``
        collection): of two saves racing for a name, the first to check keeps it, whatever
        their upload dates say, and the other moves on."""
        while True:
            with self._name_turn(name):
                taken = any(
                    other.file_id != info.file_id for other in self.store.find_by_name(name)
                )
                if not taken:
                    return name
                free = self.get_available_name(name)
                if free == name:
                    self.store.delete(info.file_id)
                    raise FileExistsError(
                        f"{name!r} is taken and get_available_name() offered it again"
                    )
                self.store.rename(info.file_id, free)
            name = free

    @contextmanager
    def _name_turn(self, name: str) -> Iterator[None]:
        """Hold the name's turn: a lease on a key naming it (no file has such an id) in the
        bucket's ``holds`` collection; one left by a crashed process lapses."""
        turns = Leases(self.store.bucket.holds, _TURN_LAPSE)
        key, token = {"name": name}, ObjectId()
        deadline = time.monotonic() + _TURN_WAIT
        while not turns.take(key, token, {"by": "django-storage"}):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"another save of {name!r} held its turn for over {_TURN_WAIT:.0f} s"
                )
            time.sleep(0.02)
        try:
            yield
        finally:
            turns.release(key, token)

    def delete(self, name: str) -> None:
        """Delete every revision of the name; a missing name is no error (a folder has
        nothing of its own to delete)."""
        if not name:
            raise ValueError("The name must be given to delete().")
        stored = self._name(name)
        if not stored:
            return
        try:
            self.store.delete_by_name(stored)
        except NoFile:
            pass


def _signing(value: Any) -> UrlSigning | None:
    """The storage's ``signing`` option as a UrlSigning (settings give a mapping)."""
    if value is None or isinstance(value, UrlSigning):
        return value
    if isinstance(value, dict):
        try:
            return UrlSigning(value)
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"GridFSStorage: signing: {exc}") from None
    raise ImproperlyConfigured(
        f"GridFSStorage: signing must be a UrlSigning or a mapping of key id -> secret,"
        f" not {type(value).__name__}"
    )


def _lifetime(value: Any) -> timedelta:
    """``url_expires`` as a positive timedelta (settings give seconds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = timedelta(seconds=value)
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ImproperlyConfigured(
            f"GridFSStorage: url_expires must be a positive timedelta or seconds, not {value!r}"
        )
    return value


def _moment(uploaded: datetime | None) -> datetime:
    if uploaded is None:  # another writer left no upload date
        raise FileNotFoundError("the stored file has no upload date")
    if uploaded.tzinfo is None:  # PyMongo's default: naive, in UTC
        uploaded = uploaded.replace(tzinfo=timezone.utc)
    if settings.USE_TZ:
        return uploaded.astimezone(timezone.utc)
    return datetime.fromtimestamp(uploaded.timestamp())


# -- keeping a model's files in step with its rows ------------------------------------------------

_REPLACED = "_gridfield_replaced_files"


def _file_fields(model: type[models.Model]) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def _unused(model: type[models.Model], field: models.FileField, name: str) -> bool:
    """Whether no row of ``model`` names this file (a default file, or one shared by copied
    rows, is kept)."""
    return not model._default_manager.filter(**{field.name: name}).exists()


def _delete_later(using: str | None, work: Callable[[], None]) -> None:
    # After the commit: a rolled back delete or save must still find its files.
    transaction.on_commit(work, using=using)


def delete_files_with_model(
    sender: type[models.Model], instance: models.Model, using: str | None = None, **_: Any
) -> None:
    """A ``post_delete`` receiver: delete the files a deleted row's FileFields named, once
    the delete is committed, unless another row still names them. Django leaves them::

        post_delete.connect(delete_files_with_model, sender=Animal)
    """
    named = [(field, getattr(instance, field.attname)) for field in _file_fields(type(instance))]

    def work() -> None:
        for field, name in named:
            if name and _unused(type(instance), field, str(name)):
                field.storage.delete(str(name))

    _delete_later(using, work)


def _remember_replaced(
    sender: type[models.Model], instance: models.Model, raw: bool = False, **_: Any
) -> None:
    if raw or instance.pk is None or instance._state.adding:
        return
    fields = _file_fields(type(instance))
    old = (
        type(instance)._default_manager.filter(pk=instance.pk).values(*[f.attname for f in fields])
    )
    before = old.first()
    if before is None:
        return
    replaced = [
        (field, before[field.attname])
        for field in fields
        if before[field.attname] and before[field.attname] != getattr(instance, field.attname)
    ]
    setattr(instance, _REPLACED, replaced)


def delete_replaced_files(
    sender: type[models.Model], instance: models.Model, using: str | None = None, **_: Any
) -> None:
    """A ``post_save`` receiver (with ``keep_files_in_step``, which also records the old
    names before the save): delete the files a save replaced or cleared, once committed,
    unless another row still names them."""
    replaced = instance.__dict__.pop(_REPLACED, [])

    def work() -> None:
        for field, name in replaced:
            if _unused(type(instance), field, str(name)):
                field.storage.delete(str(name))

    if replaced:
        _delete_later(using, work)


def keep_files_in_step(*models_: type[models.Model]) -> None:
    """Delete the stored files of these models' FileFields (and ImageFields) when a row is
    deleted, or saved with another file in their place, once the change is committed.
    Django does neither; call this once, for example in an ``AppConfig.ready()``."""
    from django.db.models.signals import post_delete, post_save, pre_save

    for model in models_:
        uid = f"gridfield.django:{model._meta.label}"
        pre_save.connect(_remember_replaced, sender=model, dispatch_uid=uid)
        post_save.connect(delete_replaced_files, sender=model, dispatch_uid=uid)
        post_delete.connect(delete_files_with_model, sender=model, dispatch_uid=uid)
