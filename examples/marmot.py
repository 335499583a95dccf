"""The GridFS chapter's marmot, end to end: async first, then the same with the sync API.

    python examples/marmot.py [URI]       # or with $MONGODB_URI set; `./dev demo` sets it

`./dev demo` gets a server (a local mongod, or FerretDB) and exports its URI.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import mongoengine
import pymongo

import gridfield
import gridfield.sync

DB = "gridfield_demo"


def server_uri() -> str:
    uri = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MONGODB_URI", "").strip()
    if not uri:
        raise SystemExit(
            "no server: run `./dev demo`, or give a URI, or set MONGODB_URI "
            "(`export MONGODB_URI=$(python -m scripts.mongo_server)` from the repository root)"
        )
    return uri


def picture(fmt: str, colour: tuple[int, int, int]) -> bytes:
    """A small real image (Pillow), or bytes that start like one when Pillow is absent."""
    try:
        from PIL import Image
    except ImportError:
        magic = {"JPEG": b"\xff\xd8\xff\xe0", "PNG": b"\x89PNG\r\n\x1a\n"}[fmt]
        return magic + os.urandom(40_000)
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, fmt)  # larger than the portrait's bounds
    return out.getvalue()


def step(text: str) -> None:
    print(f"  {text}")


def image_line(image: Any, thumbnail: Any) -> str:
    width, height = image.size
    return (
        f"{image.format} {width}x{height} ({image.content_type}, {image.length} bytes), "
        f"thumbnail {thumbnail.width}x{thumbnail.height} ({thumbnail.content_type}, "
        f"{thumbnail.length} bytes)"
    )


class Animal(gridfield.Document):
    genus = gridfield.StringField()
    family = gridfield.StringField()
    photo = gridfield.FileField()
    # An image, bounded to 240 x 240 with a 64 x 48 thumbnail, in MongoEngine's layout.
    portrait = gridfield.ImageField(size=(240, 240, False), thumbnail_size=(64, 48, True))


class SyncAnimal(gridfield.sync.Document):
    genus = gridfield.sync.StringField()
    family = gridfield.sync.StringField()
    photo = gridfield.sync.FileField()
    portrait = gridfield.sync.ImageField(size=(240, 240, False), thumbnail_size=(64, 48, True))

    meta = {"collection": "sync_animal"}


async def async_marmot(uri: str) -> None:
    print("async API (gridfield):")
    gridfield.connect(DB, host=uri)
    try:
        marmot = Animal(genus="Marmota", family="Sciuridae")
        with open("marmot.jpg", "rb") as marmot_photo:
            await marmot.photo.put(marmot_photo, content_type="image/jpeg")
        await marmot.save()
        step(f"put marmot.jpg ({marmot.photo.length} bytes) and saved {marmot.id}")

        marmot = await Animal.objects(genus="Marmota").first()
        photo = await marmot.photo.read()
        content_type = marmot.photo.metadata["content_type"]
        step(f"read it back: {len(photo)} bytes, content type {content_type}")

        streamed = Animal(genus="Marmota", family="Sciuridae")
        await streamed.photo.new_file()
        await streamed.photo.write("some_image_data")
        await streamed.photo.write("some_more_image_data")
        await streamed.photo.close()
        await streamed.save()
        step(f"streamed in with write(): {await streamed.photo.read()!r}")

        managed = Animal(genus="Marmota", family="Sciuridae")
        async with managed.photo.new_file():
            managed.photo.write(b"some-data")
        await managed.save()
        step(f"streamed in with async with new_file(): {await managed.photo.read()!r}")

        with open("another_marmot.png", "rb") as another_marmot:
            await marmot.photo.replace(another_marmot, content_type="image/png")
        await marmot.save()
        step(f"replaced it: now {marmot.photo.content_type}, {marmot.photo.length} bytes")

        with open("marmot.jpg", "rb") as marmot_photo:
            await marmot.portrait.put(marmot_photo)
        await marmot.save()
        thumbnail = marmot.portrait.thumbnail
        assert thumbnail is not None
        await thumbnail.load()
        step(f"an ImageField: {image_line(marmot.portrait, thumbnail)}")

        await marmot.photo.delete()
        await marmot.save()
        step(f"deleted the photo; the field is empty: {not marmot.photo}")

        for animal in await Animal.objects().to_list():
            await animal.delete()
        db = gridfield.get_db()
        files = await db["fs.files"].count_documents({})
        images = await db["images.files"].count_documents({})
        step(f"deleted the animals; files left in GridFS: {files}, images: {images}")
    finally:
        gridfield.disconnect()


def sync_marmot(uri: str) -> None:
    print("sync API (gridfield.sync):")
    gridfield.sync.connect(DB, host=uri)
    try:
        marmot = SyncAnimal(genus="Marmota", family="Sciuridae")
        with open("marmot.jpg", "rb") as marmot_photo:
            marmot.photo.put(marmot_photo, content_type="image/jpeg")
        marmot.save()
        step(f"put marmot.jpg ({marmot.photo.length} bytes) and saved {marmot.id}")

        marmot = SyncAnimal.objects(genus="Marmota").first()
        photo = marmot.photo.read()
        content_type = marmot.photo.metadata["content_type"]
        step(f"read it back: {len(photo)} bytes, content type {content_type}")

        managed = SyncAnimal(genus="Marmota", family="Sciuridae")
        with managed.photo.new_file():
            managed.photo.write(b"some-data")
        managed.save()
        step(f"streamed in with new_file(): {managed.photo.read()!r}")

        with open("another_marmot.png", "rb") as another_marmot:
            marmot.photo.replace(another_marmot, content_type="image/png")
        marmot.save()
        step(f"replaced it: now {marmot.photo.content_type}, {marmot.photo.length} bytes")

        with open("marmot.jpg", "rb") as marmot_photo:
            marmot.portrait = marmot_photo  # stored (with its thumbnail) by the save
            marmot.save()
        marmot = SyncAnimal.objects(id=marmot.id).first()
        step(f"an ImageField, assigned: {image_line(marmot.portrait, marmot.portrait.thumbnail)}")

        class Legacy(mongoengine.Document):
            photo = gridfield.sync.FileField()

        legacy = Legacy()
        with open("marmot.jpg", "rb") as marmot_photo:
            legacy.photo.put(marmot_photo, content_type="image/jpeg")
        legacy.save()
        stored = mongoengine.get_db()["legacy"].find_one({"_id": legacy.id})
        step(f"a plain mongoengine.Document stores the file's ObjectId: {stored['photo']}")
        legacy.delete()

        for animal in SyncAnimal.objects():
            animal.delete()
        db = gridfield.sync.get_db()
        files = db["fs.files"].count_documents({})
        images = db["images.files"].count_documents({})
        step(f"deleted the animals; files left in GridFS: {files}, images: {images}")
    finally:
        gridfield.sync.disconnect()


def main() -> None:
    uri = server_uri()
    print(f"server: {uri}")
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        Path("marmot.jpg").write_bytes(picture("JPEG", (120, 90, 60)))
        Path("another_marmot.png").write_bytes(picture("PNG", (90, 120, 60)))
        with pymongo.MongoClient(uri) as client:
            client.drop_database(DB)  # start from a clean slate
            asyncio.run(async_marmot(uri))
            sync_marmot(uri)
            client.drop_database(DB)
    print("done")


if __name__ == "__main__":
    main()
