"""Deduplication: scopes, declared hashes, digest keys, the claims a backfill takes and the
filter a stored copy must pass."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.dedup import (
    BACKFILL_MARK,
    backfill_claims,
    check_declared,
    check_scope,
    claim_key_of,
    copy_filter,
    dedup_filter,
    digest_key,
)

NOW = datetime(2030, 5, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("scope", [1, b"tenant", ("a",), object()])
def test_a_scope_must_be_a_str(scope: object) -> None:
    with pytest.raises(TypeError, match="scope must be a str naming who may share files"):
        check_scope(scope)


@given(st.text())
def test_any_str_is_a_scope(scope: str) -> None:
    assert check_scope(scope) == scope


def test_declared_hash_and_length_come_together() -> None:
    assert check_declared(None, None) is None
    assert check_declared("AB" * 32, 3) == ("ab" * 32, 3)
    with pytest.raises(ValueError, match="give sha256 and length together"):
        check_declared("a" * 64, None)
    with pytest.raises(ValueError, match="64 hex digits"):
        check_declared("a" * 63, 1)
    with pytest.raises(TypeError, match="length must be an int, not bool"):
        check_declared("a" * 64, True)
    with pytest.raises(ValueError, match="must not be negative"):
        check_declared("a" * 64, -1)


def test_the_lookup_names_hash_length_and_scope_and_asks_a_long_enough_life() -> None:
    never = dedup_filter("a" * 64, 5, "s", None)
    assert never == {
        "gridfield.sha256": "a" * 64,
        "length": 5,
        "gridfield.scope": "s",
        "gridfield.expireAt": {"$exists": False},
    }
    until = NOW + timedelta(days=1)
    limited = dedup_filter("a" * 64, 5, "s", until)
    assert limited["$or"] == [
        {"gridfield.expireAt": {"$exists": False}},
        {"gridfield.expireAt": {"$gte": until}},
    ]


_DIGESTS = st.text("0123456789abcdef", min_size=64, max_size=64)
_KEYS = st.tuples(st.text(), _DIGESTS, st.integers(min_value=0, max_value=2**53))


@given(_KEYS, _KEYS)
def test_digest_keys_differ_whenever_scope_hash_or_length_differ(
    one: tuple[str, str, int], other: tuple[str, str, int]
) -> None:
    assert (digest_key(*one) == digest_key(*other)) == (one == other)
    assert digest_key(*one) != BACKFILL_MARK


def test_a_copy_is_checked_by_its_id_bytes_scope_and_life() -> None:
    query = copy_filter("id-1", "a" * 64, 5, "s", None)
    assert query == {"_id": {"$eq": "id-1"}, **dedup_filter("a" * 64, 5, "s", None)}
    with pytest.raises(TypeError, match="operator key"):
        copy_filter({"$ne": None}, "a" * 64, 5, "s", None)


def _files_doc(
    file_id: object, scope: object, *, expire_at: object = None, **more: object
) -> dict[str, object]:
    ours: dict[str, object] = {"sha256": "b" * 64}
    if scope is not None:
        ours["scope"] = scope
    if expire_at is not None:
        ours["expireAt"] = expire_at
    return {
        "_id": file_id,
        "length": 5,
        "chunkSize": 255 * 1024,
        "uploadDate": NOW - timedelta(days=1),
        "gridfield": ours,
        **more,
    }


def test_a_backfill_claims_each_key_for_its_longest_lived_unexpired_file() -> None:
    docs = [
        _files_doc(1, "s", expire_at=NOW + timedelta(hours=1)),
        _files_doc(2, "s"),  # never expires: the one to share
        _files_doc(3, "s", expire_at=NOW + timedelta(days=9)),
        _files_doc(4, "t", expire_at=NOW + timedelta(hours=1)),
        _files_doc(5, "t", expire_at=NOW + timedelta(hours=2)),
        _files_doc(6, "u", expire_at=NOW - timedelta(seconds=1)),  # expired: none
        _files_doc(7, None),  # no scope: none
        _files_doc(8, 42),  # not our shape: none
        {**_files_doc(9, "v"), "chunkSize": 0},  # damaged: the bucket check's
    ]
    claims = backfill_claims(docs, NOW)
    assert {c["_id"]: c["file_id"] for c in claims} == {
        digest_key("s", "b" * 64, 5): 2,
        digest_key("t", "b" * 64, 5): 5,
    }
    assert all(c["at"] == NOW - timedelta(days=1) for c in claims)  # dated by the upload
    assert backfill_claims([], NOW) == []


def test_the_key_of_a_deleted_file_comes_from_its_files_document() -> None:
    assert claim_key_of(_files_doc(1, "s")) == digest_key("s", "b" * 64, 5)
    assert claim_key_of(_files_doc(1, None)) is None
    assert claim_key_of({"_id": 1, "length": 5, "chunkSize": 4}) is None
