"""The ids a file id type takes from outside: ObjectIds and their 24 hexadecimal digits."""

from __future__ import annotations

import re

from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.file_ids import OBJECT_ID_PATTERN, as_object_id

object_ids = st.binary(min_size=12, max_size=12).map(ObjectId)


@given(object_ids)
def test_an_object_id_and_its_hex_in_either_case_give_the_object_id(oid: ObjectId) -> None:
    assert as_object_id(oid) == oid
    assert as_object_id(str(oid)) == oid
    assert as_object_id(str(oid).upper()) == oid
    assert type(as_object_id(str(oid))) is ObjectId


@given(object_ids)
def test_a_subclass_comes_back_as_a_plain_object_id(oid: ObjectId) -> None:
    class Subclass(ObjectId):
        pass

    got = as_object_id(Subclass(oid.binary))
    assert (type(got), got) == (ObjectId, oid)


@given(st.text())
def test_text_is_an_id_exactly_when_it_matches_the_schema_pattern(text: str) -> None:
    got = as_object_id(text)
    if re.fullmatch(OBJECT_ID_PATTERN.strip("^$"), text):
        assert got == ObjectId(text)
    else:
        assert got is None


@given(object_ids)
def test_near_misses_are_refused(oid: ObjectId) -> None:
    text = str(oid)
    for wrong in (text[:-1], text + "0", f" {text}", f"{text}\n", text[:-1] + "g"):
        assert as_object_id(wrong) is None
    assert as_object_id(oid.binary) is None  # 12 bytes: ObjectId's own constructor takes them
    assert as_object_id({"$oid": text}) is None


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.integers())))
def test_other_values_are_refused(value: object) -> None:
    assert as_object_id(value) is None


def test_unicode_digits_are_not_hex() -> None:
    # str.isdigit and int() take these; an ObjectId's text never holds them
    assert as_object_id("\u0661" * 24) is None
    assert as_object_id("\uff10" * 24) is None
