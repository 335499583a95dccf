# Generated from src/gridfield/_async/queryset.py by scripts/unasync.py: do not edit.
"""Document.objects: MongoEngine-style queries, run through gridfield's connections."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

import mongoengine
from mongoengine.errors import InvalidQueryError, OperationError
from mongoengine.queryset.field_list import QueryFieldList
from mongoengine.queryset.visitor import Q, QNode
from pymongo.errors import OperationFailure

from .._twins import run_aggregate
from ..core.numbers import whole_number
from ..odm.classes import inherits
from ..odm.holders import may_hold_files
from ..odm.queries import (
    AGGREGATE_OPTIONS,
    class_query,
    db_paths,
    embedded_type,
    query_stages,
    server_options,
    signals_delete,
    sort_spec,
    stored_id,
    stored_path,
    value_at,
)
from .connection import collection_of
from .document_events import after_delete, before_delete
from .references import (
    apply_delete_rules,
    has_delete_rules,
    load_references,
    refuse_denied_deletes,
)
from .transactions import in_session
from .updates import QuerySetWrites

__all__ = ["QuerySet", "QuerySetManager"]

D = TypeVar("D", bound=mongoengine.Document)

# Documents fetched, deleted and handed to their fields' hooks at a time by delete().
DELETE_BATCH = 500

# Documents whose references select_related() loads together (one query per class each time).
RELATED_BATCH = 1000


class QuerySetManager:
    """``Document.objects``: a new query set over the class it is read from, on each access."""

    def __get__(self, instance: object, owner: type[D]) -> QuerySet[D]:
        return QuerySet(owner)


class QuerySet(QuerySetWrites, Generic[D]):
    """A query over one document class; each refining method returns a new query set.

    Filters are MongoEngine's keywords (``genus='Marmota'``, ``age__gt=3``,
    ``tags__in=[...]``) or ``Q`` objects. Nothing reaches the server until a result is
    asked for: ``first()``, ``get()``, ``count()``, ``delete()``, ``to_list()`` or
    iteration (all awaited in the async API).
    """

    def __init__(
        self, document: type[D], *, alias: str | None = None, collection_name: str | None = None
    ) -> None:
        """The documents of ``document``'s class; in the database connected under ``alias``
        and in the collection ``collection_name`` when given (else the class's own)."""
        self._document = document
        self._filter: QNode = Q()
        self._ordering: list[tuple[str, int]] | None = None  # None: meta['ordering']
        self._limit: int | None = None
        self._skip: int | None = None
        self._loaded_fields = QueryFieldList(
            always_include=["_cls"] if inherits(document) else None
        )
        self._scalar: tuple[str, ...] = ()  # values_list()/scalar(): yield these, not documents
        self._options: dict[str, Any] = {}  # hint, batch_size, max_time_ms... for the cursor
        self._related = False  # select_related(): load referenced documents
        self._alias = alias  # using(): another connection than the class's
        self._collection_name = collection_name  # a document's switch_collection()

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
        limited._limit = whole_number(n, "limit()", minimum=0)
        return limited

    def skip(self, n: int) -> QuerySet[D]:
        """Leave out the first ``n`` documents."""
        skipped = self._clone()
        skipped._skip = whole_number(n, "skip()", minimum=0)
        return skipped

    def only(self, *fields: str) -> QuerySet[D]:
        """Load only ``fields`` (and the id); the others keep their defaults."""
        return self._load_fields(fields, QueryFieldList.ONLY)

    def exclude(self, *fields: str) -> QuerySet[D]:
        """Load every field but ``fields``."""
        return self._load_fields(fields, QueryFieldList.EXCLUDE)

    def hint(self, index: Any = None) -> QuerySet[D]:
        """Tell the server which index to use (a name, or a list of (field, direction))."""
        return self._option("hint", index)

    def batch_size(self, size: int) -> QuerySet[D]:
        """Fetch ``size`` documents per round trip while iterating."""
        return self._option("batch_size", whole_number(size, "batch_size()", minimum=0))

    def max_time_ms(self, ms: int | None) -> QuerySet[D]:
        """Let the server stop the query after ``ms`` milliseconds (ExecutionTimeout)."""
        return self._option("max_time_ms", ms)

    def collation(self, collation: Any = None) -> QuerySet[D]:
        """Compare strings by ``collation`` (a dict or ``pymongo.collation.Collation``)."""
        return self._option("collation", collation)

    def comment(self, text: str) -> QuerySet[D]:
        """Attach ``text`` to the query, for the server's logs and profiler."""
        return self._option("comment", text)

    def no_cache(self) -> QuerySet[D]:
        """This query set: it never keeps the documents it hands out.

        Iteration already streams in batches (see ``batch_size``) in bounded memory;
        kept for MongoEngine's name.
        """
        return self._clone()

    def scalar(self, *fields: str) -> QuerySet[Any]:
        """Yield the values of ``fields`` instead of documents: a value for one field, else a
        tuple (``None`` where a document has no value)."""
        scalars: QuerySet[Any] = self.only(*fields)
        scalars._scalar = fields
        return scalars

    values_list = scalar

    def using(self, alias: str) -> QuerySet[D]:
        """The same query on the database connected under ``alias``."""
        return self._placed(alias, self._collection_name)

    def select_related(self, max_depth: int = 1) -> QuerySet[D]:
        """Load the documents the results refer to along with them: one query per
        referenced collection for each ``RELATED_BATCH`` results, never one per reference."""
        related = self._clone()
        related._related = True
        return related

    # -- results --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[D]:
        if self._related and not self._scalar:
            batch: list[D] = []
            for son in self._cursor():
                batch.append(self._document._from_son(son))
                if len(batch) == RELATED_BATCH:
                    load_references(batch)
                    for doc in batch:
                        yield doc
                    batch = []
            load_references(batch)
            for doc in batch:
                yield doc
            return
        for son in self._cursor():
            doc = self._document._from_son(son)
            yield self._scalar_of(doc) if self._scalar else doc

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

    def with_id(self, object_id: Any) -> D | None:
        """The document with this id, or None; InvalidQueryError once filtered."""
        if self._filter:
            raise InvalidQueryError("Cannot use a filter whilst using `with_id`")
        return self.filter(pk=object_id).first()

    def exists(self) -> bool:
        """Whether any document matches (one id is fetched, nothing else)."""
        found = self._collection().find(self._query(), {"_id": 1}, **self._find())
        for _ in found.limit(1):
            return True
        return False

    def in_bulk(self, object_ids: Iterable[Any]) -> dict[Any, Any]:
        """The documents with these ids, by id (filters aside, as MongoEngine's ``in_bulk``)."""
        projection = self._loaded_fields.as_dict() if self._loaded_fields else None
        found = self._collection().find(
            {"_id": {"$in": list(object_ids)}}, projection, **self._find()
        )
        by_id: dict[Any, Any] = {}
        for son in found:
            doc = self._document._from_son(son)
            by_id[son["_id"]] = self._scalar_of(doc) if self._scalar else doc
        return by_id

    def distinct(self, field: str) -> list[Any]:
        """The distinct values of ``field`` among the matching documents (limit, skip and
        ordering aside, as the server's ``distinct``); embedded documents come back as such."""
        options = server_options(self._options, ("collation", "comment", "max_time_ms"))
        values: list[Any] = self._collection().distinct(
            stored_path(self._document, field), self._query(), **options, **in_session()
        )
        embedded = embedded_type(self._document, field)
        if embedded is None:
            return values
        return [embedded._from_son(v) if isinstance(v, dict) else v for v in values]

    def aggregate(self, pipeline: list[Any], **options: Any) -> Iterator[dict[str, Any]]:
        """Run ``pipeline`` on the matching documents; iterate the results.

        The query set's filter, ordering, skip, limit and projection come first, as in
        MongoEngine; ``options`` go to the server's ``aggregate`` (``allowDiskUse``...).
        """
        projection = self._loaded_fields.as_dict() if self._loaded_fields else None
        stages = query_stages(self._query(), self._sort(), self._skip, self._limit, projection)
        options = {**server_options(self._options, AGGREGATE_OPTIONS), **options}
        cursor = run_aggregate(self._collection(), [*stages, *pipeline], **options, **in_session())
        for result in cursor:
            yield result

    def explain(self) -> dict[str, Any]:
        """The server's plan for this query (its ``explain`` output)."""
        plan: dict[str, Any] = self._cursor().explain()
        return plan

    def count(self, with_limit_and_skip: bool = False) -> int:
        """How many documents match (counting limit and skip only when asked, as MongoEngine)."""
        options = server_options(self._options, ("hint", "collation", "comment", "max_time_ms"))
        if with_limit_and_skip and self._skip:
            options["skip"] = self._skip
        if with_limit_and_skip and self._limit:
            options["limit"] = self._limit
        collection = self._collection()
        count: int = collection.count_documents(self._query(), **options, **in_session())
        return count

    def delete(self) -> int:
        """Delete the matching documents, then their files; return how many were deleted.

        When documents may hold files (or limit, skip or delete signals apply) they are
        fetched in batches, each batch deleted by id and then handed to its fields' hooks;
        otherwise one ``delete_many`` does it.
        """
        document = self._document
        collection = self._collection()
        rules = has_delete_rules(document)
        if rules:
            ids = [son["_id"] for son in self._cursor_of({"_id": 1})]
            refuse_denied_deletes(document, ids)  # before anything is deleted
        if not (
            self._limit
            or self._skip
            or rules
            or may_hold_files(document)
            or signals_delete(document)
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

    def _placed(self, alias: str | None, collection_name: str | None) -> QuerySet[D]:
        placed = self._clone()
        placed._alias, placed._collection_name = alias, collection_name
        return placed

    def _collection(self) -> Any:
        """The collection this query set reads and writes."""
        return collection_of(self._document, self._alias, self._collection_name)

    def _everywhere(self) -> QuerySet[D]:
        return type(self)(self._document, alias=self._alias, collection_name=self._collection_name)

    def _option(self, name: str, value: Any) -> QuerySet[D]:
        changed = self._clone()
        changed._options = {**self._options, name: value}
        return changed

    def _find(self) -> dict[str, Any]:
        """Keyword arguments of ``find``: the cursor options set, the transaction's session."""
        return {**self._options, **in_session()}

    def _sort(self) -> list[tuple[str, int]]:
        if self._ordering is not None:
            return self._ordering
        return sort_spec(self._document, self._document._meta.get("ordering") or ())

    def _read_options(self) -> dict[str, Any]:
        """Sort and projection for ``find_one_and_update``/``find_one_and_delete``."""
        options: dict[str, Any] = {"sort": self._sort() or None}
        if self._loaded_fields:
            options["projection"] = self._loaded_fields.as_dict()
        return options

    def _scalar_of(self, doc: Any) -> Any:
        values = tuple(value_at(doc, name) for name in self._scalar)
        return values[0] if len(values) == 1 else values

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
        return self._cursor_of(self._loaded_fields.as_dict() if self._loaded_fields else None)

    def _cursor_of(self, projection: dict[str, Any] | None) -> Any:
        collection = self._collection()
        cursor = collection.find(self._query(), projection, **self._find())
        ordering = self._sort()
        if ordering:
            cursor = cursor.sort(ordering)
        if self._skip:
            cursor = cursor.skip(self._skip)
        if self._limit:
            cursor = cursor.limit(self._limit)
        return cursor


def _delete_batch(collection: Any, batch: list[D]) -> int:
    for doc in batch:
        before_delete(doc)
    ids = {"_id": {"$in": [stored_id(doc) for doc in batch]}}
    deleted = _delete_matching(collection, ids, type(batch[0]))
    if has_delete_rules(type(batch[0])):
        apply_delete_rules(type(batch[0]), [doc.pk for doc in batch])
    for doc in batch:
        after_delete(doc)
    return deleted


def _delete_matching(collection: Any, query: dict[str, Any], document: type[Any]) -> int:
    try:
        result = collection.delete_many(query, **in_session())
    except OperationFailure as err:
        raise OperationError(f"Could not delete {document.__name__} documents ({err})") from err
    deleted: int = result.deleted_count
    return deleted
