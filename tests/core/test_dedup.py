"""Deduplication: scopes, declared hashes and the lookup's filter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.dedup import check_declared, check_scope, dedup_filter

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
