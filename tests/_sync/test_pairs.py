# Generated from tests/_async/test_pairs.py by scripts/unasync.py: do not edit.
"""The async members of gridfield._twins' pairs; the generated sync test checks their twins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gridfield._twins import finish, pieces_of, read_file, run_here


def test_cpu_work_returns_what_the_function_returns() -> None:
    assert run_here(divmod, 17, 5) == (3, 2)


def test_cpu_work_raises_what_the_function_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        run_here(divmod, 1, 0)


def test_a_write_let_finish_hands_back_its_result() -> None:
    def insert() -> str:
        return "inserted"

    assert finish(insert()) == "inserted"


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
