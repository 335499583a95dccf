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
