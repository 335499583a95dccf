"""FileId in pydantic models: what it takes, holds, writes and describes; FileDescription;
Files' refusals before any I/O."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from bson import BSON, ObjectId
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from gridfield import AsyncFileStore, FileInfo, NoFile
from gridfield.core.file_ids import OBJECT_ID_PATTERN
from gridfield.core.http.intake import ReceivedFile
from gridfield.pydantic import FileDescription, FileId, Files, held_file_ids

from .conftest import Recorded

REFUSAL = "Input should be a file id: an ObjectId or a string of 24 hex digits"

object_ids = st.binary(min_size=12, max_size=12).map(ObjectId)


class Photo(BaseModel):
    file: FileId
    caption: str = ""


class Animal(BaseModel):
    name: str
    photo: FileId
    thumbnail: FileId | None = None
    gallery: list[Photo] = []
    by_size: dict[str, FileId] = {}


class Visit(BaseModel):
    animal: Animal
    keeper_id: ObjectId  # not a file: never taken for one

    model_config = {"arbitrary_types_allowed": True}


@given(object_ids)
def test_an_object_id_or_its_hex_validates_to_a_plain_object_id(oid: ObjectId) -> None:
    for given_as in (oid, str(oid), str(oid).upper()):
        animal = Animal(name="marmot", photo=given_as)
        assert (type(animal.photo), animal.photo) == (ObjectId, oid)
    from_json = Animal.model_validate_json(json.dumps({"name": "m", "photo": str(oid)}))
    assert from_json.photo == oid


@given(object_ids)
def test_json_has_the_hex_and_python_and_bson_the_object_id(oid: ObjectId) -> None:
    animal = Animal(name="marmot", photo=oid, by_size={"small": oid})
    assert json.loads(animal.model_dump_json())["photo"] == str(oid)
    assert json.loads(animal.model_dump_json())["by_size"] == {"small": str(oid)}
    dumped = animal.model_dump()
    assert type(dumped["photo"]) is ObjectId
    assert BSON.encode(dumped).decode()["photo"] == oid  # BSON stores an ObjectId, not a str
    assert Animal.model_validate_json(animal.model_dump_json()) == animal


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        "65f0c0ffee0000000000abc",  # 23 digits
        "65f0c0ffee0000000000abcde",  # 25
        " 65f0c0ffee0000000000abcd",
        "65f0c0ffee0000000000abcg",
        b"123456789012",  # ObjectId() itself takes 12 bytes
        {"$oid": "65f0c0ffee0000000000abcd"},
        12,
        None,
    ],
)
def test_anything_else_is_a_validation_error_saying_what_a_file_id_is(bad: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Animal(name="marmot", photo=bad)
    (error,) = caught.value.errors()
    assert (error["type"], error["loc"], error["msg"]) == ("file_id", ("photo",), REFUSAL)
    assert "1 validation error for Animal\nphoto\n  " + REFUSAL in str(caught.value)


def test_a_bad_id_in_json_is_refused_the_same_way() -> None:
    with pytest.raises(ValidationError, match=REFUSAL):
        Animal.model_validate_json('{"name": "m", "photo": "not-an-id"}')
    with pytest.raises(ValidationError, match=REFUSAL):
        Animal.model_validate_json('{"name": "m", "photo": 12}')


def test_the_json_schema_is_a_string_with_the_object_id_pattern() -> None:
    for mode in ("validation", "serialization"):
        schema = TypeAdapter(FileId).json_schema(mode=mode)
        assert schema["type"] == "string"
        assert schema["pattern"] == OBJECT_ID_PATTERN == "^[0-9a-fA-F]{24}$"
    optional = Animal.model_json_schema()["properties"]["thumbnail"]
    assert {"type": "null"} in optional["anyOf"]
    assert any(arm.get("pattern") == OBJECT_ID_PATTERN for arm in optional["anyOf"])


def test_held_file_ids_walks_optional_lists_dicts_and_nested_models_but_not_other_ids() -> None:
    ids = [ObjectId() for _ in range(5)]
    animal = Animal(
        name="marmot",
        photo=ids[0],
        thumbnail=None,
        gallery=[Photo(file=ids[1]), Photo(file=ids[2]), Photo(file=ids[0])],
        by_size={"small": ids[3]},
    )
    assert (
        held_file_ids(Visit(animal=animal, keeper_id=ids[4])) == ids[:4]
    )  # in field order, the repeat once, keeper_id never


def test_a_field_excluded_from_dumps_is_not_seen_by_held_file_ids() -> None:
    class Hidden(BaseModel):
        shown: FileId
        hidden: FileId = Field(exclude=True)

    one, two = ObjectId(), ObjectId()
    assert held_file_ids(Hidden(shown=one, hidden=two)) == [one]


def test_file_description_from_a_file_info() -> None:
    oid = ObjectId()
    info = FileInfo(
        file_id=oid,
        length=5,
        chunk_size=255 * 1024,
        upload_date=datetime(2026, 3, 1, 12, 30),  # naive, as PyMongo hands it back: UTC
        filename="marmot.jpg",
        content_type="image/jpeg",
        sha256="ab" * 32,
    )
    description = FileDescription.from_info(info)
    assert json.loads(description.model_dump_json()) == {
        "id": str(oid),
        "filename": "marmot.jpg",
        "length": 5,
        "content_type": "image/jpeg",
        "upload_date": "2026-03-01T12:30:00Z",
        "sha256": "ab" * 32,
    }
    assert description.upload_date == datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)


def test_file_description_leaves_out_what_other_writers_stored_oddly() -> None:
    stored = {"_id": ObjectId(), "length": 0, "chunkSize": 1, "uploadDate": "yesterday"}
    stored |= {"filename": 42, "contentType": ["image/png"]}
    description = FileDescription.from_info(FileInfo.from_document(stored))
    assert (description.filename, description.upload_date) == (None, None)
    assert description.content_type is None


def test_file_description_of_a_file_whose_id_is_no_object_id_is_refused() -> None:
    info = FileInfo(file_id="report-2026", length=0, chunk_size=1)
    with pytest.raises(ValidationError, match=REFUSAL):
        FileDescription.from_info(info)


async def test_files_refuse_a_bad_id_before_any_command(recorded: Recorded) -> None:
    files = Files(AsyncFileStore(recorded.db))
    for call in (files.open, files.read, files.info, files.delete):
        with pytest.raises(ValidationError) as caught:
            await call("65f0c0ffee0000000000abc")
        assert str(caught.value).startswith(f"1 validation error for file_id\n  {REFUSAL} ")
        with pytest.raises(ValidationError, match=REFUSAL):
            await call({"$ne": None})  # a value, never a query
    assert recorded.commands.sent == []


def test_files_need_an_async_file_store() -> None:
    with pytest.raises(TypeError, match=r"Files needs a gridfield\.AsyncFileStore, not dict"):
        Files({})  # type: ignore[arg-type]


async def test_files_read_and_describe_what_the_store_holds(recorded: Recorded) -> None:
    store = AsyncFileStore(recorded.db)
    info = await store.put(b"marmot bytes", filename="m.txt", content_type="text/plain")
    files = Files(store)
    animal = Animal(name="marmot", photo=str(info.file_id))
    assert await files.read(animal.photo) == b"marmot bytes"
    stream = await files.open(animal.photo)
    assert await stream.read(6) == b"marmot"
    assert await files.info(animal.photo) == FileDescription.from_info(info)
    await files.delete(animal.photo)
    with pytest.raises(NoFile):
        await files.read(animal.photo)


async def test_delete_held_deletes_every_held_file_and_passes_over_those_gone(
    recorded: Recorded,
) -> None:
    store = AsyncFileStore(recorded.db)
    kept = await store.put(b"not held")
    held = [(await store.put(f"file {n}".encode())).file_id for n in range(3)]
    animal = Animal(
        name="marmot",
        photo=held[0],
        gallery=[Photo(file=held[1])],
        by_size={"gone": ObjectId(), "small": held[2]},
    )
    assert await Files(store).delete_held(animal) == held
    assert [info.file_id async for info in store.find()] == [kept.file_id]
    assert await recorded.db["fs.chunks"].count_documents({}) == 1


@given(st.builds(ObjectId))
def test_what_stands_for_a_stored_file_is_taken_as_its_id(oid: ObjectId) -> None:
    info = FileInfo.from_document({"_id": oid, "length": 3, "chunkSize": 255})
    received = ReceivedFile("photo", "m.png", "image/png", info, ("zoo", "fs"))
    for value in (info, received, FileDescription.from_info(info)):
        animal = Animal(name="marmot", photo=value, by_size={"small": value})
        assert type(animal.photo) is ObjectId and animal.photo == oid
        assert animal.by_size == {"small": oid}
        assert json.loads(animal.model_dump_json())["photo"] == str(oid)
    not_an_object_id = FileInfo.from_document({"_id": "name", "length": 3, "chunkSize": 255})
    with pytest.raises(ValidationError, match=REFUSAL):
        Animal(name="marmot", photo=not_an_object_id)
