"""The one "an int, not a bool" check."""

from __future__ import annotations

import pytest
from bson.int64 import Int64
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.numbers import is_whole_number, whole_number


@given(st.integers())
def test_every_int_is_one_and_comes_back(n: int) -> None:
    assert is_whole_number(n)
    assert is_whole_number(Int64(n))  # what PyMongo reads a 64-bit count as
    assert whole_number(n, "n") == n


@given(st.one_of(st.booleans(), st.floats(), st.text(), st.none(), st.binary()))
def test_nothing_else_is_and_the_error_names_it(value: object) -> None:
    assert not is_whole_number(value)
    with pytest.raises(TypeError) as refused:
        whole_number(value, "chunk_size")
    assert str(refused.value) == f"chunk_size must be an int, not {type(value).__name__}"


def test_whole_number_with_a_minimum_names_what_it_checks() -> None:
    assert whole_number(3, "limit()", minimum=0) == 3
    assert whole_number(0, "limit()", minimum=0) == 0
    with pytest.raises(TypeError, match=r"limit\(\) must be an int, not bool"):
        whole_number(True, "limit()", minimum=0)
    with pytest.raises(ValueError, match=r"skip\(\) must be >= 0, not -1"):
        whole_number(-1, "skip()", minimum=0)
