"""What file I/O needs of a deployment beyond one server: acknowledged writes, no
transactions, chunks read consistently with their files document, a vanished file told
apart from a damaged one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import InvalidOperation
from pymongo.read_preferences import ReadPreference

from .files_document import FileInfo

__all__ = [
    "check_acknowledged",
    "check_outside_transaction",
    "chunks_read_preference",
    "gone_or_replaced",
]


def check_acknowledged(write_concern: Any, action: str, where: str) -> None:
    """InvalidOperation unless ``write_concern`` (a PyMongo ``WriteConcern``) is acknowledged.

    Unacknowledged writes (``w=0``) report no error, so an upload could not know its chunks
    went in before it writes the files document, nor a failed upload what to remove: the
    failure model holds only for acknowledged writes. Checked before anything is sent.
    """
    if write_concern is not None and not write_concern.acknowledged:
        raise InvalidOperation(
            f"cannot {action} in {where} with an unacknowledged write concern (w=0): GridFS "
            "needs to know each write went in; use w=1 or more (e.g. "
            "db.with_options(write_concern=WriteConcern(w=1)))"
        )


def check_outside_transaction(session: Any, action: str) -> None:
    """InvalidOperation when ``session`` (the driver session file I/O would run in, or None)
    is in a transaction.

    GridFS does not support transactions: a file's chunks can outgrow a transaction, and
    chunks written in one become visible (or vanish) with the user's other writes. So file
    writes are refused there, before any command, as PyMongo's gridfs refuses a ``session=``
    in a transaction.
    """
    if session is not None and getattr(session, "in_transaction", False):
        raise InvalidOperation(
            f"cannot {action} inside a transaction: GridFS does not support transactions. "
            "Write files outside the transaction (outside the session's bind() block), "
            "then record their ids in it"
        )


def chunks_read_preference(read_preference: Any) -> Any:
    """The read preference to read a file's chunks with, given the files collection's.

    A files document read from one member and chunks from another may be at different
    points of replication: a fresh file whose chunks have not reached that member yet would
    look damaged. Chunks are written before the files document, so the primary holds every
    chunk of any files document a member shows: with a non-primary read preference the
    chunks are read from the primary (None: keep the collection's own, already primary).
    """
    if read_preference is None or read_preference.mode == ReadPreference.PRIMARY.mode:
        return None
    return ReadPreference.PRIMARY


def gone_or_replaced(info: FileInfo, doc: Mapping[str, Any] | None) -> bool:
    """Whether the files document now read (None: none) says the file ``info`` described is
    gone or was replaced by another under the same id (other length, chunk size or upload
    date): then chunks found missing were deleted under a reader, not lost from a sound file.
    """
    if doc is None:
        return True
    return (
        doc.get("length") != info.length
        or doc.get("chunkSize") != info.chunk_size
        or doc.get("uploadDate") != info.upload_date
    )
