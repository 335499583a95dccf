# Generated from src/gridfield/_async/queryset.py by scripts/unasync.py: do not edit.
"""Document.objects: MongoEngine-style queries, run through gridfield's connections."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mongoengine.errors import InvalidQueryError, OperationError
from mongoengine.queryset.field_list import QueryFieldList
from mongoengine.queryset.visitor import Q, QNode
from pymongo.errors import OperationFailure

from ..odm import (
    class_query,
    db_paths,
    inherits,
    may_hold_files,
    signals_delete,
    sort_spec,
    whole_number,
)

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
            always_include=["_cls"] if inherits(document) else None
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
        ordered._ordering = sort_spec(self._document, keys)
        return ordered

    def limit(self, n: int) -> QuerySet[D]:
        """At most ``n`` documents (0: no limit)."""
        limited = self._clone()
        limited._limit = whole_number("limit", n)
        return limited

    def skip(self, n: int) -> QuerySet[D]:
        """Leave out the first ``n`` documents."""
        skipped = self._clone()
        skipped._skip = whole_number("skip", n)
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
        if not (self._limit or self._skip or may_hold_files(document) or signals_delete(document)):
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
        paths = db_paths(self._document, fields)
        loading._loaded_fields += QueryFieldList(
            paths, value=value, _only_called=value == QueryFieldList.ONLY
        )
        return loading

    def _query(self) -> dict[str, Any]:
        return class_query(self._document, self._filter.to_query(self._document))

    def _cursor(self) -> Any:
        projection = self._loaded_fields.as_dict() if self._loaded_fields else None
        cursor = self._document._get_collection().find(self._query(), projection)
        ordering = self._ordering
        if ordering is None:
            ordering = sort_spec(self._document, self._document._meta.get("ordering") or ())
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
