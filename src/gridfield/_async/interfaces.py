"""What the modules under the store need of it, as small typed interfaces.

The store (``store.py``) is the facade on top: it builds the upload and download streams,
takes holds and checks its bucket through the modules below it. Those modules name the
store's parts they use here, never the store class itself, so that each import runs one
way: from the store down to them, and from them down to the engine (the bucket, the chunk
writer and reader, the leases).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..core.encryption import Encryption
from ..core.files_document import FileInfo
from ..core.guards import UploadLimits
from ..core.store_defaults import StoreDefaults
from ..core.sweeping import SweepTiming
from ..core.tus import TusOptions, UploadState
from .bucket import AsyncBucket
from .chunk_reader import AsyncChunkReader
from .digests import AsyncDigestClaims
from .file_keys import NewFileKey
from .leases import AsyncFieldLeases

__all__ = ["STORE_CLASS", "AsyncStoreParts", "AsyncUploadRegistry"]

STORE_CLASS = "AsyncFileStore"
"""The name of this API's store class, for the messages of refusals."""


class AsyncStoreParts(Protocol):
    """The parts of a file store its streams, holds, bucket check and resumable uploads
    use: the bucket engine under it, its defaults and one lookup."""

    @property
    def db(self) -> Any:
        """The database handle the bucket lives in."""

    @property
    def collection_name(self) -> str:
        """The bucket's name (``<name>.files``, ``<name>.chunks``...)."""

    @property
    def bucket(self) -> AsyncBucket:
        """The bucket's collections, index memory and writability check."""

    @property
    def chunk_reader(self) -> AsyncChunkReader:
        """The one reader of the bucket's chunk data."""

    @property
    def digest_claims(self) -> AsyncDigestClaims:
        """The deduplication claims: which file holds given bytes in a scope."""

    @property
    def defaults(self) -> StoreDefaults:
        """What every file stored here gets unless its upload says otherwise."""

    @property
    def sweep_timing(self) -> SweepTiming:
        """When uploads register and how long holds and leases last."""

    @property
    def chunk_size(self) -> int:
        """The chunk size of new files."""

    @property
    def limits(self) -> UploadLimits:
        """The upload guards every upload gets."""

    @property
    def encryption(self) -> Encryption | None:
        """The keys and cipher of the store's encrypted files (None: none)."""

    async def vanished(self, info: FileInfo) -> bool:
        """Whether the file ``info`` describes was deleted or replaced since it was read."""


class AsyncUploadRegistry(Protocol):
    """What a tus concatenation needs of the resumable uploads it joins: their registry,
    its leases and options, the store's parts, and the storing of a finished file."""

    @property
    def store(self) -> AsyncStoreParts:
        """The store the uploads go into."""

    @property
    def options(self) -> TusOptions:
        """The endpoint's options (part count, expiry, lease)."""

    @property
    def registry(self) -> Any:
        """The registry collection: one document per upload."""

    @property
    def leases(self) -> AsyncFieldLeases:
        """The leases writers take on registry entries."""

    async def store_file(
        self, state: UploadState, digest: str | None, key: NewFileKey | None = None
    ) -> FileInfo:
        """Store the files document of the complete upload ``state`` (``key``: its data
        key, when it is encrypted and the caller holds it)."""

    async def file_key(self, state: UploadState) -> NewFileKey | None:
        """The data key of the encrypted upload ``state`` (None: it is not encrypted)."""

    def kept_hash(self, upload_id: str, offset: int) -> Any:
        """A copy of the running SHA-256 of the first ``offset`` bytes of upload
        ``upload_id`` when this process holds it (it received them), else None."""
