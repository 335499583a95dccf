"""Upload options: one value, checked once; a put's keywords split by one list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.guards import UploadLimits
from gridfield.core.upload_options import OPTION_NAMES, SPELLINGS, UploadOptions, split_keywords

NAMES = st.sampled_from(sorted(OPTION_NAMES | set(SPELLINGS))) | st.text(min_size=1, max_size=8)


@given(st.dictionaries(NAMES, st.integers(), max_size=8))
def test_every_keyword_is_an_option_or_an_extra_field_never_both(keywords: dict[str, Any]) -> None:
    try:
        options, extra = split_keywords(keywords)
    except TypeError as exc:
        assert "given twice" in str(exc)
        assert "chunk_size" in keywords and "chunk_size_bytes" in keywords
        return
    assert set(options) <= OPTION_NAMES
    assert not set(extra) & (OPTION_NAMES | set(SPELLINGS))
    assert len(options) + len(extra) == len(keywords)


def test_keywords_make_options_and_the_rest_are_extra_fields() -> None:
    options = UploadOptions.from_keywords(
        {"checksum": False, "chunk_size_bytes": 512, "author": "ann", "filename": "a"}
    )
    assert (options.checksum, options.chunk_size, options.filename) == (False, 512, "a")
    assert dict(options.extra) == {"author": "ann"}
    assert options.but(extra={}).extra == {}
    derived = options.for_derived_file()
    assert (derived.checksum, derived.chunk_size, derived.filename, dict(derived.extra)) == (
        False,
        512,
        None,
        {},
    )


@pytest.mark.parametrize(
    ("keywords", "error", "text"),
    [
        ({"filename": 3}, TypeError, "filename must be a str, not int"),
        ({"content_type": b"x"}, TypeError, "content_type must be a str, not bytes"),
        ({"metadata": [1]}, TypeError, "metadata must be a mapping, not list"),
        ({"file_id": {"$ne": None}}, TypeError, "operator key '$ne'"),
        ({"chunk_size": True}, TypeError, "chunk_size must be an int, not bool"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be between 1 and"),
        ({"checksum": 1}, TypeError, "checksum must be True or False, not 1"),
        ({"encoding": "no-such-codec"}, LookupError, "no-such-codec"),
        ({"aliases": "a"}, TypeError, "aliases must be a list of str, not str"),
        ({"max_size": 1.5}, TypeError, "max_size must be an int, not float"),
        ({"max_size": -1}, ValueError, "max_size must not be negative"),
        ({"content_types": "image/*"}, TypeError, "a single str given"),
        ({"on_progress": 3}, TypeError, "on_progress must be callable, not int"),
        ({"total": False}, TypeError, "total must be an int, not bool"),
        ({"total": -2}, ValueError, "total must not be negative, got -2"),
        ({"upload_date": datetime(2020, 1, 1)}, ValueError, "has no time zone"),
        ({"upload_date": "2020-01-01"}, TypeError, "must be a datetime.datetime, not str"),
    ],
)
def test_a_bad_option_is_refused_when_the_value_is_made(
    keywords: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as refused:
        UploadOptions(**keywords)
    assert text in str(refused.value)


def test_a_calls_limits_take_over_from_the_stores() -> None:
    base = UploadLimits(100, ("image/*",), label="Animal.photo")
    assert UploadOptions().limits_over(base) is base
    mine = UploadOptions(max_size=10).limits_over(base)
    assert (mine.max_size, mine.content_types, mine.label) == (10, ("image/*",), "Animal.photo")


ZONES = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES))
def test_an_upload_date_is_kept_as_the_same_moment_in_utc_at_milliseconds(when: datetime) -> None:
    stored = UploadOptions(upload_date=when).upload_date
    assert stored is not None and stored.tzinfo == timezone.utc
    assert stored.microsecond % 1000 == 0
    assert timedelta(0) <= when - stored < timedelta(milliseconds=1)
    assert UploadOptions(upload_date=stored).upload_date == stored  # already checked: as is
    assert UploadOptions.from_keywords({"upload_date": when}).extra == {}  # an option
