"""The stages of one upload stream and the transitions between them, sans I/O.

An upload is open (nothing written yet), writing, closing (its last chunk and files document
going in), and ends closed (the file is stored, or a stored copy of the same bytes is the
answer) or aborted (what it wrote is removed). One table says which event may happen in which
stage and where it leads; an event its stage does not allow raises ``WrongStage`` naming
both, and changes nothing.
"""

from __future__ import annotations

import enum
from typing import Any

from .errors import WrongStage

__all__ = ["UploadEvent", "UploadStage", "UploadStages"]


class UploadStage(enum.Enum):
    """Where one upload stream is."""

    OPEN = "open"
    WRITING = "writing"
    CLOSING = "closing"
    CLOSED = "closed"
    ABORTED = "aborted"


class UploadEvent(enum.Enum):
    """What can happen to an upload stream."""

    WRITE = "write"  # bytes join the upload
    FLUSH = "flush"
    CLOSE = "close"  # close() begins (on a closed upload: answers its file again)
    FINISH = "finish"  # the files document is in, or a stored copy is the answer
    FOUND = "take a stored copy"  # before any byte: the declared bytes are stored already
    ABORT = "abort"  # on a closed or aborted upload: nothing to do


_S, _E = UploadStage, UploadEvent
_WRITABLE = (_S.OPEN, _S.WRITING)
# The one transition table.
_TRANSITIONS: dict[tuple[UploadStage, UploadEvent], UploadStage] = {
    **{(stage, _E.WRITE): _S.WRITING for stage in _WRITABLE},
    **{(stage, _E.FLUSH): stage for stage in _WRITABLE},
    **{(stage, _E.CLOSE): _S.CLOSING for stage in _WRITABLE},
    **{(stage, _E.FOUND): _S.CLOSED for stage in _WRITABLE},
    **{(stage, _E.ABORT): _S.ABORTED for stage in (*_WRITABLE, _S.CLOSING)},
    (_S.CLOSING, _E.FINISH): _S.CLOSED,
    (_S.CLOSED, _E.CLOSE): _S.CLOSED,
    (_S.CLOSED, _E.ABORT): _S.CLOSED,
    (_S.ABORTED, _E.ABORT): _S.ABORTED,
}
_ENDED = frozenset({_S.CLOSED, _S.ABORTED})


class UploadStages:
    """The stage of the upload of file ``file_id`` (named in refusals), moved by events."""

    __slots__ = ("file_id", "stage")

    def __init__(self, file_id: Any) -> None:
        self.file_id = file_id
        self.stage = UploadStage.OPEN

    def __repr__(self) -> str:
        return f"<{type(self).__name__} file_id={self.file_id!r} {self.stage.value}>"

    @property
    def ended(self) -> bool:
        """Whether the upload is closed or aborted (``closed``, as a file object says it)."""
        return self.stage in _ENDED

    def check(self, event: UploadEvent) -> UploadStage:
        """The stage ``event`` leads to from this one; WrongStage, naming both, when this
        stage does not allow it. Changes nothing."""
        try:
            return _TRANSITIONS[self.stage, event]
        except KeyError:
            raise WrongStage(
                f"upload of file {self.file_id!r} is {self.stage.value}: it cannot {event.value}",
                stage=self.stage.value,
                event=event.value,
            ) from None

    def move(self, event: UploadEvent) -> UploadStage:
        """Move on by ``event`` (WrongStage when this stage does not allow it)."""
        self.stage = self.check(event)
        return self.stage
