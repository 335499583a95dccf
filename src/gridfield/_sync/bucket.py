# Generated from src/gridfield/_async/bucket.py by scripts/unasync.py: do not edit.
"""One GridFS bucket: the only module that names its collections.

``<bucket>.files`` and ``<bucket>.chunks`` are the standard GridFS pair; beside them live
ours: ``<bucket>.uploads`` (the registry of open uploads), ``<bucket>.holds`` (holds and
leases on files and names), ``<bucket>.resumable`` (tus uploads) and ``<bucket>.digests``
(which file holds given bytes in a deduplication scope). Every other module takes its
collections from an ``AsyncBucket``. Here too: the one memory of which indexes
were made (for buckets and for document classes), the read preference of chunk reads, the
session a caller bound, and whether a write may be made at all.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Hashable
from typing import Any

from pymongo.errors import OperationFailure

from ..core.expiry import EXPIRE_AT_FIELD, ttl_refused
from ..core.topology import check_acknowledged, check_outside_transaction, chunks_read_preference

__all__ = ["INDEX_RECHECK", "Bucket", "IndexMemory", "index_memory"]

INDEX_RECHECK = 30.0
"""Seconds a bucket's indexes are trusted before an upload makes them again: a bucket or
database dropped behind a live client gets them back within this time."""

# createIndexes codes for "an index on these keys exists already, with other options or
# another name" (made by another tool): the lookups it serves are there, so it will do.
_INDEX_EXISTS_CODES = frozenset({85, 86})


class IndexMemory:
    """Which indexes a client has made, and when: the one cache of index work.

    Keyed by the client object's identity (two PyMongo clients with the same settings
    compare equal, and one made later must not trust what another saw) and, per client,
    by a key naming the database and collection. It only saves round trips: nothing's
    correctness depends on it, and ``forget`` drops what a drop made untrue.
    """

    def __init__(self) -> None:
        self._clients: dict[int, tuple[weakref.ref[Any], dict[Hashable, float]]] = {}

    def _made(self, client: Any) -> dict[Hashable, float] | None:
        key = id(client)
        entry = self._clients.get(key)
        if entry is not None and entry[0]() is client:
            return entry[1]
        try:
            ref = weakref.ref(client, lambda dead: self._drop_client(key, dead))
        except TypeError:  # a client that cannot be weakly referenced: no memory
            return None
        made: dict[Hashable, float] = {}
        self._clients[key] = (ref, made)
        return made

    def _drop_client(self, key: int, dead: weakref.ref[Any]) -> None:
        entry = self._clients.get(key)
        if entry is not None and entry[0] is dead:  # not a newer client given the same id
            del self._clients[key]

    def fresh(self, client: Any, key: Hashable, max_age: float | None) -> bool:
        """Whether ``client`` made the indexes ``key`` names, less than ``max_age`` seconds
        ago (None: whenever)."""
        made = self._made(client)
        since = None if made is None else made.get(key)
        if since is None:
            return False
        return max_age is None or time.monotonic() - since < max_age

    def remember(self, client: Any, key: Hashable) -> None:
        """``client`` has just made the indexes ``key`` names."""
        made = self._made(client)
        if made is not None:
            made[key] = time.monotonic()

    def forget(self, client: Any, key: Hashable) -> None:
        """What ``key`` names was dropped: its indexes must be made again on next use."""
        made = self._made(client)
        if made is not None:
            made.pop(key, None)


index_memory = IndexMemory()
"""The process's one memory of index work (buckets and document classes alike)."""


def create_index(collection: Any, keys: list[tuple[str, int]], **options: Any) -> None:
    """Create an index; one on the same keys made by another tool will do."""
    try:
        collection.create_index(keys, **options)
    except OperationFailure as exc:
        if exc.code not in _INDEX_EXISTS_CODES:
            raise


def _from_primary(collection: Any) -> Any:
    """``collection``, reading from the primary when its read preference says otherwise."""
    preference = chunks_read_preference(getattr(collection, "read_preference", None))
    return collection if preference is None else collection.with_options(read_preference=preference)


def bound_session(client: Any) -> Any:
    """The session PyMongo 4.17+ passes implicitly to every operation of a
    ``session.bind()`` block on ``client`` (None outside one, and with Motor, which has no
    ``bind()``). Looked up on the type: Motor's client answers any attribute name."""
    # PyMongo: bind() has no public getter; this is the method its own operations ask.
    lookup = getattr(type(client), "_get_bound_session", None)
    return lookup(client) if lookup is not None else None


class Bucket:
    """The collections of the GridFS bucket ``name`` in ``db`` (a PyMongo AsyncDatabase or a
    Motor database), and what is known about them."""

    def __init__(self, db: Any, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"collection_name must be a non-empty str, not {name!r}")
        self.db = db
        self.name = name
        self.files: Any = db[f"{name}.files"]
        """The files documents."""
        self.chunks: Any = db[f"{name}.chunks"]
        """The chunks, as the caller's read preference reads them (listings, checks)."""
        self.uploads: Any = db[f"{name}.uploads"]
        """The registry of uploads open long enough that a sweep must leave them alone."""
        self.holds: Any = db[f"{name}.holds"]
        """The holds and leases taken on files and names (see ``leases``)."""
        self.resumable: Any = db[f"{name}.resumable"]
        """The registry of resumable (tus) uploads."""
        self.digests: Any = db[f"{name}.digests"]
        """The claims on digest keys: which file holds given bytes in a deduplication scope
        (see ``digests``)."""
        # Reads of a file's chunks (and the second look at a files document that found
        # chunks missing) go to the primary when the database reads elsewhere: see
        # chunks_read_preference. Listings and files documents keep the caller's preference.
        self.chunk_reads: Any = _from_primary(self.chunks)
        """The chunks, read from the primary when the database reads elsewhere."""
        self.files_recheck: Any = _from_primary(self.files)
        """The files documents, read from the primary (a second look after a failed read)."""
        self.ttl_index: bool | None = None
        """Whether the server keeps the TTL index on ``gridfield.expireAt`` (None: not asked
        yet). False where it refused one."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.full_name}>"

    @property
    def full_name(self) -> str:
        """``<database>.<bucket>``."""
        return f"{self.db.name}.{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        """(database name, bucket name): what tells two buckets apart on one server."""
        return (self.db.name, self.name)

    def collection(self, name: str, database: str | None = None) -> Any:
        """A documents collection (not one of the bucket's) of this database, or of the
        database ``database`` on the same client: where references to files are read."""
        db = self.db if database is None else self.db.client[database]
        return db[name]

    # -- what a deployment allows ----------------------------------------------------------------

    def check_writable(self, action: str) -> None:
        """Refuse, before any command, a file write GridFS cannot make safely here: with an
        unacknowledged write concern, or inside a transaction of a bound session."""
        for collection in (self.files, self.chunks):
            check_acknowledged(getattr(collection, "write_concern", None), action, collection.name)
        check_outside_transaction(bound_session(self.db.client), action)

    # -- indexes -----------------------------------------------------------------------------

    def ensure_indexes(self) -> None:
        """Create the standard files and chunks indexes and the TTL index on
        ``gridfield.expireAt`` (remembering a server that refuses TTL indexes). The
        deduplication lookup needs none: its claims are found by ``_id``."""
        create_index(self.files, [("filename", 1), ("uploadDate", 1)])
        create_index(self.chunks, [("files_id", 1), ("n", 1)], unique=True)
        if self.ttl_index is not False:
            try:
                create_index(self.files, [(EXPIRE_AT_FIELD, 1)], expireAfterSeconds=0)
            except OperationFailure as exc:
                if not ttl_refused(exc.code, str(exc)):
                    raise
                self.ttl_index = False
            else:
                self.ttl_index = True
        self.did("indexes")

    def ensure_indexes_once(self) -> None:
        """``ensure_indexes`` unless this client made them in the last ``INDEX_RECHECK``
        seconds."""
        if not self.done_lately("indexes"):
            self.ensure_indexes()

    # What this client did once for the bucket and trusts for INDEX_RECHECK seconds:
    # "indexes" (ensure_indexes) and "digests" (the claims of files stored before claims
    # existed: see digests.py).
    _ONCE = ("indexes", "digests")

    def done_lately(self, work: str) -> bool:
        """Whether this client did ``work`` for the bucket in the last ``INDEX_RECHECK``
        seconds."""
        return index_memory.fresh(self.db.client, self._memory_key(work), INDEX_RECHECK)

    def did(self, work: str) -> None:
        """This client has just done ``work`` for the bucket."""
        index_memory.remember(self.db.client, self._memory_key(work))

    def _memory_key(self, work: str) -> tuple[str, str, str, str]:
        if work not in self._ONCE:
            raise ValueError(f"no such work done once per bucket: {work!r}")
        return ("bucket", work, self.db.name, self.name)

    def drop(self) -> None:
        """Drop every collection of the bucket (and their indexes)."""
        for collection in (
            self.files,
            self.chunks,
            self.uploads,
            self.holds,
            self.resumable,
            self.digests,
        ):
            collection.drop()
        for work in self._ONCE:
            index_memory.forget(self.db.client, self._memory_key(work))
