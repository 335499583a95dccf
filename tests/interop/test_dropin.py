"""gridfield.sync.FileField on a plain mongoengine.Document: a drop-in for MongoEngine's own."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import gridfs
import mongoengine
import pytest
from bson import ObjectId
from pymongo import MongoClient

import gridfield.sync

DATA = random.Random(7).randbytes(700_000)  # three default chunks


class GridfieldPet(mongoengine.Document):
    name = mongoengine.StringField()
    photo = gridfield.sync.FileField()
    meta = {"collection": "pets"}


class MongoenginePet(mongoengine.Document):
    name = mongoengine.StringField()
    photo = mongoengine.FileField()
    meta = {"collection": "pets"}


@pytest.fixture
def plain_mongoengine(mongo_uri: str) -> Iterator[Any]:
    """Only mongoengine.connect(...): no gridfield connect at all."""
    name = f"gridfield_dropin_{ObjectId()}"
    mongoengine.connect(db=name, host=mongo_uri, uuidRepresentation="standard")
    try:
        yield mongoengine.get_db()
    finally:
        mongoengine.disconnect()
        with MongoClient(mongo_uri) as client:
            client.drop_database(name)


def test_same_stored_value_and_files(plain_mongoengine: Any) -> None:
    ours = GridfieldPet(name="ours")
    ours.photo.put(DATA, content_type="image/jpeg", filename="ours.jpg")
    ours.save()
    theirs = MongoenginePet(name="theirs")
    theirs.photo.put(DATA, content_type="image/jpeg", filename="theirs.jpg")
    theirs.save()

    pets = plain_mongoengine["pets"]
    ours_raw = pets.find_one({"name": "ours"})
    theirs_raw = pets.find_one({"name": "theirs"})
    assert isinstance(ours_raw["photo"], ObjectId)
    assert isinstance(theirs_raw["photo"], ObjectId)
    assert set(ours_raw) == set(theirs_raw)

    files = plain_mongoengine["fs.files"]
    ours_file = files.find_one({"_id": ours_raw["photo"]})
    theirs_file = files.find_one({"_id": theirs_raw["photo"]})
    for key in ("length", "chunkSize", "contentType", "filename"):
        assert key in ours_file and key in theirs_file, key
    assert ours_file["length"] == theirs_file["length"] == len(DATA)
    assert ours_file["chunkSize"] == theirs_file["chunkSize"]
    chunks = plain_mongoengine["fs.chunks"]
    assert chunks.count_documents({"files_id": ours_raw["photo"]}) == chunks.count_documents(
        {"files_id": theirs_raw["photo"]}
    )


# MongoEngine's proxy reads GridOut.contentType, which PyMongo deprecates: theirs, not ours.
@pytest.mark.filterwarnings("ignore:GridOut property 'contentType':DeprecationWarning")
def test_each_reads_the_others_files(plain_mongoengine: Any) -> None:
    ours = GridfieldPet(name="ours")
    ours.photo.put(DATA, content_type="image/jpeg")
    ours.save()
    theirs = MongoenginePet(name="theirs")
    theirs.photo.put(DATA[::-1], content_type="image/png")
    theirs.save()

    # MongoEngine's FileField reads the file gridfield wrote ...
    as_theirs = MongoenginePet.objects(name="ours").first()
    assert as_theirs.photo.read() == DATA
    assert as_theirs.photo.content_type == "image/jpeg"
    # ... and gridfield's reads the one MongoEngine wrote.
    as_ours = GridfieldPet.objects(name="theirs").first()
    assert as_ours.photo.read() == DATA[::-1]
    assert as_ours.photo.content_type == "image/png"
    assert as_ours.photo.metadata["content_type"] == "image/png"
    # PyMongo's gridfs reads ours too.
    assert gridfs.GridFS(plain_mongoengine).get(ours.photo.grid_id).read() == DATA


def test_mongoengine_delete_removes_the_file(plain_mongoengine: Any) -> None:
    pet = GridfieldPet(name="gone")
    pet.photo.put(DATA)
    pet.save()
    grid_id = pet.photo.grid_id
    pet.delete()
    assert plain_mongoengine["pets"].count_documents({}) == 0
    assert plain_mongoengine["fs.files"].count_documents({"_id": grid_id}) == 0
    assert plain_mongoengine["fs.chunks"].count_documents({"files_id": grid_id}) == 0


def test_replace_and_streaming_on_a_plain_document(plain_mongoengine: Any) -> None:
    pet = GridfieldPet(name="streamed")
    with pet.photo.new_file(filename="s.bin"):
        pet.photo.write(b"abc")
        pet.photo.write(b"def")
    pet.save()
    old = pet.photo.grid_id
    pet.photo.replace(b"new content")
    pet.save()
    assert plain_mongoengine["fs.files"].count_documents({"_id": old}) == 0
    fetched = GridfieldPet.objects(name="streamed").first()
    assert fetched.photo.read() == b"new content"
