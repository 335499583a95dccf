# Generated from tests/_async/test_pairs.py by scripts/unasync.py: do not edit.
"""The async members of gridfield._twins' pairs; the generated sync test checks their twins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gridfield._twins import (
    carried,
    clean_up_now,
    finish,
    nothing_in_flight,
    one_then_other,
    pieces_of,
    read_file,
    run_here,
)


def test_cpu_work_returns_what_the_function_returns() -> None:
    assert run_here(divmod, 17, 5) == (3, 2)


def test_cpu_work_raises_what_the_function_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        run_here(divmod, 1, 0)


def test_a_write_let_finish_hands_back_its_result() -> None:
    def insert() -> str:
        return "inserted"

    in_flight: set[object] = set()
    assert finish(insert(), in_flight) == "inserted"
    assert not in_flight


def test_a_clean_up_runs_and_raises_what_it_raised() -> None:
    ran: list[str] = []

    def remove() -> None:
        ran.append("removed")
        raise ValueError("the server said no")

    with pytest.raises(ValueError, match="the server said no"):
        clean_up_now(remove, RuntimeError("the upload failed"))
    assert ran == ["removed"]
    nothing_in_flight(set())  # nothing in flight: returns at once


def test_work_carried_on_despite_cancel_hands_back_its_result() -> None:
    def delete() -> bool:
        return True

    assert carried(delete()) is True


def test_two_calls_at_once_hand_back_both_results_in_order() -> None:
    def files_document() -> str:
        return "the files document"

    def first_chunk() -> int:
        return 0

    assert one_then_other(files_document(), first_chunk()) == ("the files document", 0)


def test_two_calls_at_once_raise_the_error_of_either() -> None:
    def missing() -> str:
        raise LookupError("no such file")

    def found() -> int:
        return 0

    with pytest.raises(LookupError, match="no such file"):
        one_then_other(missing(), found())
    with pytest.raises(LookupError, match="no such file"):
        one_then_other(found(), missing())


class Reader:
    """A file object whose read() is a coroutine in the async twin."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int) -> bytes:
        piece, self._data = self._data[:size], self._data[size:]
        return piece


def test_a_callers_file_object_is_read_in_blocks() -> None:
    reader = Reader(b"marmot")
    assert read_file(reader, 4) == b"marm"
    assert read_file(reader, 4) == b"ot"


def test_a_callers_iterable_gives_its_pieces_in_order() -> None:
    def pieces() -> Iterator[bytes]:
        yield b"mar"
        yield b"mot"

    assert [piece for piece in pieces_of(pieces())] == [b"mar", b"mot"]
    assert [piece for piece in pieces_of([b"a", b"b"])] == [b"a", b"b"]
