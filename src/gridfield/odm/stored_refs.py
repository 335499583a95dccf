"""File ids in stored documents, read from their raw BSON, for the bucket check.

Driven by the field classes rather than by ``FileHolder`` values, so documents need not be
loaded, and MongoEngine's own FileField and ImageField count as well as ours.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import mongoengine
import mongoengine.fields
from mongoengine.base import ComplexBaseField
from mongoengine.fields import EmbeddedDocumentField, GenericEmbeddedDocumentField

from .classes import with_subclasses
from .holders import field_may_hold, is_file_field

__all__ = [
    "StoredFileRef",
    "collection_root",
    "document_classes",
    "file_paths",
    "file_roots",
    "stored_file_refs",
]


@dataclasses.dataclass(frozen=True)
class StoredFileRef:
    """One file id held by a stored document, with the alias and bucket its field stores in."""

    db_alias: str
    collection_name: str
    file_id: Any


def file_roots(document: type[Any]) -> list[str]:
    """The top-level stored keys of ``document`` (and its subclasses) whose declared fields
    may hold files: what a scan needs to read (empty for a class that can hold none)."""
    roots: set[str] = set()
    for kind in with_subclasses(document):
        for field in kind._fields.values():
            if field_may_hold(field, stored=True):
                roots.add(field.db_field)
    return sorted(roots)


def file_paths(document: type[Any]) -> list[str] | None:
    """The dotted paths at which documents of ``document`` (and its subclasses) store file
    ids, for a query such as ``{path: {"$in": ids}}`` (a path through a list matches its
    items); None when some file may sit where no path names it (a dict or map, a generic
    or recursive embedded document, a dynamic document): then only a scan finds them all."""
    paths: set[str] = set()
    for kind in with_subclasses(document):
        found = _paths_in_document(kind, "", ())
        if found is None:
            return None
        paths.update(found)
    return sorted(paths)


def _paths_in_document(kind: Any, prefix: str, seen: tuple[Any, ...]) -> list[str] | None:
    if kind._dynamic:
        return None
    if kind in seen:  # a recursive embedded document: files at any depth, if any at all
        holds = any(field_may_hold(field, stored=True) for field in kind._fields.values())
        return None if holds else []
    paths: list[str] = []
    for field in kind._fields.values():
        found = _paths_in(field, f"{prefix}{field.db_field}", (*seen, kind))
        if found is None:
            return None
        paths += found
    return paths


def _paths_in(field: Any, path: str, seen: tuple[Any, ...]) -> list[str] | None:
    if field is None or isinstance(field, GenericEmbeddedDocumentField):
        return None
    if is_file_field(field):
        return [path]
    if isinstance(field, EmbeddedDocumentField):
        paths: list[str] = []
        for kind in with_subclasses(field.document_type):
            found = _paths_in_document(kind, f"{path}.", seen)
            if found is None:
                return None
            paths += found
        return paths
    if isinstance(field, mongoengine.fields.ListField):
        return _paths_in(field.field, path, seen)  # a path reaches into a list's items
    if isinstance(field, ComplexBaseField):  # a dict or map: its keys are not known
        return None if field_may_hold(field.field, stored=True) else []
    return []


def _class_named(raw: Mapping[str, Any], default: type[Any]) -> type[Any]:
    """The class of ``default``'s tree that ``raw``'s ``_cls`` names (else ``default``)."""
    name = raw.get("_cls")
    if isinstance(name, str) and name != default._class_name:
        for kind in with_subclasses(default):
            if kind._class_name == name:
                return kind
    return default


def stored_file_refs(document: type[Any], raw: Mapping[str, Any]) -> Iterator[StoredFileRef]:
    """Every file id the stored document ``raw`` (of ``document`` or a subclass) holds:
    top-level, in embedded documents (typed or generic) and in lists and dicts."""
    yield from _refs_in_document(_class_named(raw, document), raw)


def _refs_in_document(document: type[Any], raw: Mapping[str, Any]) -> Iterator[StoredFileRef]:
    for field in document._fields.values():
        yield from _refs_in(field, raw.get(field.db_field))


def _refs_in(field: Any, value: Any) -> Iterator[StoredFileRef]:
    if value is None:
        return
    if is_file_field(field):
        yield StoredFileRef(field.db_alias, field.collection_name, value)
    elif isinstance(field, EmbeddedDocumentField):
        if isinstance(value, Mapping):
            yield from _refs_in_document(_class_named(value, field.document_type), value)
    elif field is None or isinstance(field, GenericEmbeddedDocumentField):
        name = value.get("_cls") if isinstance(value, Mapping) else None
        if isinstance(name, str):
            kind = _embedded_named(name)
            if kind is not None:
                yield from _refs_in_document(kind, value)
        elif field is None:
            yield from _refs_in_container(None, value)
    elif isinstance(field, ComplexBaseField):
        yield from _refs_in_container(field.field, value)


def _refs_in_container(inner: Any, value: Any) -> Iterator[StoredFileRef]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _refs_in(inner, item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _refs_in(inner, item)


def _embedded_named(name: str) -> type[Any] | None:
    for kind in with_subclasses(mongoengine.EmbeddedDocument):
        if getattr(kind, "_class_name", None) == name:
            return kind
    return None


def document_classes(documents: Iterable[Any] | None = None) -> list[type[Any]]:
    """The stored document classes to scan, one per collection: those given, or every
    concrete ``Document`` subclass whose fields may hold files.

    Subclasses share their root's collection; scanning the root reads each ``_cls``.
    """
    if documents is None:
        candidates = [
            kind
            for kind in with_subclasses(mongoengine.Document)
            if _concrete(kind) and file_roots(kind)
        ]
    else:
        candidates = list(documents)
        for kind in candidates:
            if not (isinstance(kind, type) and issubclass(kind, mongoengine.Document)):
                raise TypeError(f"documents must be Document classes, not {kind!r}")
    by_collection: dict[tuple[str, str], type[Any]] = {}
    for kind in candidates:
        if not _concrete(kind):
            continue
        where = (kind._meta.get("db_alias") or "default", kind._get_collection_name())
        known = by_collection.get(where)
        if known is None or kind._class_name.count(".") < known._class_name.count("."):
            by_collection[where] = kind
    return list(by_collection.values())


def collection_root(document: type[Any]) -> type[Any]:
    """The class of ``document``'s tree that owns its collection (its topmost concrete
    ancestor stored there): scanning it reads every class stored beside it."""
    name = document._get_collection_name()
    root = document
    for kind in type.mro(document):
        if isinstance(kind, type) and issubclass(kind, mongoengine.Document) and _concrete(kind):
            stored: Any = kind  # MongoEngine ships no type information
            if stored._get_collection_name() == name:
                root = kind
    return root


def _concrete(kind: type[Any]) -> bool:
    """A document class with a collection of its own (not abstract, not MongoEngine's base)."""
    meta = getattr(kind, "_meta", None) or {}
    return "_fields" in dir(kind) and not meta.get("abstract") and bool(kind._get_collection_name())
