"""Which bucket a command works on: connection string, database and prefix, as mongofiles
takes them, opened as a sync ``FileStore``."""

from __future__ import annotations

import dataclasses
from typing import Any

from pymongo import MongoClient
from pymongo.uri_parser import parse_uri

from ..core.encryption import Encryption
from ..sync import FileStore

__all__ = ["DEFAULT_DB", "DEFAULT_PREFIX", "DEFAULT_URI", "Bucket"]

DEFAULT_URI = "mongodb://localhost:27017"
DEFAULT_DB = "test"
DEFAULT_PREFIX = "fs"

# Fail fast when nothing answers: a person is waiting (the driver's default is 30 s).
_SELECTION_TIMEOUT_MS = 10_000


@dataclasses.dataclass(frozen=True)
class Bucket:
    """Where the files are: a connection string, a database name and a bucket prefix."""

    uri: str
    db: str | None
    prefix: str

    def database_name(self) -> str:
        """``--db`` when given, else the database in the connection string, else ``test``."""
        if self.db:
            return self.db
        named = parse_uri(self.uri).get("database")
        return named or DEFAULT_DB

    def open(
        self, encryption: Encryption | None = None
    ) -> tuple[MongoClient[dict[str, Any]], FileStore]:
        """A client and the file store of this bucket (encrypting and decrypting with
        ``encryption`` when given); the caller closes the client."""
        if not self.prefix:
            raise ValueError("--prefix cannot be blank")
        options: dict[str, Any] = {}
        if "serverselectiontimeoutms" not in self.uri.lower():
            options["serverSelectionTimeoutMS"] = _SELECTION_TIMEOUT_MS
        client: MongoClient[dict[str, Any]] = MongoClient(self.uri, **options)
        store = FileStore(client[self.database_name()], self.prefix, encryption=encryption)
        return client, store
