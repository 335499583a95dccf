"""What a deleting sweep and open uploads agree on: the timing, registrations, chunk counts,
and the bookkeeping the sweep's second phase uses (ancestors, open uploads' orphans)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.bucket_report import ChildFiles, OrphanTracker, id_key
from gridfield.core.sweeping import (
    DEFAULT_SWEEP_TIMING,
    SweepTiming,
    expected_chunks,
    registration,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_the_default_timing() -> None:
    timing = DEFAULT_SWEEP_TIMING
    assert timing.min_grace == timedelta(minutes=1)
    assert timing.register_after == timedelta(seconds=15)
    assert timing.lease == timedelta(hours=1)
    assert timing.hold == timedelta(minutes=1)


@given(
    st.integers(0, 10_000),  # min_grace, seconds
    st.floats(0, 0.99),
    st.integers(0, 10_000),  # grace, seconds
)
def test_a_deleting_sweep_takes_any_grace_from_the_smallest_on(
    min_s: int, fraction: float, grace_s: int
) -> None:
    timing = SweepTiming(
        min_grace=timedelta(seconds=min_s),
        register_fraction=fraction,
        lease=timedelta(seconds=min_s + 1),
    )
    # an upload registers before a sweep could find its chunks old
    assert timing.register_after < timing.min_grace or min_s == 0
    grace = timedelta(seconds=grace_s)
    if grace_s >= min_s:
        assert timing.check_sweep_grace(grace) == grace
    else:
        with pytest.raises(ValueError, match="a deleting sweep needs a grace of at least"):
            timing.check_sweep_grace(grace)


def test_bad_timings_are_refused_when_made() -> None:
    with pytest.raises(TypeError, match="min_grace must be a timedelta, not int"):
        SweepTiming(min_grace=60)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hold must not be negative"):
        SweepTiming(hold=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="register_fraction must be at least 0 and below 1"):
        SweepTiming(register_fraction=1.0)
    with pytest.raises(TypeError, match="register_fraction must be a number, not str"):
        SweepTiming(register_fraction="0.5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lease \(0:00:10\) must be longer than"):
        SweepTiming(lease=timedelta(seconds=10))  # refreshed every 15 s: it would lapse


def test_a_registration_names_its_file_and_its_lease() -> None:
    entry, files_id = ObjectId(), ObjectId()
    started = NOW - timedelta(minutes=3)
    doc = registration(entry, files_id, started, NOW, timedelta(hours=1))
    assert doc == {
        "_id": entry,
        "files_id": files_id,
        "started": started,
        "refreshed": NOW,
        "expires": NOW + timedelta(hours=1),
    }


@given(st.integers(0, 10**9), st.integers(1, 2**24))
def test_expected_chunks_cover_the_length_exactly(length: int, chunk_size: int) -> None:
    count = expected_chunks(length, chunk_size)
    assert (count - 1) * chunk_size < length <= count * chunk_size or (length == count == 0)


def made_at(when: datetime) -> ObjectId:
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + os.urandom(8))


@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=30), st.sets(st.integers(0, 5))
)
def test_the_chunks_of_open_uploads_are_never_orphans(
    chunks: list[tuple[int, bool]], open_ids: set[int]
) -> None:
    tracker = OrphanTracker()
    for files_id, old in chunks:
        when = NOW - (timedelta(hours=2) if old else timedelta(0))
        tracker.add({"_id": made_at(when), "files_id": files_id})
    orphans, left = tracker.split(NOW, timedelta(hours=1), {id_key(i) for i in open_ids})
    groups = {files_id for files_id, _ in chunks}
    newest_old = {f for f in groups if all(old for g, old in chunks if g == f)}
    assert {o.files_id for o in orphans} == newest_old - open_ids
    assert left == len(groups) - len(orphans)


def test_ancestors_follow_thumbnails_and_variants_up() -> None:
    children = ChildFiles()
    children.note({"_id": "root", "thumbnail_id": "a"})
    children.note({"_id": "a", "variants": {"x": "b"}})
    children.note({"_id": "c", "thumbnail_id": "d"})
    children.note({"_id": "d", "thumbnail_id": "c"})  # a loop ends
    assert children.ancestors(id_key("b")) == {id_key("a"), id_key("root")}
    assert children.ancestors(id_key("a")) == {id_key("root")}
    assert children.ancestors(id_key("root")) == set()
    assert children.ancestors(id_key("c")) == {id_key("d")}
