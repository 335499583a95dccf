"""Values that hold stored files: the protocol by which a document's save and delete reach
them, the live walk that finds them in a loaded document, and whether a class may hold any."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import mongoengine
import mongoengine.fields
from mongoengine.base import BaseDocument, ComplexBaseField
from mongoengine.fields import EmbeddedDocumentField, GenericEmbeddedDocumentField

from .classes import with_subclasses

__all__ = [
    "FileHolder",
    "field_may_hold",
    "file_holders",
    "holds_files",
    "is_file_field",
    "may_hold_files",
    "referenced_file_ids",
]


@runtime_checkable
class FileHolder(Protocol):
    """A value in a document that holds stored files (a FileField's proxy, say).

    The document calls ``before_owner_save()`` before it writes itself (a proxy stores the
    data assigned to it: files first), ``owner_save_failed()`` if that write fails (the proxy
    removes what it stored), ``after_owner_save()`` once it is saved and
    ``after_owner_delete()`` once it is deleted, on every such value it holds (top-level,
    embedded, in lists and dicts). In the async API these are coroutines and are awaited; in
    the sync API they are plain methods. ``held_file_ids()`` names the stored files the value
    refers to, without I/O. The field holding such values sets ``holds_files = True`` (see
    ``holds_files``).
    """

    def before_owner_save(self) -> Any:
        """Act before the owner's write (a proxy stores the data assigned to it)."""

    def owner_save_failed(self) -> Any:
        """Undo ``before_owner_save``: the owner's write failed."""

    def after_owner_save(self) -> Any:
        """Act on the owner's save (a proxy deletes the files it replaced)."""

    def after_owner_delete(self) -> Any:
        """Act on the owner's delete (a proxy deletes its file, unless opted out)."""

    def held_file_ids(self) -> list[Any]:
        """The ids of the stored files this value refers to."""


def holds_files(field: Any) -> bool:
    """Whether ``field`` declares that its values are ``FileHolder``s (``holds_files = True``)."""
    return getattr(field, "holds_files", False) is True


def is_file_field(field: Any) -> bool:
    """Whether ``field``'s class says it stores files: ours (``holds_files``) or MongoEngine's
    own FileField and ImageField, whose values are no ``FileHolder``s."""
    return isinstance(field, mongoengine.fields.FileField) or holds_files(field)


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
    return any(_document_may_hold(kind, set(), False) for kind in with_subclasses(document))


def field_may_hold(field: Any, *, stored: bool = False) -> bool:
    """Whether values of ``field`` (a declared field; None for an untyped container's items)
    may hold files, in embedded documents, lists and dicts included.

    The one walk both readers of a document share, which differ in what they can see:

    - ``stored=False``, the live walk (``file_holders``): a value holds files when it is a
      ``FileHolder``, so only fields with ``holds_files`` count; it reads a document's
      dynamic fields too, so a dynamic embedded document may hold anything.
    - ``stored=True``, the raw walk (``stored_file_refs``, for the bucket check): a file is
      known by its field's class, so MongoEngine's own FileField and ImageField count as
      well (their files are in a bucket, though their values are no ``FileHolder``s); it
      reads declared fields only, so a dynamic embedded document counts by those.
    """
    return _field_may_hold(field, set(), stored)


def _document_may_hold(document: Any, seen: set[Any], stored: bool) -> bool:
    if document._dynamic and not stored:
        return True  # any value may come in, embedded documents with files included
    return any(_field_may_hold(field, seen, stored) for field in document._fields.values())


def _field_may_hold(field: Any, seen: set[Any], stored: bool) -> bool:
    if field is None or isinstance(field, GenericEmbeddedDocumentField):
        return True  # an untyped container or any embedded document: anything may be inside
    if holds_files(field) or (stored and is_file_field(field)):
        return True
    if isinstance(field, EmbeddedDocumentField):
        fresh = [kind for kind in with_subclasses(field.document_type) if kind not in seen]
        seen.update(fresh)
        return any(_document_may_hold(kind, seen, stored) for kind in fresh)
    if isinstance(field, ComplexBaseField):  # ListField, DictField, MapField...
        return _field_may_hold(field.field, seen, stored)
    return False  # plain values, and references: other documents' files are theirs
