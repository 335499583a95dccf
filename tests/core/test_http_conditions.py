"""Validators, HTTP dates and preconditions, per RFC 9110."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.files_document import FileInfo
from gridfield.core.http import (
    entity_tag,
    format_http_date,
    if_range_holds,
    last_modified,
    parse_entity_tags,
    parse_http_date,
    precondition_status,
)

ETAG = '"abc"'
WHEN = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
dates = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=0))


def _status(method: str = "GET", **headers: str) -> int | None:
    named = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    return precondition_status(method, named, ETAG, WHEN)


@given(when=dates)
def test_http_dates_round_trip(when: datetime) -> None:
    text = format_http_date(when)
    assert text.endswith(" GMT") and len(text) == 29
    assert parse_http_date(text) == when


def test_the_three_date_forms_of_rfc_9110() -> None:
    want = datetime(1994, 11, 6, 8, 49, 37, tzinfo=timezone.utc)
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == want
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == want
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == want
    for bad in ["", "yesterday", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT"]:
        assert parse_http_date(bad) is None


@given(text=st.text(max_size=40))
def test_any_date_text_parses_or_is_none(text: str) -> None:
    result = parse_http_date(text)
    assert result is None or result.tzinfo is not None


@given(text=st.text(max_size=60))
def test_any_entity_tag_list_parses(text: str) -> None:
    tags = parse_entity_tags(text)
    for _weak, opaque in tags or []:
        assert opaque.startswith('"') and opaque.endswith('"') and len(opaque) >= 2


def test_etags_are_strong_from_the_hash_or_the_identity() -> None:
    hashed = FileInfo(ObjectId(), 10, 255, upload_date=WHEN, sha256="AB" * 32)
    assert entity_tag(hashed) == '"' + "ab" * 32 + '"'
    oid = ObjectId()
    plain = FileInfo(oid, 10, 255, upload_date=WHEN)
    tag = entity_tag(plain)
    assert tag.startswith('"') and not tag.startswith("W/")
    assert entity_tag(FileInfo(oid, 10, 255, upload_date=WHEN)) == tag
    assert entity_tag(FileInfo(ObjectId(), 10, 255, upload_date=WHEN)) != tag
    assert entity_tag(FileInfo(oid, 11, 255, upload_date=WHEN)) != tag


def test_last_modified_is_utc_to_the_second() -> None:
    naive = datetime(2024, 3, 1, 12, 0, 0, 987000)  # as PyMongo returns it
    assert last_modified(FileInfo(1, 0, 255, upload_date=naive)) == WHEN
    assert last_modified(FileInfo(1, 0, 255)) is None


def test_if_match_then_if_unmodified_since() -> None:
    assert _status(if_match=ETAG) is None
    assert _status(if_match='"x", "abc"') is None
    assert _status(if_match="*") is None
    assert _status(if_match='"x"') == 412
    assert _status(if_match='W/"abc"') == 412  # strong comparison
    assert _status(if_unmodified_since=format_http_date(WHEN - timedelta(seconds=1))) == 412
    assert _status(if_unmodified_since=format_http_date(WHEN)) is None
    # If-Match present: If-Unmodified-Since is not evaluated.
    assert _status(if_match=ETAG, if_unmodified_since="Sun, 06 Nov 1994 08:49:37 GMT") is None
    assert _status(if_unmodified_since="garbage") is None


def test_if_none_match_then_if_modified_since() -> None:
    assert _status(if_none_match=ETAG) == 304
    assert _status(if_none_match='W/"abc"') == 304  # weak comparison
    assert _status("HEAD", if_none_match="*") == 304
    assert _status("POST", if_none_match=ETAG) == 412
    assert _status(if_none_match='"x"') is None
    assert _status(if_modified_since=format_http_date(WHEN)) == 304
    assert _status(if_modified_since=format_http_date(WHEN - timedelta(seconds=1))) is None
    # If-None-Match present: If-Modified-Since is not evaluated.
    assert _status(if_none_match='"x"', if_modified_since=format_http_date(WHEN)) is None
    # If-Match fails first, whatever If-None-Match says.
    assert _status(if_match='"x"', if_none_match=ETAG) == 412


def test_if_range() -> None:
    assert if_range_holds(None, ETAG, WHEN)
    assert if_range_holds(ETAG, ETAG, WHEN)
    assert not if_range_holds('W/"abc"', ETAG, WHEN)
    assert not if_range_holds('"x"', ETAG, WHEN)
    assert if_range_holds(format_http_date(WHEN), ETAG, WHEN)
    assert not if_range_holds(format_http_date(WHEN - timedelta(seconds=1)), ETAG, WHEN)
    assert not if_range_holds("garbage", ETAG, WHEN)
    assert not if_range_holds(format_http_date(WHEN), ETAG, None)
