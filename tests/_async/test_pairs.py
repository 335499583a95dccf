"""The async members of gridfield._twins' pairs; the generated sync test checks their twins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gridfield._twins import (
    both_at_once,
    carry_on_despite_cancel,
    clean_up,
    finish_despite_cancel,
    pieces_of_any,
    read_any_file,
    run_off_loop,
    wait_in_flight,
)


async def test_cpu_work_returns_what_the_function_returns() -> None:
    assert await run_off_loop(divmod, 17, 5) == (3, 2)


async def test_cpu_work_raises_what_the_function_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        await run_off_loop(divmod, 1, 0)


async def test_a_write_let_finish_hands_back_its_result() -> None:
    async def insert() -> str:
        return "inserted"

    in_flight: set[object] = set()
    assert await finish_despite_cancel(insert(), in_flight) == "inserted"
    assert not in_flight


async def test_a_clean_up_runs_and_raises_what_it_raised() -> None:
    ran: list[str] = []

    async def remove() -> None:
        ran.append("removed")
        raise ValueError("the server said no")

    with pytest.raises(ValueError, match="the server said no"):
        await clean_up(remove, RuntimeError("the upload failed"))
    assert ran == ["removed"]
    await wait_in_flight(set())  # nothing in flight: returns at once


async def test_work_carried_on_despite_cancel_hands_back_its_result() -> None:
    async def delete() -> bool:
        return True

    assert await carry_on_despite_cancel(delete()) is True


async def test_two_calls_at_once_hand_back_both_results_in_order() -> None:
    async def files_document() -> str:
        return "the files document"

    async def first_chunk() -> int:
        return 0

    assert await both_at_once(files_document(), first_chunk()) == ("the files document", 0)


async def test_two_calls_at_once_raise_the_error_of_either() -> None:
    async def missing() -> str:
        raise LookupError("no such file")

    async def found() -> int:
        return 0

    with pytest.raises(LookupError, match="no such file"):
        await both_at_once(missing(), found())
    with pytest.raises(LookupError, match="no such file"):
        await both_at_once(found(), missing())


class Reader:
    """A file object whose read() is a coroutine in the async twin."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self, size: int) -> bytes:
        piece, self._data = self._data[:size], self._data[size:]
        return piece


async def test_a_callers_file_object_is_read_in_blocks() -> None:
    reader = Reader(b"marmot")
    assert await read_any_file(reader, 4) == b"marm"
    assert await read_any_file(reader, 4) == b"ot"


async def test_a_callers_iterable_gives_its_pieces_in_order() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b"mar"
        yield b"mot"

    assert [piece async for piece in pieces_of_any(pieces())] == [b"mar", b"mot"]
    assert [piece async for piece in pieces_of_any([b"a", b"b"])] == [b"a", b"b"]
