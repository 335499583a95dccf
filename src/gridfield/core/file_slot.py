"""What a FileField value holds across assign, save, replace and delete: a sans-I/O slot.

The slot knows which stored file the field names, the data assigned to it for the owner's
next save, the file stored for a save still under way, the file an assignment replaces and
the files a replace() left to delete once the owner is saved. Its transitions do no I/O:
each returns the ids of the files to delete, and the proxy does the deleting (and the
storing) the slot asks for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["FileSlot", "Staged"]


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

    ``grid_id``: the file the field names now (what the owning document stores).
    ``staged``: data assigned and not yet stored. ``stored_for_save``: the file stored from it
    for a save that has not ended. ``replaced``: the file the field named before an
    assignment, deleted once the owner is saved with the new one. ``stale``: files a replace()
    let go of, deleted once the owner is saved (they stay listed until deleted).
    """

    __slots__ = ("grid_id", "replaced", "staged", "stale", "stored_for_save")

    def __init__(self, grid_id: Any = None) -> None:
        self.grid_id = grid_id
        self.staged: Staged | None = None
        self.stored_for_save: Any = None
        self.replaced: Any = None
        self.stale: list[Any] = []

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} grid_id={self.grid_id!r} staged={self.staged is not None}"
            f" stored_for_save={self.stored_for_save!r} replaced={self.replaced!r}"
            f" stale={self.stale!r}>"
        )

    def __bool__(self) -> bool:
        """Whether the field holds a file or data to store."""
        return self.grid_id is not None or self.staged is not None

    def copy(self) -> FileSlot:
        """The same value, without the files this one is to delete after the next save."""
        twin = FileSlot(self.grid_id)
        twin.staged = self.staged
        twin.stored_for_save = self.stored_for_save
        twin.replaced = self.replaced
        return twin

    def held_file_ids(self) -> list[Any]:
        """The stored file the field names (none for an empty field or staged data)."""
        return [] if self.grid_id is None else [self.grid_id]

    # -- the file the field names ------------------------------------------------------------

    def hold(self, grid_id: Any) -> None:
        """The field names ``grid_id`` now (a put, a finished new_file, an id given)."""
        self.grid_id = grid_id

    def replace_with(self, grid_id: Any) -> None:
        """A replace() stored ``grid_id``: the file held so far goes once the owner is saved."""
        old, self.grid_id = self.grid_id, grid_id
        if old is not None and old != grid_id and old not in self.stale:
            self.stale.append(old)

    def emptied(self) -> None:
        """The held file was deleted: the field is empty."""
        self.grid_id = None

    def owner_deleted(self) -> tuple[Any, ...]:
        """The owner is deleted: the held file is to go with it (if the field says so)."""
        return () if self.grid_id is None else (self.grid_id,)

    # -- assignment, stored at the owner's save -----------------------------------------------

    def take_place_of(self, previous: FileSlot) -> None:
        """Become the value after ``previous``: its pending deletions are this one's now, and
        the file it named (or was to replace, or stored for a save under way) goes once this
        value is saved."""
        self.stale = list(previous.stale)
        self.replaced = previous.replaced if previous.staged is not None else previous.grid_id
        overtaken = previous.stored_for_save
        if overtaken is not None and overtaken != self.replaced and overtaken not in self.stale:
            self.stale.append(overtaken)  # stored for a save this assignment overtook

    def stage(self, data: Any, start: int | None = None) -> None:
        """Hold ``data`` for the owner's next save; the file named so far is replaced then."""
        before = self.replaced
        if self.replaced is None:
            self.replaced = self.grid_id
        self.staged = Staged(data, start, before)
        self.grid_id = None

    def unstage(self) -> None:
        """Give up the staged data (its store failed at once): back to what was held."""
        staged, self.staged = self.staged, None
        if staged is not None:
            self.grid_id = self.replaced
            self.replaced = staged.replaced_before

    def wants_storing(self) -> bool:
        """Whether the owner's save must store the staged data first."""
        return self.staged is not None and self.stored_for_save is None

    def stored(self, grid_id: Any) -> None:
        """The staged data is stored as ``grid_id`` for the save under way."""
        if self.staged is None:
            raise ValueError("no staged data was stored")
        self.stored_for_save = grid_id
        self.grid_id = grid_id

    def save_failed(self) -> tuple[Any, ...]:
        """The owner's save failed: the file stored for it goes, the staged data stays for the
        next save and the field names what it named before."""
        stored, self.stored_for_save = self.stored_for_save, None
        if stored is None or self.staged is None:
            return ()
        self.grid_id = self.replaced
        return (stored,)

    def saved(self) -> tuple[Any, ...]:
        """The owner is saved: what was stored for it is the field's file; the replaced and
        stale files are to go (each stays listed until ``dropped``)."""
        self.staged = None
        self.stored_for_save = None
        replaced, self.replaced = self.replaced, None
        if replaced is not None and replaced not in self.stale:
            self.stale.append(replaced)
        self.stale = [grid_id for grid_id in self.stale if grid_id != self.grid_id]
        return tuple(self.stale)

    def dropped(self, grid_id: Any) -> None:
        """A stale file is deleted (or found gone): it is no longer pending."""
        self.stale = [other for other in self.stale if other != grid_id]
