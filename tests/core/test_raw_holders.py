"""Raw holders: what a holder accepts, and the values a stored document has at its path."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.raw_holders import Holder, as_holder, values_at

NAMES = st.sampled_from(["a", "b", "file", "blocks", "x_1"])
# Leaves: values a file id can be (anything but an array); None is a value here too.
LEAVES = st.one_of(
    st.builds(ObjectId),
    st.integers(-5, 5),
    st.text(max_size=3),
    st.none(),
    st.dictionaries(st.sampled_from(["k", "v"]), st.integers(0, 3), max_size=2),
)
# Values off the path: anything, ids included, that must never be found.
NOISE = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def planted(draw: st.DrawFn, steps: tuple[str, ...]) -> tuple[Any, list[Any]]:
    """A value holding some leaves at ``steps`` (and noise elsewhere), with those leaves."""
    if not steps:
        shape = draw(st.sampled_from(["leaf", "array", "nested array"]))
        if shape == "leaf":
            leaf = draw(LEAVES)
            return leaf, [leaf]
        items = draw(st.lists(LEAVES, max_size=4))
        if shape == "array":
            return items, items
        return [items], []  # an array of arrays: a query on the path does not reach in
    step, rest = steps[0], steps[1:]
    shape = draw(st.sampled_from(["dict", "array", "scalar", "without the key"]))
    if shape == "scalar":
        return draw(LEAVES), []
    noise = draw(st.dictionaries(NAMES.filter(lambda name: name != step), NOISE, max_size=2))
    if shape == "without the key":
        return noise, []
    if shape == "dict":
        inner, leaves = draw(planted(rest))
        return {**noise, step: inner}, leaves
    items: list[Any] = []
    found: list[Any] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["subdocument", "nested", "scalar"]))
        inner, leaves = draw(planted(rest))
        if kind == "subdocument":
            items.append({**noise, step: inner})
            found += leaves
        elif kind == "nested":  # an array in an array is not entered by a field name
            items.append([{step: inner}])
        else:
            items.append(draw(LEAVES))
    return items, found


@given(st.data(), st.lists(NAMES, min_size=1, max_size=4).map(tuple))
def test_exactly_the_leaves_at_the_path_are_found(data: st.DataObject, steps: Any) -> None:
    doc, leaves = data.draw(planted(steps))
    found = list(values_at({"top": doc}, ("top", *steps)))
    key = repr  # ObjectIds, dicts and None compared by value, duplicates counted
    assert Counter(map(key, found)) == Counter(map(key, leaves))
    assert not any(isinstance(value, list) for value in found)


def test_the_shapes_a_query_on_the_path_matches() -> None:
    one, two, three = ObjectId(), ObjectId(), ObjectId()
    assert list(values_at({"photo_id": one}, ("photo_id",))) == [one]
    assert list(values_at({"photos": [one, two]}, ("photos",))) == [one, two]
    blocks = {"blocks": [{"file": one}, {"text": "hi"}, {"file": [two, three]}, "loose"]}
    assert list(values_at(blocks, ("blocks", "file"))) == [one, two, three]
    assert list(values_at({"meta": {"cover": {"file": one}}}, ("meta", "cover", "file"))) == [one]
    # a step of digits indexes an array, as in a query (and names a subdocument's key too)
    assert list(values_at({"pages": [{"file": one}, {"file": two}]}, ("pages", "1", "file"))) == [
        two
    ]
    assert list(values_at({"pages": [{"0": one}]}, ("pages", "0"))) == [{"0": one}, one]
    assert list(values_at({"pages": [one]}, ("pages", "5"))) == []
    assert list(values_at({"grid": [[one]]}, ("grid",))) == []
    assert list(values_at({}, ("photo",))) == []


def test_a_holder_is_a_tuple_or_a_holder() -> None:
    assert as_holder(("products", "photo_id")) == Holder("products", "photo_id")
    assert as_holder(("pages", "blocks.file", "cms")) == Holder("pages", "blocks.file", "cms")
    held = Holder("pages", "blocks.file")
    assert as_holder(held) is held
    assert held.steps == ("blocks", "file")
    assert str(held) == "pages:blocks.file"
    assert str(Holder("pages", "cover", db="cms")) == "cms.pages:cover"


@pytest.mark.parametrize(
    ("given", "error", "message"),
    [
        ((3, "photo"), TypeError, "a holder's collection must be a str, not int"),
        (("", "photo"), ValueError, "a holder's collection must be a collection name, not ''"),
        (("a$b", "photo"), ValueError, "a holder's collection must be a collection name"),
        (("products", 3), TypeError, "a holder's path must be a str, not int"),
        (("products", ""), ValueError, "holder 'products': the path must not be empty"),
        (("products", "$where"), ValueError, "path '$where' is a field path, not an operator"),
        (("products", "blocks.$"), ValueError, "is a field path, not an operator"),
        (("products", "a..b"), ValueError, "path 'a..b' has an empty step"),
        (("products", "photo."), ValueError, "has an empty step"),
        (("products", "photo", 3), TypeError, "a holder's db must be a str or None, not int"),
        (("products", "photo", ""), ValueError, "the db must not be empty"),
        (("products",), TypeError, "a holder is a Holder or a tuple (collection, path)"),
        (["products", "photo"], TypeError, "a holder is a Holder or a tuple"),
    ],
)
def test_bad_holders_are_refused(given: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        as_holder(given)
