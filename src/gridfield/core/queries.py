"""Filters on the files and chunks collections that treat a caller's file id as a value."""

from __future__ import annotations

from typing import Any

from .files_document import check_file_id

__all__ = ["chunks_filter", "chunks_with_first_filter", "file_filter"]


def file_filter(file_id: Any) -> dict[str, Any]:
    """Filter on the files collection matching exactly ``file_id``."""
    check_file_id(file_id)
    return {"_id": {"$eq": file_id}}


def chunks_filter(file_id: Any, first: int = 0, last: int | None = None) -> dict[str, Any]:
    """Filter on the chunks collection: chunks ``first`` to ``last`` (inclusive) of ``file_id``.

    ``last=None`` leaves the top open, so chunks beyond the file's end show up (and are
    reported as extra by the read check).
    """
    check_file_id(file_id)
    query: dict[str, Any] = {"files_id": {"$eq": file_id}}
    bounds: dict[str, int] = {}
    if first > 0:
        bounds["$gte"] = first
    if last is not None:
        bounds["$lte"] = last
    if bounds:
        query["n"] = bounds
    return query


def chunks_with_first_filter(file_id: Any, first: int, last: int | None = None) -> dict[str, Any]:
    """Filter on the chunks collection: chunk 0 and chunks ``first`` to ``last`` of
    ``file_id``, for one cursor that brings a file's first bytes (to sniff its type) and a
    span further on. Each branch of the ``$or`` is a range on the ``(files_id, n)`` index."""
    check_file_id(file_id)
    span: dict[str, int] = {"$gte": first}
    if last is not None:
        span["$lte"] = last
    return {"files_id": {"$eq": file_id}, "$or": [{"n": {"$eq": 0}}, {"n": span}]}
