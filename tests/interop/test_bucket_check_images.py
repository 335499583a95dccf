"""The bucket check on images written by MongoEngine's own ImageField: the thumbnail, named
only by the image's files document, stays with a held image and goes with a dropped one."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import mongoengine
import pytest
from bson import ObjectId
from PIL import Image
from pymongo import MongoClient

import gridfield.sync


class MongoengineAlbum(mongoengine.Document):
    cover = mongoengine.ImageField(thumbnail_size=(8, 8, True))
    meta = {"collection": "albums"}


@pytest.fixture
def plain_mongoengine(mongo_uri: str) -> Iterator[Any]:
    """Only mongoengine.connect(...): the check reads MongoEngine's own connection."""
    name = f"gridfield_check_images_{ObjectId()}"
    mongoengine.connect(db=name, host=mongo_uri, uuidRepresentation="standard")
    try:
        yield mongoengine.get_db()
    finally:
        mongoengine.disconnect()
        with MongoClient(mongo_uri) as client:
            client.drop_database(name)


def test_mongoengine_thumbnails_go_with_their_image(plain_mongoengine: Any) -> None:
    db = plain_mongoengine
    held, dropped = MongoengineAlbum(), MongoengineAlbum()
    for album in (held, dropped):
        out = io.BytesIO()
        Image.new("RGB", (40, 30), "navy").save(out, "PNG")
        out.seek(0)
        album.cover.put(out, filename="cover.png")
        album.save()
    thumbnails = {
        raw["_id"]: raw["thumbnail_id"]
        for raw in db["images.files"].find({"thumbnail_id": {"$ne": None}})
    }
    assert set(thumbnails) == {held.cover.grid_id, dropped.cover.grid_id}
    db["albums"].delete_one({"_id": dropped.id})  # no document holds its files now
    quick = gridfield.sync.SweepTiming(min_grace=timedelta(0))
    store = gridfield.sync.FileStore(db, "images", sweep_timing=quick)

    report = store.check([MongoengineAlbum], grace=timedelta(0))
    gone = {dropped.cover.grid_id, thumbnails[dropped.cover.grid_id]}
    assert {u.file_id for u in report.unreferenced_files} == gone
    swept = store.sweep([MongoengineAlbum], delete=True, grace=timedelta(0))
    assert swept.removed_files == 2
    assert db["images.files"].count_documents({"_id": {"$in": list(gone)}}) == 0
    assert db["images.chunks"].count_documents({"files_id": {"$in": list(gone)}}) == 0
    assert store.get(held.cover.grid_id)
    assert store.get(thumbnails[held.cover.grid_id])
    fetched = MongoengineAlbum.objects.get(id=held.id)
    assert fetched.cover.thumbnail.read()  # MongoEngine still reads its own thumbnail
    assert store.check([MongoengineAlbum], grace=timedelta(0)).clean
