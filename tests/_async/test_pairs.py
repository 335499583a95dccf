"""The async members of gridfield._twins' pairs; the generated sync test checks their twins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gridfield._twins import finish_despite_cancel, pieces_of_any, read_any_file, run_off_loop


async def test_cpu_work_returns_what_the_function_returns() -> None:
    assert await run_off_loop(divmod, 17, 5) == (3, 2)


async def test_cpu_work_raises_what_the_function_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        await run_off_loop(divmod, 1, 0)


async def test_a_write_let_finish_hands_back_its_result() -> None:
    async def insert() -> str:
        return "inserted"

    assert await finish_despite_cancel(insert()) == "inserted"


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
