"""Damaged GridFS files, built as documents: one sound file with a single corruption applied.

Pure (no I/O): a test inserts the documents in the order given, into a bucket without the
unique (files_id, n) index, since a duplicated chunk is one of the corruptions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

KINDS = (
    "none",
    "drop",
    "duplicate_before",
    "duplicate_after",
    "grow",
    "shrink",
    "stored_in_reverse",
    "extra_past_end",
    "length_plus_one",
    "length_minus_one",
    "length_plus_chunk",
    "length_minus_chunk",
)
"""Every corruption: ``none`` and ``stored_in_reverse`` leave the bytes as they were (the
chunks are only stored in another order); every other one makes some read fail."""


@dataclass
class Damaged:
    """A file's documents after one corruption, and what the sound file held."""

    files_doc: dict[str, Any]
    chunks: list[dict[str, Any]]  # in the order to insert them
    data: bytes  # the sound file's bytes


def _flip(data: bytes) -> bytes:
    """Other bytes of the same size (a duplicate that differs from the original)."""
    return bytes(b ^ 0xFF for b in data) or b"?"


def damaged(file_id: Any, data: bytes, chunk_size: int, kind: str, target: int) -> Damaged:
    """The documents of ``data`` stored with ``chunk_size``, damaged by ``kind`` at chunk
    ``target`` (taken modulo the chunk count; a corruption needing a chunk falls back to an
    extra chunk when the file has none)."""
    if kind not in KINDS:
        raise ValueError(f"unknown corruption {kind!r}")
    chunks = [
        {"_id": ObjectId(), "files_id": file_id, "n": n, "data": data[start : start + chunk_size]}
        for n, start in enumerate(range(0, len(data), chunk_size))
    ]
    length = len(data)
    upload = datetime.datetime(2026, 1, 1)
    k = target % len(chunks) if chunks else 0
    needs_chunk = kind in ("drop", "duplicate_before", "duplicate_after", "grow", "shrink")
    if needs_chunk and not chunks:
        kind = "extra_past_end"
    if kind == "drop":
        del chunks[k]
    elif kind in ("duplicate_before", "duplicate_after"):
        copy = {**chunks[k], "_id": ObjectId(), "data": _flip(chunks[k]["data"])}
        if kind == "duplicate_before":
            # Stored first, so a reader that takes the first chunk n it meets takes this one.
            chunks.insert(0, copy)
        else:
            chunks.append(copy)
    elif kind == "grow":
        chunks[k] = {**chunks[k], "data": chunks[k]["data"] + b"+"}
    elif kind == "shrink":
        chunks[k] = {**chunks[k], "data": chunks[k]["data"][:-1]}
    elif kind == "stored_in_reverse":
        chunks.reverse()
    elif kind == "extra_past_end":
        chunks.append({"_id": ObjectId(), "files_id": file_id, "n": len(chunks), "data": b"extra"})
    elif kind == "length_plus_one":
        length += 1
    elif kind == "length_minus_one":
        length = max(length - 1, 0) if length else 1
    elif kind == "length_plus_chunk":
        length += chunk_size
    elif kind == "length_minus_chunk":
        length = length - chunk_size if length >= chunk_size else length + 2 * chunk_size
    files_doc = {"_id": file_id, "length": length, "chunkSize": chunk_size, "uploadDate": upload}
    return Damaged(files_doc, chunks, data)


def acceptable(result: bytes, data: bytes, stored_length: int, start: int, end: int | None) -> bool:
    """Whether ``result`` of a read of ``[start, end)`` is exactly the sound file's bytes there.

    The range is clamped to the length the files document states; bytes the sound file does
    not have (a stated length past its end) can never be right.
    """
    stop = stored_length if end is None else min(end, stored_length)
    begin = min(start, stored_length)
    stop = max(begin, stop)
    if stop == begin:
        return result == b""
    if stop > len(data):
        return False
    return result == data[begin:stop]
