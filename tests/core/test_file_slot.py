"""What a field value holds: the slot's transitions, against a model of which files must go."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gridfield.core.file_slot import FileSlot


class SlotMachine(RuleBasedStateMachine):
    """Random sequences of what a proxy and its owner do. The files "on the server" are a
    set: a file stored is added, a file the slot names for deletion is removed. No file may
    be lost (one the field names is never deleted) and none forgotten (every other stored
    file is still held, replaced, stale or pending a failed save's removal)."""

    def __init__(self) -> None:
        super().__init__()
        self.slot = FileSlot()
        self.server: set[int] = set()
        self.ids = itertools.count(1)

    def _new(self) -> int:
        grid_id = next(self.ids)
        self.server.add(grid_id)
        return grid_id

    def _delete(self, doomed: tuple[Any, ...]) -> None:
        assert self.slot.grid_id not in doomed
        self.server.difference_update(doomed)

    @precondition(lambda self: not self.slot)
    @rule()
    def put(self) -> None:
        self.slot.hold(self._new())

    @precondition(lambda self: self.slot.staged is None)
    @rule()
    def replace(self) -> None:
        self.slot.replace_with(self._new())

    @rule(data=st.binary(max_size=4), refused=st.booleans())
    def assign(self, data: bytes, refused: bool) -> None:
        previous, self.slot = self.slot, FileSlot()
        self.slot.take_place_of(previous)
        self.slot.stage(data)
        assert self.slot.grid_id is None and self.slot
        if refused:  # stored at once (a plain MongoEngine document) and that failed
            held = self.slot.replaced
            self.slot.unstage()
            assert self.slot.grid_id == held and self.slot.staged is None

    @rule()
    def before_save(self) -> None:
        if self.slot.wants_storing():
            self.slot.stored(self._new())

    @rule()
    def save_failed(self) -> None:
        stored, replaced = self.slot.stored_for_save, self.slot.replaced
        doomed = self.slot.save_failed()
        assert doomed == (() if stored is None else (stored,))
        if stored is not None:
            assert self.slot.grid_id == replaced and self.slot.staged is not None
        self._delete(doomed)

    @precondition(lambda self: not self.slot.wants_storing())
    @rule(fails_after=st.integers(0, 3))
    def saved(self, fails_after: int) -> None:
        doomed = self.slot.saved()
        assert self.slot.staged is None and self.slot.replaced is None
        for grid_id in doomed[:fails_after]:  # a delete failing leaves the rest pending
            self._delete((grid_id,))
            self.slot.dropped(grid_id)

    @precondition(lambda self: self.slot.grid_id is not None and self.slot.staged is None)
    @rule()
    def delete(self) -> None:
        self.server.discard(self.slot.grid_id)
        self.slot.emptied()

    @rule()
    def copied(self) -> None:
        twin = self.slot.copy()
        assert (twin.grid_id, twin.staged, twin.stale) == (self.slot.grid_id, self.slot.staged, [])

    @invariant()
    def nothing_lost_and_nothing_forgotten(self) -> None:
        slot = self.slot
        if slot.grid_id is not None and slot.stored_for_save is None:
            assert slot.grid_id in self.server or slot.staged is None
        known = {slot.grid_id, slot.replaced, slot.stored_for_save, *slot.stale} - {None}
        assert self.server <= known, f"forgotten: {self.server - known} in {slot!r}"
        assert bool(slot) == (slot.grid_id is not None or slot.staged is not None)


SlotMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
test_the_slot_never_loses_or_forgets_a_file = SlotMachine.TestCase


def test_an_assignment_after_a_replace_deletes_both_old_files_at_the_save() -> None:
    slot = FileSlot("a")
    slot.replace_with("b")
    after = FileSlot()
    after.take_place_of(slot)
    after.stage(b"new")
    after.stored("c")
    assert set(after.saved()) == {"a", "b"}
    assert after.grid_id == "c"
