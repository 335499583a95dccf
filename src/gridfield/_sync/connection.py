# Generated from src/gridfield/_async/connection.py by scripts/unasync.py: do not edit.
"""Database handles by alias: what connect() registers and documents and files look up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mongoengine.connection import DEFAULT_CONNECTION_NAME, ConnectionFailure
from pymongo import MongoClient
from pymongo.errors import ConfigurationError
from pymongo.uri_parser import parse_uri

from .._twins import (
    close_now,
    db_from_mongoengine,
    no_closes_pending,
    share_with_mongoengine,
)

__all__ = [
    "DEFAULT_CONNECTION_NAME",
    "ConnectionFailure",
    "collection_of",
    "connect",
    "disconnect",
    "get_client",
    "get_db",
    "wait_closed",
]


@dataclass(frozen=True)
class _Connection:
    """One alias: its client, its database, and whether connect() built the client."""

    client: Any
    db: Any
    owns_client: bool  # built by connect(), so disconnect() closes it
    request: tuple[Any, ...]  # (db name, host, client options) when connect() built the client
    unshare: Callable[[], None]  # takes the alias out of MongoEngine's registry, if shared

    def answers(self, name: str, host: str | None, client: Any, kwargs: dict[str, Any]) -> bool:
        """Whether connect() asked the same again, so the same database is the answer."""
        if client is not None:
            return not self.owns_client and self.client is client and self.db.name == name
        return self.owns_client and self.request == (name, host, kwargs)


_connections: dict[str, _Connection] = {}


def connect(
    db: str | None = None,
    alias: str = DEFAULT_CONNECTION_NAME,
    *,
    host: str | None = None,
    client: Any = None,
    **kwargs: Any,
) -> Any:
    """Register a database under ``alias`` and return its handle.

    Either ``host`` (a MongoDB URI; ``kwargs`` go to the client it builds, which
    :func:`disconnect` later closes) or ``client`` (one the application already has and
    keeps closing itself: PyMongo's client, or Motor's in the async API). With neither, a
    client for ``localhost:27017`` is built. The database is ``db``, else the default
    database named in the URI or the client, else :class:`ConnectionFailure` is raised.

    Connecting an alias again with the same arguments returns the same database; with
    different ones it raises :class:`ConnectionFailure`: :func:`disconnect` it first.
    """
    if client is not None and (host is not None or kwargs):
        given = ["host"] if host is not None else []
        raise TypeError(
            f"connect(alias={alias!r}): client= takes a ready client; "
            f"{', '.join(given + sorted(kwargs))} only apply when connect() builds one from host="
        )
    if client is not None and not _is_client(client):
        raise TypeError(
            f"connect(alias={alias!r}): client= wants a MongoDB client (PyMongo or Motor), "
            f"not {type(client).__name__}"
        )
    name = db if db is not None else _default_db_name(alias, host, client)

    known = _connections.get(alias)
    if known is not None:
        if known.answers(name, host, client, kwargs):
            return known.db
        raise ConnectionFailure(
            f"alias {alias!r} is already connected to another client or database: "
            f"call disconnect({alias!r}) first"
        )

    owns_client = client is None
    if owns_client:
        client = MongoClient(host, **kwargs)
    try:
        database = client[name]
        unshare = share_with_mongoengine(alias, client, database)
    except BaseException:
        if owns_client:
            close_now(client, None)  # None: it never ran, so it needs no loop to close
        raise
    request = (name, host, kwargs) if owns_client else ()
    _connections[alias] = _Connection(client, database, owns_client, request, unshare)
    return database


def disconnect(alias: str = DEFAULT_CONNECTION_NAME) -> None:
    """Forget ``alias``, closing its client if :func:`connect` built it; unknown aliases pass.

    A client the application passed in stays open: it is the application's to close.
    In the sync API the client is closed when this returns. In the async API, PyMongo's
    client closes only on the event loop it ran on: this plain call starts that close on
    the running loop (:func:`wait_closed` waits for it) and raises RuntimeError, changing
    nothing, when no loop is running.
    """
    known = _connections.get(alias)
    if known is None:
        return
    if known.owns_client:
        close_now(known.client, alias)
    del _connections[alias]
    known.unshare()


def wait_closed() -> None:
    """Wait until the client closes that :func:`disconnect` started have finished (in the
    sync API they finish within :func:`disconnect`)."""
    no_closes_pending()


def get_db(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The database handle registered under ``alias`` by :func:`connect`.

    In the sync API an alias that only ``mongoengine.connect()`` registered answers too,
    so FileField works on plain MongoEngine documents.
    """
    known = _connections.get(alias)
    if known is not None:
        return known.db
    theirs = db_from_mongoengine(alias)
    if theirs is not None:
        return theirs
    return _lookup(alias).db


def collection_of(document: type[Any], alias: str | None, collection_name: str | None) -> Any:
    """The collection ``document`` lives in: its own, or another by connection ``alias`` or
    ``collection_name`` (None: the class's), as ``using()`` and ``switch_db`` place it."""
    if alias is None and collection_name is None:
        return document._get_collection()
    alias = alias or document._meta.get("db_alias", DEFAULT_CONNECTION_NAME)
    return get_db(alias)[collection_name or document._get_collection_name()]


def get_client(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The client behind ``alias``."""
    return _lookup(alias).client


def _lookup(alias: str) -> _Connection:
    try:
        return _connections[alias]
    except KeyError:
        raise ConnectionFailure(
            f"no database is connected under alias {alias!r}: call gridfield's "
            f"connect(db=..., alias={alias!r}, host=... or client=...) first"
        ) from None


def _is_client(client: Any) -> bool:
    # Looked up on the type: databases and collections answer any attribute name
    # with a sub-collection, so a database passed by mistake would pass a hasattr test.
    return callable(getattr(type(client), "list_database_names", None))


def _default_db_name(alias: str, host: str | None, client: Any) -> str:
    name: str | None = None
    if client is not None:
        try:
            name = client.get_default_database().name
        except ConfigurationError:
            name = None
    elif host is not None:
        name = parse_uri(host)["database"]
    if not name:
        raise ConnectionFailure(
            f"connect(alias={alias!r}): no database name: pass db=... "
            "or name one in the URI (mongodb://host/dbname)"
        )
    return name
