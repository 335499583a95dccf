"""ImageField: a FileField whose files are images, resized and given a thumbnail as MongoEngine's.

The stored layout is MongoEngine's, so each library reads the other's images: the image's files
document has top-level ``width``, ``height``, ``format`` and ``thumbnail_id``; the thumbnail is a
GridFS file of its own with ``width``, ``height`` and ``format``. gridfield adds a content type
to every file it writes and, for named variants, a top-level ``variants`` map of name to id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mongoengine.errors import ValidationError

from .._twins import read_any_file, run_off_loop
from ..core.errors import ImageTooLarge, NoFile
from ..core.files_document import FileInfo
from ..core.guards import UploadLimits
from ..core.images import (
    DEFAULT_MAX_PIXELS,
    THUMBNAIL,
    child_fields,
    child_ids,
    parse_max_pixels,
    parse_size,
    parse_variants,
)
from ..core.imaging import (
    ImageSpec,
    InvalidImage,
    ProcessedImage,
    Rendition,
    identify_image,
    process_image,
)
from ..core.store_defaults import StoreDefaults
from ..core.upload_options import UploadOptions
from .fields import FileField
from .proxy import GridFSProxy

__all__ = ["ImageField", "ImageGridFsProxy"]


class ImageGridFsProxy(GridFSProxy):
    """What ``doc.image`` is: a GridFSProxy whose ``put`` stores an image and its variants.

    ``size`` (width, height), ``format`` (Pillow's name: ``"PNG"``), ``thumbnail`` and
    ``variant(name)`` read the stored file's description (loaded, as any attribute).
    """

    image_spec = ImageSpec()

    # -- what is known about the stored image ---------------------------------------------------

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the stored image; None for an empty field."""
        if self.grid_id is None:
            return None
        extra = self.info.extra
        return extra.get("width"), extra.get("height")  # type: ignore[return-value]

    @property
    def format(self) -> str | None:
        """The stored image's format as Pillow names it (``"JPEG"``, ``"PNG"``...)."""
        if self.grid_id is None:
            return None
        found = self.info.extra.get("format")
        return found if isinstance(found, str) else None

    @property
    def thumbnail(self) -> GridFSProxy | None:
        """The thumbnail's file (a proxy: ``read()``, ``width``, ``content_type``...), or None."""
        return self._related(self._variant_ids().get(THUMBNAIL))

    def variant(self, name: str) -> GridFSProxy | None:
        """A named variant's file (see ``ImageField(variants=...)``), or None."""
        return self._related(self._variant_ids().get(name))

    def _variant_ids(self) -> dict[str, Any]:
        if self.grid_id is None:
            return {}
        return _variant_ids_of(self.info)

    def _related(self, grid_id: Any) -> GridFSProxy | None:
        if grid_id is None:
            return None
        return GridFSProxy(
            grid_id,
            db_alias=self.db_alias,
            collection_name=self.collection_name,
            # The variants are read with the field's keys (they were written with them).
            defaults=StoreDefaults(encryption=self.encryption),
        )

    # -- writing ----------------------------------------------------------------------------------

    def stage(self, data: Any) -> None:
        """Hold an assigned image for the owner's save; bytes that are no image, that are
        over the field's ``max_size`` or whose header gives more than its ``max_pixels``
        are refused now (only their header is read), naming the field, as MongoEngine
        refuses them."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            limits = self._limits()
            if limits is not None:
                limits.check_size(len(data))
            try:
                identify_image(bytes(data), self._where(), self.image_spec.max_pixels)
            except InvalidImage as exc:
                raise _refused(exc, data, self.key) from None
            except ImageTooLarge as exc:
                exc.field_name = self.key
                raise
        super().stage(data)

    def _limits(self) -> UploadLimits | None:
        """The field's upload guards, naming it (None when it has none)."""
        if self.limits is None:
            return None
        return dataclasses.replace(self.limits, label=self._where())

    def write(self, data: Any) -> Any:
        """Images are stored whole: ``put`` them (as MongoEngine's ImageField wants)."""
        raise RuntimeError('Please use "put" method instead')

    def writelines(self, lines: Any) -> Any:
        """Images are stored whole: ``put`` them (as MongoEngine's ImageField wants)."""
        raise RuntimeError('Please use "put" method instead')

    def new_file(self, **kwargs: Any) -> Any:
        """Images are stored whole: ``put`` them."""
        raise RuntimeError('Please use "put" method instead')

    async def _store_file(self, data: Any, options: UploadOptions) -> FileInfo:
        # The content type was checked when the options were made: before the image is read.
        limits = self._limits()
        if options.max_size is not None:
            limits = options.limits_over(limits or UploadLimits(label=self._where()))
        raw = await _image_bytes(data, self._where(), limits)
        progressive = options.extra.get("progressive") is True
        try:
            image = await run_off_loop(_process, raw, self.image_spec, self._where(), progressive)
        except InvalidImage as exc:
            raise _refused(exc, data, self.key) from None
        except ImageTooLarge as exc:
            exc.field_name = self.key
            raise
        stored: list[Any] = []
        try:
            ids = {}
            for name, rendition in image.variants.items():
                info = await self._store_rendition(rendition, options.for_derived_file())
                stored.append(info.file_id)
                ids[name] = info.file_id
            extra = {**child_fields(ids), **options.extra}
            return await self._store_rendition(image.main, options.but(extra=extra))
        except BaseException:
            # No variant of an image that was not stored is left behind.
            for grid_id in stored:
                await self._delete_one(grid_id)
            raise

    async def _store_rendition(self, rendition: Rendition, options: UploadOptions) -> FileInfo:
        """Store one rendition, its size and format as top-level fields (MongoEngine's)."""
        return await self.store.upload(
            rendition.data,
            options.but(
                content_type=options.content_type or rendition.content_type,
                extra={
                    "width": rendition.width,
                    "height": rendition.height,
                    "format": rendition.format,
                    **options.extra,
                },
            ),
        )

    # -- deleting ---------------------------------------------------------------------------------

    def held_file_ids(self) -> list[Any]:
        """The image, and its thumbnail and variants once its description is loaded (the ids
        of those are in it: naming them takes no I/O)."""
        held = super().held_file_ids()
        if held and self._info is not None and self._info.file_id == self.grid_id:
            held.extend(_variant_ids_of(self._info).values())
        return held

    async def _delete_file(self, grid_id: Any) -> None:
        """Delete an image and its thumbnail and variants: the image first, so no image is
        ever left naming a missing thumbnail."""
        try:
            others = list(_variant_ids_of(await self.store.stored_info(grid_id)).values())
        except NoFile:
            others = []
        await self._delete_one(grid_id)
        for other in others:
            await self._delete_one(other)

    async def _delete_one(self, grid_id: Any) -> None:
        try:
            await self.store.delete(grid_id)
        except NoFile:
            pass  # already gone: the outcome asked for


class ImageField(FileField):
    """A GridFS image on a document, as MongoEngine's ImageField (Pillow: the ``image`` extra).

    ``ImageField(size=(w, h, force), thumbnail_size=(w, h, force), collection_name="images",
    variants={"name": (w, h[, force[, format]])}, max_pixels=50_000_000, max_size=None,
    db_alias=..., ...)``. An image larger than ``size`` is resized to fit it (cropped to
    exactly that size with ``force``); the thumbnail and each variant are files of their own,
    deleted and replaced with the image. EXIF orientation is applied. Anything Pillow cannot
    read is refused with a ValidationError naming the field, and nothing is stored.

    Limits, checked before any pixel is decoded: ``max_pixels`` bounds width x height x
    frames as the image's header gives them (ImageTooLarge, a ValidationError; None leaves
    only Pillow's ``MAX_IMAGE_PIXELS``, whose warning is refused as an error too);
    ``max_size`` bounds the bytes read from the source (at most ``max_size + 1`` are read,
    then FileTooLarge) and those of every file stored.
    """

    proxy_class = ImageGridFsProxy

    def __init__(
        self,
        size: Any = None,
        thumbnail_size: Any = None,
        collection_name: str = "images",
        *,
        variants: Mapping[str, Any] | None = None,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        **kwargs: Any,
    ) -> None:
        size_spec = parse_size(size, "size")
        thumbnail_spec = parse_size(thumbnail_size, "thumbnail_size")
        self.image_spec = ImageSpec(
            size_spec, thumbnail_spec, parse_variants(variants), parse_max_pixels(max_pixels)
        )
        self.max_pixels = self.image_spec.max_pixels
        # MongoEngine's ImageField keeps these as dicts; code that reads them keeps working.
        self.size = size_spec.as_mongoengine() if size_spec else None
        self.thumbnail_size = thumbnail_spec.as_mongoengine() if thumbnail_spec else None
        super().__init__(collection_name=collection_name, **kwargs)

    def get_proxy_obj(
        self,
        key: str | None = None,
        instance: Any = None,
        db_alias: str | None = None,
        collection_name: str | None = None,
        grid_id: Any = None,
    ) -> ImageGridFsProxy:
        proxy = super().get_proxy_obj(key, instance, db_alias, collection_name, grid_id)
        assert isinstance(proxy, ImageGridFsProxy)
        proxy.image_spec = self.image_spec
        return proxy


def _variant_ids_of(info: FileInfo) -> dict[str, Any]:
    return child_ids(info.extra)


async def _image_bytes(data: Any, where: str, limits: UploadLimits | None) -> bytes:
    """The bytes of an image handed to ``put``: bytes-like, or a binary file object, read
    whole or, under a ``max_size``, to at most ``max_size + 1`` bytes (FileTooLarge then)."""
    limit = None if limits is None else limits.max_size
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    elif callable(getattr(data, "read", None)):
        raw = await _read_bounded(data, limit, where)
    else:
        raise TypeError(
            f"{where}: an image is given as bytes or a binary file object,"
            f" not {type(data).__name__}"
        )
    if limits is not None:
        limits.check_size(len(raw))
    return raw


async def _read_bounded(file: Any, limit: int | None, where: str) -> bytes:
    """All of ``file``, or its first ``limit + 1`` bytes: one byte past the limit is enough
    to refuse it, and nothing more is read (a file object may return less than asked)."""
    pieces: list[bytes] = []
    total = 0
    while limit is None or total <= limit:
        block = await read_any_file(file, -1 if limit is None else limit + 1 - total)
        if not isinstance(block, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"{where}: an image is given as bytes or a binary file object, whose read()"
                f" returns bytes, not {type(block).__name__}"
            )
        if not block:
            break
        pieces.append(bytes(block))
        total += len(block)
        if limit is None:
            break
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _refused(exc: InvalidImage, data: Any, key: str | None) -> ValidationError:
    """MongoEngine's refusal, word for word (``Invalid image: <Pillow's reason>``), naming the
    field in ``field_name``. Pillow read a copy of the bytes: its reason names the caller's
    file object instead, as it would have had it read that object itself."""
    reason = exc.reason
    if exc.unidentified:
        shown = repr(data) if hasattr(data, "read") else f"({memoryview(data).nbytes} bytes)"
        reason = f"cannot identify image file {shown}"
    return ValidationError(f"Invalid image: {reason}", field_name=key)


def _process(data: bytes, spec: ImageSpec, where: str, progressive: bool) -> ProcessedImage:
    return process_image(data, spec, where=where, progressive=progressive)
