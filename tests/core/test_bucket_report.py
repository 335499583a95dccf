"""The bucket check's bookkeeping: grace periods, id keys, orphan groups and the report."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import Int64, ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.bucket_report import (
    BucketReport,
    DamagedFile,
    OrphanTracker,
    as_utc,
    check_grace,
    id_key,
    older_than,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def made_at(when: datetime) -> ObjectId:
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + os.urandom(8))


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 7200)),  # (files_id, seconds ago)
        max_size=40,
    ),
    st.integers(0, 7200),
)
def test_groups_split_by_their_newest_chunk(chunks: list[tuple[int, int]], grace_s: int) -> None:
    tracker = OrphanTracker()
    for files_id, ago in chunks:
        tracker.add({"_id": made_at(NOW - timedelta(seconds=ago)), "files_id": files_id})
    grace = timedelta(seconds=grace_s)
    orphans, young = tracker.split(NOW, grace)
    newest = {f: min(a for g, a in chunks if g == f) for f, _ in chunks}
    want = {f for f, ago in newest.items() if ago > grace_s}
    assert {o.files_id for o in orphans} == want
    assert young == len(newest) - len(want)
    for orphan in orphans:
        assert orphan.chunks == sum(1 for g, _ in chunks if g == orphan.files_id)


def test_chunks_of_unknown_age_are_never_orphans() -> None:
    tracker = OrphanTracker()
    tracker.add({"_id": "not-an-objectid", "files_id": 1})
    assert tracker.split(NOW, timedelta(0)) == ([], 1)
    assert older_than(None, NOW, timedelta(0)) is False


def test_naive_and_aware_times_compare_as_utc() -> None:
    naive = datetime(2026, 6, 1, 10, 0)
    assert as_utc(naive) == datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)
    assert older_than(naive, NOW, timedelta(hours=1))
    assert not older_than(naive, NOW, timedelta(hours=2))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1, 1.0, True),
        (1, Int64(1), True),
        (1, True, False),
        ("1", 1, False),
        ({"k": 1}, {"k": 1}, True),
        ({"k": 1}, {"k": 2}, False),
        (ObjectId("0" * 24), ObjectId("0" * 24), True),
    ],
)
def test_id_keys_match_as_the_server_matches(a: Any, b: Any, same: bool) -> None:
    assert (id_key(a) == id_key(b)) is same


def test_grace_must_be_a_non_negative_timedelta() -> None:
    assert check_grace(timedelta(0)) == timedelta(0)
    with pytest.raises(TypeError, match="grace must be a timedelta, not int"):
        check_grace(3600)
    with pytest.raises(ValueError, match="grace must not be negative"):
        check_grace(timedelta(seconds=-1))


def test_the_summary_says_what_was_found() -> None:
    report = BucketReport(bucket="db.fs", grace=timedelta(hours=1), files_checked=3)
    assert report.clean
    assert "not checked" in report.summary()
    report.damaged_files.append(DamagedFile(1, "a.txt", "file 1: chunk 0 is missing"))
    report.documents_scanned = ["Animal"]
    assert not report.clean
    text = report.summary()
    assert "damaged files: 1" in text
    assert "chunk 0 is missing" in text
    assert "found in Animal" in text
