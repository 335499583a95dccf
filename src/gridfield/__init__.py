"""gridfield: files in MongoDB's GridFS behind a field on a document, for async apps.

    from gridfield import connect, Document, FileField, StringField

    class Animal(Document):
        genus = StringField()
        photo = FileField()

    await marmot.photo.put(f, content_type="image/jpeg")
    await marmot.save()

The same API without ``await`` lives in :mod:`gridfield.sync`.
"""

from ._async.connection import connect, disconnect, get_client, get_db, wait_closed
from ._async.document import Document
from ._async.fields import FileField
from ._async.proxy import GridFSProxy
from ._async.store import AsyncDownloadStream, AsyncFileStore, AsyncUploadStream
from .core.errors import CorruptFile, FileExists, FileNotLoaded, GridFSError, NoFile
from .core.metadata import FileInfo
from .plain_fields import *  # noqa: F403
from .plain_fields import __all__ as _plain_fields

__all__ = [
    "AsyncDownloadStream",
    "AsyncFileStore",
    "AsyncUploadStream",
    "CorruptFile",
    "Document",
    "FileExists",
    "FileField",
    "FileInfo",
    "FileNotLoaded",
    "GridFSError",
    "GridFSProxy",
    "NoFile",
    "connect",
    "disconnect",
    "get_client",
    "get_db",
    "wait_closed",
    *_plain_fields,
]
