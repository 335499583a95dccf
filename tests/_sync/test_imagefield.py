# Generated from tests/_async/test_imagefield.py by scripts/unasync.py: do not edit.
"""ImageField: MongoEngine's options and stored layout, variants with content types, and
nothing left behind by bad input or a failure."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from mongoengine.errors import ValidationError
from PIL import Image

from benchmarks.rss import PeakRSS
from gridfield._sync.document import Document
from gridfield._sync.image_field import ImageField
from gridfield.core.errors import FileTooLarge, ImageTooLarge
from gridfield.plain_fields import ListField, StringField

from ..crafted_images import animated_gif, png_bomb

MIB = 1024 * 1024


class Photo(Document):
    name = StringField()
    image = ImageField(
        size=(200, 200, False),
        thumbnail_size=(40, 30, True),
        variants={"small": (100, 100), "square": (64, 64, True, "WEBP")},
    )
    plain = ImageField()
    gallery = ListField(ImageField(thumbnail_size=(10, 10, False)))
    small = ImageField(size=(600, 600), max_pixels=10_000)
    limited = ImageField(size=(600, 600), max_size=MIB)


def picture(size: tuple[int, int], image_format: str = "PNG", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "olive").save(out, image_format, **save)
    return out.getvalue()


@pytest.fixture
def db(connected: Callable[..., Any]) -> Any:
    return connected()


def count(db: Any) -> int:
    return int(db["images.files"].count_documents({}))


def test_put_stores_the_image_its_thumbnail_and_variants(db: Any) -> None:
    photo = Photo(name="p")
    photo.image.put(picture((400, 100)), filename="p.png", author="ann")
    photo.save()
    fetched = Photo.objects(name="p").first()
    assert fetched is not None
    fetched.image.load()
    assert fetched.image.size == (200, 50)  # resized, not refused: larger than size
    assert fetched.image.format == "PNG"
    assert fetched.image.content_type == "image/png"
    assert (fetched.image.width, fetched.image.height, fetched.image.author) == (200, 50, "ann")
    assert Image.open(io.BytesIO(fetched.image.read() or b"")).size == (200, 50)

    thumbnail = fetched.image.thumbnail
    assert thumbnail is not None
    thumbnail.load()
    assert (thumbnail.width, thumbnail.height, thumbnail.format) == (40, 30, "PNG")
    assert thumbnail.content_type == "image/png"
    small = fetched.image.variant("small")
    square = fetched.image.variant("square")
    assert small is not None and square is not None
    small.load()
    square.load()
    assert (small.width, small.height, small.content_type) == (100, 25, "image/png")
    assert (square.width, square.height, square.content_type) == (64, 64, "image/webp")
    assert Image.open(io.BytesIO(square.read() or b"")).format == "WEBP"
    assert fetched.image.variant("missing") is None
    assert count(db) == 4
    raw = db["images.files"].find_one({"_id": photo.image.grid_id})
    assert raw["thumbnail_id"] == thumbnail.grid_id
    assert raw["variants"] == {"small": small.grid_id, "square": square.grid_id}


def test_an_image_within_bounds_is_stored_unchanged(db: Any) -> None:
    data = picture((30, 20), "JPEG")
    photo = Photo()
    photo.plain.put(data)
    assert photo.plain.read() == data
    assert photo.plain.size == (30, 20) and photo.plain.format == "JPEG"
    assert photo.plain.thumbnail is None
    raw = db["images.files"].find_one({"_id": photo.plain.grid_id})
    assert raw["thumbnail_id"] is None  # as MongoEngine stores an image with no thumbnail


class Reader:
    """A file object whose read() is awaited in the async API (as aiofiles' is)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = self.data, b""
        return data


def test_an_image_is_read_from_a_file_object(db: Any) -> None:
    photo = Photo()
    photo.plain.put(Reader(picture((30, 20))))
    assert photo.plain.size == (30, 20)


def test_an_assigned_image_is_processed_and_stored_at_save(db: Any) -> None:
    photo = Photo(name="a", image=picture((300, 300)))
    assert count(db) == 0
    photo.save()
    assert photo.image.size == (200, 200)
    assert count(db) == 4


def test_an_unreadable_file_is_refused_in_mongoengine_words(db: Any) -> None:
    with tempfile.TemporaryFile() as f:
        f.write(b"Hello World!")
        f.seek(0)
        with pytest.raises(ValidationError) as refused:
            Photo(name="bad").image.put(f)
    assert str(refused.value) == f"Invalid image: cannot identify image file {f!r}"
    assert refused.value.field_name == "image"
    with pytest.raises(ValidationError) as given_bytes:
        Photo(name="bad").image.put(b"Hello World!")
    assert str(given_bytes.value) == "Invalid image: cannot identify image file (12 bytes)"
    assert count(db) == 0


@pytest.mark.parametrize("bad", [b"Hello World!", b"", picture((50, 50))[:40]])
def test_a_non_image_is_refused_naming_the_field_and_stores_nothing(db: Any, bad: bytes) -> None:
    # MongoEngine's words; the field is the error's field_name, as MongoEngine's form errors want.
    photo = Photo(name="bad")
    with pytest.raises(ValidationError, match=r"^Invalid image: ") as put:
        photo.image.put(bad)
    assert put.value.field_name == "image"
    assert not photo.image
    with pytest.raises(ValidationError, match=r"^Invalid image: ") as assigned:
        photo.image = bad  # refused at once: its header is no image's
    assert assigned.value.field_name == "image"
    assert not photo.image
    photo.image = io.BytesIO(bad)  # a file object is read at the save
    with pytest.raises(ValidationError, match=r"^Invalid image: ") as saved:
        photo.save()
    assert saved.value.field_name == "image"
    assert count(db) == 0
    assert db["photo"].count_documents({}) == 0


def test_a_bad_image_among_good_ones_fails_the_save_and_stores_nothing(db: Any) -> None:
    photo = Photo(name="mixed", image=picture((300, 300)), plain=io.BytesIO(b"no image"))
    with pytest.raises(ValidationError, match=r"^Invalid image: ") as refused:
        photo.save()
    assert refused.value.field_name == "plain"
    assert count(db) == 0  # the good image and its variants were removed again
    assert db["photo"].count_documents({}) == 0
    photo.plain = picture((20, 20))
    photo.save()  # the assigned image is still there to store
    assert count(db) == 5


def test_a_failure_after_the_variants_leaves_no_file(db: Any) -> None:
    photo = Photo()
    with pytest.raises(ValueError, match="cannot be stored as BSON"):
        photo.image.put(picture((300, 300)), bad=object())
    assert count(db) == 0
    assert not photo.image


def test_replace_and_delete_take_the_thumbnail_and_variants(db: Any) -> None:
    photo = Photo(name="r")
    photo.image.put(picture((300, 300)))
    photo.save()
    photo.image.replace(picture((250, 100)))
    photo.save()
    assert count(db) == 4  # the old image and its three variants are gone
    photo.image = picture((120, 120))
    photo.save()
    assert count(db) == 4
    photo.image.delete()
    assert count(db) == 0
    photo.image.put(picture((90, 90)))
    photo.save()
    photo.delete()
    assert count(db) == 0


def test_images_in_a_list_get_their_fields_options(db: Any) -> None:
    photo = Photo(name="g")
    proxy = Photo._fields["gallery"].field.get_proxy_obj("gallery", photo)
    proxy.put(picture((30, 60)))
    photo.gallery.append(proxy)
    photo.save()
    fetched = Photo.objects(name="g").first()
    assert fetched is not None
    assert fetched.gallery[0].load() is not None
    thumbnail = fetched.gallery[0].thumbnail
    assert thumbnail is not None
    thumbnail.load()
    assert (thumbnail.width, thumbnail.height) == (5, 10)


def test_images_are_put_whole(db: Any) -> None:
    photo = Photo()
    with pytest.raises(RuntimeError, match="put"):
        photo.image.write(b"x")
    with pytest.raises(RuntimeError, match="put"):
        photo.image.writelines([b"x"])
    with pytest.raises(RuntimeError, match="put"):
        photo.image.new_file()
    assert count(db) == 0


def test_options_are_checked_when_the_field_is_made() -> None:
    with pytest.raises(ValueError, match="thumbnail_size"):
        ImageField(thumbnail_size=(0, 10))
    with pytest.raises(ValueError, match="variant name"):
        ImageField(variants={"thumbnail": (1, 1)})
    field = ImageField(size=(10, 20, True))
    assert field.size == {"width": 10, "height": 20, "force": True}
    assert field.thumbnail_size is None
    assert field.collection_name == "images"


# --------------------------------------------------------------------------- limits


def test_a_decompression_bomb_is_refused_from_its_header_and_stores_nothing(
    db: Any,
) -> None:
    """A 0.6 MB PNG claiming 13000 x 13000 RGBA (169 Mpx, under Pillow's error threshold):
    refused before decoding, by put, by assignment and at the save."""
    bomb = png_bomb(13000, 13000)
    photo = Photo(name="bomb")
    # Where warnings are errors (as in this suite) Pillow's warning is what refuses it.
    expected = r"^Image too large for Photo\.image: .*169000000 pixels"
    with PeakRSS() as peak, pytest.raises(ImageTooLarge, match=expected) as caught:
        photo.image.put(bomb)
    assert peak.growth < 64 * MIB  # decoded whole, it was 1.3 GiB
    assert isinstance(caught.value, ValidationError)
    assert caught.value.field_name == "image"
    assert not photo.image
    with pytest.raises(ImageTooLarge, match=expected):
        photo.image = bomb
    photo.image = io.BytesIO(bomb)
    with pytest.raises(ImageTooLarge, match=r"Photo\.image"):
        photo.save()
    assert count(db) == 0
    assert db["photo"].count_documents({}) == 0


def test_max_pixels_counts_every_frame(db: Any) -> None:
    photo = Photo()
    with pytest.raises(ImageTooLarge, match=r"Photo\.small: 10 x 10 pixels x 101 frames"):
        photo.small.put(animated_gif(101, (10, 10)))
    photo.small.put(animated_gif(100, (10, 10)))
    assert count(db) == 1


class Source:
    """A binary file object of ``size`` zero bytes that never holds them: it counts what is
    read (read(-1) hands over everything left, as a file does)."""

    def __init__(self, size: int, head: bytes = b"") -> None:
        self.left = size
        self.head = head
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        block = (self.head + bytes(n))[:n]
        self.head = self.head[n:]
        self.left -= n
        self.read_bytes += n
        return block


def test_max_size_limits_the_bytes_read_before_any_decoding(db: Any) -> None:
    """300 MiB that are no image, behind max_size=1 MiB: refused as too large after 1 MiB
    and one byte, not read whole and then refused as no image."""
    photo = Photo()
    source = Source(300 * MIB)
    message = r"^Photo\.limited: the file is over the limit of 1048576 bytes \(1048577 bytes seen\)"
    with PeakRSS() as peak, pytest.raises(FileTooLarge, match=message):
        photo.limited.put(source)
    assert source.read_bytes == MIB + 1
    assert peak.growth < 64 * MIB
    # A real image over the limit (its resized copy would fit): refused the same way.
    jpeg = Source(2 * MIB, head=picture((2000, 2000), "JPEG", quality=100))
    with pytest.raises(FileTooLarge, match=message):
        photo.limited.put(jpeg)
    with pytest.raises(FileTooLarge, match=r"Photo\.limited: the file is over the limit"):
        photo.limited = bytes(MIB + 1)
    assert not photo.limited
    assert count(db) == 0
    photo.limited.put(io.BytesIO(picture((700, 100))))  # under the limit: stored
    assert count(db) == 1


def test_a_bad_content_type_is_refused_before_the_image_is_read(db: Any) -> None:
    photo = Photo()
    source = io.BytesIO(picture((50, 50)))
    with pytest.raises(ValueError, match="content_type 'image/\U0001f600' is not a media"):
        photo.image.put(source, content_type="image/\U0001f600")
    assert source.tell() == 0
    assert count(db) == 0
    photo.image.put(source, content_type="image/png; q=1")
    assert photo.image.content_type == "image/png; q=1"


def test_max_pixels_is_checked_when_the_field_is_made() -> None:
    assert ImageField().max_pixels == 50_000_000
    assert ImageField(max_pixels=None).max_pixels is None
    with pytest.raises(ValueError, match="max_pixels must be a positive int"):
        ImageField(max_pixels=0)
