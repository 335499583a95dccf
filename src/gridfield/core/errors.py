"""The error types of gridfield's file store: MongoEngine's GridFSError stays the base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gridfs.errors

if TYPE_CHECKING:
    # MongoEngine ships no type information; to the type checker its GridFSError is a
    # plain Exception subclass, which is exactly what it is at run time.
    class GridFSError(Exception):
        """Base of every file store error (MongoEngine's own class at run time)."""

    class ValidationError(AssertionError):
        """MongoEngine's ValidationError (its own class at run time)."""

        field_name: str | None

        def __init__(self, message: str = "", **kwargs: Any) -> None: ...

else:
    from mongoengine.errors import ValidationError
    from mongoengine.fields import GridFSError

__all__ = [
    "ContentTypeRefused",
    "CorruptFile",
    "FileExists",
    "FileExpired",
    "FileNotLoaded",
    "FileTooLarge",
    "FormTooLarge",
    "GridFSError",
    "ImageTooLarge",
    "MalformedBody",
    "MissingField",
    "NoFile",
    "WrongStage",
    "add_note",
]


class NoFile(GridFSError, gridfs.errors.NoFile):
    """No files document has the requested id.

    Also an instance of PyMongo's ``gridfs.errors.NoFile``, so code written
    against PyMongo's gridfs catches it unchanged.
    """


class FileExpired(NoFile):
    """The file asked for has expired (it may not be removed yet): a ``NoFile`` all the same,
    so what catches NoFile catches it; ``expire_at`` holds the moment."""

    def __init__(self, message: str, *, expire_at: Any = None) -> None:
        super().__init__(message)
        self.expire_at = expire_at


class CorruptFile(GridFSError, gridfs.errors.CorruptGridFile):
    """A stored file is damaged: a chunk is missing, extra, duplicated or of the
    wrong size, its files document is malformed, or its checksum does not match."""


class FileExists(GridFSError, gridfs.errors.FileExists):
    """A file with the requested id already exists (or already has chunks)."""


class FileNotLoaded(GridFSError):
    """A stored file's attributes were asked for before anything awaited had loaded them.

    The message says what to await (``load()`` or ``read()``) on which field.
    """


class FileTooLarge(GridFSError, ValueError):
    """An upload went over its ``max_size``; what it had sent is removed.

    The message names the field (or store), the limit and the bytes seen; ``limit`` and
    ``seen`` hold the numbers.
    """

    def __init__(self, message: str, *, limit: int, seen: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.seen = seen


class ContentTypeRefused(GridFSError, ValueError):
    """An upload's content type (given, guessed from its name or sniffed from its first
    bytes) is not one of the allowed ``content_types``; nothing was sent."""


class FormTooLarge(GridFSError, ValueError):
    """A form sent over HTTP went over one of its limits (parts, a field's size, all
    fields' bytes, a part's headers); parsing stopped there and what it stored is removed.

    ``limit`` and ``seen`` hold the numbers the message names.
    """

    def __init__(self, message: str, *, limit: int, seen: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.seen = seen


class MalformedBody(GridFSError, ValueError):
    """A request body that is not what it claims: a multipart body without a boundary, one
    that breaks its syntax or ends before its closing boundary, a bad ``Content-Length``.
    Nothing of it stays stored."""


class MissingField(GridFSError, KeyError):
    """A form a request brought lacks a field or a file the app asked for by name
    (``received.form["name"]``, ``received.file("photo")``): the client's doing, answered
    400 by the ready error handlers. A ``KeyError`` too, as a dict's missing key is; its
    message names what was missing and what came."""

    def __str__(self) -> str:
        # KeyError's own str() quotes its argument as a repr: the message reads as written.
        return str(self.args[0]) if self.args else ""


class WrongStage(GridFSError, ValueError):
    """Something was asked of a field value or an upload in a stage that does not allow it
    (writing to an upload already closed, replacing a field value whose assigned data is not
    saved yet...); nothing was changed. ``stage`` and ``event`` name the two (the values of
    the stage and event enums of ``gridfield.core.file_slot`` or
    ``gridfield.core.upload_stage``); a ``ValueError`` too, as Python's own files refuse an
    operation on a closed file."""

    def __init__(self, message: str, *, stage: str, event: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.event = event


class ImageTooLarge(ValidationError):
    """An image given to an ImageField has more pixels than the field's ``max_pixels``
    (width x height x frames, read from its header before any pixel is decoded), or than
    Pillow's own ``MAX_IMAGE_PIXELS``; nothing was stored.

    A MongoEngine ValidationError, as every refusal of an ImageField: ``field_name`` names
    the field, ``limit`` and ``pixels`` hold the numbers (``pixels`` None when Pillow
    refused the header before its size could be read).
    """

    def __init__(
        self, message: str, *, limit: int, pixels: int | None, field_name: str | None = None
    ) -> None:
        super().__init__(message, field_name=field_name)
        self.limit = limit
        self.pixels = pixels


def add_note(error: BaseException, text: str) -> None:
    """Note ``text`` on ``error`` (shown under its traceback): how a clean-up that failed
    after ``error`` is told without hiding ``error`` itself. Python 3.10 has no notes."""
    adding = getattr(error, "add_note", None)
    if adding is not None:
        adding(text)
