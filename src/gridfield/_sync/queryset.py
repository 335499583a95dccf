# Generated from src/gridfield/_async/queryset.py by scripts/unasync.py: do not edit.
"""Document.objects: MongoEngine-style queries, run through gridfield's connections."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pymongo
from mongoengine import signals
from mongoengine.errors import InvalidQueryError, LookUpError, OperationError
from mongoengine.queryset.field_list import QueryFieldList
from mongoengine.queryset.visitor import Q, QNode
from pymongo.errors import OperationFailure

if TYPE_CHECKING:
    from .document import Document

__all__ = ["QuerySet", "QuerySetManager"]

D = TypeVar("D", bound="Document")

# Documents fetched, deleted and handed to their fields' hooks at a time by delete().
DELETE_BATCH = 500


class QuerySetManager:
    """``Document.objects``: a new query set over the class it is read from, on each access."""

    def __get__(self, instance: object, owner: type[D]) -> QuerySet[D]:
        return QuerySet(owner)


class QuerySet(Generic[D]):
    """A query over one document class; each refining method returns a new query set.

    Filters are MongoEngine's keywords (``genus='Marmota'``, ``age__gt=3``,
    ``tags__in=[...]``) or ``Q`` objects. Nothing reaches the server until a result is
    asked for: ``first()``, ``get()``, ``count()``, ``delete()``, ``to_list()`` or
    iteration (all awaited in the async API).
    """

    def __init__(self, document: type[D]) -> None:
        self._document = document
        self._filter: QNode = Q()
        self._ordering: list[tuple[str, int]] | None = None  # None: meta['ordering']
        self._limit: int | None = None
        self._skip: int | None = None
        self._loaded_fields = QueryFieldList(
            always_include=["_cls"] if _inherits(document) else None
        )

    # -- refining -------------------------------------------------------------------------

    def __call__(self, *q_objs: QNode, **query: Any) -> QuerySet[D]:
        """The documents that also match ``q_objs`` and ``query``."""
        refined = self._clone()
        for q_obj in q_objs:
            if not isinstance(q_obj, QNode):
                raise InvalidQueryError(
                    f"{self._document.__name__}.objects: {q_obj!r} is not a query; "
                    "pass Q(...) objects or field=value keywords"
                )
            refined._filter &= q_obj
        if query:
            refined._filter &= Q(**query)
        return refined

    filter = __call__

    def all(self) -> QuerySet[D]:
        """A copy of this query set."""
        return self._clone()

    def order_by(self, *keys: str) -> QuerySet[D]:
        """Sort by ``keys`` (``'-field'`` descending); no keys clears any ordering."""
        ordered = self._clone()
        ordered._ordering = _sort_spec(self._document, keys)
        return ordered

    def limit(self, n: int) -> QuerySet[D]:
        """At most ``n`` documents (0: no limit)."""
        limited = self._clone()
        limited._limit = _whole_number("limit", n)
        return limited

    def skip(self, n: int) -> QuerySet[D]:
        """Leave out the first ``n`` documents."""
        skipped = self._clone()
        skipped._skip = _whole_number("skip", n)
        return skipped

    def only(self, *fields: str) -> QuerySet[D]:
        """Load only ``fields`` (and the id); the others keep their defaults."""
        return self._load_fields(fields, QueryFieldList.ONLY)

    def exclude(self, *fields: str) -> QuerySet[D]:
        """Load every field but ``fields``."""
        return self._load_fields(fields, QueryFieldList.EXCLUDE)

    # -- results --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[D]:
        for son in self._cursor():
            yield self._document._from_son(son)

    def to_list(self) -> list[D]:
        """All the matching documents."""
        return [doc for doc in self]

    def first(self) -> D | None:
        """The first matching document, or None."""
        found = self.limit(1).to_list()
        return found[0] if found else None

    def get(self, *q_objs: QNode, **query: Any) -> D:
        """The one document matching; ``DoesNotExist`` or ``MultipleObjectsReturned`` else."""
        matching = self.filter(*q_objs, **query)
        found = matching.order_by().limit(2).to_list()
        name = self._document.__name__
        if not found:
            raise self._document.DoesNotExist(
                f"{name} matching query does not exist: {matching._query()}"
            )
        if len(found) > 1:
            raise self._document.MultipleObjectsReturned(
                f"2 or more {name} documents match {matching._query()}, instead of 1"
            )
        return found[0]

    def count(self, with_limit_and_skip: bool = False) -> int:
        """How many documents match (counting limit and skip only when asked, as MongoEngine)."""
        options: dict[str, int] = {}
        if with_limit_and_skip and self._skip:
            options["skip"] = self._skip
        if with_limit_and_skip and self._limit:
            options["limit"] = self._limit
        collection = self._document._get_collection()
        count: int = collection.count_documents(self._query(), **options)
        return count

    def delete(self) -> int:
        """Delete the matching documents, then their files; return how many were deleted.

        When documents may hold files (or limit, skip or delete signals apply) they are
        fetched in batches, each batch deleted by id and then handed to its fields' hooks;
        otherwise one ``delete_many`` does it.
        """
        document = self._document
        collection = document._get_collection()
        if not (
            self._limit or self._skip or document._may_hold_files() or _signals_delete(document)
        ):
            return _delete_matching(collection, self._query(), document)
        deleted = 0
        batch: list[D] = []
        for doc in self:
            batch.append(doc)
            if len(batch) == DELETE_BATCH:
                deleted += _delete_batch(collection, batch)
                batch = []
        if batch:
            deleted += _delete_batch(collection, batch)
        return deleted

    # -- internals ------------------------------------------------------------------------

    def _clone(self) -> QuerySet[D]:
        twin = copy.copy(self)
        # MongoEngine's QueryFieldList changes in place when combined: never share one.
        twin._loaded_fields = copy.deepcopy(self._loaded_fields)
        return twin

    def _load_fields(self, fields: Iterable[str], value: int) -> QuerySet[D]:
        loading = self._clone()
        paths = _db_paths(self._document, fields)
        loading._loaded_fields += QueryFieldList(
            paths, value=value, _only_called=value == QueryFieldList.ONLY
        )
        return loading

    def _query(self) -> dict[str, Any]:
        query: dict[str, Any] = self._filter.to_query(self._document)
        if _inherits(self._document):
            names = list(self._document._subclasses)
            by_class = {"_cls": names[0] if len(names) == 1 else {"$in": names}}
            if "_cls" in query:
                query = {"$and": [by_class, query]}
            else:
                query.update(by_class)
        return query

    def _cursor(self) -> Any:
        projection = self._loaded_fields.as_dict() if self._loaded_fields else None
        cursor = self._document._get_collection().find(self._query(), projection)
        ordering = self._ordering
        if ordering is None:
            ordering = _sort_spec(self._document, self._document._meta.get("ordering") or ())
        if ordering:
            cursor = cursor.sort(ordering)
        if self._skip:
            cursor = cursor.skip(self._skip)
        if self._limit:
            cursor = cursor.limit(self._limit)
        return cursor


def _delete_batch(collection: Any, batch: list[D]) -> int:
    for doc in batch:
        doc._before_delete()
    ids = {"_id": {"$in": [doc._stored_id() for doc in batch]}}
    deleted = _delete_matching(collection, ids, type(batch[0]))
    for doc in batch:
        doc._after_delete()
    return deleted


def _delete_matching(collection: Any, query: dict[str, Any], document: type[Any]) -> int:
    try:
        result = collection.delete_many(query)
    except OperationFailure as err:
        raise OperationError(f"Could not delete {document.__name__} documents ({err})") from err
    deleted: int = result.deleted_count
    return deleted


def _inherits(document: type[Any]) -> bool:
    return document._meta.get("allow_inheritance") is True


def _signals_delete(document: type[Any]) -> bool:
    return bool(
        signals.signals_available
        and (
            signals.pre_delete.has_receivers_for(document)
            or signals.post_delete.has_receivers_for(document)
        )
    )


def _whole_number(method: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{method}() takes an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"{method}() takes a number >= 0, not {n}")
    return n


def _sort_spec(document: type[Any], keys: Iterable[str]) -> list[tuple[str, int]]:
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


def _db_paths(document: type[Any], fields: Iterable[str]) -> list[str]:
    """Stored (db_field) paths of ``fields``, looked up on subclasses too when they exist."""
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


def with_subclasses(document: type[Any]) -> list[type[Any]]:
    """``document`` and every class below it.

    Found by Python's own subclass links rather than MongoEngine's registry by class name,
    where two classes of one name (in the async and the sync API, say) would be confused.
    """
    found = [document]
    for subclass in document.__subclasses__():
        found += with_subclasses(subclass)
    return found
