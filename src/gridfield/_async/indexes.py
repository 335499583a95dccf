"""The indexes a document class declares (``meta['indexes']``, unique fields, ``_cls``)."""

from __future__ import annotations

from typing import Any

from mongoengine.document import includes_cls

from ..odm.queries import index_differences
from .bucket import index_memory


def _index_key(document: type[Any], collection: Any) -> tuple[str, str, type[Any], str]:
    # Once per class and collection per client, as MongoEngine does on a class's first use
    # of it; forgotten when the collection is dropped through the class.
    return ("document", collection.database.name, document, collection.name)


async def ensure_indexes_on(document: type[Any], collection: Any) -> None:
    """Create on ``collection`` the indexes ``document`` declares."""
    options = dict(document._meta.get("index_opts") or {})
    options.pop("cls", None)  # a MongoEngine-only key, not an index option
    if document._meta.get("index_background"):
        options["background"] = True
    cls_indexed = False
    for spec in document._meta["index_specs"]:
        spec = dict(spec)
        fields = spec.pop("fields")
        spec.pop("cls", None)
        cls_indexed = cls_indexed or includes_cls(fields)
        await collection.create_index(fields, **{**options, **spec})
    if (
        document._meta.get("allow_inheritance")
        and document._meta.get("index_cls", True)
        and not cls_indexed
    ):
        await collection.create_index("_cls", **options)


async def indexed_once(document: type[Any], collection: Any) -> Any:
    """``collection``, with ``document``'s indexes ensured there on first use."""
    wanted = document._meta["index_specs"] or document._meta.get("allow_inheritance")
    if wanted and document._meta.get("auto_create_index", True):
        client, key = collection.database.client, _index_key(document, collection)
        if not index_memory.fresh(client, key, None):
            await ensure_indexes_on(document, collection)
            index_memory.remember(client, key)
    return collection


def forget_indexes(document: type[Any], collection: Any) -> None:
    """``collection`` was dropped: its indexes must be made again on next use."""
    index_memory.forget(collection.database.client, _index_key(document, collection))


async def create_index(document: type[Any], keys: Any, background: bool, **options: Any) -> str:
    """MongoEngine's ``create_index``: one index from MongoEngine's key notation."""
    spec = dict(document._build_index_spec(keys))
    fields = spec.pop("fields")
    spec["background"] = background
    spec.update(options)
    name: str = await document._get_collection().create_index(fields, **spec)
    return name


async def compare_indexes(document: type[Any]) -> dict[str, list[Any]]:
    """MongoEngine's ``compare_indexes``: the declared indexes missing from the collection,
    and the collection's indexes not declared."""
    information = await document._get_collection().index_information()
    return index_differences(document.list_indexes(), list(information.values()))
