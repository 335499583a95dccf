"""gridfield's sync API: the same names as :mod:`gridfield`, without ``await``.

Generated from the async source. ``FileField`` here is also a drop-in for MongoEngine's
own on a plain ``mongoengine.Document`` after ``mongoengine.connect(...)``.
"""

from ._sync.connection import connect, disconnect, get_client, get_db, wait_closed
from ._sync.document import Document
from ._sync.fields import FileField
from ._sync.proxy import GridFSProxy
from ._sync.store import DownloadStream, FileStore, UploadStream
from .core.errors import CorruptFile, FileExists, FileNotLoaded, GridFSError, NoFile
from .core.metadata import FileInfo
from .plain_fields import *  # noqa: F403
from .plain_fields import __all__ as _plain_fields

__all__ = [
    "CorruptFile",
    "Document",
    "DownloadStream",
    "FileExists",
    "FileField",
    "FileInfo",
    "FileNotLoaded",
    "FileStore",
    "GridFSError",
    "GridFSProxy",
    "NoFile",
    "UploadStream",
    "connect",
    "disconnect",
    "get_client",
    "get_db",
    "wait_closed",
    *_plain_fields,
]
