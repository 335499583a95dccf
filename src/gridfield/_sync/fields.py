# Generated from src/gridfield/_async/fields.py by scripts/unasync.py: do not edit.
"""FileField: a document field that holds the id of a GridFS file and hands out its proxy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import mongoengine.fields
from bson import ObjectId

from ..core.encryption import Encryption
from ..core.files_document import DEFAULT_CHUNK_SIZE, FileInfo
from ..core.guards import UploadLimits
from ..core.http.intake import ReceivedFile
from ..core.store_defaults import FieldDefaults, StoreDefaults
from .proxy import GridFSProxy


class FileField(mongoengine.fields.FileField, FieldDefaults):  # type: ignore[misc]
    """A GridFS file on a document: the document stores the file's ObjectId, as MongoEngine does.

    ``FileField(db_alias="default", collection_name="fs", chunk_size=None,
    delete_with_owner=True, max_size=None, content_types=None)``. ``max_size`` (bytes) and
    ``content_types`` (``["image/*", "application/pdf"]``) guard every upload through the
    field: FileTooLarge or ContentTypeRefused, and nothing is left stored. With
    ``delete_with_owner`` the file is deleted after the document that holds it is deleted
    (set it False to keep files shared with others). ``expire_after`` (a timedelta) makes
    every file stored through the field expire that long after its upload, unless the call
    gives its own expiry; ``dedup_scope`` (a str) deduplicates every upload through the
    field within that scope (see ``AsyncFileStore.put``): a file so shared by several
    documents is deleted with an owner only once no other document of the owner's class
    holds it. ``encryption`` (an ``Encryption``) encrypts every file stored through the
    field on the client and opens them again (see ``AsyncFileStore``).
    """

    proxy_class = GridFSProxy
    holds_files = True
    """Its values are FileHolders (``gridfield.odm``): the owner's save and delete reach them."""

    def __init__(
        self,
        db_alias: str = "default",
        collection_name: str = "fs",
        *,
        chunk_size: int | None = None,
        delete_with_owner: bool = True,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        expire_after: timedelta | None = None,
        dedup_scope: str | None = None,
        encryption: Encryption | None = None,
        **kwargs: Any,
    ) -> None:
        limits = UploadLimits(max_size, None if content_types is None else tuple(content_types))
        self.defaults = StoreDefaults(
            chunk_size=DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size,
            limits=limits,
            expire_after=expire_after,
            dedup_scope=dedup_scope,
            encryption=encryption,
        )
        """What every file stored through this field gets (the store it makes holds it)."""
        super().__init__(db_alias=db_alias, collection_name=collection_name, **kwargs)
        self.chunk_size = chunk_size
        """The chunk size the field asked for (None: GridFS's default)."""
        self.delete_with_owner = delete_with_owner

    def get_proxy_obj(
        self,
        key: str | None = None,
        instance: Any = None,
        db_alias: str | None = None,
        collection_name: str | None = None,
        grid_id: Any = None,
    ) -> GridFSProxy:
        return self.proxy_class(
            grid_id,
            key=key,
            instance=instance,
            db_alias=db_alias or self.db_alias,
            collection_name=collection_name or self.collection_name,
            chunk_size=self.chunk_size,
            delete_with_owner=self.delete_with_owner,
            defaults=self.defaults,
        )

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        proxy = instance._data.get(self.name)
        if not isinstance(proxy, self.proxy_class):
            proxy = self.get_proxy_obj(key=self.name, instance=instance, grid_id=proxy)
            instance._data[self.name] = proxy
        if not proxy.key:
            proxy.key = self.name
            proxy.instance = instance
        return proxy

    def __set__(self, instance: Any, value: Any) -> None:
        if value is None or isinstance(value, ObjectId):
            value = self.get_proxy_obj(key=self.name, instance=instance, grid_id=value)
            value.note_reference()  # an existing file's id: claimed at the save
        elif isinstance(value, self.proxy_class):
            # A stored document's own value comes here fresh from to_python (no key yet);
            # any other proxy names an existing file, claimed at the save.
            if not (value.from_storage and value.key is None):
                value.note_reference()
            if value.key is None:
                value.key, value.instance = self.name, instance
            value.delete_with_owner = self.delete_with_owner  # the field it is in decides
        elif isinstance(value, ReceivedFile):
            # doc.photo = received.file("photo"): a file an HTTP request stored already.
            received = value
            current = self.__get__(instance, type(instance))
            value = self.get_proxy_obj(key=self.name, instance=instance)
            value.take_place_of(current)
            value.hold_received(received)
        elif isinstance(value, FileInfo):
            raise TypeError(
                f"{type(instance).__name__}.{self.name}: a FileInfo does not say which bucket"
                " its file is in; assign the ReceivedFile itself, or the file's id"
                " (an ObjectId) to take it unchecked"
            )
        elif isinstance(value, (bytes, bytearray, memoryview, str)) or hasattr(value, "read"):
            # doc.photo = data: stored at the document's save, as MongoEngine stores it
            # (MongoEngine at once). The file held so far goes once the new one is saved.
            data = value
            current = self.__get__(instance, type(instance))
            value = self.get_proxy_obj(key=self.name, instance=instance)
            value.take_place_of(current)
            instance._data[self.name] = value
            value.stage(data)
        else:
            raise TypeError(
                f"{type(instance).__name__}.{self.name} holds a GridFS file: assign None, "
                f"an ObjectId, a ReceivedFile or a {self.proxy_class.__name__}, not"
                f" {type(value).__name__}"
            )
        instance._data[self.name] = value
        if getattr(instance, "_initialised", False):
            instance._mark_as_changed(self.name)

    def to_mongo(self, value: Any) -> Any:
        if isinstance(value, self.proxy_class):
            return value.grid_id
        return value

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, self.proxy_class):
            return value
        proxy = self.get_proxy_obj(grid_id=value)
        proxy.from_storage = True
        return proxy

    def validate(self, value: Any) -> None:
        grid_id = value.grid_id if isinstance(value, self.proxy_class) else value
        if grid_id is not None and not isinstance(grid_id, ObjectId):
            self.error(f"a FileField holds a GridFS file id (ObjectId), not {grid_id!r}")
