"""Files by name: the filename and revision checks, and the query that picks a revision."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.revisions import (
    check_filename,
    check_revision,
    describe_revision,
    name_filter,
    revision_query,
)


def apply(query: Any, files: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What a server returns first for ``query``: filter, sort by each key in turn, skip."""
    wanted = query.filter["filename"]["$eq"]
    found = [f for f in files if f["filename"] == wanted]
    for key, direction in reversed(query.sort):
        found.sort(key=lambda f, key=key: f[key], reverse=direction < 0)
    rest = found[query.skip :]
    return rest[0] if rest else None


uploads = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3)), min_size=0, max_size=12
)


@given(uploads, st.integers(-15, 15))
def test_a_revision_is_the_nth_upload_from_either_end(
    made: list[tuple[str, int]], revision: int
) -> None:
    base = dt.datetime(2026, 1, 1)
    # _id grows with insertion; dates repeat, so ties are broken by _id.
    files = [
        {"_id": i, "filename": name, "uploadDate": base + dt.timedelta(milliseconds=ms)}
        for i, (name, ms) in enumerate(made)
    ]
    in_order = sorted(
        (f for f in files if f["filename"] == "a"), key=lambda f: (f["uploadDate"], f["_id"])
    )
    try:
        want: dict[str, Any] | None = in_order[revision]
    except IndexError:
        want = None
    assert apply(revision_query("a", revision), files) == want


@given(st.integers(-1000, 1000))
def test_negative_revisions_read_from_the_newest_end(revision: int) -> None:
    query = revision_query("x", revision)
    assert query.skip >= 0
    assert (query.sort[0][1] < 0) == (revision < 0)


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("", ValueError, "filename must not be empty"),
        (None, TypeError, "filename must be a str, not NoneType"),
        (b"a", TypeError, "filename must be a str, not bytes"),
        ({"$ne": None}, TypeError, "filename must be a str, not dict"),
    ],
)
def test_bad_filenames(name: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        check_filename(name)
    with pytest.raises(error, match=message):
        revision_query(name, 0)


@pytest.mark.parametrize("revision", [True, 1.0, "1", None])
def test_bad_revisions(revision: Any) -> None:
    with pytest.raises(TypeError, match="revision must be an int"):
        check_revision(revision)
    with pytest.raises(TypeError, match="revision must be an int"):
        revision_query("a", revision)


def test_a_name_is_matched_as_a_value() -> None:
    assert name_filter("$where") == {"filename": {"$eq": "$where"}}


def test_revisions_in_words() -> None:
    assert describe_revision(0) == "revision 0 (the original)"
    assert describe_revision(-1) == "revision -1 (the newest)"
    assert describe_revision(-3) == "revision -3"
