"""The Pillow work of ImageField, on bytes: no server involved."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gridfield.core.images import SizeSpec, VariantSpec
from gridfield.imaging import ImageSpec, InvalidImage, process_image


def picture(size: tuple[int, int], image_format: str, mode: str = "RGB", **save: object) -> bytes:
    img = Image.new(mode, size, "white" if mode != "RGBA" else (255, 255, 255, 0))
    # A red block in the top-left corner, to see where the top-left ends up.
    img.paste("red" if mode != "RGBA" else (255, 0, 0, 255), (0, 0, size[0] // 4, size[1] // 4))
    out = io.BytesIO()
    img.save(out, image_format, **save)  # type: ignore[arg-type]
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_an_image_within_bounds_is_stored_as_given() -> None:
    data = picture((60, 40), "PNG")
    done = process_image(data, ImageSpec(size=SizeSpec(100, 100)), where="Doc.image")
    assert done.main.data == data
    assert (done.main.width, done.main.height, done.main.format) == (60, 40, "PNG")
    assert done.main.content_type == "image/png"
    assert done.variants == {}


def test_a_larger_image_is_resized_not_refused() -> None:
    done = process_image(
        picture((400, 100), "JPEG"), ImageSpec(size=SizeSpec(200, 200)), where="D.i"
    )
    assert (done.main.width, done.main.height) == (200, 50)
    assert opened(done.main.data).size == (200, 50)
    assert opened(done.main.data).format == "JPEG"


def test_thumbnail_and_variants_carry_their_own_format_and_content_type() -> None:
    spec = ImageSpec(
        thumbnail_size=SizeSpec(50, 50, True),
        variants=(VariantSpec("webp", SizeSpec(100, 100), "WEBP"),),
    )
    done = process_image(picture((300, 200), "PNG", mode="RGBA"), spec, where="D.i")
    thumb = done.variants["thumbnail"]
    assert (thumb.width, thumb.height, thumb.format, thumb.content_type) == (
        50,
        50,
        "PNG",
        "image/png",
    )
    webp = done.variants["webp"]
    assert (webp.width, webp.height, webp.content_type) == (100, 67, "image/webp")
    assert opened(webp.data).format == "WEBP"


def test_a_transparent_image_can_have_a_jpeg_variant() -> None:
    spec = ImageSpec(variants=(VariantSpec("jpg", SizeSpec(10, 10), "JPEG"),))
    done = process_image(picture((40, 40), "PNG", mode="RGBA"), spec, where="D.i")
    assert opened(done.variants["jpg"].data).mode == "RGB"


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored pixels must turn 90 degrees clockwise to be upright
    data = picture((80, 40), "JPEG", exif=exif.tobytes())
    done = process_image(data, ImageSpec(), where="D.i")
    upright = opened(done.main.data)
    assert upright.size == (40, 80) == (done.main.width, done.main.height)
    assert upright.getexif().get(0x0112) is None
    # The red corner was top-left of the stored pixels; after the turn it is top-right.
    red = upright.convert("RGB").getpixel((35, 3))
    assert isinstance(red, tuple) and red[0] > 200 and red[1] < 80


@pytest.mark.parametrize("data", [b"Hello World!", b"", picture((10, 10), "PNG")[:30]])
def test_a_non_image_is_refused_naming_the_field(data: bytes) -> None:
    with pytest.raises(InvalidImage, match=r"^Invalid image for Doc\.image: "):
        process_image(data, ImageSpec(thumbnail_size=SizeSpec(5, 5)), where="Doc.image")
