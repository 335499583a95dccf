"""Leases, pure: their stored shape and when they lapse."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.leases import free_filter, lapsed, lease_document, lease_value

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_a_lease_document_is_keyed_by_its_key_and_names_its_holder() -> None:
    doc = lease_document("f", "t", NOW, timedelta(seconds=30), {"by": "save"})
    assert doc == {
        "_id": "f",
        "by": "save",
        "token": "t",
        "at": NOW,
        "until": NOW + timedelta(seconds=30),
    }
    # The key and the token are the lease's own: fields cannot override them.
    assert lease_document("f", "t", NOW, timedelta(1), {"_id": "g", "token": "u"})["_id"] == "f"
    assert lease_value("t", NOW, timedelta(seconds=5)) == {
        "token": "t",
        "until": NOW + timedelta(seconds=5),
    }


@given(st.integers(0, 10_000), st.integers(-10_000, 10_000))
def test_a_lease_lapses_at_its_until(lapse_s: int, age_s: int) -> None:
    lapse = timedelta(seconds=lapse_s)
    taken = NOW - timedelta(seconds=age_s)
    doc = lease_document("k", "t", taken, lapse, {})
    assert lapsed(doc, NOW, lapse) == (taken + lapse <= NOW)
    naive = {**doc, "until": doc["until"].replace(tzinfo=None)}  # as BSON dates come back
    assert lapsed(naive, NOW, lapse) == lapsed(doc, NOW, lapse)


def test_a_lease_that_names_only_when_it_was_taken_lapses_after_the_lapse() -> None:
    lapse = timedelta(seconds=30)
    assert not lapsed({"at": NOW - timedelta(seconds=29)}, NOW, lapse)
    assert lapsed({"at": NOW - timedelta(seconds=31)}, NOW, lapse)
    naive = NOW.replace(tzinfo=None) - timedelta(seconds=10)
    assert not lapsed({"at": naive}, NOW, lapse)
    assert lapsed({"at": "not a date"}, NOW, lapse)  # unreadable: nobody's
    assert lapsed(None, NOW, lapse)


def test_a_free_lease_field_is_none_or_lapsed() -> None:
    assert free_filter(NOW) == {"$or": [{"lease": None}, {"lease.until": {"$lte": NOW}}]}
