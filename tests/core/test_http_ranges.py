"""The Range header: any header against any file length gives spans inside the file."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.http import (
    MAX_RANGES,
    ByteSpan,
    object_id_or_none,
    parse_range,
    read_steps,
)

lengths = st.integers(min_value=0, max_value=10**7)
numbers = st.integers(min_value=0, max_value=2 * 10**7).map(str)
# A range-spec as clients write it, and the mistakes they make.
specs = st.one_of(
    st.tuples(numbers, numbers).map(lambda t: f"{t[0]}-{t[1]}"),
    numbers.map(lambda n: f"{n}-"),
    numbers.map(lambda n: f"-{n}"),
    st.sampled_from(
        ["", "-", "--1", "1--2", "a-b", "1-2-3", " 5-6", "0x10-", "\u0661-\u0662", "1 -2"]
    ),
)
headers = st.one_of(
    st.lists(specs, min_size=1, max_size=20).map(lambda s: "bytes=" + ",".join(s)),
    st.text(max_size=60),
    st.text(max_size=60).map(lambda t: "bytes=" + t),
)


@given(length=lengths, header=headers)
def test_any_header_gives_spans_inside_the_file(length: int, header: str) -> None:
    asked = parse_range(header, length)
    if asked.ignored or asked.unsatisfiable:
        assert asked.spans == ()
        assert not (asked.ignored and asked.unsatisfiable)
        return
    assert 1 <= len(asked.spans) <= MAX_RANGES
    for span in asked.spans:
        assert 0 <= span.start < span.end <= length
    ordered = sorted(asked.spans)
    for a, b in itertools.pairwise(ordered):
        assert a.end < b.start  # merged: no overlap, no touching


@given(data=st.binary(max_size=3000), header=headers)
def test_the_bytes_of_the_spans_are_the_files(data: bytes, header: str) -> None:
    asked = parse_range(header, len(data))
    for span in asked.spans:
        piece = data[span.start : span.end]
        assert len(piece) == span.size > 0


@given(
    length=st.integers(min_value=1, max_value=10**6),
    first=st.integers(0, 2 * 10**6),
    size=st.integers(0, 10**6),
)
def test_a_single_range_means_what_rfc_9110_says(length: int, first: int, size: int) -> None:
    last = first + size
    asked = parse_range(f"bytes={first}-{last}", length)
    if first >= length:
        assert asked.unsatisfiable
    else:
        assert asked.spans == (ByteSpan(first, min(last + 1, length)),)
    suffix = parse_range(f"bytes=-{size}", length)
    if size == 0:
        assert suffix.unsatisfiable
    else:
        assert suffix.spans == (ByteSpan(max(0, length - size), length),)
    opened = parse_range(f"bytes={first}-", length)
    assert opened.unsatisfiable if first >= length else opened.spans == (ByteSpan(first, length),)


def test_bad_syntax_is_ignored_and_too_many_ranges_refused() -> None:
    for header in ["bytes=abc", "bytes=5-1", "bytes=1-2,x", "bytes", "items=0-1", "bytes=", "=0-1"]:
        assert parse_range(header, 100).ignored, header
    many = "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 2 * (MAX_RANGES + 1), 2))
    assert parse_range(many, 1000).unsatisfiable
    assert parse_range("bytes=" + "9" * 5000 + "-", 100).unsatisfiable  # no int() of 5000 digits
    assert parse_range("bytes=0-" + "9" * 5000, 100).spans == (ByteSpan(0, 100),)
    assert parse_range("bytes=0-1", 0).ignored  # an empty file is sent whole
    assert parse_range("BYTES = 0-1, ,", 10).spans == (ByteSpan(0, 2),)


def test_several_ranges_keep_their_order_unless_they_overlap() -> None:
    assert parse_range("bytes=50-59,0-9", 100).spans == (ByteSpan(50, 60), ByteSpan(0, 10))
    assert parse_range("bytes=50-59,0-9,10-20", 100).spans == (ByteSpan(0, 21), ByteSpan(50, 60))


@given(
    start=st.integers(0, 10**6),
    size=st.integers(1, 10**6),
    chunk=st.integers(1024, 300_000),  # at most about a thousand reads a span
    step=st.integers(1, 4 * 10**6),
)
def test_read_steps_cover_a_span_on_chunk_boundaries(
    start: int, size: int, chunk: int, step: int
) -> None:
    span = ByteSpan(start, start + size)
    steps = read_steps(span, chunk, step)
    assert steps[0].start == span.start and steps[-1].end == span.end
    for a, b in itertools.pairwise(steps):
        assert a.end == b.start
        assert a.end % chunk == 0  # no chunk is fetched by two reads
    for piece in steps:
        assert 0 < piece.size <= max(step, chunk)


def test_object_ids_from_paths() -> None:
    assert str(object_id_or_none("5f0000000000000000000000")) == "5f0000000000000000000000"
    for bad in ["not-an-id", "", "5f00", "z" * 24, "5f0000000000000000000000/x"]:
        assert object_id_or_none(bad) is None
