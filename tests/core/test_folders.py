"""Folders over filenames: the anchored pattern matches exactly the names under a prefix, and
a listing splits into the folders and files directly inside it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.folders import folder_prefix, prefix_pattern, split_listing, under_filter

TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
NAMES = st.text(alphabet="ab/.+*", max_size=8)


@given(TEXT, TEXT)
def test_the_pattern_matches_exactly_the_strings_starting_with_the_prefix(
    prefix: str, rest: str
) -> None:
    pattern = re.compile(prefix_pattern(prefix), re.DOTALL)
    assert pattern.match(prefix + rest)
    other = rest + prefix
    assert bool(pattern.match(other)) == other.startswith(prefix)


@given(TEXT)
def test_only_ascii_letters_and_digits_go_unescaped(prefix: str) -> None:
    body = prefix_pattern(prefix)[1:]
    unescaped = re.sub(r"\\.", "", body, flags=re.DOTALL)
    assert all(c.isalnum() or not c.isascii() for c in unescaped)


@given(st.lists(NAMES, max_size=20), NAMES)
def test_a_listing_holds_each_name_under_the_prefix_once(names: list[str], folder: str) -> None:
    prefix = folder_prefix(folder)
    folders, files = split_listing(prefix, names)
    assert folders == sorted(set(folders)) and files == sorted(set(files))
    for name in names:
        if not name.startswith(prefix) or name == prefix:
            continue
        rest = name[len(prefix) :]
        head = rest.split("/", 1)[0]
        assert (rest in files) if "/" not in rest else (head in folders or not head)
    for item in folders + files:
        assert "/" not in item and item


def test_prefixes_and_filters() -> None:
    assert folder_prefix("") == "" and folder_prefix("/a/b/") == "a/b/"
    assert under_filter("") == {"filename": {"$type": "string"}}
    assert under_filter("a+b/") == {"filename": {"$regex": r"^a\+b\/"}}
    with pytest.raises(TypeError):
        prefix_pattern(None)  # type: ignore[arg-type]
