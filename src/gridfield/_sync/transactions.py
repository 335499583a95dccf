# Generated from src/gridfield/_async/transactions.py by scripts/unasync.py: do not edit.
"""Transactions: the document writes of a block committed together, or not at all.

MongoDB runs transactions on replica sets and sharded clusters only; a standalone server
(and FerretDB) has none, and ``transaction()`` says so before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from mongoengine.errors import OperationError

from .._twins import run_session, run_transaction_start
from .connection import DEFAULT_CONNECTION_NAME, get_client

__all__ = ["in_session", "transaction"]

# The session of the transaction the running code is in (per task in the async API).
_session: ContextVar[Any] = ContextVar("gridfield_transaction_session", default=None)


def in_session() -> dict[str, Any]:
    """``session=...`` for a driver call made inside ``transaction()``, else nothing."""
    session = _session.get()
    return {} if session is None else {"session": session}


@contextmanager
def transaction(alias: str = DEFAULT_CONNECTION_NAME, **options: Any) -> Iterator[Any]:
    """Run the block's document reads and writes in one transaction on ``alias``'s client.

    Used as a context manager around a block of saves, updates and deletes: committed
    when the block ends, aborted (nothing written) when it raises. ``options`` go to PyMongo's
    ``start_transaction`` (``read_concern``, ``write_concern``...). Yields the driver's session.
    Writes of GridFS files are not part of it. OperationError on a server without
    transactions (a standalone server, FerretDB) or when already in one.
    """
    if _session.get() is not None:
        raise OperationError("already in a transaction: MongoDB does not nest them")
    client = get_client(alias)
    hello = client.admin.command("hello")
    if "setName" not in hello and hello.get("msg") != "isdbgrid":
        raise OperationError(
            f"transactions need a replica set or a sharded cluster: the server behind alias "
            f"{alias!r} is a standalone server, which has none"
        )
    session = run_session(client)
    try:
        run_transaction_start(session, **options)
        token = _session.set(session)
        try:
            yield session
        except BaseException:
            session.abort_transaction()
            raise
        else:
            session.commit_transaction()
        finally:
            _session.reset(token)
    finally:
        session.end_session()
