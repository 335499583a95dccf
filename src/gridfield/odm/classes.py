"""Class trees of MongoEngine documents, found without MongoEngine's registry by name."""

from __future__ import annotations

from typing import Any

__all__ = ["inherits", "with_subclasses"]


def with_subclasses(document: type[Any]) -> list[type[Any]]:
    """``document`` and every class below it.

    Found by Python's own subclass links rather than MongoEngine's registry by class name,
    where two classes of one name (in the async and the sync API, say) would be confused.
    """
    found = [document]
    for subclass in document.__subclasses__():
        found += with_subclasses(subclass)
    return found


def inherits(document: type[Any]) -> bool:
    """Whether the class stores ``_cls`` (``meta['allow_inheritance']``)."""
    return document._meta.get("allow_inheritance") is True
