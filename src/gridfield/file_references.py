"""Which GridFS files a stored document holds, read from its raw BSON and its class's fields.

A plain module on MongoEngine's field classes, shared by both twins: no I/O. Top-level,
embedded (typed or generic) and list or dict FileFields are found, MongoEngine's own
``FileField`` and ``ImageField`` included, each with the alias and bucket it stores in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import mongoengine
from mongoengine.base import _document_registry, get_document
from mongoengine.fields import (
    ComplexBaseField,
    EmbeddedDocumentField,
    FileField,
    GenericEmbeddedDocumentField,
)

__all__ = ["FileReference", "document_classes", "file_references", "file_roots"]


@dataclasses.dataclass(frozen=True)
class FileReference:
    """One file id held by a document, with the alias and bucket its field stores in."""

    db_alias: str
    collection_name: str
    file_id: Any


def _class_of(raw: Mapping[str, Any], default: Any) -> Any:
    """The document class named by ``_cls`` (subclasses share their parent's collection)."""
    name = raw.get("_cls")
    if isinstance(name, str):
        try:
            return get_document(name)
        except mongoengine.errors.NotRegistered:
            return default
    return default


def _may_hold(field: Any, seen: set[Any]) -> bool:
    if field is None or isinstance(field, (FileField, GenericEmbeddedDocumentField)):
        return True
    if isinstance(field, EmbeddedDocumentField):
        kind = field.document_type
        if kind in seen:
            return False
        seen.add(kind)
        return any(_may_hold(f, seen) for f in _fields_with_subclasses(kind))
    if isinstance(field, ComplexBaseField):
        return _may_hold(field.field, seen)
    return False  # plain values, and references: other documents' files are theirs


def _fields_with_subclasses(document: Any) -> Iterator[Any]:
    yield from document._fields.values()
    for name in getattr(document, "_subclasses", ()):
        kind = _document_registry.get(name)
        if kind is not None and kind is not document:
            yield from kind._fields.values()


def file_roots(document: Any) -> list[str]:
    """The top-level stored keys of ``document`` (and its subclasses) that may hold files:
    what a scan needs to project."""
    roots: set[str] = set()
    if getattr(document, "_dynamic", False):
        return []  # any key may hold anything: project nothing away
    kinds = [document] + [
        _document_registry[name]
        for name in getattr(document, "_subclasses", ())
        if name in _document_registry
    ]
    for kind in kinds:
        for field in kind._fields.values():
            if _may_hold(field, set()):
                roots.add(field.db_field)
    return sorted(roots)


def file_references(document: Any, raw: Mapping[str, Any]) -> Iterator[FileReference]:
    """Every file id the stored document ``raw`` (of class ``document``) holds."""
    yield from _in_document(_class_of(raw, document), raw)


def _in_document(document: Any, raw: Mapping[str, Any]) -> Iterator[FileReference]:
    for field in document._fields.values():
        yield from _in_value(field, raw.get(field.db_field))


def _in_value(field: Any, value: Any) -> Iterator[FileReference]:
    if value is None:
        return
    if isinstance(field, FileField):
        yield FileReference(field.db_alias, field.collection_name, value)
    elif isinstance(field, EmbeddedDocumentField) and isinstance(value, Mapping):
        yield from _in_document(_class_of(value, field.document_type), value)
    elif (field is None or isinstance(field, GenericEmbeddedDocumentField)) and isinstance(
        value, Mapping
    ):
        kind = _class_of(value, None)
        if kind is not None:
            yield from _in_document(kind, value)
    elif isinstance(field, ComplexBaseField) or field is None:
        inner = getattr(field, "field", None)
        if isinstance(value, (list, tuple)):
            for item in value:
                yield from _in_value(inner, item)
        elif isinstance(value, Mapping):
            for item in value.values():
                yield from _in_value(inner, item)


def document_classes(documents: Iterable[Any] | None = None) -> list[Any]:
    """The stored document classes to scan, one per collection: those given, or every
    registered concrete ``Document`` whose fields may hold files.

    Subclasses share their root's collection; scanning the root reads each ``_cls``.
    """
    if documents is None:
        candidates = [kind for kind in _document_registry.values() if file_roots(kind)]
    else:
        candidates = list(documents)
        for kind in candidates:
            if not (isinstance(kind, type) and issubclass(kind, mongoengine.Document)):
                raise TypeError(f"documents must be Document classes, not {kind!r}")
    by_collection: dict[tuple[str, str], Any] = {}
    for kind in candidates:
        if not issubclass(kind, mongoengine.Document) or kind._meta.get("abstract"):
            continue
        where = (kind._meta.get("db_alias") or "default", kind._get_collection_name())
        known = by_collection.get(where)
        if known is None or kind._class_name.count(".") < known._class_name.count("."):
            by_collection[where] = kind
    return list(by_collection.values())
