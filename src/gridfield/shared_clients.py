"""One PyMongo ``MongoClient`` per connection string for the whole process, shared by the
integrations that are handed a URI in settings (Django's storage and its upload handler),
as Django keeps one connection per database: storages and handlers are made per field, per
setting and per request, and clients are costly."""

from __future__ import annotations

import atexit
import threading
from typing import Any

from pymongo import MongoClient

__all__ = ["shared_client"]

_clients: dict[str, MongoClient[dict[str, Any]]] = {}
_lock = threading.Lock()


def shared_client(uri: str) -> MongoClient[dict[str, Any]]:
    """The process's client for ``uri``, made on first use and closed at exit."""
    with _lock:
        client = _clients.get(uri)
        if client is None:
            client = _clients[uri] = MongoClient(uri)
            atexit.register(client.close)
        return client
