"""A Beanie document on PyMongo's async client beside a gridfield Document on the same
collection: the same file by the same id both ways, the delete hook, what bulk deletes leave
for the bucket check, and the Beanie features the test server refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import pymongo
import pytest
from beanie import Delete, Document, Indexed, Link, after_event, init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, WriteError

import gridfield
from gridfield import AsyncFileStore, FileField, ListField, StringField, SweepTiming
from gridfield.pydantic import FileDescription, FileId, Files

from ..commands import Commands
from ..conftest import fresh_db_name
from ..server_differences import (
    LINK_ERROR,
    LOOKUP_ERROR,
    TEXT_INDEX_ERROR,
    lookups_supported,
    text_indexes_supported,
)
from ..shard_keys import SHARD_KEY_CHECK


class Animal(Document):
    name: Annotated[str, Indexed()]
    photo: FileId | None = None
    gallery: list[FileId] = []

    class Settings:
        name = "animals"

    @after_event(Delete)
    async def delete_files(self) -> None:
        await Files.for_document(self).delete_held(self)


class MEAnimal(gridfield.Document):
    """The same collection through gridfield's MongoEngine-style Document."""

    meta = {"collection": "animals", "db_alias": "beanie"}
    name = StringField()
    photo = FileField(db_alias="beanie")
    gallery = ListField(FileField(db_alias="beanie"))


@dataclass
class Beanie:
    db: Any
    store: AsyncFileStore
    commands: Commands


@pytest.fixture
async def beanie(mongo_uri: str) -> AsyncIterator[Beanie]:
    """Beanie initialised on a fresh database of a PyMongo async client, which gridfield's
    alias "beanie" shares."""
    commands = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[commands, SHARD_KEY_CHECK])
    db = client[fresh_db_name()]
    try:
        await init_beanie(database=db, document_models=[Animal])
        gridfield.connect(db.name, client=client, alias="beanie")
        # Tests sweep with no grace: nothing else writes to this bucket meanwhile.
        quick = SweepTiming(min_grace=timedelta(0))
        yield Beanie(db, AsyncFileStore(db, sweep_timing=quick), commands)
    finally:
        gridfield.disconnect("beanie")
        await client.drop_database(db.name)
        await client.close()


async def test_init_beanie_makes_its_indexes_on_the_test_server(beanie: Beanie) -> None:
    indexes = await beanie.db.animals.index_information()
    assert [spec["key"] for spec in indexes.values()] == [[("_id", 1)], [("name", 1)]]


async def test_a_file_a_beanie_document_names_is_read_through_the_file_field(
    beanie: Beanie,
) -> None:
    info = await beanie.store.put(b"marmot photo", content_type="image/jpeg")
    animal = Animal(name="marmot", photo=str(info.file_id))
    await animal.insert()
    stored = await beanie.db.animals.find_one({"_id": animal.id})
    assert stored == {"_id": animal.id, "name": "marmot", "photo": info.file_id, "gallery": []}
    same = await MEAnimal.objects(id=animal.id).first()
    assert same.photo.grid_id == info.file_id
    assert await same.photo.read() == b"marmot photo"
    assert same.photo.content_type == "image/jpeg"


async def test_a_file_the_file_field_stored_is_read_through_files(beanie: Beanie) -> None:
    written = MEAnimal(name="marmot")
    await written.photo.put(b"marmot photo", content_type="image/png", filename="m.png")
    await written.save()
    animal = await Animal.get(written.pk)
    assert animal is not None
    assert animal.photo == written.photo.grid_id
    files = Files.for_document(animal)
    assert await files.read(animal.photo) == b"marmot photo"
    description = await files.info(animal.photo)
    assert (description.id, description.filename, description.content_type) == (
        written.photo.grid_id,
        "m.png",
        "image/png",
    )
    assert description == FileDescription.from_info(await beanie.store.get_info(animal.photo))


async def test_deleting_the_beanie_document_then_deletes_its_files(beanie: Beanie) -> None:
    kept = await beanie.store.put(b"someone else's")
    held = [(await beanie.store.put(f"file {n}".encode())).file_id for n in range(3)]
    animal = Animal(name="marmot", photo=held[0], gallery=held[1:])
    await animal.insert()
    beanie.commands.clear()
    await animal.delete()
    assert await beanie.db.animals.count_documents({}) == 0
    assert [info.file_id async for info in beanie.store.find()] == [kept.file_id]
    assert await beanie.db["fs.chunks"].count_documents({}) == 1
    # the document went first, its files after: a crash in between leaves orphans, never a
    # document naming files that are gone
    deletes = [command["delete"] for command in beanie.commands.named("delete")]
    assert deletes == ["animals", *["fs.files", "fs.chunks"] * 3]


async def test_beanie_can_skip_the_hook_by_name(beanie: Beanie) -> None:
    info = await beanie.store.put(b"kept")
    animal = Animal(name="marmot", photo=info.file_id)
    await animal.insert()
    await animal.delete(skip_actions=["delete_files"])
    assert await beanie.store.exists(info.file_id)


async def test_bulk_deletes_fire_no_hook_and_the_bucket_check_finds_the_orphans(
    beanie: Beanie,
) -> None:
    ids = [(await beanie.store.put(f"file {n}".encode())).file_id for n in range(3)]
    for name, file_id in zip(["marmot", "marmot", "beaver"], ids, strict=True):
        await Animal(name=name, photo=file_id).insert()
    await Animal.find(Animal.name == "marmot").delete()
    assert len([info async for info in beanie.store.find()]) == 3  # Beanie sent no event
    # The check reads references from MongoEngine-style classes: one on the same
    # collection sees what the Beanie documents hold.
    report = await beanie.store.check([MEAnimal], grace=timedelta(0))
    assert sorted(orphan.file_id for orphan in report.unreferenced_files) == sorted(ids[:2])
    await beanie.store.sweep([MEAnimal], delete=True, grace=timedelta(0))
    assert [info.file_id async for info in beanie.store.find()] == [ids[2]]
    await Animal.delete_all()
    report = await beanie.store.check([MEAnimal], grace=timedelta(0))
    assert [orphan.file_id for orphan in report.unreferenced_files] == [ids[2]]


async def test_the_beanie_collection_named_as_a_holder_keeps_what_its_documents_hold(
    beanie: Beanie,
) -> None:
    ids = [(await beanie.store.put(f"file {n}".encode())).file_id for n in range(5)]
    await Animal(name="marmot", photo=ids[0], gallery=ids[1:3]).insert()
    await Animal(name="beaver", photo=ids[3]).insert()
    await Animal(name="beaver", gallery=[ids[4]]).insert()
    await Animal.find(Animal.name == "beaver").delete()  # no event: ids[3:] are left behind
    holders = [("animals", "photo"), gridfield.Holder("animals", "gallery")]
    report = await beanie.store.check(holders, grace=timedelta(0))
    assert report.documents_scanned == ["animals:photo", "animals:gallery"]
    assert sorted(orphan.file_id for orphan in report.unreferenced_files) == ids[3:]
    swept = await beanie.store.sweep(holders, delete=True, grace=timedelta(0))
    assert swept.removed_files == 2
    assert [info.file_id async for info in beanie.store.find()] == ids[:3]


class Pen(Document):
    title: Annotated[str, Indexed(index_type=pymongo.TEXT)]

    class Settings:
        name = "pens"


async def test_a_text_index_on_the_test_server(beanie: Beanie, server_kind: str) -> None:
    if text_indexes_supported(server_kind):
        await init_beanie(database=beanie.db, document_models=[Pen])
        assert "title_text" in await beanie.db.pens.index_information()
    else:
        # FerretDB: see FERRETDB_NO_TEXT_INDEX
        with pytest.raises(OperationFailure, match=TEXT_INDEX_ERROR):
            await init_beanie(database=beanie.db, document_models=[Pen])


class Keeper(Document):
    name: str


class Keeping(Document):
    keeper: Link[Keeper] | None = None


async def test_links_and_fetch_links_on_the_test_server(beanie: Beanie, server_kind: str) -> None:
    await init_beanie(database=beanie.db, document_models=[Animal, Keeper, Keeping])
    keeper = Keeper(name="ann")
    await keeper.insert()
    if lookups_supported(server_kind):
        await Keeping(keeper=keeper).insert()
        (found,) = await Keeping.find(fetch_links=True).to_list()
        assert isinstance(found.keeper, Keeper)
    else:
        # FerretDB: see FERRETDB_NO_LOOKUP
        with pytest.raises(WriteError, match=LINK_ERROR):
            await Keeping(keeper=keeper).insert()
        with pytest.raises(OperationFailure, match=LOOKUP_ERROR):
            await Keeping.find(fetch_links=True).to_list()
