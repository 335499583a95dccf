"""The ``Range`` request header (RFC 9110 section 14): parsed into byte spans of one file."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "MAX_RANGES",
    "READ_STEP",
    "ByteSpan",
    "RangeRequest",
    "parse_range",
    "read_steps",
]

MAX_RANGES = 16
"""More ranges than this in one request are refused with 416 (RFC 9110 14.2 lets a server
reject a request for many ranges: it is how a denial-of-service attack looks)."""

# A number longer than this is larger than any stored file: it is kept as "very large"
# rather than converted (int() of thousands of digits is slow, and refused past 4300).
_MAX_DIGITS = 19
_HUGE: int = 10**_MAX_DIGITS


class ByteSpan(NamedTuple):
    """Bytes ``[start, end)`` of a file (end exclusive, unlike the header's ``last-pos``)."""

    start: int
    end: int

    @property
    def size(self) -> int:
        """How many bytes the span holds."""
        return self.end - self.start

    def content_range(self, length: int) -> str:
        """The ``Content-Range`` value of this span in a file of ``length`` bytes."""
        return f"bytes {self.start}-{self.end - 1}/{length}"


@dataclass(frozen=True)
class RangeRequest:
    """What a ``Range`` header asks of a file of a given length.

    ``ignored``: no usable header (absent, another unit, bad syntax): send the whole file.
    ``unsatisfiable``: answer 416. Otherwise ``spans`` are the byte spans to send, in
    request order, overlapping or touching ones merged, each inside the file.
    """

    spans: tuple[ByteSpan, ...] = ()
    ignored: bool = True
    unsatisfiable: bool = False


_IGNORED = RangeRequest()
_UNSATISFIABLE = RangeRequest(ignored=False, unsatisfiable=True)


def _number(text: str) -> int | None:
    """A non-negative decimal integer (ASCII digits only), or None."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    if len(text) > _MAX_DIGITS:
        return _HUGE
    return int(text)


def _spec(text: str, length: int) -> ByteSpan | bool | None:
    """One range-spec: its span in the file, None if unsatisfiable, False if invalid."""
    first, dash, last = text.partition("-")
    if not dash:
        return False
    if not first:  # suffix-range: the last N bytes
        suffix = _number(last)
        if suffix is None:
            return False
        if suffix == 0:
            return None
        return ByteSpan(max(0, length - suffix), length)
    start = _number(first)
    if start is None:
        return False
    if last:
        stop = _number(last)
        if stop is None or stop < start:
            return False
        end = min(stop + 1, length)
    else:
        end = length
    if start >= length:
        return None
    return ByteSpan(start, end)


def _merge(spans: list[ByteSpan]) -> tuple[ByteSpan, ...]:
    """Merge overlapping or touching spans (RFC 9110 14.2 allows it); keep request order when
    none do."""
    ordered = sorted(spans)
    if all(a.end < b.start for a, b in itertools.pairwise(ordered)):
        return tuple(spans)
    merged = [ordered[0]]
    for span in ordered[1:]:
        top = merged[-1]
        if span.start <= top.end:
            merged[-1] = ByteSpan(top.start, max(top.end, span.end))
        else:
            merged.append(span)
    return tuple(merged)


def parse_range(header: str | None, length: int, *, max_ranges: int = MAX_RANGES) -> RangeRequest:
    """Read a ``Range`` header against a file of ``length`` bytes.

    Per RFC 9110: a header in another unit or with any invalid range-spec is ignored (the
    whole file is sent); a valid one none of whose ranges starts inside the file is
    unsatisfiable (416); one with more than ``max_ranges`` ranges is refused (416). An
    empty file is always sent whole: it has no byte a range could name.
    """
    if header is None or length <= 0:
        return _IGNORED
    unit, equals, specs = header.strip().partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return _IGNORED
    # RFC 9110 5.6.1: a list may hold empty elements, which do not count.
    items = [item.strip(" \t") for item in specs.split(",")]
    items = [item for item in items if item]
    if not items:
        return _IGNORED
    if len(items) > max_ranges:
        return _UNSATISFIABLE
    spans: list[ByteSpan] = []
    for item in items:
        span = _spec(item, length)
        if span is False:
            return _IGNORED
        if isinstance(span, ByteSpan):
            spans.append(span)
    if not spans:
        return _UNSATISFIABLE
    return RangeRequest(spans=_merge(spans), ignored=False)


READ_STEP = 1024 * 1024
"""Bytes fetched per ranged read while sending a span that stops short of the file's end."""


def read_steps(span: ByteSpan, chunk_size: int, step: int = READ_STEP) -> list[ByteSpan]:
    """Cut ``span`` into reads that end on chunk boundaries (the last one at the span's end),
    each covering about ``step`` bytes, so no chunk is fetched twice."""
    per_read = max(1, step // chunk_size) * chunk_size
    out = []
    pos = span.start
    while pos < span.end:
        stop = min(span.end, (pos // chunk_size) * chunk_size + per_read)
        out.append(ByteSpan(pos, stop))
        pos = stop
    return out
