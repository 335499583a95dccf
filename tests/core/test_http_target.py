"""What a bucket app's path names, and which requests are plain GETs: any segment, any
headers, decided without I/O and without decoding the path a second time."""

from __future__ import annotations

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.http.target import Target, bucket_target, object_id_or_none, plain_get

PRECONDITIONS = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]
segments = st.text(max_size=40)


@given(st.binary(min_size=12, max_size=12))
def test_every_object_id_round_trips_through_its_hex(raw: bytes) -> None:
    oid = ObjectId(raw)
    assert object_id_or_none(str(oid)) == oid
    assert bucket_target(str(oid), "id") == Target(file_id=oid)
    assert bucket_target("/" + str(oid), "id") == Target(file_id=oid)


@given(segments)
def test_an_id_segment_names_an_object_id_or_nothing(segment: str) -> None:
    target = bucket_target(segment, "id")
    assert target.filename is None
    if target.file_id is None:
        assert target.names_nothing
    else:
        assert str(target.file_id) == segment.lstrip("/").lower()


@given(segments)
def test_a_filename_segment_is_taken_as_it_stands(segment: str) -> None:
    # The server decoded the path once already: "%41" stays "%41", never "A".
    target = bucket_target(segment, "filename")
    name = segment.lstrip("/")
    assert target == (Target(filename=name) if name else Target())
    assert target.names_nothing == (name == "")


def test_percent_signs_survive_in_filenames() -> None:
    assert bucket_target("a%41.txt", "filename").filename == "a%41.txt"
    assert (
        bucket_target("/r\u00e9sum\u00e9 1+1.pdf", "filename").filename
        == "r\u00e9sum\u00e9 1+1.pdf"
    )


def test_an_unknown_lookup_is_refused() -> None:
    with pytest.raises(ValueError, match="lookup"):
        bucket_target("x", "name")


@given(
    st.sampled_from(["GET", "get", "HEAD", "POST", "PUT"]),
    st.dictionaries(
        st.sampled_from([*PRECONDITIONS, "accept", "user-agent"]), st.text(max_size=5), max_size=4
    ),
)
def test_a_plain_get_is_a_get_without_range_or_precondition(
    method: str, headers: dict[str, str]
) -> None:
    expected = method.upper() == "GET" and not any(name in headers for name in PRECONDITIONS)
    assert plain_get(method, headers) is expected
