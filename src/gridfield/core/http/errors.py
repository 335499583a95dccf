"""The answer every adapter's ready error handlers give to a gridfield error raised in a
route: a refused upload or a missing field (413, 415, 400), a file that is not there (404)
or has expired (410), and a damaged file (500, telling the client nothing more)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import CorruptFile, FileExpired, NoFile
from .intake import INTAKE_ERRORS, error_status

__all__ = ["ANSWERED_ERRORS", "FILE_ERRORS", "ErrorAnswer", "error_answer"]

FILE_ERRORS: tuple[type[BaseException], ...] = (NoFile, CorruptFile)
"""The errors reading a stored file raises that a route can answer (FileExpired is a NoFile)."""

ANSWERED_ERRORS: tuple[type[BaseException], ...] = INTAKE_ERRORS + FILE_ERRORS
"""Every error the ready handlers answer."""

_LOG = logging.getLogger("gridfield.web")


@dataclass(frozen=True)
class ErrorAnswer:
    """A status and its plain-text body."""

    status: int
    text: str


def error_answer(error: BaseException) -> ErrorAnswer | None:
    """The answer to ``error``, or None when it is not one of ``ANSWERED_ERRORS``.

    A refusal's message is the client's to read; a missing file is 404 and an expired one
    410 (Gone: it will not come back), neither naming the bucket; a CorruptFile is a bare
    500, its details logged (``gridfield.web``) for the app's operators, not sent.
    """
    status = error_status(error)
    if status is not None:
        return ErrorAnswer(status, f"{error}\n")
    if isinstance(error, FileExpired):
        return ErrorAnswer(410, "Gone: the file has expired\n")
    if isinstance(error, NoFile):
        return ErrorAnswer(404, "Not Found: no such file\n")
    if isinstance(error, CorruptFile):
        _LOG.error("a stored file is damaged: %s", error, exc_info=error)
        return ErrorAnswer(500, "Internal Server Error\n")
    return None
