"""Image maths for ImageField: bounding sizes, crop boxes, EXIF orientation, variant specs.

Pure: no Pillow here. The Pillow work (``gridfield.core.imaging``) asks this module what to do.
The sizing rules are MongoEngine's ImageField's, so both libraries store the same images:

- ``size=(w, h, force)`` bounds the stored image. An image within the bounds is stored as it
  is; a larger one is shrunk to fit them (aspect kept), or with ``force`` cropped about its
  centre and resized to exactly ``w x h``.
- ``thumbnail_size=(w, h, force)`` makes the thumbnail: shrunk to fit (never enlarged), or
  with ``force`` exactly ``w x h`` (cropped about the centre, enlarged if need be).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ImageTooLarge
from .numbers import is_whole_number

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "THUMBNAIL",
    "SizeSpec",
    "VariantSpec",
    "bounded_size",
    "centre_crop",
    "check_pixels",
    "child_fields",
    "child_ids",
    "content_type_for_format",
    "decode_size",
    "main_image_size",
    "orientation_steps",
    "oriented_size",
    "parse_max_pixels",
    "parse_size",
    "parse_variants",
    "pixel_limit",
    "save_mode",
]

DEFAULT_MAX_PIXELS = 50_000_000
"""An ImageField's ``max_pixels`` unless it says otherwise: width x height x frames.

Room for the photos people upload (a 48-megapixel phone photo is 8000 x 6000, a 45-megapixel
camera's 8192 x 5464), and a bound on what one image may cost: decoded at 4 bytes a pixel,
200 MB at most, where Pillow's own check only warns below 179 megapixels (716 MB)."""

THUMBNAIL = "thumbnail"
"""The name of the variant made from ``thumbnail_size`` (stored as ``thumbnail_id``)."""

_THUMBNAIL_FIELD = "thumbnail_id"
_VARIANTS_FIELD = "variants"


def child_fields(ids: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level fields of an image's files document that name its variants' files
    (``ids``: variant name -> file id): ``thumbnail_id`` (None when it has no thumbnail),
    and a ``variants`` map for the named ones, if any."""
    named = {name: file_id for name, file_id in ids.items() if name != THUMBNAIL}
    fields: dict[str, Any] = {_THUMBNAIL_FIELD: ids.get(THUMBNAIL)}
    if named:
        fields[_VARIANTS_FIELD] = named
    return fields


def child_ids(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The files an image's files document (or its top-level fields) names as its own:
    variant name -> file id, the thumbnail under ``THUMBNAIL``; whoever wrote it."""
    found: dict[str, Any] = {}
    thumbnail_id = fields.get(_THUMBNAIL_FIELD)
    if thumbnail_id is not None:
        found[THUMBNAIL] = thumbnail_id
    variants = fields.get(_VARIANTS_FIELD)
    if isinstance(variants, Mapping):
        found.update({name: file_id for name, file_id in variants.items() if file_id is not None})
    return found


_FORMATS_CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "ICO": "image/x-icon",
    "AVIF": "image/avif",
    "PPM": "image/x-portable-anymap",
    "JPEG2000": "image/jp2",
}

# Formats that hold no alpha channel (or no palette transparency) when saved by Pillow.
_NO_ALPHA = frozenset({"JPEG", "BMP", "PPM", "JPEG2000"})

# EXIF orientation tag (1-8) -> the transpositions, in order, that bring the stored pixels
# upright. Names are Pillow's Image.Transpose members.
_ORIENTATION_STEPS: dict[int, tuple[str, ...]] = {
    1: (),
    2: ("FLIP_LEFT_RIGHT",),
    3: ("ROTATE_180",),
    4: ("FLIP_TOP_BOTTOM",),
    5: ("TRANSPOSE",),
    6: ("ROTATE_270",),
    7: ("TRANSVERSE",),
    8: ("ROTATE_90",),
}

_VARIANT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclasses.dataclass(frozen=True)
class SizeSpec:
    """A bounding box: ``width`` x ``height``; ``force`` crops to exactly that size."""

    width: int
    height: int
    force: bool = False

    def as_mongoengine(self) -> dict[str, Any]:
        """The dict MongoEngine's ImageField keeps for the same option."""
        return {"width": self.width, "height": self.height, "force": self.force}


@dataclasses.dataclass(frozen=True)
class VariantSpec:
    """One extra rendition of an image: its bounds and, optionally, its own format."""

    name: str
    size: SizeSpec
    format: str | None = None


def _positive(value: object, what: str) -> int:
    if not is_whole_number(value) or value <= 0:
        raise ValueError(f"{what} must be a positive int, not {value!r}")
    return value


def parse_size(value: object, option: str) -> SizeSpec | None:
    """Read a ``(width, height[, force])`` option (or MongoEngine's dict form); None stays None.

    ValueError naming ``option`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, SizeSpec):
        return value
    if isinstance(value, Mapping):
        value = (value.get("width"), value.get("height"), value.get("force"))
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise ValueError(
            f"{option} must be (width, height) or (width, height, force), not {value!r}"
        )
    width = _positive(value[0], f"{option} width")
    height = _positive(value[1], f"{option} height")
    return SizeSpec(width, height, bool(value[2]) if len(value) == 3 else False)


def parse_variants(value: Mapping[str, Any] | None) -> tuple[VariantSpec, ...]:
    """Read ``variants={"name": (width, height[, force[, format]])}``; ValueError when wrong."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ValueError(f"variants must be a mapping of name to size, not {value!r}")
    specs = []
    for name, spec in value.items():
        if not isinstance(name, str) or not _VARIANT_NAME.match(name) or name == THUMBNAIL:
            raise ValueError(
                f"variant name {name!r} must be an identifier other than {THUMBNAIL!r} "
                "(the thumbnail comes from thumbnail_size)"
            )
        fmt = None
        if isinstance(spec, (tuple, list)) and len(spec) == 4:
            fmt = spec[3]
            if not isinstance(fmt, str) or not fmt:
                raise ValueError(f"variants[{name!r}] format must be a str such as 'WEBP'")
            fmt = fmt.upper()
            spec = spec[:3]
        size = parse_size(spec, f"variants[{name!r}]")
        assert size is not None
        specs.append(VariantSpec(name, size, fmt))
    return tuple(specs)


def parse_max_pixels(value: object) -> int | None:
    """Read ``max_pixels``: a positive int, or None for no limit but Pillow's own."""
    if value is None:
        return None
    return _positive(value, "max_pixels")


def pixel_limit(max_pixels: int | None, pillow_limit: int | None) -> int | None:
    """The pixels an image may have: the field's ``max_pixels`` and Pillow's
    ``MAX_IMAGE_PIXELS`` (over which it warns of a decompression bomb), whichever is lower."""
    limits = [n for n in (max_pixels, pillow_limit) if n is not None]
    return min(limits) if limits else None


def check_pixels(size: tuple[int, int], frames: int, limit: int | None, where: str) -> int:
    """The pixels of an image of ``size`` with ``frames`` frames (every frame counts, as
    each may be decoded); ImageTooLarge naming ``where`` when over ``limit``."""
    width, height = size
    pixels = max(1, width) * max(1, height) * max(1, frames)
    if limit is not None and pixels > limit:
        shape = f"{width} x {height} pixels" + (f" x {frames} frames" if frames > 1 else "")
        raise ImageTooLarge(
            f"Image too large for {where}: {shape} is {pixels} pixels, over the limit of"
            f" {limit} (max_pixels); nothing was stored",
            limit=limit,
            pixels=pixels,
        )
    return pixels


def bounded_size(source: tuple[int, int], bound: SizeSpec) -> tuple[int, int]:
    """The size of ``source`` made to fit ``bound``: exactly ``bound`` when forced, else
    shrunk with its aspect kept (never enlarged)."""
    width, height = source
    if bound.force:
        return bound.width, bound.height
    scale = min(bound.width / width, bound.height / height)
    if scale >= 1:
        return width, height
    # Rounded, then clamped: a 1-pixel-wide sliver stays 1 pixel, never 0, never over bound.
    return (
        min(bound.width, max(1, round(width * scale))),
        min(bound.height, max(1, round(height * scale))),
    )


def main_image_size(source: tuple[int, int], bound: SizeSpec | None) -> tuple[int, int] | None:
    """The size to store an image at under ``size=``, or None to store it unchanged.

    As MongoEngine: only an image larger than the bounds in some direction is resized.
    """
    if bound is None:
        return None
    width, height = source
    if width <= bound.width and height <= bound.height:
        return None
    return bounded_size(source, bound)


def centre_crop(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest box of ``source`` (left, top, right, bottom) centred on it, with the
    aspect ratio of ``target``: what is resized to ``target`` when a size is forced."""
    width, height = source
    want_w, want_h = target
    if width * want_h > height * want_w:  # source is wider: trim the sides
        crop_w = max(1, min(width, round(height * want_w / want_h)))
        left = (width - crop_w) // 2
        return left, 0, left + crop_w, height
    crop_h = max(1, min(height, round(width * want_h / want_w)))
    top = (height - crop_h) // 2
    return 0, top, width, top + crop_h


def decode_size(
    source: tuple[int, int], targets: Iterable[tuple[int, int]]
) -> tuple[int, int] | None:
    """The smallest size, with ``source``'s aspect, from which every target can be cut
    (centre-cropped when forced) without enlarging; None when that is the source itself.

    A JPEG decoder can decode straight to a fraction of the full size: asking it for this
    size spares decoding pixels that resizing would throw away.
    """
    width, height = source
    scale = max((max(w / width, h / height) for w, h in targets), default=1.0)
    if scale >= 1:
        return None
    return min(width, math.ceil(width * scale)), min(height, math.ceil(height * scale))


def orientation_steps(orientation: object) -> tuple[str, ...]:
    """The transpositions that make an image with this EXIF orientation upright.

    Missing or unknown values (a camera's garbage included) mean: leave it as it is.
    """
    if is_whole_number(orientation):
        return _ORIENTATION_STEPS.get(orientation, ())
    return ()


def oriented_size(size: tuple[int, int], orientation: object) -> tuple[int, int]:
    """The size of an image once its EXIF orientation is applied (5-8 swap the sides)."""
    steps = orientation_steps(orientation)
    if steps and steps[0] in ("TRANSPOSE", "TRANSVERSE", "ROTATE_90", "ROTATE_270"):
        return size[1], size[0]
    return size


def content_type_for_format(image_format: str | None) -> str | None:
    """The content type of an image format name as Pillow spells it (``"PNG"``), or None."""
    if not image_format:
        return None
    return _FORMATS_CONTENT_TYPES.get(image_format.upper())


def save_mode(mode: str, image_format: str) -> str | None:
    """The mode to convert an image to before saving it in ``image_format``, or None.

    JPEG and the like hold no alpha channel and no palette: such images become RGB
    (greyscale stays greyscale).
    """
    if image_format.upper() not in _NO_ALPHA:
        return None
    if mode in ("RGB", "L", "CMYK", "YCbCr"):
        return None
    if mode in ("LA", "I;16", "I", "F"):
        return "L"
    return "RGB"
