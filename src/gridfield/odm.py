"""MongoEngine helpers with no I/O, shared by both APIs: class trees, sorts, projections, and
the walk that finds the values in a document that hold stored files.

Also the one protocol by which a document's save and delete reach those values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

import mongoengine
import pymongo
from mongoengine import signals
from mongoengine.base import BaseDocument, ComplexBaseField
from mongoengine.errors import LookUpError
from mongoengine.fields import EmbeddedDocumentField, GenericEmbeddedDocumentField

__all__ = [
    "FileHolder",
    "class_query",
    "db_paths",
    "file_holders",
    "holds_files",
    "inherits",
    "may_hold_files",
    "referenced_file_ids",
    "signals_delete",
    "sort_spec",
    "whole_number",
    "with_subclasses",
]


@runtime_checkable
class FileHolder(Protocol):
    """A value in a document that holds stored files (a FileField's proxy, say).

    The document calls ``after_owner_save()`` once it is saved and ``after_owner_delete()``
    once it is deleted, on every such value it holds (top-level, embedded, in lists and
    dicts). In the async API both are coroutines and are awaited; in the sync API they are
    plain methods. ``held_file_ids()`` names the stored files the value refers to, without
    I/O. The field holding such values sets ``holds_files = True`` (see ``holds_files``).
    """

    def after_owner_save(self) -> Any:
        """Act on the owner's save (a proxy deletes the files it replaced)."""

    def after_owner_delete(self) -> Any:
        """Act on the owner's delete (a proxy deletes its file, unless opted out)."""

    def held_file_ids(self) -> list[Any]:
        """The ids of the stored files this value refers to."""


def holds_files(field: Any) -> bool:
    """Whether ``field`` declares that its values are ``FileHolder``s (``holds_files = True``)."""
    return getattr(field, "holds_files", False) is True


def file_holders(document: Any) -> Iterator[FileHolder]:
    """Every ``FileHolder`` in ``document``: its fields, embedded documents, and lists and
    dicts of either. References to other stored documents are never followed: their files
    are theirs."""
    fields = {**document._fields, **getattr(document, "_dynamic_fields", {})}
    for name, field in fields.items():
        # The field's own view of its value (FileField hands out its proxy); other fields are
        # read from _data, so that no reference is dereferenced.
        value = getattr(document, name) if holds_files(field) else document._data.get(name)
        yield from _holders_in(value)


def _holders_in(value: Any) -> Iterator[FileHolder]:
    if value is None:
        return
    if isinstance(value, FileHolder):
        yield value
    elif isinstance(value, BaseDocument) and not isinstance(value, mongoengine.Document):
        yield from file_holders(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _holders_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _holders_in(item)


def referenced_file_ids(document: Any) -> list[Any]:
    """The ids of every stored file ``document`` refers to, in the order the walk finds them."""
    return [file_id for holder in file_holders(document) for file_id in holder.held_file_ids()]


def may_hold_files(document: type[Any]) -> bool:
    """Whether documents of this class (or a subclass) could hold a ``FileHolder``."""
    return any(_may_hold(kind, set()) for kind in with_subclasses(document))


def _may_hold(document: Any, seen: set[Any]) -> bool:
    if document._dynamic:
        return True  # any value may come in, embedded documents with files included
    return any(_field_may_hold(field, seen) for field in document._fields.values())


def _field_may_hold(field: Any, seen: set[Any]) -> bool:
    if field is None or isinstance(field, GenericEmbeddedDocumentField):
        return True  # an untyped container or any embedded document: anything may be inside
    if holds_files(field):
        return True
    if isinstance(field, EmbeddedDocumentField):
        fresh = [kind for kind in with_subclasses(field.document_type) if kind not in seen]
        seen.update(fresh)
        return any(_may_hold(kind, seen) for kind in fresh)
    if isinstance(field, ComplexBaseField):  # ListField, DictField, MapField...
        return _field_may_hold(field.field, seen)
    return False  # plain values, and references: other documents' files are theirs


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


def class_query(document: type[Any], query: dict[str, Any]) -> dict[str, Any]:
    """``query`` narrowed to ``document`` and its subclasses when the class stores ``_cls``."""
    if not inherits(document):
        return query
    names = list(document._subclasses)
    by_class = {"_cls": names[0] if len(names) == 1 else {"$in": names}}
    if "_cls" in query:
        return {"$and": [by_class, query]}
    return {**query, **by_class}


def signals_delete(document: type[Any]) -> bool:
    """Whether a delete signal has a receiver for this class."""
    return bool(
        signals.signals_available
        and (
            signals.pre_delete.has_receivers_for(document)
            or signals.post_delete.has_receivers_for(document)
        )
    )


def whole_number(method: str, n: Any) -> int:
    """``n`` if it is an int >= 0; TypeError or ValueError naming ``method`` otherwise."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{method}() takes an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"{method}() takes a number >= 0, not {n}")
    return n


def sort_spec(document: type[Any], keys: Iterable[str]) -> list[tuple[str, int]]:
    """PyMongo's sort list for MongoEngine's order keys (``'-field'`` descending, ``a__b``
    nested), with declared fields translated to their stored names."""
    spec = []
    for key in keys:
        if not key:
            continue
        direction = pymongo.DESCENDING if key[0] == "-" else pymongo.ASCENDING
        name = key[1:] if key[0] in "+-" else key
        name = name.replace("__", ".")
        try:
            name = document._translate_field_name(name)
        except LookUpError:
            pass  # not a declared field (dynamic, or a stored name): sorted by it as given
        spec.append((name, direction))
    return spec


def db_paths(document: type[Any], fields: Iterable[str]) -> list[str]:
    """Stored (db_field) paths of ``fields``, looked up on subclasses too when they exist.

    LookUpError when no class of the tree has the field.
    """
    candidates = with_subclasses(document)
    paths = []
    for field in fields:
        parts = field.replace("__", ".").split(".")
        for n, candidate in enumerate(candidates, 1):
            try:
                found = candidate._lookup_field(parts)
            except LookUpError:
                if n == len(candidates):
                    raise
                continue
            paths.append(".".join(p if isinstance(p, str) else p.db_field for p in found))
            break
    return paths
