"""References between documents: fields that never load on access, fetch(), select_related.

MongoEngine's ``ReferenceField`` loads the referenced document when the attribute is read,
which would be I/O inside a plain attribute access. Here reading ``doc.owner`` does no I/O:
it gives the referenced document when it is already loaded (assigned, or brought in by
``select_related()``), else a ``Reference``, whose ``fetch()`` loads it (awaited in the
async API). A loaded document's ``fetch()`` returns itself, so ``doc.owner.fetch()``
works either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import mongoengine.fields
from bson import DBRef
from mongoengine.base import ComplexBaseField, get_document
from mongoengine.base.datastructures import LazyReference
from mongoengine.errors import DoesNotExist, OperationError
from mongoengine.queryset import CASCADE, DENY, NULLIFY, PULL

__all__ = [
    "GenericReferenceField",
    "LazyReferenceField",
    "Reference",
    "ReferenceField",
]


class Reference(LazyReference):  # type: ignore[misc]
    """A stored reference to a document that is not loaded: ``ref.fetch()`` loads it.

    ``ref.pk`` (and ``ref.id``) is the referenced document's id; ``ref.document_type``
    its class. A DBRef, so it is stored and compared as MongoEngine's references are.
    """

    _cached_doc: Any
    document_type: Any

    async def fetch(self, force: bool = False) -> Any:
        """The referenced document, loaded once (again with ``force``); DoesNotExist if gone."""
        if self._cached_doc is None or force:
            kind = self.document_type
            found = await kind.objects.filter(__raw__={"_id": {"$eq": self.id}}).first()
            if found is None:
                raise DoesNotExist(
                    f"{kind.__name__} {self.id!r} is referenced but no stored document has it"
                )
            self._cached_doc = found
        return self._cached_doc

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"{name!r}: a reference to {self.document_type.__name__} {self.id!r} that is not "
            "loaded; fetch() it, or load it with select_related()"
        )

    def __repr__(self) -> str:
        return f"<Reference {self.document_type.__name__}: {self.id!r}>"


def _reference_to(document_type: Any, value: Any) -> Any:
    """A Reference for a stored value (an id, a DBRef), or the value if it is a document."""
    if value is None or isinstance(value, (Reference, mongoengine.Document)):
        return value
    if isinstance(value, DBRef):
        class_name = getattr(value, "cls", None)  # DBRef(..., cls=...) for abstract types
        kind = get_document(class_name) if class_name else document_type
        return Reference(kind, value.id)
    id_field = document_type._fields[document_type._meta["id_field"]]
    return Reference(document_type, id_field.to_python(value))


class ReferenceField(mongoengine.fields.ReferenceField):  # type: ignore[misc]
    """MongoEngine's ``ReferenceField``, which never loads the document on attribute access.

    ``doc.owner`` is the referenced document once loaded, else a ``Reference``:
    ``doc.owner.fetch()``, or ``objects.select_related()`` for many at once.
    ``reverse_delete_rule`` (CASCADE, NULLIFY, PULL, DENY) is honoured on delete.
    """

    @property
    def _auto_dereference(self) -> bool:
        return False  # loading is fetch()'s and select_related()'s job, never a getattr's

    def to_python(self, value: Any) -> Any:
        return _reference_to(self.document_type, value)


class LazyReferenceField(mongoengine.fields.LazyReferenceField):  # type: ignore[misc]
    """MongoEngine's ``LazyReferenceField``: ``doc.owner`` is always a ``Reference``.

    ``passthrough`` (reading the referenced document's fields through the reference)
    would load on attribute access: it is refused.
    """

    def __init__(self, document_type: Any, passthrough: bool = False, **kwargs: Any) -> None:
        if passthrough:
            raise NotImplementedError(
                "LazyReferenceField(passthrough=True) would load a document on attribute "
                "access: fetch() the reference instead"
            )
        super().__init__(document_type, **kwargs)

    @property
    def _auto_dereference(self) -> bool:
        return False

    def build_lazyref(self, value: Any) -> Any:
        if isinstance(value, Reference) or value is None:
            return value
        if isinstance(value, mongoengine.Document):
            return Reference(type(value), value.pk, cached_doc=value)
        return _reference_to(self.document_type, value)


class GenericReferenceField(mongoengine.fields.GenericReferenceField):  # type: ignore[misc]
    """MongoEngine's ``GenericReferenceField`` (a document of any class), never loaded on
    attribute access: ``doc.thing`` is the document once loaded, else a ``Reference``."""

    @property
    def _auto_dereference(self) -> bool:
        return False

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        value = instance._data.get(self.name)
        if isinstance(value, dict) and "_ref" in value:
            return Reference(get_document(value["_cls"]), value["_ref"].id)
        return value


_REFERENCE_FIELDS = (
    mongoengine.fields.ReferenceField,
    mongoengine.fields.LazyReferenceField,
    mongoengine.fields.GenericReferenceField,
)


def holds_references(field: Any) -> bool:
    """Whether ``field`` is a reference field, or a list or dict of them."""
    if isinstance(field, _REFERENCE_FIELDS):
        return True
    return isinstance(field, ComplexBaseField) and holds_references(field.field)


def no_loading_on_access(document: type[Any]) -> None:
    """Turn off MongoEngine's loading of references on attribute access for ``document``.

    A list or dict of references would otherwise load them all when read, and so would
    MongoEngine's own reference fields used on our documents (they then give the stored
    DBRef; gridfield's give a ``Reference``).
    """
    for field in document._fields.values():
        if holds_references(field):
            field.set_auto_dereferencing(False)


# -- select_related: one query per referenced collection -------------------------------------


async def load_references(documents: list[Any]) -> None:
    """Load every document the top-level reference fields of ``documents`` refer to.

    One query per referenced collection, whatever the number of documents (classes of one
    hierarchy share theirs); references to documents that are gone stay ``Reference``s
    (their ``fetch()`` raises DoesNotExist).
    """
    found_refs = [ref for doc in documents for ref in _references_in(doc)]
    wanted: dict[Any, set[Any]] = defaultdict(set)  # class -> ids
    for _, _, ref, _ in found_refs:
        wanted[ref.document_type].add(ref.id)
    loaded: dict[tuple[Any, Any], Any] = {}  # (collection, id) -> document
    for kind, ids in _by_collection(wanted):
        async for found in kind.objects.filter(__raw__={"_id": {"$in": list(ids)}}):
            loaded[(kind._get_collection_name(), found.pk)] = found
    for place, key, ref, lazy in found_refs:
        found = loaded.get((ref.document_type._get_collection_name(), ref.id))
        if not isinstance(found, ref.document_type):
            continue  # gone, or not of the class the field refers to
        if lazy:
            ref._cached_doc = found  # a lazy reference stays one, now loaded
        elif isinstance(place, list):
            list.__setitem__(place, key, found)  # loading is not a change of the document
        else:
            dict.__setitem__(place, key, found)


def _by_collection(wanted: dict[Any, set[Any]]) -> list[tuple[Any, set[Any]]]:
    """(class to query, ids) with one entry per collection where one class of the group is
    a base of all the others (a class's query covers its subclasses), else one per class."""
    groups: dict[tuple[Any, str], list[Any]] = defaultdict(list)
    for kind in wanted:
        groups[(kind._meta.get("db_alias"), kind._get_collection_name())].append(kind)
    queries: list[tuple[Any, set[Any]]] = []
    for kinds in groups.values():
        base = min(kinds, key=lambda kind: len(kind.__mro__))
        if all(issubclass(kind, base) for kind in kinds):
            queries.append((base, set().union(*(wanted[kind] for kind in kinds))))
        else:
            queries.extend((kind, wanted[kind]) for kind in kinds)
    return queries


def _references_in(doc: Any) -> Iterable[tuple[Any, Any, Reference, bool]]:
    """(container, key, reference, lazy) for each unloaded reference in the top-level fields.

    Stored values still in their raw form (an id, a DBRef, a generic reference's dict) are
    made ``Reference``s in place first, so that loading can replace or fill them.
    """
    for name, field in doc._fields.items():
        if not holds_references(field):
            continue
        value = doc._data.get(name)
        if isinstance(field, ComplexBaseField):
            inner = field.field
            lazy = isinstance(inner, mongoengine.fields.LazyReferenceField)
            items = (
                enumerate(value)
                if isinstance(value, list)
                else value.items()
                if isinstance(value, dict)
                else ()
            )
            for key, item in list(items):
                ref = _as_reference(inner, item)
                if ref is not None:
                    setter = list.__setitem__ if isinstance(value, list) else dict.__setitem__
                    setter(value, key, ref)
                    yield value, key, ref, lazy
        else:
            ref = _as_reference(field, value)
            if ref is not None:
                dict.__setitem__(doc._data, name, ref)
                yield doc._data, name, ref, isinstance(field, mongoengine.fields.LazyReferenceField)


def _as_reference(field: Any, item: Any) -> Reference | None:
    """``item`` as an unloaded Reference, or None when it is loaded or not a reference."""
    if item is None or isinstance(item, mongoengine.Document):
        return None
    if isinstance(item, Reference):
        return item if item._cached_doc is None else None
    if isinstance(item, dict) and "_ref" in item and "_cls" in item:
        return Reference(get_document(item["_cls"]), item["_ref"].id)
    if isinstance(field, _REFERENCE_FIELDS) and hasattr(field, "document_type"):
        ref: Reference = _reference_to(field.document_type, item)
        return ref
    return None


# -- reverse_delete_rule ----------------------------------------------------------------------


async def refuse_denied_deletes(document: type[Any], ids: list[Any]) -> None:
    """OperationError if a DENY rule protects any of the documents about to be deleted."""
    for (holder, field_name), rule in _rules(document):
        if rule == DENY and await holder.objects.filter(**{f"{field_name}__in": ids}).exists():
            raise OperationError(
                f"Could not delete document ({holder.__name__}.{field_name} refers to it)"
            )


async def apply_delete_rules(document: type[Any], ids: list[Any]) -> None:
    """After documents were deleted, what refers to them: CASCADE, NULLIFY or PULL."""
    for (holder, field_name), rule in _rules(document):
        referring = holder.objects.filter(**{f"{field_name}__in": ids})
        if rule == CASCADE:
            await referring.delete()  # their own files and rules follow
        elif rule == NULLIFY:
            await referring.update(**{f"unset__{field_name}": 1})
        elif rule == PULL:
            await referring.update(**{f"pull_all__{field_name}": ids})


def has_delete_rules(document: type[Any]) -> bool:
    """Whether deleting documents of this class must look at what refers to them."""
    return any(True for _ in _rules(document))


def _rules(document: type[Any]) -> Iterable[tuple[tuple[Any, str], int]]:
    for (holder, field_name), rule in (document._meta.get("delete_rules") or {}).items():
        if not holder._meta.get("abstract") and hasattr(holder, "_writable_collection"):
            yield (holder, field_name), rule
