# Generated from src/gridfield/_async/document.py by scripts/unasync.py: do not edit.
"""Document: MongoEngine's document model, stored and loaded through gridfield's connections."""

from __future__ import annotations

import weakref
from typing import Any, TypeVar

import mongoengine
from mongoengine import signals
from mongoengine.document import includes_cls
from mongoengine.errors import InvalidDocumentError, OperationError, SaveConditionError
from mongoengine.queryset import NotUniqueError, transform
from pymongo.errors import DuplicateKeyError, OperationFailure

from ..odm import file_holders
from .connection import DEFAULT_CONNECTION_NAME, get_db
from .queryset import QuerySetManager

__all__ = ["Document"]

_D = TypeVar("_D", bound="Document")

# Database handle -> document classes whose indexes were ensured there (once per class per
# connection, as MongoEngine does on a class's first use of its collection).
_indexed: weakref.WeakKeyDictionary[Any, set[type[Any]]] = weakref.WeakKeyDictionary()


def _not_available(name: str, *, on_class: bool = False) -> Any:
    """A stand-in for a MongoEngine method that would reach MongoEngine's own connection."""

    def refuse(self_or_cls: Any, *args: Any, **kwargs: Any) -> Any:
        owner = self_or_cls if isinstance(self_or_cls, type) else type(self_or_cls)
        raise NotImplementedError(
            f"{owner.__name__}.{name}() is MongoEngine's and not available on gridfield "
            "documents: use save(), delete(), reload(), ensure_indexes() or objects"
        )

    return classmethod(refuse) if on_class else refuse


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
        if cls._meta.get("abstract"):
            return
        collection = cls._get_collection()
        options = dict(cls._meta.get("index_opts") or {})
        options.pop("cls", None)  # a MongoEngine-only key, not an index option
        if cls._meta.get("index_background"):
            options["background"] = True
        cls_indexed = False
        for spec in cls._meta["index_specs"]:
            spec = dict(spec)
            fields = spec.pop("fields")
            spec.pop("cls", None)
            cls_indexed = cls_indexed or includes_cls(fields)
            collection.create_index(fields, **{**options, **spec})
        if (
            cls._meta.get("allow_inheritance")
            and cls._meta.get("index_cls", True)
            and not cls_indexed
        ):
            collection.create_index("_cls", **options)

    @classmethod
    def _writable_collection(cls) -> Any:
        collection = cls._get_collection()
        wanted = cls._meta["index_specs"] or cls._meta.get("allow_inheritance")
        if wanted and cls._meta.get("auto_create_index", True):
            done = _indexed.setdefault(cls._get_db(), set())
            if cls not in done:
                cls.ensure_indexes()
                done.add(cls)
        return collection

    @classmethod
    def drop_collection(cls) -> None:
        """Drop this document's whole collection."""
        cls._get_collection().drop()
        _indexed.get(cls._get_db(), set()).discard(cls)

    # -- writing --------------------------------------------------------------------------

    def save(
        self: _D,
        *,
        validate: bool = True,
        clean: bool = True,
        force_insert: bool = False,
        save_condition: dict[str, Any] | None = None,
        signal_kwargs: dict[str, Any] | None = None,
    ) -> _D:
        """Store the document and return it: inserted when new, else only its changes are sent.

        A new document (``_created``, or without an id) is inserted; with an id of its own it
        replaces any stored document with that id, or with ``force_insert`` it must be new.
        A loaded document is updated with ``$set``/``$unset`` of the fields changed since it
        was loaded or saved, so fields others wrote meanwhile survive. ``save_condition``
        (MongoEngine query keywords) makes the update conditional: SaveConditionError if the
        stored document does not match. Updating a document deleted since it was loaded
        raises ``DoesNotExist`` instead of storing part of it.
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
            collection = cls._writable_collection()
            if created:
                object_id = self._insert(collection, doc, force_insert)
            else:
                object_id = self._update(collection, doc["_id"], save_condition)
        except BaseException as failure:
            self._unstore_held_files()
            if isinstance(failure, DuplicateKeyError):
                message = f"Tried to save duplicate unique keys ({failure})"
                raise NotUniqueError(message) from failure
            if isinstance(failure, OperationFailure):
                raise OperationError(f"Could not save document ({failure})") from failure
            raise
        self[id_field] = self._fields[id_field].to_python(object_id)
        signals.post_save.send(cls, document=self, created=created, **signal_kwargs)
        self._clear_changed_fields()
        self._created = False
        self._tell_file_holders(deleted=False)
        return self

    def _insert(self, collection: Any, doc: dict[str, Any], force_insert: bool) -> Any:
        if force_insert or "_id" not in doc:
            inserted = collection.insert_one(doc)
            return inserted.inserted_id
        # A new document with an id of its own takes the place of any stored one, as in
        # MongoEngine; $eq keeps an id value from being read as a query operator.
        collection.replace_one({"_id": {"$eq": doc["_id"]}}, doc, upsert=True)
        return doc["_id"]

    def _update(
        self, collection: Any, object_id: Any, save_condition: dict[str, Any] | None
    ) -> Any:
        sets, unsets = self._delta()
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        if unsets:
            update["$unset"] = unsets
        if not update:
            return object_id
        where = transform.query(type(self), **save_condition) if save_condition else {}
        where["_id"] = {"$eq": object_id}
        result = collection.update_one(where, update)
        if result.matched_count == 0:
            if save_condition is not None:
                raise SaveConditionError(
                    f"{type(self).__name__} {object_id}: not saved, the stored document "
                    f"does not match the save condition {save_condition!r}"
                )
            raise self.DoesNotExist(
                f"{type(self).__name__} {object_id}: not saved, no stored document has this "
                "id (deleted since it was loaded?); save(force_insert=True) stores it anew"
            )
        return object_id

    def delete(self, signal_kwargs: dict[str, Any] | None = None) -> None:
        """Delete the stored document, then the files its fields hold.

        The document goes first: a failure in between leaves an orphan file, never a
        document naming a missing file. Files are deleted even when the document was
        already gone (or never saved).
        """
        self._before_delete(signal_kwargs)
        if self.pk is not None:
            try:
                type(self)._get_collection().delete_one({"_id": {"$eq": self._stored_id()}})
            except OperationFailure as err:
                raise OperationError(f"Could not delete document ({err})") from err
        self._after_delete(signal_kwargs)

    def _before_delete(self, signal_kwargs: dict[str, Any] | None = None) -> None:
        signals.pre_delete.send(type(self), document=self, **(signal_kwargs or {}))

    def _after_delete(self, signal_kwargs: dict[str, Any] | None = None) -> None:
        self._tell_file_holders(deleted=True)
        signals.post_delete.send(type(self), document=self, **(signal_kwargs or {}))

    # -- reading --------------------------------------------------------------------------

    def reload(self: _D, *fields: str) -> _D:
        """Load the stored values again (only ``fields`` when given); DoesNotExist if gone."""
        cls = type(self)
        if self.pk is None:
            raise self.DoesNotExist(f"{cls.__name__} has no id: it was never saved")
        found = cls.objects.filter(__raw__={"_id": {"$eq": self._stored_id()}})
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

    def _stored_id(self) -> Any:
        """The id as stored in ``_id``; filters use it with ``$eq``, as a value, never a query."""
        return self._fields[self._meta["id_field"]].to_mongo(self.pk)

    # -- values that hold files ----------------------------------------------------------

    def _store_held_files(self) -> None:
        """Before the document's write: every FileHolder stores what was assigned to it."""
        for holder in list(file_holders(self)):
            holder.before_owner_save()

    def _unstore_held_files(self) -> None:
        """The document's write failed: every FileHolder removes what it stored for it.

        Every holder hears of it even when one fails; then the first failure is raised.
        """
        failures: list[Exception] = []
        for holder in list(file_holders(self)):
            try:
                holder.owner_save_failed()
            except Exception as err:
                failures.append(err)
        if failures:
            raise failures[0]

    def _tell_file_holders(self, *, deleted: bool) -> None:
        """Hand this save or delete to every FileHolder the document holds (see gridfield.odm).

        Every holder hears of it even when one fails; then the first failure is raised.
        """
        failures: list[Exception] = []
        for holder in list(file_holders(self)):
            try:
                if deleted:
                    holder.after_owner_delete()
                else:
                    holder.after_owner_save()
            except Exception as err:
                failures.append(err)
        if failures:
            raise failures[0]

    # -- MongoEngine's own paths, which would reach MongoEngine's connection ---------------

    @property
    def _qs(self) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} is a gridfield document: query it with "
            f"{type(self).__name__}.objects"
        )

    update = _not_available("update")
    modify = _not_available("modify")
    cascade_save = _not_available("cascade_save")
    select_related = _not_available("select_related")
    switch_db = _not_available("switch_db")
    switch_collection = _not_available("switch_collection")
    create_index = _not_available("create_index", on_class=True)
    compare_indexes = _not_available("compare_indexes", on_class=True)
