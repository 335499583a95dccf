"""MongoEngine helpers with no I/O, shared by both APIs: class trees, sorts, projections, and
the walk that finds the values in a document that hold stored files.

Also the one protocol by which a document's save and delete reach those values, and the
walk over a stored document's raw BSON that finds the file ids it holds (for the bucket check).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import mongoengine
import mongoengine.fields
import pymongo
from mongoengine import signals
from mongoengine.base import BaseDocument, ComplexBaseField
from mongoengine.document import includes_cls
from mongoengine.errors import LookUpError
from mongoengine.fields import EmbeddedDocumentField, GenericEmbeddedDocumentField

from .core.numbers import is_whole_number

__all__ = [
    "AGGREGATE_OPTIONS",
    "FileHolder",
    "StoredFileRef",
    "class_query",
    "db_paths",
    "document_classes",
    "embedded_type",
    "file_holders",
    "file_holding_paths",
    "file_paths",
    "file_roots",
    "holds_files",
    "index_differences",
    "inherits",
    "may_hold_files",
    "query_stages",
    "referenced_file_ids",
    "server_options",
    "signals_delete",
    "sort_spec",
    "stored_file_refs",
    "stored_path",
    "value_at",
    "whole_number",
    "with_subclasses",
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
    if not is_whole_number(n):
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


# -- file ids in stored documents, read from their raw BSON ------------------------------------
# Driven by the field classes rather than by FileHolder values, so documents need not be
# loaded, and MongoEngine's own FileField and ImageField count as well as ours.


@dataclasses.dataclass(frozen=True)
class StoredFileRef:
    """One file id held by a stored document, with the alias and bucket its field stores in."""

    db_alias: str
    collection_name: str
    file_id: Any


def _is_file_field(field: Any) -> bool:
    return isinstance(field, mongoengine.fields.FileField) or holds_files(field)


def _raw_may_hold(field: Any, seen: set[Any]) -> bool:
    if field is None or isinstance(field, GenericEmbeddedDocumentField) or _is_file_field(field):
        return True
    if isinstance(field, EmbeddedDocumentField):
        fresh = [kind for kind in with_subclasses(field.document_type) if kind not in seen]
        seen.update(fresh)
        return any(_raw_may_hold(f, seen) for kind in fresh for f in kind._fields.values())
    if isinstance(field, ComplexBaseField):
        return _raw_may_hold(field.field, seen)
    return False


def file_roots(document: type[Any]) -> list[str]:
    """The top-level stored keys of ``document`` (and its subclasses) whose declared fields
    may hold files: what a scan needs to read (empty for a class that can hold none)."""
    roots: set[str] = set()
    for kind in with_subclasses(document):
        for field in kind._fields.values():
            if _raw_may_hold(field, set()):
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
        holds = any(_raw_may_hold(field, set()) for field in kind._fields.values())
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
    if _is_file_field(field):
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
        return None if _raw_may_hold(field.field, set()) else []
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
    if _is_file_field(field):
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


# -- updates, scalars, distinct, indexes --------------------------------------------------


def file_holding_paths(document: type[Any], mongo_update: Any) -> list[str]:
    """The stored top-level fields an update document writes that may hold files.

    An update that replaces or removes such a field may release files, so their values are
    read before and after it; other fields are not. An aggregation pipeline (a list) may
    write anything.
    """
    by_db_name = {
        field.db_field: field
        for kind in with_subclasses(document)
        for field in kind._fields.values()
    }
    if not isinstance(mongo_update, dict):
        return sorted(name for name, f in by_db_name.items() if _field_may_hold(f, set()))
    paths: set[str] = set()
    for operand in mongo_update.values():
        for path in operand if isinstance(operand, dict) else ():
            top = path.split(".", 1)[0]
            field = by_db_name.get(top)
            if (field is None and document._dynamic) or (
                field is not None and _field_may_hold(field, set())
            ):
                paths.add(top)
    return sorted(paths)


def value_at(doc: Any, name: str) -> Any:
    """The value of ``name`` (``a__b`` or ``a.b`` into embedded documents) in ``doc``, or None."""
    value = doc
    for part in name.replace("__", ".").split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def embedded_type(document: type[Any], field: str) -> Any:
    """The embedded document class a (dotted) field holds, directly or in a list, or None."""
    try:
        found = document._lookup_field(field.replace("__", ".").split("."))
    except LookUpError:
        return None
    last = found[-1] if found else None
    inner = getattr(last, "field", None) or last  # a list of embedded documents
    if isinstance(inner, (EmbeddedDocumentField, GenericEmbeddedDocumentField)):
        return getattr(inner, "document_type", None)
    return None


def index_differences(required: list[Any], information: list[dict[str, Any]]) -> dict[str, Any]:
    """MongoEngine's ``compare_indexes`` rule: ``{"missing": [...], "extra": [...]}`` between
    the declared index keys and the server's ``index_information()`` values."""
    existing = []
    for info in information:
        if "_fts" in info["key"][0]:  # a text index: its fields are its weights' keys
            kind = info["key"][0][1]
            existing.append([(key, kind) for key in info.get("weights", {})])
        else:
            existing.append(info["key"])
    missing = [index for index in required if index not in existing]
    extra = [index for index in existing if index not in required]
    # an index that includes _cls makes a separate {_cls: 1} index needless
    if [("_cls", 1)] in missing and any(
        includes_cls(index) and index not in extra for index in existing
    ):
        missing.remove([("_cls", 1)])
    return {"missing": missing, "extra": extra}


# A query set's cursor options (our names) and the server's names for them
_SERVER_NAMES = {
    "batch_size": "batchSize",
    "collation": "collation",
    "comment": "comment",
    "hint": "hint",
    "max_time_ms": "maxTimeMS",
}

# The cursor options an aggregation takes
AGGREGATE_OPTIONS = ("batch_size", "collation", "comment", "hint", "max_time_ms")


def server_options(options: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Those of a query set's cursor ``options`` among ``names``, under the server's names
    (for commands that take them as keywords: count, distinct, aggregate)."""
    return {
        _SERVER_NAMES[name]: options[name]
        for name in names
        if name in options and options[name] is not None
    }


def query_stages(
    query: dict[str, Any],
    sort: list[tuple[str, int]],
    skip: int | None,
    limit: int | None,
    projection: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The aggregation stages that select what a query set would: match, sort, skip, limit,
    project, in MongoEngine's order."""
    stages: list[dict[str, Any]] = [{"$match": query}]
    if sort:
        stages.append({"$sort": dict(sort)})
    if skip:
        stages.append({"$skip": skip})
    if limit:
        stages.append({"$limit": limit})
    if projection:
        stages.append({"$project": projection})
    return stages


def stored_path(document: type[Any], field: str) -> str:
    """The stored (db_field) path of ``field``; an undeclared one (dynamic) as given."""
    try:
        return db_paths(document, [field])[0]
    except LookUpError:
        return field.replace("__", ".")
