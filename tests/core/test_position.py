"""The one read position: seek's rules (against io.BytesIO), and the read size check."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridfield.core.position import ReadPosition, check_read_size

FEW = settings(max_examples=200, deadline=None)


def no_length() -> int:
    raise AssertionError("the length is asked for only when seeking from the end")


@FEW
@given(
    length=st.integers(0, 10_000),
    moves=st.lists(
        st.tuples(st.integers(-20_000, 20_000), st.sampled_from([0, 1, 2])), max_size=20
    ),
)
def test_seek_lands_where_a_file_does_and_refuses_a_negative_target(
    length: int, moves: list[tuple[int, int]]
) -> None:
    # BytesIO's targets, except that BytesIO clamps a negative one of whence 1 or 2 to 0:
    # a position before the start is a mistake here, for every whence.
    model = io.BytesIO(bytes(length))
    position = ReadPosition()
    for pos, whence in moves:
        target = (0, model.tell(), length)[whence] + pos
        if target < 0:
            with pytest.raises(ValueError, match="negative"):
                position.seek(pos, whence, lambda: length)
        else:
            assert position.seek(pos, whence, lambda: length) == model.seek(pos, whence) == target
        assert position.offset == model.tell()


@given(pos=st.integers(0, 100), whence=st.sampled_from([0, 1]))
def test_seek_from_start_or_here_never_asks_the_length(pos: int, whence: int) -> None:
    assert ReadPosition().seek(pos, whence, no_length) == pos


@pytest.mark.parametrize("bad", [1.5, "5", True, False, None, b"1"])
def test_seek_refuses_what_is_not_an_int_naming_pos_and_stays(bad: Any) -> None:
    position = ReadPosition(7)
    with pytest.raises(TypeError, match=rf"seek\(\): pos must be an int, not {type(bad).__name__}"):
        position.seek(bad, 0, no_length)
    assert position.offset == 7


@pytest.mark.parametrize("whence", [3, -1, 1.0, True, "0", None])
def test_seek_refuses_another_whence(whence: Any) -> None:
    position = ReadPosition(7)
    with pytest.raises(ValueError, match="whence must be 0, 1 or 2"):
        position.seek(0, whence, no_length)
    assert position.offset == 7


@given(size=st.integers())
def test_read_size_takes_any_int(size: int) -> None:
    assert check_read_size(size) == size


def test_read_size_none_means_all() -> None:
    assert check_read_size(None) == -1


@pytest.mark.parametrize("bad", ["5", 2.0, True, b"5"])
def test_read_size_refuses_what_is_not_an_int_naming_size(bad: Any) -> None:
    with pytest.raises(
        TypeError, match=rf"read\(\): size must be an int, not {type(bad).__name__}"
    ):
        check_read_size(bad)
    with pytest.raises(TypeError, match=r"readline\(\): size"):
        check_read_size(bad, "readline")
