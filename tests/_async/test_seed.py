"""Every example of the GridFS chapter (docs' seed), as written, in each API."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridfield._async.document import Document
from gridfield._async.fields import FileField
from gridfield.plain_fields import StringField

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random.Random(1).randbytes(300_000)
PNG = b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(70_000)


class Animal(Document):
    genus = StringField()
    family = StringField()
    photo = FileField()


@pytest.fixture
def animals(connected: Callable[..., Any]) -> Any:
    """The default alias on a fresh database, as an app's ``connect()`` would make it."""
    return connected()


@pytest.fixture
def photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """marmot.jpg and another_marmot.png in the working folder, as the chapter opens them."""
    (tmp_path / "marmot.jpg").write_bytes(JPEG)
    (tmp_path / "another_marmot.png").write_bytes(PNG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def write_the_marmot() -> Any:
    # -- Writing, verbatim ------------------------------------------------------------------
    marmot = Animal(genus="Marmota", family="Sciuridae")

    marmot_photo = open("marmot.jpg", "rb")  # noqa: SIM115 (the chapter's own line)
    await marmot.photo.put(marmot_photo, content_type="image/jpeg")
    await marmot.save()
    marmot_photo.close()
    return marmot


async def test_writing(animals: Any, photos: Path) -> None:
    marmot = await write_the_marmot()

    raw = await animals["animal"].find_one({"_id": marmot.id})
    assert raw["genus"] == "Marmota"
    assert raw["photo"] == marmot.photo.grid_id  # the document stores the file's ObjectId
    files = await animals["fs.files"].find_one({"_id": raw["photo"]})
    assert files["length"] == len(JPEG)
    assert files["contentType"] == "image/jpeg"
    assert files["metadata"]["contentType"] == "image/jpeg"


async def test_retrieval(animals: Any, photos: Path) -> None:
    await write_the_marmot()

    # -- Retrieval: the chapter's lines, awaited where they read ----------------------------
    marmot = await Animal.objects(genus="Marmota").first()
    photo = await marmot.photo.read()
    content_type = marmot.photo.metadata["content_type"]

    assert photo == JPEG
    assert content_type == "image/jpeg"
    assert marmot.photo.content_type == "image/jpeg"
    assert marmot.photo.length == len(JPEG)


async def test_streaming_write_and_close(animals: Any) -> None:
    marmot = Animal(genus="Marmota", family="Sciuridae")

    # -- Streaming, verbatim ----------------------------------------------------------------
    await marmot.photo.new_file()
    await marmot.photo.write("some_image_data")
    await marmot.photo.write("some_more_image_data")
    await marmot.photo.close()

    await marmot.save()

    again = await Animal.objects(id=marmot.id).first()
    assert await again.photo.read() == b"some_image_datasome_more_image_data"


async def test_streaming_with_the_context_manager(animals: Any) -> None:
    marmot = Animal(genus="Marmota", family="Sciuridae")

    # -- Streaming with the context manager, verbatim: write() is not awaited ----------------
    async with marmot.photo.new_file():
        marmot.photo.write(b"some-data")

    await marmot.save()

    again = await Animal.objects(id=marmot.id).first()
    assert await again.photo.read() == b"some-data"
    assert await animals["fs.files"].count_documents({}) == 1


async def test_deletion(animals: Any, photos: Path) -> None:
    marmot = await write_the_marmot()
    grid_id = marmot.photo.grid_id

    # -- Deletion, verbatim -----------------------------------------------------------------
    await marmot.photo.delete()

    assert not marmot.photo
    assert await animals["fs.files"].count_documents({"_id": grid_id}) == 0
    assert await animals["fs.chunks"].count_documents({"files_id": grid_id}) == 0
    await marmot.save()
    raw = await animals["animal"].find_one({"_id": marmot.id})
    assert raw.get("photo") is None


async def test_replacing_files(animals: Any, photos: Path) -> None:
    marmot = await write_the_marmot()
    old_id = marmot.photo.grid_id

    # -- Replacing files, verbatim ----------------------------------------------------------
    another_marmot = open("another_marmot.png", "rb")  # noqa: SIM115 (the chapter's own line)
    await marmot.photo.replace(another_marmot, content_type="image/png")
    another_marmot.close()

    assert marmot.photo.grid_id != old_id
    assert marmot.photo.content_type == "image/png"
    # the old file stays until the document names the new one
    assert await animals["fs.files"].count_documents({"_id": old_id}) == 1
    await marmot.save()
    assert await animals["fs.files"].count_documents({"_id": old_id}) == 0
    assert await animals["fs.chunks"].count_documents({"files_id": old_id}) == 0

    again = await Animal.objects(genus="Marmota").first()
    assert await again.photo.read() == PNG
    assert again.photo.metadata["content_type"] == "image/png"
