"""Expiry: what an upload may ask, the moment stored, reads and filters after it, and the
HTTP caching that never outlives it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.expiry import (
    check_expiry,
    expired_message,
    expiry_cache_headers,
    expiry_moment,
    is_expired,
    parse_duration,
    ttl_refused,
)
from gridfield.core.files_document import FileInfo
from gridfield.core.http import decide, plan_response

NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_refusals_name_the_mistake() -> None:
    later = NOW + timedelta(hours=1)
    with pytest.raises(ValueError, match="expire_at or expire_after, not both"):
        check_expiry(later, timedelta(hours=1), now=NOW)
    with pytest.raises(ValueError, match="has no time zone"):
        check_expiry(datetime(2031, 1, 1), now=NOW)
    with pytest.raises(ValueError, match="is not in the future"):
        check_expiry(NOW - timedelta(seconds=1), now=NOW)
    with pytest.raises(ValueError, match="is not in the future"):
        check_expiry(NOW, now=NOW)
    with pytest.raises(ValueError, match="more than zero"):
        check_expiry(expire_after=timedelta(0))
    with pytest.raises(TypeError, match=r"expire_after must be a datetime\.timedelta, not int"):
        check_expiry(expire_after=3600)
    with pytest.raises(TypeError, match=r"expire_at must be a datetime\.datetime, not str"):
        check_expiry("2031-01-01T00:00:00Z")
    with pytest.raises(ValueError, match="past the year 9999"):
        check_expiry(expire_after=timedelta(days=3_000_000))
    assert check_expiry() is None


@given(st.datetimes(min_value=datetime(2031, 1, 1), max_value=datetime(9000, 1, 1)))
def test_an_aware_moment_is_kept_in_utc_at_milliseconds(moment: datetime) -> None:
    given_at = moment.replace(tzinfo=timezone(timedelta(hours=5)))
    checked = check_expiry(given_at, now=NOW)
    assert isinstance(checked, datetime)
    assert checked.tzinfo == timezone.utc
    assert checked.microsecond % 1000 == 0
    assert timedelta(0) <= given_at - checked < timedelta(milliseconds=1)
    assert expiry_moment(checked, NOW) == checked


@given(st.timedeltas(min_value=timedelta(milliseconds=1), max_value=timedelta(days=3650)))
def test_a_duration_counts_from_the_upload_date(after: timedelta) -> None:
    assert check_expiry(expire_after=after) == after
    moment = expiry_moment(after, NOW.replace(tzinfo=None))  # BSON dates read back naive
    assert moment is not None
    assert timedelta(0) <= NOW + after - moment < timedelta(milliseconds=1)
    assert not is_expired(moment, NOW) or after < timedelta(milliseconds=1)
    assert is_expired(moment, NOW + after)


def test_no_expiry_never_expires() -> None:
    assert not is_expired(None, datetime.max.replace(tzinfo=timezone.utc))
    text = expired_message("file 1 in fs.files", NOW)
    assert text == "file 1 in fs.files expired at 2030-05-01T12:00:00.000+00:00"


def test_files_document_keeps_expiry_and_scope_under_our_key() -> None:
    info = FileInfo.for_upload(
        file_id=ObjectId(),
        length=3,
        chunk_size=255,
        upload_date=NOW,
        filename=None,
        metadata={},
        content_type=None,
        sha256="a" * 64,
        expire_at=NOW,
        scope="tenant-1",
    )
    doc = info.to_document()
    assert doc["gridfield"] == {"sha256": "a" * 64, "expireAt": NOW, "scope": "tenant-1"}
    back = FileInfo.from_document(doc)
    assert (back.sha256, back.expire_at, back.scope) == ("a" * 64, NOW, "tenant-1")
    assert "gridfield" not in back.extra
    assert FileInfo.expiry_of(doc) == NOW
    # Another writer's value under our key is kept as it is, and no expiry is read from it.
    odd = dict(doc, gridfield={"expireAt": "tomorrow"})
    read = FileInfo.from_document(odd)
    assert read.expire_at is None and read.extra["gridfield"] == {"expireAt": "tomorrow"}
    assert FileInfo.from_document(read.to_document()).extra == read.extra


@given(
    st.integers(0, 10**7),
    st.one_of(st.none(), st.sampled_from(["public", "private", "no-store", "max-age=60"])),
    st.integers(0, 10**8),
)
def test_no_cache_keeps_a_file_past_its_expiry(left: int, control: str | None, asked: int) -> None:
    expire_at = NOW + timedelta(seconds=left)
    if control is None and asked % 2:
        control = f"public, max-age={asked}, s-maxage={asked}"
    headers = dict(expiry_cache_headers(control, expire_at, NOW))
    assert headers["Expires"] == format_expires(expire_at)
    cache = headers["Cache-Control"]
    for part in cache.split(","):
        name, _, value = part.strip().partition("=")
        if name in ("max-age", "s-maxage"):
            assert int(value) <= left
    assert "max-age" in cache or "no-store" in cache


def format_expires(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_without_expiry_cache_control_is_as_given() -> None:
    assert expiry_cache_headers(None, None, NOW) == []
    assert expiry_cache_headers("max-age=99", None, NOW) == [("Cache-Control", "max-age=99")]


def test_served_file_carries_expires_on_200_and_304() -> None:
    info = FileInfo(
        ObjectId(), 10, 255, upload_date=NOW, sha256="b" * 64, expire_at=NOW + timedelta(hours=1)
    )
    ok = plan_response(decide(info, "GET", {}), cache_control="max-age=86400", now=NOW)
    assert ok.header("Cache-Control") == "max-age=3600"
    assert ok.header("Expires") == "Wed, 01 May 2030 13:00:00 GMT"
    etag = ok.header("ETag")
    assert etag is not None
    cached = plan_response(decide(info, "GET", {"if-none-match": etag}), now=NOW)
    assert cached.status == 304
    assert cached.header("Expires") == "Wed, 01 May 2030 13:00:00 GMT"
    assert cached.header("Cache-Control") == "max-age=3600"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("90m", 5400), ("1h", 3600), ("2d12h", 216000), ("1w", 604800), ("1H", 3600)],
)
def test_durations_of_the_command_line(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "h", "1.5h", "-1h", "1h 2m", "1y"])
def test_bad_durations_say_what_is_taken(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration like 30s, 90m, 1h"):
        parse_duration(text)


def test_ttl_refusal_is_ferretdbs_not_implemented() -> None:
    assert ttl_refused(238, 'Index option "expireAfterSeconds" is not implemented yet')
    assert not ttl_refused(85, "Index with name: x already exists with different options")
