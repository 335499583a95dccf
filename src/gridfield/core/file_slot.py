"""What a FileField value holds across assign, save, replace and delete: a sans-I/O slot.

The slot knows which stored file the field names, the data assigned to it for the owner's
next save, the file stored for a save still under way, the file an assignment replaces and
the files a replace() left to delete once the owner is saved. Its transitions do no I/O:
each returns the ids of the files to delete, and the proxy does the deleting (and the
storing) the slot asks for.

Where the slot is, is one ``SlotStage``; what can happen to it, a ``SlotEvent``; one table
says which event may happen in which stage and where it leads. An event its stage does not
allow raises ``WrongStage`` naming both, and changes nothing: the proxy asks ``check()``
before any I/O whose outcome the slot would then refuse.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from .errors import WrongStage

__all__ = ["FileSlot", "SlotEvent", "SlotStage", "Staged"]


class SlotStage(enum.Enum):
    """Where one field value is: empty, holding a stored file, holding data assigned for the
    owner's next save, or holding that data's file stored for a save under way."""

    EMPTY = "empty"
    HOLDING = "holding"
    ASSIGNED = "assigned"
    SAVING = "saving"


class SlotEvent(enum.Enum):
    """What can happen to a field value."""

    HOLD = "hold a file"  # a put, a finished new_file, an id given
    LET_GO = "let go of its file"  # given no id: the file stays, unnamed by this value
    REPLACE = "replace its file"
    DELETE = "delete its file"
    TAKE_PLACE = "take the place of another value"
    ASSIGN = "take assigned data"
    UNASSIGN = "give up assigned data"
    STORE = "store assigned data"
    SAVE_FAILED = "undo a failed save"
    SAVED = "end a save"
    DROP = "strike off a deleted file"
    OWNER_DELETED = "go with its deleted owner"


_S, _E = SlotStage, SlotEvent
# Events that leave any stage as it is: bookkeeping of the files to delete.
_ANYWHERE = (_E.DROP, _E.OWNER_DELETED, _E.SAVE_FAILED)
# The one transition table. None: EMPTY or HOLDING, as the slot names a file or not once
# the event is done (giving up assigned data goes back to what the value held before).
_TRANSITIONS: dict[tuple[SlotStage, SlotEvent], SlotStage | None] = {
    **{(stage, event): stage for stage in SlotStage for event in _ANYWHERE},
    (_S.EMPTY, _E.HOLD): _S.HOLDING,
    (_S.EMPTY, _E.LET_GO): _S.EMPTY,
    (_S.EMPTY, _E.REPLACE): _S.HOLDING,
    (_S.EMPTY, _E.TAKE_PLACE): _S.EMPTY,
    (_S.EMPTY, _E.ASSIGN): _S.ASSIGNED,
    (_S.EMPTY, _E.SAVED): _S.EMPTY,
    (_S.HOLDING, _E.HOLD): _S.HOLDING,
    (_S.HOLDING, _E.LET_GO): _S.EMPTY,
    (_S.HOLDING, _E.REPLACE): _S.HOLDING,
    (_S.HOLDING, _E.DELETE): _S.EMPTY,
    (_S.HOLDING, _E.ASSIGN): _S.ASSIGNED,
    (_S.HOLDING, _E.SAVED): _S.HOLDING,
    (_S.ASSIGNED, _E.ASSIGN): _S.ASSIGNED,
    (_S.ASSIGNED, _E.UNASSIGN): None,
    (_S.ASSIGNED, _E.STORE): _S.SAVING,
    (_S.SAVING, _E.SAVE_FAILED): _S.ASSIGNED,
    (_S.SAVING, _E.SAVED): _S.HOLDING,
}
# What each stage means, for the refusals.
_MEANING = {
    _S.EMPTY: "it holds no file",
    _S.HOLDING: "it holds a stored file",
    _S.ASSIGNED: "it holds assigned data, stored at its document's next save",
    _S.SAVING: "it holds assigned data stored for its document's save under way",
}


@dataclasses.dataclass(frozen=True)
class Staged:
    """Data assigned to a field (``doc.photo = data``), to be stored at the owner's save.

    ``start`` is where a seekable file object was, so that a failed save can be retried from
    there; ``replaced_before`` what the slot was to replace before this assignment.
    """

    data: Any
    start: int | None = None
    replaced_before: Any = None


class FileSlot:
    """The state of one FileField value. Ids are the stored files' ``_id`` values.

    ``stage``: where the value is (``SlotStage``). ``grid_id``: the file the field names now
    (what the owning document stores). ``staged``: data assigned and not yet stored.
    ``stored_for_save``: the file stored from it for a save that has not ended. ``replaced``:
    the file the field named before an assignment, deleted once the owner is saved with the
    new one. ``stale``: files a replace() let go of, deleted once the owner is saved (they
    stay listed until deleted).
    """

    __slots__ = ("grid_id", "replaced", "stage", "staged", "stale", "stored_for_save")

    def __init__(self, grid_id: Any = None) -> None:
        self.grid_id = grid_id
        self.stage = SlotStage.EMPTY if grid_id is None else SlotStage.HOLDING
        self.staged: Staged | None = None
        self.stored_for_save: Any = None
        self.replaced: Any = None
        self.stale: list[Any] = []

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.stage.value} grid_id={self.grid_id!r}"
            f" staged={self.staged is not None} stored_for_save={self.stored_for_save!r}"
            f" replaced={self.replaced!r} stale={self.stale!r}>"
        )

    def __bool__(self) -> bool:
        """Whether the field holds a file or data to store."""
        return self.stage is not SlotStage.EMPTY

    # -- the stages ---------------------------------------------------------------------------

    def check(self, event: SlotEvent) -> SlotStage | None:
        """The stage ``event`` leads to from this one (None: EMPTY or HOLDING, as the slot
        will name a file or not); WrongStage, naming both, when this stage does not allow it.
        Changes nothing: the proxy asks before I/O whose outcome the slot would refuse."""
        try:
            return _TRANSITIONS[self.stage, event]
        except KeyError:
            raise WrongStage(
                f"a field value in stage {self.stage.value!r} ({_MEANING[self.stage]})"
                f" cannot {event.value}",
                stage=self.stage.value,
                event=event.value,
            ) from None

    def _settle(self, after: SlotStage | None) -> None:
        if after is None:
            after = SlotStage.EMPTY if self.grid_id is None else SlotStage.HOLDING
        self.stage = after

    def copy(self) -> FileSlot:
        """The same value, without the files this one is to delete after the next save."""
        twin = FileSlot(self.grid_id)
        twin.stage = self.stage
        twin.staged = self.staged
        twin.stored_for_save = self.stored_for_save
        twin.replaced = self.replaced
        return twin

    def held_file_ids(self) -> list[Any]:
        """The stored file the field names (none for an empty field or staged data)."""
        return [] if self.grid_id is None else [self.grid_id]

    # -- the file the field names ------------------------------------------------------------

    def hold(self, grid_id: Any) -> None:
        """The field names ``grid_id`` now (a put, a finished new_file, an id given); None:
        it names no file (the one it named stays stored)."""
        after = self.check(SlotEvent.HOLD if grid_id is not None else SlotEvent.LET_GO)
        self.grid_id = grid_id
        self._settle(after)

    def replace_with(self, grid_id: Any) -> None:
        """A replace() stored ``grid_id``: the file held so far goes once the owner is saved."""
        after = self.check(SlotEvent.REPLACE)
        old, self.grid_id = self.grid_id, grid_id
        if old is not None and old != grid_id and old not in self.stale:
            self.stale.append(old)
        self._settle(after)

    def emptied(self) -> None:
        """The held file was deleted: the field is empty."""
        after = self.check(SlotEvent.DELETE)
        self.grid_id = None
        self._settle(after)

    def owner_deleted(self) -> tuple[Any, ...]:
        """The owner is deleted: the held file is to go with it (if the field says so)."""
        self.check(SlotEvent.OWNER_DELETED)
        return () if self.grid_id is None else (self.grid_id,)

    # -- assignment, stored at the owner's save -----------------------------------------------

    def take_place_of(self, previous: FileSlot) -> None:
        """Become the value after ``previous``: its pending deletions are this one's now, and
        the file it named (or was to replace, or stored for a save under way) goes once this
        value is saved."""
        after = self.check(SlotEvent.TAKE_PLACE)
        assigned = previous.stage in (SlotStage.ASSIGNED, SlotStage.SAVING)
        self.replaced = previous.replaced if assigned else previous.grid_id
        # A file the previous value was to replace once saved, and the one it stored for a
        # save this assignment overtook, are to go as well.
        for other in (*previous.stale, previous.replaced, previous.stored_for_save):
            if other is not None and other != self.replaced and other not in self.stale:
                self.stale.append(other)
        self._settle(after)

    def assign(self, data: Any, start: int | None = None) -> None:
        """Hold ``data`` for the owner's next save; the file named so far is replaced then."""
        after = self.check(SlotEvent.ASSIGN)
        before = self.replaced
        if self.grid_id is not None:
            # The file named now is replaced at the save; one it was itself to replace
            # (a received file's predecessor) goes then too.
            old = self.replaced
            if old is not None and old != self.grid_id and old not in self.stale:
                self.stale.append(old)
            self.replaced = self.grid_id
        self.staged = Staged(data, start, before)
        self.grid_id = None
        self._settle(after)

    def unassign(self) -> None:
        """Give up the assigned data (its store failed at once): back to what was held."""
        after = self.check(SlotEvent.UNASSIGN)
        staged, self.staged = self.staged, None
        assert staged is not None  # the ASSIGNED stage holds it
        self.grid_id = self.replaced
        self.replaced = staged.replaced_before
        self._settle(after)

    def wants_storing(self) -> bool:
        """Whether the owner's save must store the assigned data first."""
        return self.stage is SlotStage.ASSIGNED

    def stored(self, grid_id: Any) -> None:
        """The assigned data is stored as ``grid_id`` for the save under way."""
        after = self.check(SlotEvent.STORE)
        self.stored_for_save = grid_id
        self.grid_id = grid_id
        self._settle(after)

    def save_failed(self) -> tuple[Any, ...]:
        """The owner's save failed: the file stored for it goes, the assigned data stays for
        the next save and the field names what it named before."""
        after = self.check(SlotEvent.SAVE_FAILED)
        stored, self.stored_for_save = self.stored_for_save, None
        doomed: tuple[Any, ...] = ()
        if self.stage is SlotStage.SAVING:
            self.grid_id = self.replaced
            doomed = (stored,)
        self._settle(after)
        return doomed

    def saved(self) -> tuple[Any, ...]:
        """The owner is saved: what was stored for it is the field's file; the replaced and
        stale files are to go (each stays listed until ``dropped``)."""
        after = self.check(SlotEvent.SAVED)
        self.staged = None
        self.stored_for_save = None
        replaced, self.replaced = self.replaced, None
        if replaced is not None and replaced not in self.stale:
            self.stale.append(replaced)
        self.stale = [grid_id for grid_id in self.stale if grid_id != self.grid_id]
        self._settle(after)
        return tuple(self.stale)

    def dropped(self, grid_id: Any) -> None:
        """A stale file is deleted (or found gone): it is no longer pending."""
        self.check(SlotEvent.DROP)
        self.stale = [other for other in self.stale if other != grid_id]
