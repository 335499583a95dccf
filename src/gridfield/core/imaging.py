"""The Pillow work of ImageField: decode, turn upright, resize, render every variant.

Plain functions on bytes, no I/O and no twin: the async proxy runs them off the event loop,
the sync proxy where it stands. The sizes come from :mod:`gridfield.core.images`. Pillow is
the ``image`` extra, imported when an image is first processed.
"""

from __future__ import annotations

import dataclasses
import io
from typing import TYPE_CHECKING, Any

from .errors import ImageTooLarge
from .images import (
    DEFAULT_MAX_PIXELS,
    THUMBNAIL,
    SizeSpec,
    VariantSpec,
    bounded_size,
    centre_crop,
    check_pixels,
    content_type_for_format,
    decode_size,
    main_image_size,
    orientation_steps,
    oriented_size,
    pixel_limit,
    save_mode,
)

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "ImageSpec",
    "ImageTooLarge",
    "InvalidImage",
    "ProcessedImage",
    "Rendition",
    "identify_image",
    "process_image",
]

# EXIF tag of the orientation.
_ORIENTATION = 0x0112


class InvalidImage(ValueError):
    """The bytes given to an ImageField are not an image Pillow can read."""

    @property
    def reason(self) -> str:
        """Pillow's own words for what is wrong (the text MongoEngine's message carries)."""
        return str(self.__cause__) if self.__cause__ is not None else str(self)

    @property
    def unidentified(self) -> bool:
        """Whether Pillow recognised no image format at all in the bytes."""
        return isinstance(self.__cause__, _pillow().UnidentifiedImageError)


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """What an ImageField asks of each image it stores; ``max_pixels`` bounds width x
    height x frames (None: only Pillow's own ``MAX_IMAGE_PIXELS``)."""

    size: SizeSpec | None = None
    thumbnail_size: SizeSpec | None = None
    variants: tuple[VariantSpec, ...] = ()
    max_pixels: int | None = DEFAULT_MAX_PIXELS

    def renditions(self) -> tuple[VariantSpec, ...]:
        """The thumbnail (if any) then the named variants: every file made besides the image."""
        thumb = (
            () if self.thumbnail_size is None else (VariantSpec(THUMBNAIL, self.thumbnail_size),)
        )
        return thumb + self.variants


@dataclasses.dataclass(frozen=True)
class Rendition:
    """One encoded image, ready to store."""

    data: bytes
    width: int
    height: int
    format: str
    content_type: str | None


@dataclasses.dataclass(frozen=True)
class ProcessedImage:
    """The image to store and its variants, by name (``"thumbnail"`` among them)."""

    main: Rendition
    variants: dict[str, Rendition]


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        raise ImportError("ImageField needs Pillow: pip install 'gridfield[image]'") from exc
    return Image


def _upright(img: Image) -> Image:
    """The image with its EXIF orientation applied, and the tag dropped so no viewer turns it
    a second time (the same image when there is nothing to turn)."""
    Image = _pillow()
    exif = img.getexif()
    steps = orientation_steps(exif.get(_ORIENTATION))
    if not steps:
        return img
    for step in steps:
        img = img.transpose(Image.Transpose[step])
    del exif[_ORIENTATION]
    img.info["exif"] = exif.tobytes()
    return img


def _fit(img: Image, bound: SizeSpec, target: tuple[int, int]) -> Image:
    Image = _pillow()
    box = centre_crop(img.size, target) if bound.force else None
    # reducing_gap lets Pillow shrink in cheap integer steps before the fine resample.
    return img.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _encode(img: Image, image_format: str, progressive: bool) -> Rendition:
    mode = save_mode(img.mode, image_format)
    if mode is not None:
        img = img.convert(mode)
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if image_format == "JPEG":
        options["progressive"] = progressive
        options["quality"] = 90
    if "exif" in img.info and image_format in ("JPEG", "WEBP", "PNG", "TIFF"):
        options["exif"] = img.info["exif"]
    img.save(out, image_format, **options)
    width, height = img.size
    return Rendition(
        out.getvalue(), width, height, image_format, content_type_for_format(image_format)
    )


def _bomb(exc: Exception, limit: int | None, where: str) -> ImageTooLarge:
    """Pillow's own refusal of a header (its DecompressionBombError, or its warning where
    warnings are errors) as ours."""
    Image = _pillow()
    shown = limit if limit is not None else Image.MAX_IMAGE_PIXELS
    return ImageTooLarge(
        f"Image too large for {where}: over the limit of {shown} pixels (max_pixels);"
        f" nothing was stored ({exc})",
        limit=shown,
        pixels=None,
    )


def _open(data: bytes, max_pixels: int | None, where: str) -> Image:
    """The image in ``data``, its header read and no pixel decoded, once its pixels (every
    frame's) are within the limit: ImageTooLarge when not, InvalidImage when Pillow does
    not recognise it."""
    pil = _pillow()
    bombs = (pil.DecompressionBombError, pil.DecompressionBombWarning)
    # Whatever Pillow would warn of is refused too: the warning is no limit.
    limit = pixel_limit(max_pixels, pil.MAX_IMAGE_PIXELS)
    try:
        img: Image = pil.open(io.BytesIO(data))
        # Frames are counted from their headers (GIF and TIFF skip from one to the next).
        frames = getattr(img, "n_frames", 1)
    except bombs as exc:
        raise _bomb(exc, limit, where) from None
    except Exception as exc:
        raise InvalidImage(f"Invalid image for {where}: {exc}") from exc
    try:
        check_pixels(img.size, frames if isinstance(frames, int) else 1, limit, where)
    except ImageTooLarge:
        img.close()
        raise
    return img


def identify_image(data: bytes, where: str, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> str:
    """The format of the image in ``data``, from its header alone (cheap: no pixel is
    decoded); InvalidImage naming ``where`` when Pillow does not recognise it,
    ImageTooLarge when it has more than ``max_pixels`` pixels."""
    with _open(data, max_pixels, where) as img:
        return str(img.format or "")


def process_image(
    data: bytes, spec: ImageSpec, *, where: str, progressive: bool = False
) -> ProcessedImage:
    """Decode ``data``, make it upright, bound it by ``spec.size`` and render its variants.

    The variants are made from the stored image, as MongoEngine makes its thumbnail. An image
    that needs no change is stored as given (no lossy re-encoding); a JPEG is decoded straight
    to the smallest size the results need. InvalidImage (naming ``where``, the field) when
    Pillow cannot read the bytes; ImageTooLarge, before any pixel is decoded, when the header
    says the image has more than ``spec.max_pixels`` pixels (width x height x frames).

    Only the first frame is decoded. Memory: the source, plus at most about 12 bytes a
    pixel of the limit (the decoded frame at 4 bytes a pixel, its upright copy, its
    encoding), plus a constant.
    """
    Image = _pillow()
    img = _open(data, spec.max_pixels, where)
    try:
        orientation = img.getexif().get(_ORIENTATION)
    except Exception as exc:
        raise InvalidImage(f"Invalid image for {where}: {exc}") from exc
    image_format = img.format or "PNG"
    stored_size = img.size
    size = oriented_size(stored_size, orientation)
    main_target = main_image_size(size, spec.size)
    unchanged = main_target is None and not orientation_steps(orientation) and not progressive
    main_size = main_target or size
    variant_sizes = {v.name: bounded_size(main_size, v.size) for v in spec.renditions()}
    if main_target is not None:
        wanted = decode_size(size, [main_target])
    elif unchanged:
        wanted = decode_size(size, variant_sizes.values())
    else:
        wanted = None  # the whole image is stored anew
    if wanted is not None and image_format == "JPEG":
        img.draft(None, oriented_size(wanted, orientation))
    try:
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, pixel_limit(spec.max_pixels, Image.MAX_IMAGE_PIXELS), where) from None
    except Exception as exc:
        raise InvalidImage(f"Invalid image for {where}: {exc}") from exc
    img = _upright(img)
    if main_target is not None and spec.size is not None:
        img = _fit(img, spec.size, main_target)
    variants = {}
    for variant in spec.renditions():
        target = variant_sizes[variant.name]
        small = img if target == img.size else _fit(img, variant.size, target)
        variants[variant.name] = _encode(small, variant.format or image_format, progressive)
    if unchanged:
        main = Rendition(data, *size, image_format, content_type_for_format(image_format))
    else:
        main = _encode(img, image_format, progressive)
    return ProcessedImage(main, variants)
