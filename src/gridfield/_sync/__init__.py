# Generated from src/gridfield/_async/__init__.py by scripts/unasync.py: do not edit.
"""This twin's public API: the names :mod:`gridfield` (async) and :mod:`gridfield.sync` export.

The list is kept here once; each facade re-exports it. A name that differs between the twins
starts with ``Async`` in the async API and drops that prefix in the sync one
(``AsyncFileStore`` / ``FileStore``); every other name is the same in both.
"""

from ..core.bucket_report import BucketReport
from ..core.copy_plan import Action, CopyOptions, CopyRefused, CopyReport, Outcome
from ..core.encryption import Encryption, KeyUnavailable, LocalKeys
from ..core.errors import (
    ContentTypeRefused,
    CorruptFile,
    FileExists,
    FileExpired,
    FileNotLoaded,
    FileTooLarge,
    FormTooLarge,
    GridFSError,
    MalformedBody,
    MissingField,
    NoFile,
)
from ..core.files_document import FileInfo
from ..core.guards import UploadLimits
from ..core.http.intake import IntakeLimits, ReceivedFile
from ..core.raw_holders import Holder
from ..core.store_defaults import StoreDefaults
from ..core.sweeping import SweepTiming
from ..plain_fields import *  # noqa: F403
from ..plain_fields import __all__ as _plain_fields
from .connection import connect, disconnect, get_client, get_db, wait_closed
from .copying import BucketSide, copy_files
from .document import Document
from .fields import FileField
from .image_field import ImageField, ImageGridFsProxy
from .intake import Received, receive_multipart, receive_raw
from .proxy import GridFSProxy
from .references import GenericReferenceField, LazyReferenceField, Reference, ReferenceField
from .resumable import ResumableStore
from .store import DownloadStream, FileStore, UploadStream, wait_cleanups
from .transactions import transaction

__all__ = [
    "Action",
    "BucketSide",
    "DownloadStream",
    "FileStore",
    "Received",
    "ResumableStore",
    "UploadStream",
    "BucketReport",
    "ContentTypeRefused",
    "CopyOptions",
    "CopyRefused",
    "CopyReport",
    "CorruptFile",
    "Document",
    "Encryption",
    "FileExists",
    "FileExpired",
    "FileField",
    "FileInfo",
    "FileNotLoaded",
    "FileTooLarge",
    "FormTooLarge",
    "GenericReferenceField",
    "GridFSError",
    "GridFSProxy",
    "Holder",
    "ImageField",
    "ImageGridFsProxy",
    "IntakeLimits",
    "KeyUnavailable",
    "LazyReferenceField",
    "LocalKeys",
    "MalformedBody",
    "MissingField",
    "NoFile",
    "Outcome",
    "ReceivedFile",
    "Reference",
    "ReferenceField",
    "StoreDefaults",
    "SweepTiming",
    "UploadLimits",
    "connect",
    "copy_files",
    "disconnect",
    "get_client",
    "get_db",
    "receive_multipart",
    "receive_raw",
    "transaction",
    "wait_cleanups",
    "wait_closed",
    *_plain_fields,
]
