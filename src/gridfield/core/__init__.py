"""The sans-I/O core of gridfield's file store, shared by the async and the sync twin."""

from .errors import CorruptFile, FileExists, GridFSError, NoFile
from .files_document import DEFAULT_CHUNK_SIZE, FileInfo

__all__ = ["DEFAULT_CHUNK_SIZE", "CorruptFile", "FileExists", "FileInfo", "GridFSError", "NoFile"]
