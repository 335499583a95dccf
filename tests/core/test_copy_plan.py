"""The copy's decisions without I/O: names a path can hold, destination names, what to do
with a name already there, the ids of copies, the manifest."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import Int64, ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.copy_plan import (
    Action,
    CopyOptions,
    CopyRefused,
    SourceFile,
    copied_file_id,
    decide,
    destination_names,
    dump_manifest,
    in_order_dates,
    manifest_record,
    path_name_problem,
    read_manifest,
    revision_path,
)

digests = st.sampled_from(["a" * 64, "b" * 64, "c" * 64])
segments = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
).filter(lambda s: s not in (".", "..", ".gridfield"))


def _file(name: str, revision: int = 0, revisions: int = 1, **kw: Any) -> SourceFile:
    return SourceFile(
        name=name,
        revision=revision,
        revisions=revisions,
        length=1,
        sha256=None,
        content_type=None,
        upload_date=None,
        metadata={},
        key=name,
        handle=name,
        **kw,
    )


@given(st.lists(segments, min_size=1, max_size=5))
def test_plain_relative_paths_are_accepted(parts: list[str]) -> None:
    assert path_name_problem("/".join(parts)) is None


@given(st.lists(segments, max_size=3), st.sampled_from(["..", ".", "", "a\x00b", "a\\b"]))
def test_names_that_escape_or_cannot_be_paths_are_refused(parts: list[str], bad: str) -> None:
    assert path_name_problem("/".join([*parts, bad])) is not None


def test_lengths_and_the_manifest_folder() -> None:
    assert "255 bytes" in (path_name_problem("é" * 128) or "")
    assert "4000 bytes" in (path_name_problem("/".join(["x" * 200] * 21)) or "")
    assert "manifest" in (path_name_problem(".gridfield/files/a.json") or "")
    assert path_name_problem("a/.gridfield/b") is None


@given(st.lists(digests, min_size=1, max_size=5), st.integers(0, 5), st.booleans())
def test_a_prefix_of_the_source_is_resumed(wanted: list[str], done: int, overwrite: bool) -> None:
    done = min(done, len(wanted))
    action, kept = decide(wanted, wanted[:done], overwrite=overwrite)
    if done == 0:
        assert (action, kept) == (Action.COPY, 0)
    elif done == len(wanted):
        assert (action, kept) == (Action.SKIP, done)
    else:
        assert (action, kept) == (Action.COPY, done)


@given(st.lists(digests, min_size=1, max_size=4), st.lists(digests, min_size=1, max_size=6))
def test_anything_else_is_other_bytes(wanted: list[str], present: list[str]) -> None:
    action, kept = decide(wanted, present, overwrite=False)
    is_prefix = len(present) <= len(wanted) and wanted[: len(present)] == present
    assert (action is Action.CONFLICT) == (not is_prefix)
    if not is_prefix:
        assert decide(wanted, present, overwrite=True) == (Action.OVERWRITE, 0)
        assert kept == 0
    assert decide([None], ["a" * 64], overwrite=False)[0] is Action.CONFLICT


@given(st.text(max_size=30), st.text(max_size=30), st.integers(0, 100))
def test_copied_ids_are_the_same_on_every_run(key: str, name: str, revision: int) -> None:
    first = copied_file_id(key, "db.fs", name, revision)
    assert first == copied_file_id(key, "db.fs", name, revision)
    assert first != copied_file_id(key, "db.fs", name, revision + 1)
    assert isinstance(first, ObjectId)


def test_destination_names_take_the_prefix_and_refuse_clashes() -> None:
    named = destination_names([_file("b", 1, 2), _file("b", 0, 2), _file("c/d")], "x/", paths=False)
    assert list(named) == ["x/b", "x/c/d"]
    assert [f.revision for f in named["x/b"]] == [0, 1]
    with pytest.raises(CopyRefused, match="would both be copied to 'a'"):
        destination_names([_file("a"), _file("/a")], "", paths=True)
    with pytest.raises(CopyRefused, match="both a file and a folder"):
        destination_names([_file("a"), _file("a/b")], "", paths=True)
    with pytest.raises(CopyRefused, match=r"'\.\./up' cannot be a path"):
        destination_names([_file("../up"), _file("fine")], "", paths=True)
    assert list(destination_names([_file("../up")], "", paths=False)) == ["../up"]


def test_revision_paths() -> None:
    assert revision_path("a/b", 2, 3) == "a/b"
    assert revision_path("a/b", 0, 3) == ".gridfield/revisions/0/a/b"


def test_the_manifest_round_trips_bson_values() -> None:
    when = datetime(2021, 3, 4, 5, 6, 7, 8000, tzinfo=timezone.utc)
    file = SourceFile(
        name="a.txt",
        revision=0,
        revisions=1,
        length=3,
        sha256=None,
        content_type="text/plain",
        upload_date=when,
        metadata={"id": ObjectId(), "big": Int64(2**40), "at": when},
        key="k",
        handle="h",
        aliases=["z"],
        extra={"owner": "o"},
    )
    record = manifest_record(file, path="a.txt", sha256="d" * 64)
    name, records = read_manifest(dump_manifest("a.txt", [record]), "m.json")
    assert name == "a.txt" and records == [record]
    with pytest.raises(ValueError, match=r"m\.json: not a copy manifest"):
        read_manifest(b"{not json", "m.json")
    with pytest.raises(ValueError, match="version 1"):
        read_manifest(b'{"version": 9}', "m.json")


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="between 1 and 64"):
        CopyOptions(workers=0)
    with pytest.raises(TypeError, match="dry_run must be True or False"):
        CopyOptions(dry_run="yes")  # type: ignore[arg-type]


MILLISECOND = timedelta(milliseconds=1)
BSON_DATES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2000, 1, 1, 0, 0, 0, 20_000)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=timezone.utc))


@given(
    st.lists(BSON_DATES | st.none(), max_size=12).map(
        lambda dates: sorted(dates, key=lambda d: (d is not None, d))  # as a source lists them
    )
)
def test_copied_dates_keep_the_revisions_order_and_move_only_ties(
    dates: list[datetime | None],
) -> None:
    out = in_order_dates(dates)
    assert len(out) == len(dates)
    assert [d is None for d in out] == [d is None for d in dates]
    pairs = [(asked, kept) for asked, kept in zip(dates, out, strict=True) if asked is not None]
    kept_dates = [kept for _, kept in pairs]
    assert all(a < b for a, b in itertools.pairwise(kept_dates))  # strictly in order
    for (asked, kept), previous in zip(pairs, [None, *kept_dates][: len(pairs)], strict=True):
        assert kept is not None and kept >= asked
        # A date moves only when it would not be after the one before, and then by 1 ms.
        if previous is None or asked > previous:
            assert kept == asked
        else:
            assert kept == previous + MILLISECOND


def test_copied_dates_of_a_naive_source_are_utc() -> None:
    naive = datetime(2020, 1, 1, 12, 0)
    assert in_order_dates([naive, naive]) == [
        naive.replace(tzinfo=timezone.utc),
        naive.replace(tzinfo=timezone.utc) + MILLISECOND,
    ]
