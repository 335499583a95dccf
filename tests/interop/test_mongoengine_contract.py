"""gridfield.sync's FileField and ImageField on plain mongoengine.Document, held to what
MongoEngine 0.29.3's own fields do, and files crossing between the two libraries."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from typing import Any

import gridfs
import mongoengine
import pytest
from bson import ObjectId
from PIL import Image
from pymongo import MongoClient, monitoring

import gridfield.sync
from gridfield.core.errors import NoFile

# MongoEngine's proxy reads GridOut.contentType, which PyMongo deprecates: theirs, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:GridOut property:DeprecationWarning")


class Finds(monitoring.CommandListener):
    """Counts the find commands sent to a files collection."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and str(event.command.get("find", "")).endswith(".files"):
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def finds() -> Finds:
    return Finds()


@pytest.fixture
def db(mongo_uri: str, finds: Finds) -> Iterator[Any]:
    """Only mongoengine.connect(...), as a legacy app has it; find commands counted."""
    name = f"gridfield_contract_{ObjectId()}"
    mongoengine.connect(
        db=name, host=mongo_uri, uuidRepresentation="standard", event_listeners=[finds]
    )
    try:
        yield mongoengine.get_db()
    finally:
        mongoengine.disconnect()
        with MongoClient(mongo_uri) as client:
            client.drop_database(name)


class Ours(mongoengine.Document):
    name = mongoengine.StringField()
    the_file = gridfield.sync.FileField()
    meta = {"collection": "things"}


class Theirs(mongoengine.Document):
    name = mongoengine.StringField()
    the_file = mongoengine.FileField()
    meta = {"collection": "things"}


class OurPicture(mongoengine.Document):
    name = mongoengine.StringField()
    image = gridfield.sync.ImageField(size=(200, 200, False), thumbnail_size=(40, 30, True))
    meta = {"collection": "pictures"}


class TheirPicture(mongoengine.Document):
    name = mongoengine.StringField()
    image = mongoengine.ImageField(size=(200, 200, False), thumbnail_size=(40, 30, True))
    meta = {"collection": "pictures"}


def png(size: tuple[int, int] = (300, 120)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def counts(db: Any, bucket: str = "fs") -> tuple[int, int]:
    return db[f"{bucket}.files"].count_documents({}), db[f"{bucket}.chunks"].count_documents({})


# -- attributes load on first access, once -----------------------------------------------------


def test_attributes_load_lazily_with_one_find(db: Any, finds: Finds) -> None:
    Ours(name="a", the_file=None).save()
    doc = Ours(name="b")
    doc.the_file.put(b"hello", content_type="text/plain", filename="h.txt", author="ann")
    doc.save()
    loaded = Ours.objects(name="b").first()
    finds.count = 0
    assert loaded.the_file.content_type == "text/plain"
    assert loaded.the_file.length == 5
    assert loaded.the_file.filename == "h.txt"
    assert loaded.the_file.author == "ann"
    assert loaded.the_file.upload_date is not None
    assert finds.count == 1
    assert not hasattr(loaded.the_file, "nothing_like_this")


# -- assignment ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bytes", "str", "file"])
def test_assignment_stores_the_file_as_mongoengine_does(db: Any, kind: str) -> None:
    value: Any = {"bytes": b"bytes", "str": "text", "file": io.BytesIO(b"file object")}[kind]
    expected = value.getvalue() if isinstance(value, io.BytesIO) else value
    expected = expected.encode() if isinstance(expected, str) else expected
    doc = Ours(name="x", the_file=value).save()
    again = Ours.objects(name="x").first()
    assert again.the_file.read() == expected
    assert again.the_file.length == len(expected)
    assert counts(db) == (1, 1)
    # Assigning anew takes the place of the old file, which goes.
    doc.the_file = b"second"
    doc.save()
    assert Ours.objects(name="x").first().the_file.read() == b"second"
    assert counts(db) == (1, 1)


# -- extra put() keywords ------------------------------------------------------------------------


def test_extra_keywords_are_top_level_and_metadata_stays_a_subdocument(db: Any) -> None:
    doc = Ours(name="k")
    doc.the_file.put(b"x", name="hello.txt", foo="bar", metadata={"kept": 1})
    doc.save()
    stored = db["fs.files"].find_one()
    assert stored["name"] == "hello.txt" and stored["foo"] == "bar"
    assert stored["metadata"]["kept"] == 1
    fresh = Ours.objects(name="k").first()
    assert fresh.the_file.foo == "bar"
    assert fresh.the_file.metadata["kept"] == 1


@pytest.mark.parametrize("writer", [Ours, Theirs])
@pytest.mark.parametrize("reader", [Ours, Theirs])
def test_extra_keywords_read_the_same_through_either_library(
    db: Any, writer: Any, reader: Any
) -> None:
    doc = writer(name="w")
    doc.the_file.put(b"payload", content_type="text/plain", author="ann", filename="p")
    doc.save()
    got = reader.objects(name="w").first().the_file
    assert got.read() == b"payload"
    assert (got.author, got.content_type, got.filename, got.length) == ("ann", "text/plain", "p", 7)
    assert gridfs.GridFS(db).get(doc.the_file.grid_id).author == "ann"
    assert got.get().author == "ann"  # what get() returns reads them too


# -- what MongoEngine's GridFSProxy answers ------------------------------------------------------


def test_str_repr_eq_bool_copy_and_get_as_mongoengine(db: Any) -> None:
    ours, theirs = Ours(name="o"), Theirs(name="t")
    for doc in (ours, theirs):
        assert not doc.the_file
        assert doc.the_file.get() is None
        assert doc.the_file.read() is None
        doc.the_file.put(b"Hello, World!", filename="hello")
        doc.save()
    for doc in (Ours.objects(name="o").first(), Theirs.objects(name="t").first()):
        proxy = doc.the_file
        assert str(proxy) == f"<GridFSProxy: hello ({proxy.grid_id})>"
        assert repr(proxy) == f"<GridFSProxy: {proxy.grid_id}>"
        assert bool(proxy)
        assert proxy == copy.copy(proxy) == copy.deepcopy(proxy)
        assert proxy != {"test": 1}
        stored = proxy.get()
        assert stored.length == 13 and stored.read() == b"Hello, World!"
        assert stored.filename == "hello"
    assert ours.the_file.fs.list() == ["hello"]


def test_a_gone_file_reads_as_an_error_not_as_nothing(db: Any) -> None:
    doc = Ours(name="g")
    doc.the_file.put(b"data", filename="gone")
    doc.save()
    gridfs.GridFS(db).delete(doc.the_file.grid_id)
    fresh = Ours.objects(name="g").first()
    assert str(fresh.the_file) == f"<GridFSProxy: <no file> ({fresh.the_file.grid_id})>"
    with pytest.raises(NoFile):
        fresh.the_file.read()
    with pytest.raises(NoFile):
        fresh.the_file.get()


# -- images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [OurPicture, TheirPicture])
@pytest.mark.parametrize("reader", [OurPicture, TheirPicture])
def test_images_and_thumbnails_cross_both_ways(db: Any, writer: Any, reader: Any) -> None:
    pic = writer(name="p")
    pic.image.put(io.BytesIO(png()))
    pic.save()
    got = reader.objects(name="p").first().image
    assert got.size == (200, 80)
    assert got.format == "PNG"
    assert (got.width, got.height) == (200, 80)
    assert Image.open(io.BytesIO(got.read())).size == (200, 80)
    thumb = got.thumbnail
    assert (thumb.width, thumb.height, thumb.format) == (40, 30, "PNG")
    assert Image.open(io.BytesIO(thumb.read())).size == (40, 30)
    files = db["images.files"]
    main = files.find_one({"_id": pic.image.grid_id})
    assert {"width", "height", "format", "thumbnail_id"} <= set(main)
    if writer is OurPicture:
        # Every file we write says what it is; MongoEngine's thumbnail says nothing.
        assert files.find_one({"_id": main["thumbnail_id"]})["contentType"] == "image/png"
        assert main["contentType"] == "image/png"


def test_deleting_an_image_takes_its_thumbnail(db: Any) -> None:
    pic = OurPicture(name="d")
    pic.image.put(png())
    pic.save()
    assert counts(db, "images")[0] == 2
    pic.image = png((50, 50))
    pic.save()
    assert counts(db, "images")[0] == 2
    pic.delete()
    assert counts(db, "images") == (0, 0)


def test_a_non_image_is_refused_naming_the_field_and_stores_nothing(db: Any) -> None:
    pic = OurPicture(name="bad")
    with pytest.raises(mongoengine.ValidationError, match=r"^Invalid image: ") as refused:
        pic.image.put(b"Hello World!")
    assert refused.value.field_name == "image"
    with pytest.raises(mongoengine.ValidationError, match="Invalid image"):
        OurPicture(name="bad", image=b"not an image either")
    assert counts(db, "images") == (0, 0)
    assert not pic.image


class SyncCard(gridfield.sync.Document):
    scan = gridfield.sync.FileField()


def test_sync_gridfield_documents_load_attributes_lazily_too(mongo_uri: str, finds: Finds) -> None:
    name = f"gridfield_contract_{ObjectId()}"
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, event_listeners=[finds])
    gridfield.sync.connect(db=name, client=client)
    try:
        card = SyncCard(scan=b"assigned")
        card.save()
        again = SyncCard.objects(id=card.id).first()
        assert again is not None
        finds.count = 0
        assert (again.scan.length, again.scan.content_type, again.scan.filename) == (8, None, None)
        assert str(again.scan) == f"<GridFSProxy: None ({again.scan.grid_id})>"
        assert finds.count == 1
    finally:
        gridfield.sync.disconnect()
        client.drop_database(name)
        client.close()
