"""What a query set needs from MongoEngine, without I/O: class queries, sorts, stored paths,
the fields an update may release files from, aggregation stages, index differences."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pymongo
from mongoengine import signals
from mongoengine.document import includes_cls
from mongoengine.errors import LookUpError
from mongoengine.fields import EmbeddedDocumentField, GenericEmbeddedDocumentField

from .classes import inherits, with_subclasses
from .holders import field_may_hold

__all__ = [
    "AGGREGATE_OPTIONS",
    "class_query",
    "db_paths",
    "embedded_type",
    "file_holding_paths",
    "index_differences",
    "query_stages",
    "server_options",
    "signals_delete",
    "sort_spec",
    "stored_id",
    "stored_path",
    "value_at",
]


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
        return sorted(name for name, f in by_db_name.items() if field_may_hold(f))
    paths: set[str] = set()
    for operand in mongo_update.values():
        for path in operand if isinstance(operand, dict) else ():
            top = path.split(".", 1)[0]
            field = by_db_name.get(top)
            if (field is None and document._dynamic) or (
                field is not None and field_may_hold(field)
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


def stored_id(doc: Any) -> Any:
    """``doc``'s id as stored in ``_id``; filters use it with ``$eq``, as a value, never a
    query."""
    return doc._fields[doc._meta["id_field"]].to_mongo(doc.pk)
