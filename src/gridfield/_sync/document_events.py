# Generated from src/gridfield/_async/document_events.py by scripts/unasync.py: do not edit.
"""What a document's deletion tells others: MongoEngine's delete signals and the values
holding its files. One place for the document, its query set and its updates."""

from __future__ import annotations

from typing import Any

from mongoengine import signals

from ..odm.holders import file_holders
from .holder_hooks import tell_holders

__all__ = ["after_delete", "before_delete", "release_files"]


def before_delete(doc: Any, signal_kwargs: dict[str, Any] | None = None) -> None:
    """``pre_delete``: ``doc`` is about to be deleted."""
    signals.pre_delete.send(type(doc), document=doc, **(signal_kwargs or {}))


def after_delete(doc: Any, signal_kwargs: dict[str, Any] | None = None) -> None:
    """``doc`` is deleted: its files are let go of, then ``post_delete`` is sent."""
    release_files(doc)
    signals.post_delete.send(type(doc), document=doc, **(signal_kwargs or {}))


def release_files(doc: Any) -> None:
    """Let go of the files ``doc`` holds (it is gone from the database): every FileHolder
    hears ``after_owner_delete`` even when one fails; then the first failure is raised."""
    tell_holders(file_holders(doc), "after_owner_delete")
