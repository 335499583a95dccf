"""What a field value holds: the slot's stages and transitions, against a model of which files
must go."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gridfield.core.errors import GridFSError, WrongStage
from gridfield.core.file_slot import _TRANSITIONS, FileSlot, SlotEvent, SlotStage

# Each event as a call on a slot, with arguments that would be valid in a stage allowing it.
CALLS: dict[SlotEvent, Callable[[FileSlot], object]] = {
    SlotEvent.HOLD: lambda slot: slot.hold(-1),
    SlotEvent.LET_GO: lambda slot: slot.hold(None),
    SlotEvent.REPLACE: lambda slot: slot.replace_with(-1),
    SlotEvent.DELETE: lambda slot: slot.emptied(),
    SlotEvent.TAKE_PLACE: lambda slot: slot.take_place_of(FileSlot(-2)),
    SlotEvent.ASSIGN: lambda slot: slot.assign(b"data"),
    SlotEvent.UNASSIGN: lambda slot: slot.unassign(),
    SlotEvent.STORE: lambda slot: slot.stored(-1),
    SlotEvent.SAVE_FAILED: lambda slot: slot.save_failed(),
    SlotEvent.SAVED: lambda slot: slot.saved(),
    SlotEvent.DROP: lambda slot: slot.dropped(-1),
    SlotEvent.OWNER_DELETED: lambda slot: slot.owner_deleted(),
}


def snapshot(slot: FileSlot) -> tuple[Any, ...]:
    return (
        slot.stage,
        slot.grid_id,
        slot.staged,
        slot.stored_for_save,
        slot.replaced,
        tuple(slot.stale),
    )


class SlotMachine(RuleBasedStateMachine):
    """Random sequences of what a proxy and its owner do. The files "on the server" are a
    set: a file stored is added, a file the slot names for deletion is removed. No file may
    be lost (one the field names is never deleted) and none forgotten (every other stored
    file is still held, replaced, stale or pending a failed save's removal). Every event its
    stage does not allow is refused, naming the stage, and changes nothing."""

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

    @rule(event=st.sampled_from(SlotEvent))
    def refused_where_the_table_says(self, event: SlotEvent) -> None:
        stage = self.slot.stage
        if (stage, event) in _TRANSITIONS:
            return  # the rules below make the allowed moves, with the model's bookkeeping
        before = snapshot(self.slot)
        with pytest.raises(WrongStage) as refused:
            CALLS[event](self.slot)
        assert (refused.value.stage, refused.value.event) == (stage.value, event.value)
        assert repr(stage.value) in str(refused.value)
        assert snapshot(self.slot) == before

    @precondition(lambda self: self.slot.stage is SlotStage.EMPTY)
    @rule()
    def put(self) -> None:
        self.slot.hold(self._new())
        assert self.slot.stage is SlotStage.HOLDING

    @precondition(lambda self: self.slot.stage is SlotStage.HOLDING)
    @rule()
    def adopt_again(self) -> None:  # a replace() ends by adopting the file it stored
        self.slot.hold(self.slot.grid_id)
        assert self.slot.stage is SlotStage.HOLDING

    @precondition(lambda self: self.slot.stage in (SlotStage.EMPTY, SlotStage.HOLDING))
    @rule()
    def replace(self) -> None:
        self.slot.replace_with(self._new())
        assert self.slot.stage is SlotStage.HOLDING

    @rule(data=st.binary(max_size=4), refused=st.booleans())
    def assign(self, data: bytes, refused: bool) -> None:
        previous, self.slot = self.slot, FileSlot()
        self.slot.take_place_of(previous)
        self.slot.assign(data)
        assert self.slot.grid_id is None and self.slot.stage is SlotStage.ASSIGNED
        if refused:  # stored at once (a plain MongoEngine document) and that failed
            held = self.slot.replaced
            self.slot.unassign()
            assert self.slot.grid_id == held and self.slot.staged is None

    @precondition(lambda self: self.slot.stage is not SlotStage.SAVING)
    @rule(data=st.binary(max_size=4))
    def assign_in_place(self, data: bytes) -> None:
        self.slot.assign(data)
        assert self.slot.stage is SlotStage.ASSIGNED

    @rule()
    def receive(self) -> None:  # doc.photo = received.file("photo"): stored by a request
        previous, self.slot = self.slot, FileSlot()
        self.slot.take_place_of(previous)
        self.slot.hold(self._new())
        assert self.slot.stage is SlotStage.HOLDING

    @rule()
    def before_save(self) -> None:
        if self.slot.wants_storing():
            self.slot.stored(self._new())
            assert self.slot.stage is SlotStage.SAVING

    @rule()
    def save_failed(self) -> None:
        stage = self.slot.stage
        stored, replaced = self.slot.stored_for_save, self.slot.replaced
        doomed = self.slot.save_failed()
        assert doomed == (() if stored is None else (stored,))
        if stored is not None:
            assert self.slot.grid_id == replaced and self.slot.staged is not None
            assert self.slot.stage is SlotStage.ASSIGNED
        else:
            assert self.slot.stage is stage
        self._delete(doomed)

    @precondition(lambda self: self.slot.stage is not SlotStage.ASSIGNED)
    @rule(fails_after=st.integers(0, 3))
    def saved(self, fails_after: int) -> None:
        doomed = self.slot.saved()
        assert self.slot.staged is None and self.slot.replaced is None
        assert self.slot.stage in (SlotStage.EMPTY, SlotStage.HOLDING)
        for grid_id in doomed[:fails_after]:  # a delete failing leaves the rest pending
            self._delete((grid_id,))
            self.slot.dropped(grid_id)

    @precondition(lambda self: self.slot.stage is SlotStage.HOLDING)
    @rule()
    def delete(self) -> None:
        self.server.discard(self.slot.grid_id)
        self.slot.emptied()
        assert self.slot.stage is SlotStage.EMPTY

    @rule()
    def owner_deleted(self) -> None:
        stage = self.slot.stage
        assert self.slot.owner_deleted() == tuple(self.slot.held_file_ids())
        assert self.slot.stage is stage

    @rule()
    def copied(self) -> None:
        twin = self.slot.copy()
        assert (twin.stage, twin.grid_id, twin.staged, twin.stale) == (
            self.slot.stage,
            self.slot.grid_id,
            self.slot.staged,
            [],
        )

    @invariant()
    def the_stage_says_what_the_slot_holds(self) -> None:
        slot = self.slot
        if slot.stage is SlotStage.EMPTY:
            assert slot.grid_id is None and slot.staged is None
        elif slot.stage is SlotStage.HOLDING:
            assert slot.grid_id is not None and slot.staged is None
            assert slot.stored_for_save is None
        elif slot.stage is SlotStage.ASSIGNED:
            assert slot.staged is not None and slot.stored_for_save is None
            assert slot.grid_id in (None, slot.replaced)
        else:
            assert slot.staged is not None and slot.grid_id == slot.stored_for_save
            assert slot.grid_id is not None
        assert bool(slot) == (slot.stage is not SlotStage.EMPTY)

    @invariant()
    def nothing_lost_and_nothing_forgotten(self) -> None:
        slot = self.slot
        if slot.grid_id is not None and slot.stored_for_save is None:
            assert slot.grid_id in self.server or slot.staged is None
        known = {slot.grid_id, slot.replaced, slot.stored_for_save, *slot.stale} - {None}
        assert self.server <= known, f"forgotten: {self.server - known} in {slot!r}"


SlotMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
test_the_slot_never_loses_or_forgets_a_file = SlotMachine.TestCase


def test_every_stage_has_a_meaning_and_every_event_a_stage_allowing_it() -> None:
    assert {stage for stage, _ in _TRANSITIONS} == set(SlotStage)
    assert {event for _, event in _TRANSITIONS} == set(SlotEvent)


def test_an_assignment_after_a_replace_deletes_both_old_files_at_the_save() -> None:
    slot = FileSlot("a")
    slot.replace_with("b")
    after = FileSlot()
    after.take_place_of(slot)
    after.assign(b"new")
    after.stored("c")
    assert set(after.saved()) == {"a", "b"}
    assert after.grid_id == "c"


def test_an_assignment_after_a_received_file_deletes_both_old_files_at_the_save() -> None:
    received = FileSlot()
    received.take_place_of(FileSlot("old"))
    received.hold("received")
    after = FileSlot()
    after.take_place_of(received)
    after.assign(b"new")
    after.stored("c")
    assert set(after.saved()) == {"old", "received"}


def test_a_refusal_names_the_stage_and_is_the_error_callers_catch() -> None:
    slot = FileSlot()
    slot.assign(b"data")
    with pytest.raises(WrongStage, match=r"stage 'assigned'.*cannot replace its file") as refused:
        slot.replace_with("other")
    assert isinstance(refused.value, GridFSError) and isinstance(refused.value, ValueError)
    assert slot.stage is SlotStage.ASSIGNED and slot.grid_id is None
    with pytest.raises(WrongStage, match="stage 'empty'"):
        FileSlot().emptied()
    holding = FileSlot("a")
    with pytest.raises(WrongStage, match=r"stage 'holding'.*cannot store assigned data"):
        holding.stored("b")
    assert holding.grid_id == "a"
