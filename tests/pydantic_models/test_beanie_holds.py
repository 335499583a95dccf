"""gridfield.beanie's FileHoldingDocument: a write holds the files the document names while
a deleting sweep may run (waiting for the sweep's hold, refused when the sweep removed the
file), lets go once written, and a delete deletes the files after the document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from beanie import init_beanie
from bson import ObjectId
from pymongo import AsyncMongoClient

from gridfield import AsyncFileStore, NoFile
from gridfield.beanie import FileHoldingDocument
from gridfield.core.sweeping import SWEEP, hold
from gridfield.pydantic import FileDescription, FileId

from ..commands import Commands
from ..conftest import fresh_db_name


class Pen(FileHoldingDocument):
    name: str
    photo: FileId | None = None
    gallery: list[FileId] = []

    class Settings:
        name = "pens"


class Cage(FileHoldingDocument):
    gridfield_bucket = "cages"
    photo: FileId


@pytest.fixture
async def zoo(mongo_uri: str) -> AsyncIterator[tuple[Any, AsyncFileStore, Commands]]:
    commands = Commands()
    client: Any = AsyncMongoClient(mongo_uri, event_listeners=[commands])
    db = client[fresh_db_name()]
    try:
        await init_beanie(database=db, document_models=[Pen, Cage])
        yield db, AsyncFileStore(db), commands
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_write_holds_each_named_file_then_lets_go(zoo: Any) -> None:
    db, store, commands = zoo
    photo = await store.put(b"photo")
    more = [await store.put(b"a"), await store.put(b"b")]
    commands.clear()
    pen = Pen(name="marmots", photo=photo, gallery=[more[0], FileDescription.from_info(more[1])])
    await pen.insert()
    held = [c for c in commands.named("insert") if c["insert"] == "fs.holds"]
    assert sorted(c["documents"][0]["_id"] for c in held) == sorted(
        [photo.file_id, more[0].file_id, more[1].file_id]
    )
    assert await db["fs.holds"].count_documents({}) == 0
    stored = await db["pens"].find_one({"_id": pen.id})
    assert stored["photo"] == photo.file_id and stored["gallery"] == [i.file_id for i in more]
    pen.name = "sciurids"
    await pen.save()
    await pen.replace()
    assert await db["fs.holds"].count_documents({}) == 0


async def test_a_write_naming_a_file_that_is_gone_is_refused(zoo: Any) -> None:
    db, store, _ = zoo
    kept = await store.put(b"kept")
    with pytest.raises(NoFile, match="is not saved"):
        await Pen(name="ghost", photo=kept, gallery=[ObjectId()]).insert()
    assert await db["pens"].count_documents({}) == 0
    assert await db["fs.holds"].count_documents({}) == 0  # the first hold let go too


async def test_a_write_waits_for_a_sweeps_hold_and_is_refused_if_it_removed_the_file(
    zoo: Any,
) -> None:
    db, store, _ = zoo
    photo = await store.put(b"photo")
    sweep = ObjectId()
    await db["fs.holds"].insert_one(hold(photo.file_id, SWEEP, sweep, datetime.now(timezone.utc)))
    saving = asyncio.ensure_future(Pen(name="waits", photo=photo).insert())
    await asyncio.sleep(0.5)
    assert not saving.done()  # the sweep decides first
    await db["fs.holds"].delete_one({"_id": photo.file_id})  # it kept the file
    await saving
    assert await db["pens"].count_documents({"name": "waits"}) == 1

    other = await store.put(b"other")
    await db["fs.holds"].insert_one(hold(other.file_id, SWEEP, sweep, datetime.now(timezone.utc)))
    saving = asyncio.ensure_future(Pen(name="late", photo=other).insert())
    await asyncio.sleep(0.5)
    await store.delete(other.file_id)  # the sweep removed it, then let go
    await db["fs.holds"].delete_one({"_id": other.file_id})
    with pytest.raises(NoFile):
        await saving
    assert await db["pens"].count_documents({"name": "late"}) == 0


async def test_delete_deletes_the_files_after_the_document_in_its_bucket(zoo: Any) -> None:
    db, store, _ = zoo
    cages = AsyncFileStore(db, "cages")
    photo = await store.put(b"pen photo")
    caged = await cages.put(b"cage photo")
    pen = Pen(name="p", photo=photo)
    await pen.insert()
    cage = Cage(photo=caged)
    await cage.insert()
    await pen.delete()
    await cage.delete()
    assert await db["fs.files"].count_documents({}) == 0
    assert await db["cages.files"].count_documents({}) == 0
    assert await db["pens"].count_documents({}) == 0
