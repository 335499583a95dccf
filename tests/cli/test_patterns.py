"""The pure helpers of the command line: the literal prefix pattern and id reading."""

from __future__ import annotations

import re

import pytest
from bson import Int64, ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.cli.ids import BadId, id_candidates, parse_id, show_id
from gridfield.cli.listing import prefix_pattern

NAMES = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@given(NAMES, NAMES)
def test_the_prefix_pattern_matches_exactly_the_names_with_that_prefix(
    prefix: str, name: str
) -> None:
    pattern = re.compile(prefix_pattern(prefix), re.DOTALL)
    assert bool(pattern.match(name)) == name.startswith(prefix)
    assert pattern.match(prefix + name)


def test_ids_read_as_mongofiles_reads_them() -> None:
    assert parse_id("plain") == "plain"
    assert parse_id("  ") is None
    assert parse_id('{"$numberLong": "7"}') == Int64(7)
    oid = ObjectId()
    assert parse_id(f'{{"$oid": "{oid}"}}') == oid
    assert id_candidates(str(oid)) == [str(oid), oid]
    assert id_candidates("short") == ["short"]
    with pytest.raises(BadId, match="cannot read the id"):
        parse_id("{nope")
    with pytest.raises(BadId, match="must not be blank"):
        id_candidates("")


def test_ids_shown_can_be_typed_back() -> None:
    oid = ObjectId()
    for value in (oid, "name", Int64(7), 7, 3.5, {"a": 1}):
        found = id_candidates(show_id(value))
        assert value in found
        assert [type(v) for v in found if v == value] == [type(value)]
