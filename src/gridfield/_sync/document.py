# Generated from src/gridfield/_async/document.py by scripts/unasync.py: do not edit.
"""Document: MongoEngine's document model, stored and loaded through gridfield's connections."""

from __future__ import annotations

from typing import Any, TypeVar

import mongoengine
from mongoengine import signals
from mongoengine.errors import (
    InvalidDocumentError,
    InvalidQueryError,
    OperationError,
    SaveConditionError,
)
from mongoengine.queryset import NotUniqueError, transform
from pymongo.errors import DuplicateKeyError, OperationFailure

from ..odm.holders import file_holders
from ..odm.queries import stored_id
from .connection import DEFAULT_CONNECTION_NAME, collection_of, get_db
from .document_events import after_delete, before_delete
from .holder_hooks import tell_holders
from .indexes import compare_indexes, create_index, ensure_indexes_on, forget_indexes, indexed_once
from .queryset import QuerySet, QuerySetManager
from .references import (
    apply_delete_rules,
    has_delete_rules,
    holds_references,
    load_references,
    no_loading_on_access,
    refuse_denied_deletes,
)
from .transactions import in_session

__all__ = ["Document"]

_D = TypeVar("_D", bound="Document")


class Document(mongoengine.Document):  # type: ignore[misc]
    """A MongoEngine document whose reads and writes go through gridfield's connection.

    Subclass it as you would ``mongoengine.Document``: fields, ``meta``, validation and
    change tracking are MongoEngine's own. The database is the one connected under
    ``meta['db_alias']`` (default ``"default"``). ``save``, ``delete`` and ``reload`` reach
    the server (awaited in the async API), as does everything on ``objects``.
    """

    meta = {"abstract": True}

    objects = QuerySetManager()

    # MongoEngine's own instance state, declared for the type checker
    _created: bool
    _changed_fields: list[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        no_loading_on_access(cls)  # reading an attribute never waits for the server

    # -- where the documents live ---------------------------------------------------------

    @classmethod
    def _get_db(cls) -> Any:
        return get_db(cls._meta.get("db_alias", DEFAULT_CONNECTION_NAME))

    @classmethod
    def _get_collection(cls) -> Any:
        name = cls._get_collection_name()
        if not name:
            raise InvalidDocumentError(f"{cls.__name__} is abstract: it has no collection")
        return cls._get_db()[name]

    @classmethod
    def ensure_indexes(cls) -> None:
        """Create the indexes ``meta`` declares (``indexes``, unique fields, ``_cls``)."""
        if not cls._meta.get("abstract"):
            ensure_indexes_on(cls, cls._get_collection())

    @classmethod
    def create_index(cls, keys: Any, background: bool = False, **kwargs: Any) -> str:
        """Create one index (MongoEngine's notation: ``"-age"``, ``["genus", "-age"]``)."""
        return create_index(cls, keys, background, **kwargs)

    @classmethod
    def compare_indexes(cls) -> dict[str, list[Any]]:
        """``{"missing": [...], "extra": [...]}``: declared indexes against the collection's."""
        return compare_indexes(cls)

    @classmethod
    def _writable_collection(cls, collection: Any = None) -> Any:
        """``collection`` (default: the class's own), its indexes ensured on first use."""
        return indexed_once(cls, cls._get_collection() if collection is None else collection)

    @classmethod
    def drop_collection(cls) -> None:
        """Drop this document's whole collection."""
        collection = cls._get_collection()
        collection.drop()
        forget_indexes(cls, collection)

    # -- another database or collection for one document -----------------------------------

    # (alias, collection name) this document was switched to; None: the class's own
    _switched: tuple[str | None, str | None] = (None, None)

    def switch_db(self: _D, db_alias: str, keep_created: bool = True) -> _D:
        """Save, delete, reload and update this document in the database under ``db_alias``.

        Only this instance moves (safe with concurrent tasks, unlike MongoEngine's
        class-wide ``switch_db`` context manager). ``keep_created=False`` makes the next
        save an insert.
        """
        self._switched = (db_alias, self._switched[1])
        if not keep_created:
            self._created = True
        return self

    def switch_collection(self: _D, collection_name: str, keep_created: bool = True) -> _D:
        """As ``switch_db``, for another collection of the same database."""
        self._switched = (self._switched[0], collection_name)
        if not keep_created:
            self._created = True
        return self

    def _objects_here(self) -> QuerySet[Any]:
        """``objects`` of this document's class, where this document lives."""
        alias, name = self._switched
        return QuerySet(type(self), alias=alias, collection_name=name)

    def _collection_here(self) -> Any:
        """The collection this document is saved to and deleted from."""
        return collection_of(type(self), *self._switched)

    # -- writing --------------------------------------------------------------------------

    def save(
        self: _D,
        *,
        validate: bool = True,
        clean: bool = True,
        force_insert: bool = False,
        save_condition: dict[str, Any] | None = None,
        signal_kwargs: dict[str, Any] | None = None,
        cascade: bool | None = None,
    ) -> _D:
        """Store the document and return it: inserted when new, else only its changes are sent.

        A new document (``_created``, or without an id) is inserted; with an id of its own it
        replaces any stored document with that id, or with ``force_insert`` it must be new.
        A loaded document is updated with ``$set``/``$unset`` of the fields changed since it
        was loaded or saved, so fields others wrote meanwhile survive. ``save_condition``
        (MongoEngine query keywords) makes the update conditional: SaveConditionError if the
        stored document does not match. A document deleted since it was loaded is stored
        again, as MongoEngine's ``save()`` does (an upsert), and whole, where MongoEngine
        would store only the changed fields; ``post_save`` then says ``created=True``.
        With ``cascade`` (or ``meta['cascade']``) the loaded documents its references hold
        are saved too when they have changes (``cascade_save``).
        """
        cls = type(self)
        if self._meta.get("abstract"):
            raise InvalidDocumentError(f"cannot save {cls.__name__}: it is abstract")
        signal_kwargs = signal_kwargs or {}
        signals.pre_save.send(cls, document=self, **signal_kwargs)
        if validate:
            self.validate(clean=clean)
        id_field = self._meta["id_field"]
        # MongoEngine tracks changes from a load or a save on: a document with no tracking
        # (an id set after it was made) is new, whatever its _created says.
        created = (
            force_insert
            or self._created
            or not hasattr(self, "_changed_fields")
            or "_id" not in self.to_mongo(fields=[id_field])
        )
        signals.pre_save_post_validation.send(cls, document=self, created=created, **signal_kwargs)
        # Files assigned to fields are stored first; should the document's write fail,
        # they are removed again, so no file is left that nothing names.
        try:
            self._store_held_files()
            doc = self.to_mongo()
            collection = cls._writable_collection(self._collection_here())
            if created:
                object_id = self._insert(collection, doc, force_insert)
            else:
                object_id, created = self._update(collection, doc, save_condition)
        except BaseException as failure:
            error = _save_error(failure)
            # The save's own error reaches the caller; a clean-up failing too is noted on it.
            tell_holders(file_holders(self), "owner_save_failed", after=error)
            if error is failure:
                raise
            raise error from failure
        self[id_field] = self._fields[id_field].to_python(object_id)
        if cascade if cascade is not None else self._meta.get("cascade", False):
            self.cascade_save(validate=validate, clean=clean)
        signals.post_save.send(cls, document=self, created=created, **signal_kwargs)
        self._clear_changed_fields()
        self._created = False
        tell_holders(file_holders(self), "after_owner_save")
        return self

    def _insert(self, collection: Any, doc: dict[str, Any], force_insert: bool) -> Any:
        if force_insert or "_id" not in doc:
            inserted = collection.insert_one(doc, **in_session())
            return inserted.inserted_id
        # A new document with an id of its own takes the place of any stored one, as in
        # MongoEngine; $eq keeps an id value from being read as a query operator.
        collection.replace_one({"_id": {"$eq": doc["_id"]}}, doc, upsert=True, **in_session())
        return doc["_id"]

    def _update(
        self, collection: Any, doc: dict[str, Any], save_condition: dict[str, Any] | None
    ) -> tuple[Any, bool]:
        """Send the changes; return the id and whether the document had to be stored anew."""
        object_id = doc["_id"]
        sets, unsets = self._delta()
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        if unsets:
            update["$unset"] = unsets
        if not update:
            return object_id, False
        where = transform.query(type(self), **save_condition) if save_condition else {}
        where["_id"] = {"$eq": object_id}
        result = collection.update_one(where, update, **in_session())
        if result.matched_count:
            return object_id, False
        if save_condition is not None:
            raise SaveConditionError(
                f"{type(self).__name__} {object_id}: not saved, the stored document "
                f"does not match the save condition {save_condition!r}"
            )
        # Deleted meanwhile: MongoEngine's save() upserts, which stores only the changed
        # fields; this stores the whole document instead (a concurrent insert of the same id
        # wins, and this save raises NotUniqueError).
        collection.insert_one(doc, **in_session())
        return object_id, True

    def delete(self, signal_kwargs: dict[str, Any] | None = None) -> None:
        """Delete the stored document, then the files its fields hold.

        The document goes first: a failure in between leaves an orphan file, never a
        document naming a missing file. Files are deleted even when the document was
        already gone (or never saved). The ``reverse_delete_rule`` of references to it
        apply: DENY is checked before anything is deleted; CASCADE (with the cascaded
        documents' files), NULLIFY and PULL are applied once it is gone.
        """
        cls = type(self)
        before_delete(self, signal_kwargs)
        rules = self.pk is not None and has_delete_rules(cls)
        if rules:
            refuse_denied_deletes(cls, [self.pk])
        if self.pk is not None:
            try:
                self._collection_here().delete_one(self._id_query(), **in_session())
            except OperationFailure as err:
                raise OperationError(f"Could not delete document ({err})") from err
        if rules:
            apply_delete_rules(cls, [self.pk])
        after_delete(self, signal_kwargs)

    # -- updating in place ----------------------------------------------------------------

    def update(self, **kwargs: Any) -> Any:
        """Apply MongoEngine update keywords to this stored document; return how many matched.

        ``marmot.update(inc__age=1, push__tags="fat")``. The instance is not
        refreshed (``reload()`` does that, or use ``modify``). OperationError for a document
        never saved, unless ``upsert=True``.
        """
        cls = type(self)
        if self.pk is None:
            if not kwargs.get("upsert", False):
                raise OperationError(f"{cls.__name__}: cannot update a document not yet saved")
            query = self.to_mongo()
            query.pop("_cls", None)
            return self._objects_here().filter(__raw__=query).update_one(**kwargs)
        return self._objects_here().filter(__raw__=self._id_query()).update_one(**kwargs)

    def modify(self, query: Any = None, **update: Any) -> bool:
        """Update this stored document if it also matches ``query``; refresh it from the result.

        Returns whether a document matched (and was changed). ``query`` is a dict of
        MongoEngine keywords or a ``Q``; it may name this document's id, no other.
        """
        if self.pk is None:
            raise InvalidDocumentError("The document does not have a primary key.")
        id_field = self._meta["id_field"]
        query = {} if query is None else query
        conditions = dict(query) if isinstance(query, dict) else {}
        if id_field in conditions and conditions[id_field] != self.pk:
            raise InvalidQueryError(
                "Invalid document modify query: it must modify only this document."
            )
        conditions.pop(id_field, None)
        found = self._objects_here().filter(__raw__=self._id_query())
        found = found.filter(**conditions) if isinstance(query, dict) else found.filter(query)
        updated = found.modify(new=True, **update)
        if updated is None:
            return False
        for name in self._fields_ordered:
            setattr(self, name, self._reload(name, updated._data.get(name)))
        self._changed_fields = updated._changed_fields
        self._created = False
        return True

    # -- references -----------------------------------------------------------------------

    def cascade_save(self, **kwargs: Any) -> None:
        """Save the loaded documents this one's reference fields hold that have changes."""
        for name, field in self._fields.items():
            ref = self._data.get(name)
            if holds_references(field) and isinstance(ref, Document) and ref._get_changed_fields():
                ref.save(**kwargs)

    def fetch(self: _D, force: bool = False) -> _D:
        """This document: a loaded reference's ``fetch()`` (see ``Reference.fetch``)."""
        return self

    def select_related(self: _D, max_depth: int = 1) -> _D:
        """Load the documents this one refers to (one query per referenced collection)."""
        load_references([self])
        return self

    def _id_query(self) -> dict[str, Any]:
        return {"_id": {"$eq": stored_id(self)}}

    # -- reading --------------------------------------------------------------------------

    def reload(self: _D, *fields: str) -> _D:
        """Load the stored values again (only ``fields`` when given); DoesNotExist if gone."""
        cls = type(self)
        if self.pk is None:
            raise self.DoesNotExist(f"{cls.__name__} has no id: it was never saved")
        found = self._objects_here().filter(__raw__=self._id_query())
        if fields:
            found = found.only(*fields)
        stored = found.first()
        if stored is None:
            raise self.DoesNotExist(f"{cls.__name__} {self.pk}: no stored document has this id")
        for name in stored._data:
            if not fields or name in fields:
                setattr(self, name, self._reload(name, stored._data.get(name)))
        self._changed_fields = (
            list(set(getattr(self, "_changed_fields", [])) - set(fields))
            if fields
            else stored._changed_fields
        )
        self._created = False
        return self

    # -- values that hold files ----------------------------------------------------------

    def _store_held_files(self) -> None:
        """Before the document's write: every FileHolder stores what was assigned to it."""
        for holder in list(file_holders(self)):
            holder.before_owner_save()

    # -- MongoEngine's own paths, which would reach MongoEngine's connection ---------------

    @property
    def _qs(self) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} is a gridfield document: query it with "
            f"{type(self).__name__}.objects"
        )


def _save_error(failure: BaseException) -> BaseException:
    """The error a failed save raises: MongoEngine's, for the driver's errors it translates."""
    error: BaseException = failure
    if isinstance(failure, DuplicateKeyError):
        error = NotUniqueError(f"Tried to save duplicate unique keys ({failure})")
    elif isinstance(failure, OperationFailure):
        error = OperationError(f"Could not save document ({failure})")
    return error
