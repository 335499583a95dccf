"""An upload stream's stages: the table against a model of what a stream may do when."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gridfield.core.errors import GridFSError, WrongStage
from gridfield.core.upload_stage import UploadEvent, UploadStage, UploadStages


class StageMachine(RuleBasedStateMachine):
    """Random events against a model told in flags: whether bytes were written, whether a
    close is under way, how the upload ended. Bytes go in only while it is open for them; a
    close is begun once and ends once; an ended upload takes no bytes; closing a closed one
    and aborting an ended one change nothing; what a stage does not allow is refused,
    naming the stage, and changes nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.stages = UploadStages("f")
        self.written = False
        self.closing = False
        self.ended: str | None = None  # "closed" or "aborted"

    def _expected(self, event: UploadEvent) -> UploadStage | None:
        """Where ``event`` leads by the model; None when it must be refused."""
        taking_bytes = not self.closing and self.ended is None
        if event is UploadEvent.WRITE:
            return UploadStage.WRITING if taking_bytes else None
        if event is UploadEvent.FLUSH:
            if not taking_bytes:
                return None
            return UploadStage.WRITING if self.written else UploadStage.OPEN
        if event is UploadEvent.CLOSE:
            if self.ended == "closed":
                return UploadStage.CLOSED
            return UploadStage.CLOSING if taking_bytes else None
        if event is UploadEvent.FINISH:
            return UploadStage.CLOSED if self.closing else None
        if event is UploadEvent.FOUND:
            return UploadStage.CLOSED if taking_bytes else None
        assert event is UploadEvent.ABORT
        if self.ended is not None:
            return UploadStage(self.ended)
        return UploadStage.ABORTED

    @rule(event=st.sampled_from(UploadEvent))
    def happen(self, event: UploadEvent) -> None:
        before = self.stages.stage
        expected = self._expected(event)
        if expected is None:
            with pytest.raises(WrongStage) as refused:
                self.stages.move(event)
            assert (refused.value.stage, refused.value.event) == (before.value, event.value)
            assert f"upload of file 'f' is {before.value}: it cannot {event.value}" == str(
                refused.value
            )
            assert self.stages.stage is before
            return
        assert self.stages.check(event) is expected and self.stages.stage is before
        assert self.stages.move(event) is expected
        if event is UploadEvent.WRITE:
            self.written = True
        elif event is UploadEvent.CLOSE and self.ended is None:
            self.closing = True
        elif event in (UploadEvent.FINISH, UploadEvent.FOUND):
            self.closing, self.ended = False, "closed"
        elif event is UploadEvent.ABORT and self.ended is None:
            self.closing, self.ended = False, "aborted"

    @invariant()
    def the_stage_is_what_the_model_says(self) -> None:
        stage = self.stages.stage
        if self.ended is not None:
            assert stage is UploadStage(self.ended)
        elif self.closing:
            assert stage is UploadStage.CLOSING
        else:
            assert stage is (UploadStage.WRITING if self.written else UploadStage.OPEN)
        assert self.stages.ended == (self.ended is not None)


StageMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
test_the_upload_stages_follow_the_model = StageMachine.TestCase


def test_a_refusal_is_the_value_error_a_closed_file_gives() -> None:
    stages = UploadStages("f")
    stages.move(UploadEvent.ABORT)
    with pytest.raises(ValueError, match="upload of file 'f' is aborted: it cannot close"):
        stages.move(UploadEvent.CLOSE)
    with pytest.raises(GridFSError):
        stages.check(UploadEvent.WRITE)
