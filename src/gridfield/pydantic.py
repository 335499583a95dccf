"""Stored files in pydantic models (FastAPI, Beanie): a file id type, a response model of a
file's description, and the async reads and deletes behind them.

``FileId`` is the id a field holds, as a :class:`gridfield.FileField` stores it: a plain
``bson.ObjectId`` in Python and in BSON, its 24 hexadecimal digits in JSON. ``Files(store)``
reads and deletes what such fields name; ``FileDescription`` is what an endpoint returns about
a file. Async only: it serves async apps, on :class:`gridfield.AsyncFileStore`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from bson import ObjectId

from .core.extras import missing_extra

try:
    from pydantic import (
        BaseModel,
        ConfigDict,
        GetCoreSchemaHandler,
        GetJsonSchemaHandler,
        TypeAdapter,
    )
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema, PydanticCustomError, core_schema
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "pydantic") from exc

from ._async.store import AsyncDownloadStream, AsyncFileStore
from .core.errors import NoFile
from .core.file_ids import OBJECT_ID_PATTERN, as_object_id
from .core.files_document import FileInfo
from .core.http.intake import ReceivedFile

__all__ = ["FileDescription", "FileId", "Files", "held_file_ids"]

# The serialiser appends every file id it writes to the list under this key of the
# serialisation context: pydantic walks the model (nested models, lists, dicts, unions).
_HELD = "gridfield.held_file_ids"

_EXAMPLE = "65f0c0ffee0000000000abcd"


def _file_id(value: Any) -> ObjectId:
    # What an app has in hand where an id is expected: a stored file's description (put,
    # get_info, find), a received upload, an API's FileDescription: each stands for its id.
    if isinstance(value, (FileInfo, ReceivedFile)):
        value = value.file_id
    elif isinstance(value, FileDescription):
        value = value.id
    oid = as_object_id(value)
    if oid is None:
        raise PydanticCustomError(
            "file_id", "Input should be a file id: an ObjectId or a string of 24 hex digits"
        )
    return oid


def _dump(value: ObjectId, info: core_schema.SerializationInfo) -> ObjectId | str:
    held = info.context.get(_HELD) if isinstance(info.context, dict) else None
    if held is not None:
        held.append(value)
    return str(value) if info.mode_is_json() else value


class _FileIdSchema:
    """How pydantic validates, serialises and describes a ``FileId``."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # One plain validator for Python and JSON input: the id is checked before anything
        # else runs, and a value read back from BSON (an ObjectId) passes unchanged.
        return core_schema.no_info_plain_validator_function(
            _file_id,
            serialization=core_schema.plain_serializer_function_ser_schema(_dump, info_arg=True),
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": OBJECT_ID_PATTERN,
            "description": "A stored file's id: an ObjectId's 24 hex digits",
            "examples": [_EXAMPLE],
        }


FileId = Annotated[ObjectId, _FileIdSchema()]
"""A stored file's id in a pydantic model: ``photo: FileId | None = None``.

Takes an ObjectId or a str of 24 hex digits, or what stands for a stored file: a
``FileInfo`` (``await store.put(...)``), a received upload (``received.file("photo")``) or a
``FileDescription`` (anything else is a ValidationError, before any I/O); holds a plain
ObjectId (stored as such by Beanie and BSON, equal to what a FileField holds), and is
written to JSON as the hex string; its JSON schema is a string with a pattern.
"""

# What Files' methods check their argument with: the error says "validation error for file_id"
_CHECK: TypeAdapter[ObjectId] = TypeAdapter(FileId, config=ConfigDict(title="file_id"))


def _checked(file_id: Any) -> ObjectId:
    return _CHECK.validate_python(file_id)


def _utc(moment: Any) -> datetime | None:
    # PyMongo hands back naive UTC datetimes unless the client is tz_aware: say they are UTC.
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class FileDescription(BaseModel):
    """What an API says about one stored file: the pydantic model of a :class:`gridfield.FileInfo`.

    Build it with ``FileDescription.from_info(await store.put(...))``.
    """

    model_config = ConfigDict(frozen=True)

    id: FileId
    filename: str | None = None
    length: int
    content_type: str | None = None
    upload_date: datetime | None = None
    sha256: str | None = None

    @classmethod
    def from_info(cls, info: FileInfo) -> FileDescription:
        """The description of the file ``info`` describes (from ``put``, ``get_info``, ``find``).

        Values other writers stored that are not of the expected type (a filename that is no
        str, an upload date that is no date) are left out rather than refused; a file whose id
        is not an ObjectId is a ValidationError, as ``FileId`` holds only ObjectIds.
        """
        return cls(
            id=info.file_id,
            filename=info.filename if isinstance(info.filename, str) else None,
            length=info.length,
            content_type=info.content_type,
            upload_date=_utc(info.upload_date),
            sha256=info.sha256,
        )


def held_file_ids(model: BaseModel) -> list[ObjectId]:
    """The ids held by the ``FileId`` fields of ``model``, in field order, without repeats:
    top-level, optional, in lists, dicts and nested models. No I/O.

    The ids are found by serialising the model, so a field excluded from serialisation
    (``Field(exclude=True)``) is not seen.
    """
    held: list[ObjectId] = []
    model.model_dump(context={_HELD: held}, warnings=False)
    return list(dict.fromkeys(held))


class Files:
    """Reads and deletes of the files that ``FileId`` fields name, in one store.

    ``files = Files(store)``, then ``await files.read(animal.photo)``. Every method checks the
    id as ``FileId`` does (a ValidationError before any I/O) and raises ``NoFile`` when no
    file has it.
    """

    def __init__(self, store: AsyncFileStore) -> None:
        if not isinstance(store, AsyncFileStore):
            raise TypeError(f"Files needs a gridfield.AsyncFileStore, not {type(store).__name__}")
        self.store = store

    @classmethod
    def for_document(cls, document: Any, collection_name: str = "fs") -> Files:
        """The files in bucket ``collection_name`` of the database a Beanie document's class
        is stored in (``init_beanie`` must have run)."""
        database = type(document).get_pymongo_collection().database
        return cls(AsyncFileStore(database, collection_name))

    def __repr__(self) -> str:
        return f"Files({self.store!r})"

    async def open(self, file_id: Any) -> AsyncDownloadStream:
        """A read stream over the file (``read``, ``seek``, ``async for`` chunks)."""
        return await self.store.open_download(_checked(file_id))

    async def read(self, file_id: Any) -> bytes:
        """All the bytes of the file, checked chunk by chunk and against its SHA-256."""
        return await self.store.get(_checked(file_id))

    async def info(self, file_id: Any) -> FileDescription:
        """The file's description, ready to return from an endpoint."""
        return FileDescription.from_info(await self.store.get_info(_checked(file_id)))

    async def delete(self, file_id: Any) -> None:
        """Delete the file: its files document, then its chunks."""
        await self.store.delete(_checked(file_id))

    async def delete_held(self, model: BaseModel) -> list[ObjectId]:
        """Delete every file ``model``'s ``FileId`` fields hold (see ``held_file_ids``);
        return the ids of those deleted. A file already gone is passed over.

        Call it once the model's document is deleted (Beanie: ``@after_event(Delete)``),
        never before: a crash in between then leaves an orphan file, which the bucket check
        finds, never a document naming a file that is gone.
        """
        deleted = []
        for oid in held_file_ids(model):
            try:
                await self.store.delete(oid)
            except NoFile:
                continue
            deleted.append(oid)
        return deleted
