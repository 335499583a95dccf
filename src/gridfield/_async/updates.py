"""Writes of a query set (inserts, atomic updates), MongoEngine's keywords on our connection.

The keywords (``set__name=...``, ``inc__age=1``, ``push__tags=...``, ``S`` positional) are
turned into an update document by MongoEngine's own ``transform.update``; this module sends
it, and keeps files consistent: when an update replaces or removes a value that holds files,
the files the documents no longer hold are deleted once the update succeeded (fields that
opted out with ``delete_with_owner=False`` keep theirs).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

import mongoengine
from mongoengine import signals
from mongoengine.errors import BulkWriteError as MongoEngineBulkWriteError
from mongoengine.errors import NotUniqueError, OperationError
from mongoengine.queryset import transform
from mongoengine.queryset.visitor import QNode
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
from pymongo.write_concern import WriteConcern

from ..odm.holders import FileHolder, file_holders
from ..odm.queries import file_holding_paths
from .document_events import release_files
from .holder_hooks import tell_holders
from .transactions import in_session


class QuerySetWrites(ABC):
    """The write methods of a query set (``Document.objects``) but delete: MongoEngine's
    names and arguments; the query set class derives from it and provides what is declared
    here, the one interface its writes use."""

    # The document class queried, and where its documents are: the connection alias and
    # collection name (None: the class's own).
    _document: type[Any]
    _alias: str | None
    _collection_name: str | None

    @abstractmethod
    def _collection(self) -> Any:
        """The collection the query set reads and writes."""

    @abstractmethod
    def _query(self) -> dict[str, Any]:
        """The server's filter for the matching documents."""

    @abstractmethod
    def _read_options(self) -> dict[str, Any]:
        """Sort and projection for ``find_one_and_update``/``find_one_and_delete``."""

    @abstractmethod
    def _everywhere(self) -> QuerySetWrites:
        """A query set over the same collection, without filter, order or limits."""

    @abstractmethod
    async def in_bulk(self, object_ids: Iterable[Any]) -> dict[Any, Any]:
        """The documents with these ids, by id."""

    @abstractmethod
    async def get(self, *q_objs: QNode, **query: Any) -> Any:
        """The one document matching."""

    @abstractmethod
    async def with_id(self, object_id: Any) -> Any:
        """The document with this id, or None."""

    async def create(self, **values: Any) -> Any:
        """A new document of these ``values``, inserted (``save(force_insert=True)``)."""
        doc = self._document(**values)
        # saved where this query set is
        if self._alias is not None:
            doc.switch_db(self._alias)
        if self._collection_name is not None:
            doc.switch_collection(self._collection_name)
        return await doc.save(force_insert=True)

    async def insert(
        self,
        doc_or_docs: Any,
        load_bulk: bool = True,
        write_concern: dict[str, Any] | None = None,
        signal_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """Insert new documents in one command, as MongoEngine's bulk ``insert``.

        Returns the documents as stored (or only their ids with ``load_bulk=False``): one
        for one document given, a list for a list. As in MongoEngine they are not validated,
        and OperationError refuses any that is not of this class or is already stored.
        """
        one = isinstance(doc_or_docs, mongoengine.Document)
        docs = [doc_or_docs] if one else list(doc_or_docs)
        for doc in docs:
            if not isinstance(doc, self._document):
                raise OperationError(
                    f"Some documents inserted aren't instances of {self._document.__name__}"
                )
            if doc.pk is not None and not doc._created:
                raise OperationError("Some documents have ObjectIds, use doc.update() instead")
        signal_kwargs = signal_kwargs or {}
        signals.pre_bulk_insert.send(self._document, documents=docs, **signal_kwargs)
        collection = _with_concern(self._collection(), write_concern)
        try:
            result = await collection.insert_many([doc.to_mongo() for doc in docs], **in_session())
        except DuplicateKeyError as err:
            raise NotUniqueError(f"Could not save document ({err})") from err
        except BulkWriteError as err:
            raise MongoEngineBulkWriteError(f"Bulk write error: ({err.details})") from err
        except OperationFailure as err:
            raise OperationError(f"Could not save document ({err})") from err
        ids = list(result.inserted_ids)
        if not load_bulk:
            signals.post_bulk_insert.send(
                self._document, documents=docs, loaded=False, **signal_kwargs
            )
            return ids[0] if one else ids
        by_id = await self._everywhere().in_bulk(ids)
        stored = [by_id[i] for i in ids if i in by_id]
        signals.post_bulk_insert.send(
            self._document, documents=stored, loaded=True, **signal_kwargs
        )
        return stored[0] if one else stored

    async def update(
        self,
        upsert: bool = False,
        multi: bool = True,
        write_concern: dict[str, Any] | None = None,
        full_result: bool = False,
        array_filters: list[Any] | None = None,
        **update: Any,
    ) -> Any:
        """Update every matching document with MongoEngine's update keywords.

        ``Animal.objects(genus="Marmota").update(inc__age=1, push__tags="fat")``.
        Returns how many documents matched (or pymongo's UpdateResult with
        ``full_result``). Files a FileField no longer holds afterwards are deleted
        (unless its ``delete_with_owner`` is False).
        """
        result = await run_update(
            self,
            update,
            upsert=upsert,
            multi=multi,
            write_concern=write_concern,
            array_filters=array_filters,
        )
        if full_result:
            return result
        if not result.acknowledged:
            return None  # unacknowledged (w=0): the count is not known, as in MongoEngine
        return result.raw_result["n"] if result.raw_result else result.matched_count

    async def update_one(
        self,
        upsert: bool = False,
        write_concern: dict[str, Any] | None = None,
        full_result: bool = False,
        array_filters: list[Any] | None = None,
        **update: Any,
    ) -> Any:
        """``update`` of the first matching document only."""
        return await self.update(
            upsert=upsert,
            multi=False,
            write_concern=write_concern,
            full_result=full_result,
            array_filters=array_filters,
            **update,
        )

    async def upsert_one(self, write_concern: dict[str, Any] | None = None, **update: Any) -> Any:
        """Update the first matching document, or insert one; return it as now stored."""
        result = await self.update(
            multi=False, upsert=True, write_concern=write_concern, full_result=True, **update
        )
        if result.upserted_id is None:
            return await self.get()
        found = await self._everywhere().with_id(result.upserted_id)
        if found is None:  # deleted again meanwhile
            raise self._document.DoesNotExist(f"{self._document.__name__} upserted then gone")
        return found

    async def modify(
        self,
        upsert: bool = False,
        remove: bool = False,
        new: bool = False,
        array_filters: list[Any] | None = None,
        **update: Any,
    ) -> Any:
        """Update (or with ``remove``, delete) the first matching document, atomically.

        Returns the document as it was before, or after with ``new=True``; None when
        nothing matched (or when upserting without ``new``).
        """
        return await run_modify(
            self, update, upsert=upsert, remove=remove, new=new, array_filters=array_filters
        )


def update_document(document: type[Any], update: dict[str, Any]) -> Any:
    """The server's update document for MongoEngine update keywords (their own translation).

    An unknown field or operator raises MongoEngine's ``InvalidQueryError``/``LookUpError``
    here, before anything is sent.
    """
    if "__raw__" in update and isinstance(update["__raw__"], list):
        return [transform.update(document, __raw__=stage) for stage in update["__raw__"]]
    return transform.update(document, **update)


async def run_update(
    queryset: QuerySetWrites,
    update: dict[str, Any],
    *,
    upsert: bool,
    multi: bool,
    write_concern: dict[str, Any] | None,
    array_filters: list[Any] | None,
) -> Any:
    """Send an update to the documents ``queryset`` matches; return pymongo's UpdateResult."""
    document = queryset._document
    if not update and not upsert:
        raise OperationError("No update parameters, would remove data")
    mongo_update, holders = await _with_files_stored(update_document(document, update))
    query = queryset._query()
    if upsert and "_cls" in query and isinstance(mongo_update, dict):
        # an upserted document must say its class, as MongoEngine's upserts do
        mongo_update.setdefault("$set", {})["_cls"] = document._class_name
    collection = _with_concern(queryset._collection(), write_concern)
    paths = file_holding_paths(document, mongo_update)
    before = await _held_files(document, collection, query, paths, multi)
    if before and not multi:
        # the document whose files were read is the one updated
        query = {"$and": [query, {"_id": {"$in": list(before)}}]}
    send = collection.update_many if multi else collection.update_one
    try:
        result = await send(
            query, mongo_update, upsert=upsert, array_filters=array_filters, **in_session()
        )
    except DuplicateKeyError as err:
        raise NotUniqueError(f"Update failed ({err})") from err
    except OperationFailure as err:
        raise OperationError(f"Update failed ({err})") from err
    finally:
        await _let_go(holders)
    await _drop_released_files(document, collection, paths, before)
    return result


async def run_modify(
    queryset: QuerySetWrites,
    update: dict[str, Any],
    *,
    upsert: bool,
    remove: bool,
    new: bool,
    array_filters: list[Any] | None,
) -> Any:
    """``findAndModify`` on the first document ``queryset`` matches; the document or None."""
    document = queryset._document
    if remove and new:
        raise OperationError("Conflicting parameters: remove and new")
    if not update and not upsert and not remove:
        raise OperationError("No update parameters, must either update or remove")
    collection = queryset._collection()
    options = queryset._read_options()
    if remove:
        try:
            son = await collection.find_one_and_delete(queryset._query(), **options, **in_session())
        except OperationFailure as err:
            raise OperationError(f"Delete failed ({err})") from err
        if son is None:
            return None
        removed = document._from_son(son)
        await release_files(removed)  # MongoEngine sends no signal here; files still go
        return removed
    mongo_update, holders = await _with_files_stored(update_document(document, update))
    paths = file_holding_paths(document, mongo_update)
    before = await _held_files(document, collection, queryset._query(), paths, False, options)
    query = queryset._query()
    if before:
        # the document whose files were read is the one updated
        query = {"$and": [query, {"_id": {"$in": list(before)}}]}
    try:
        son = await collection.find_one_and_update(
            query,
            mongo_update,
            upsert=upsert,
            return_document=ReturnDocument.AFTER if new else ReturnDocument.BEFORE,
            array_filters=array_filters,
            **options,
            **in_session(),
        )
    except DuplicateKeyError as err:
        raise NotUniqueError(f"Update failed ({err})") from err
    except OperationFailure as err:
        raise OperationError(f"Update failed ({err})") from err
    finally:
        await _let_go(holders)
    await _drop_released_files(document, collection, paths, before)
    return None if son is None else document._from_son(son)


async def _with_files_stored(mongo_update: Any) -> tuple[Any, list[Any]]:
    """The update document with each file-holding value (a proxy given as ``set__photo=``)
    replaced by the id of its file, files assigned but not yet stored being stored first;
    and those values, to let go of the files they hold once the update is sent.

    Should the update then fail, such a file stays stored with no document naming it, as
    after a failed ``put()``: the bucket check finds it.
    """
    holders: list[Any] = []
    _collect_holders(mongo_update, holders)
    try:
        for holder in holders:
            # The file a proxy holds is named by this update: its save hook holds it
            # against a sweep under way (a proxy's own; other holders have none).
            note = getattr(holder, "note_reference", None)
            if note is not None:
                note()
            await holder.before_owner_save()
    except BaseException:
        await _let_go(holders)
        raise
    return _ids_for_holders(mongo_update), holders


async def _let_go(holders: list[Any]) -> None:
    """The update is sent (or failed): release the holds its proxies took on their files."""
    for holder in holders:
        release = getattr(holder, "release_file", None)
        if release is not None:
            await release()


def _collect_holders(value: Any, found: list[Any]) -> None:
    if isinstance(value, FileHolder):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_holders(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_holders(item, found)


def _ids_for_holders(value: Any) -> Any:
    if isinstance(value, FileHolder):
        return getattr(value, "grid_id", None)
    if isinstance(value, dict):
        return {key: _ids_for_holders(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ids_for_holders(item) for item in value]
    return value


def _with_concern(collection: Any, write_concern: dict[str, Any] | None) -> Any:
    if not write_concern:
        return collection
    return collection.with_options(write_concern=WriteConcern(**write_concern))


async def _held_files(
    document: type[Any],
    collection: Any,
    query: dict[str, Any],
    paths: list[str],
    multi: bool,
    options: dict[str, Any] | None = None,
) -> dict[Any, list[FileHolder]]:
    """For each matching document: the values holding files under ``paths``."""
    if not paths:
        return {}
    projection = dict.fromkeys(paths, 1)
    if document._meta.get("allow_inheritance"):
        projection["_cls"] = 1
    cursor = collection.find(query, projection, **in_session())
    if options and options.get("sort"):
        cursor = cursor.sort(options["sort"])
    if not multi:
        cursor = cursor.limit(1)
    return {son["_id"]: list(file_holders(document._from_son(son))) async for son in cursor}


async def _drop_released_files(
    document: type[Any],
    collection: Any,
    paths: list[str],
    before: dict[Any, list[FileHolder]],
) -> None:
    """Let go of the files the updated documents held before and hold no longer.

    Each value that held such a file hears ``after_owner_delete()``, as when its owner is
    deleted: a FileField's proxy deletes its file unless the field keeps files
    (``delete_with_owner=False``). Every value hears it even when one fails; then the
    first failure is raised.
    """
    if not before:
        return
    projection = dict.fromkeys(paths, 1)
    still: set[Any] = set()
    async for son in collection.find({"_id": {"$in": list(before)}}, projection, **in_session()):
        for holder in file_holders(document._from_son(son)):
            still.update(holder.held_file_ids())
    gone = [
        holder
        for holders in before.values()
        for holder in holders
        if holder.held_file_ids() and not set(holder.held_file_ids()) <= still
    ]
    await tell_holders(gone, "after_owner_delete")
