"""Cutting writes into chunks, batching inserts, checking reads, range math, checksums."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from gridfield.core.chunks import (
    Assembly,
    ChunkBatcher,
    ChunkCheck,
    ChunkCutter,
    SequentialChecksum,
    as_bytes,
    assemble,
    chunk_overhead,
    chunk_span,
    chunks_per_batch,
    clamp_range,
)
from gridfield.core.errors import CorruptFile
from gridfield.core.files_document import FileInfo
from gridfield.core.queries import chunks_with_first_filter

FEW = settings(max_examples=80, deadline=None)

chunk_sizes = st.integers(min_value=1, max_value=64)
payloads = st.binary(max_size=600)


def cut(data: bytes, chunk_size: int, sizes: list[int], file_id: Any = 1) -> list[dict[str, Any]]:
    """Chunk documents of ``data`` written in pieces of ``sizes`` (then the rest)."""
    cutter = ChunkCutter(file_id, chunk_size)
    docs: list[dict[str, Any]] = []
    pos = 0
    for size in sizes:
        docs += cutter.feed(data[pos : pos + size])
        pos += size
    docs += cutter.feed(bytearray(data[pos:]))
    last = cutter.finish()
    if last is not None:
        docs.append(last)
    assert cutter.length == len(data)
    return docs


# --- cutting -----------------------------------------------------------------------------


@FEW
@given(payloads, chunk_sizes, st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_any_writes_reassemble(data: bytes, chunk_size: int, sizes: list[int]) -> None:
    docs = cut(data, chunk_size, sizes)
    assert b"".join(d["data"] for d in docs) == data
    assert [d["n"] for d in docs] == list(range(len(docs)))
    assert len(docs) == -(-len(data) // chunk_size)
    for doc in docs[:-1]:
        assert len(doc["data"]) == chunk_size
    if docs:
        assert 0 < len(docs[-1]["data"]) <= chunk_size
    assert all(type(d["data"]) is bytes and d["files_id"] == 1 for d in docs)
    assert len({d["_id"] for d in docs}) == len(docs)


@FEW
@given(payloads, chunk_sizes, st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_cut_chunks_pass_the_read_check(data: bytes, chunk_size: int, sizes: list[int]) -> None:
    docs = cut(data, chunk_size, sizes)
    check = ChunkCheck(FileInfo(file_id=1, length=len(data), chunk_size=chunk_size))
    assert b"".join(check.accept(d) for d in docs) == data
    check.finish()


def test_cutter_buffers_only_the_tail() -> None:
    cutter = ChunkCutter("f", 4)
    assert cutter.feed(b"ab") == []
    assert cutter.pending == 2
    docs = cutter.feed(memoryview(b"cdefghijk"))
    assert [d["data"] for d in docs] == [b"abcd", b"efgh"]
    assert cutter.pending == 3
    assert cutter.n == 2
    last = cutter.finish()
    assert last is not None and last["data"] == b"ijk" and last["n"] == 2
    assert cutter.finish() is None


def test_cutter_head_and_checksum() -> None:
    cutter = ChunkCutter(1, 3, checksum=True)
    for piece in (b"\x89P", b"NG\r\n\x1a\n", b"x" * 100):
        cutter.feed(piece)
    assert cutter.head == (b"\x89PNG\r\n\x1a\n" + b"x" * 100)[:16]
    want = hashlib.sha256(b"\x89PNG\r\n\x1a\n" + b"x" * 100).hexdigest()
    assert cutter.sha256() == want
    assert ChunkCutter(1, 3).sha256() is None


def test_cutter_takes_non_byte_memoryviews() -> None:
    import array

    words = array.array("H", [1, 2, 3])
    cutter = ChunkCutter(1, 4)
    docs = cutter.feed(memoryview(words))
    assert docs[0]["data"] == words.tobytes()[:4]


@FEW
@given(st.binary(max_size=40), st.integers(1, 4), st.integers(1, 9))
def test_cutter_takes_strided_views(data: bytes, step: int, chunk_size: int) -> None:
    """Any buffer, contiguous or not: the bytes it shows, in order."""
    import array

    cutter = ChunkCutter(1, chunk_size)
    docs = cutter.feed(memoryview(data)[::step]) + cutter.feed(memoryview(bytearray(data))[::-1])
    words = memoryview(array.array("H", range(len(data)))).cast("B")[::step]
    docs += cutter.feed(words)
    last = cutter.finish()
    got = b"".join(doc["data"] for doc in docs + ([last] if last else []))
    assert got == data[::step] + data[::-1] + words.tobytes()


@pytest.mark.parametrize("bad", ["text", 3, None, [b"a"]])
def test_cutter_rejects_non_bytes(bad: object) -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        ChunkCutter(1, 4).feed(bad)  # type: ignore[arg-type]


def test_as_bytes_closes_a_coroutine() -> None:
    async def read() -> bytes:
        return b""

    coroutine = read()
    with pytest.raises(TypeError, match="coroutine"):
        as_bytes(coroutine, "read() result")
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning


# --- batching ----------------------------------------------------------------------------


@FEW
@given(
    st.lists(st.integers(min_value=0, max_value=50), max_size=40),
    st.integers(min_value=1, max_value=120),
    st.integers(min_value=1, max_value=7),
    st.integers(min_value=0, max_value=10),
)
def test_batches_keep_order_and_bounds(
    sizes: list[int], max_bytes: int, max_count: int, overhead: int
) -> None:
    docs = [{"n": i, "data": b"x" * size} for i, size in enumerate(sizes)]
    batcher = ChunkBatcher(max_bytes=max_bytes, max_count=max_count, overhead=overhead)
    batches: list[list[dict[str, Any]]] = []
    for i in range(0, len(docs), 3):
        batcher.add(docs[i : i + 3])
        batches += batcher.ready()
    batches += batcher.drain()
    assert len(batcher) == 0
    assert [d for b in batches for d in b] == docs
    for batch in batches:
        assert 1 <= len(batch) <= max_count
        size = sum(len(d["data"]) + overhead for d in batch)
        assert size <= max_bytes or len(batch) == 1


def test_default_batch_fits_a_message() -> None:
    overhead = chunk_overhead(ObjectId())
    batcher = ChunkBatcher(overhead=overhead)
    batcher.add([{"data": b"x" * (255 * 1024)} for _ in range(200)])
    for batch in batcher.drain():
        assert sum(len(d["data"]) + overhead for d in batch) <= 16 * 1024 * 1024
    assert overhead < 100


# --- range math ----------------------------------------------------------------------------


def read(
    docs: list[dict[str, Any]], length: int, chunk_size: int, start: int, end: int | None
) -> bytes:
    """Read ``[start, end)`` the way a download does: only the chunks of the span."""
    begin, stop = clamp_range(start, end, length)
    span = chunk_span(begin, stop, chunk_size)
    if span is None:
        return b""
    parts = [d["data"] for d in docs[span.first : span.last + 1]]
    assert len(parts) == span.last - span.first + 1
    return assemble(parts, span.skip, span.size)


@FEW
@given(
    payloads,
    chunk_sizes,
    st.lists(
        st.tuples(st.integers(0, 700), st.integers(-1, 300)),
        max_size=10,
    ),
)
def test_seek_and_read_equal_slicing(
    data: bytes, chunk_size: int, ops: list[tuple[int, int]]
) -> None:
    docs = cut(data, chunk_size, [])
    for pos, size in ops:
        end = None if size < 0 else pos + size
        assert read(docs, len(data), chunk_size, pos, end) == data[pos:end]


@FEW
@given(payloads, chunk_sizes, st.integers(0, 700), st.integers(-1, 700))
def test_an_assembly_built_chunk_by_chunk_is_the_span(
    data: bytes, chunk_size: int, start: int, size: int
) -> None:
    """What a read builds as its chunks arrive is what joining them all at the end gives:
    the bytes asked for, whichever chunk they start and end in."""
    end = None if size < 0 else start + size
    begin, stop = clamp_range(start, end, len(data))
    span = chunk_span(begin, stop, chunk_size)
    if span is None:
        return
    parts = [d["data"] for d in cut(data, chunk_size, [])[span.first : span.last + 1]]
    built = Assembly(span.skip, span.size)
    for part in parts:
        built.add(part)
    assert built.result() == assemble(parts, span.skip, span.size) == data[start:end]


def test_an_assembly_takes_no_bytes_past_its_size() -> None:
    built = Assembly(2, 5)
    for part in (b"abcd", b"efgh", b"ijkl"):
        built.add(part)
    assert built.result() == b"cdefg"


@FEW
@given(payloads, chunk_sizes, st.integers(0, 700), st.integers(0, 700))
def test_span_covers_exactly(data: bytes, chunk_size: int, start: int, end: int) -> None:
    begin, stop = clamp_range(start, end, len(data))
    span = chunk_span(begin, stop, chunk_size)
    if span is None:
        assert data[start:end] == b""
        return
    assert span.first * chunk_size <= begin < (span.first + 1) * chunk_size
    assert span.last * chunk_size < stop <= (span.last + 1) * chunk_size
    assert span.skip == begin - span.first * chunk_size
    assert span.size == len(data[start:end])


@pytest.mark.parametrize(("start", "end"), [(-1, None), (0, -5)])
def test_negative_range_is_an_error(start: int, end: int | None) -> None:
    with pytest.raises(ValueError, match="negative"):
        clamp_range(start, end, 10)


def test_range_types() -> None:
    with pytest.raises(TypeError, match="start"):
        clamp_range("1", None, 10)  # type: ignore[arg-type]
    assert clamp_range(5, 2, 10) == (5, 5)
    assert clamp_range(20, None, 10) == (10, 10)


# --- read check ------------------------------------------------------------------------------


def sound(length: int, chunk_size: int) -> list[dict[str, Any]]:
    data = bytes(i % 251 for i in range(length))
    return cut(data, chunk_size, [])


@st.composite
def damaged(draw: st.DrawFn) -> tuple[int, int, list[dict[str, Any]], int]:
    """A file's chunks with one thing wrong, and the n the error must name."""
    chunk_size = draw(st.integers(1, 8))
    length = draw(st.integers(1, 60))
    docs = sound(length, chunk_size)
    kind = draw(st.sampled_from(["drop", "duplicate", "extra", "short", "long", "swap", "n"]))
    if kind == "swap" and len(docs) < 2:
        kind = "drop"
    i = draw(st.integers(0, len(docs) - 1))
    if kind == "drop":
        del docs[i]
        named = i
    elif kind == "duplicate":
        docs.insert(i, dict(docs[i]))
        named = i
    elif kind == "extra":
        docs.append({"n": len(docs), "data": b"x"})
        named = len(docs) - 1
    elif kind == "short":
        if len(docs[i]["data"]) == 1:
            docs[i] = {**docs[i], "data": b""}
        else:
            docs[i] = {**docs[i], "data": docs[i]["data"][:-1]}
        named = i
    elif kind == "long":
        docs[i] = {**docs[i], "data": docs[i]["data"] + b"!"}
        named = i
    elif kind == "swap":
        i = min(i, len(docs) - 2)
        docs[i], docs[i + 1] = docs[i + 1], docs[i]
        named = i
    else:
        docs[i] = {**docs[i], "n": str(i)}
        named = i - 1
    return length, chunk_size, docs, named


@FEW
@given(damaged())
def test_check_names_the_bad_chunk(case: tuple[int, int, list[dict[str, Any]], int]) -> None:
    length, chunk_size, docs, named = case
    file_id = ObjectId()
    check = ChunkCheck(FileInfo(file_id=file_id, length=length, chunk_size=chunk_size))
    with pytest.raises(CorruptFile) as caught:
        for doc in docs:
            check.accept(doc)
        check.finish()
    message = str(caught.value)
    assert repr(file_id) in message
    assert re.search(rf"chunk (after )?{named}\b", message), message


@FEW
@given(st.integers(0, 60), st.integers(1, 8), st.data())
def test_check_accepts_any_sound_range(length: int, chunk_size: int, data: st.DataObject) -> None:
    docs = sound(length, chunk_size)
    info = FileInfo(file_id=1, length=length, chunk_size=chunk_size)
    if not docs:
        ChunkCheck(info).finish()
        return
    first = data.draw(st.integers(0, len(docs) - 1))
    last = data.draw(st.integers(first, len(docs) - 1))
    check = ChunkCheck(info, first, last)
    for doc in docs[first : last + 1]:
        check.accept(doc)
    check.finish()
    assert check.done


def test_check_messages() -> None:
    info = FileInfo(file_id="f", length=10, chunk_size=4)
    check = ChunkCheck(info)
    check.accept({"n": 0, "data": b"abcd"})
    with pytest.raises(CorruptFile, match=r"file 'f': chunk 1 is 3 bytes, expected 4"):
        check.accept({"n": 1, "data": b"abc"})
    with pytest.raises(CorruptFile, match=r"file 'f': chunk 0 is duplicated"):
        check.accept({"n": 0, "data": b"abcd"})
    with pytest.raises(CorruptFile, match=r"file 'f': chunk 1 is missing"):
        check.accept({"n": 2, "data": b"ab"})
    with pytest.raises(CorruptFile, match=r"file 'f': extra chunk 3: the file has 3 chunks"):
        check.accept({"n": 3, "data": b""})
    with pytest.raises(CorruptFile, match=r"file 'f': chunk 1 has no binary data"):
        check.accept({"n": 1, "data": "text"})
    with pytest.raises(CorruptFile, match=r"file 'f': chunk 1 is missing"):
        check.finish()


def test_check_of_an_empty_file() -> None:
    check = ChunkCheck(FileInfo(file_id=1, length=0, chunk_size=4))
    assert check.done
    with pytest.raises(CorruptFile, match="extra chunk 0"):
        check.accept({"n": 0, "data": b""})


def test_float_n_from_old_writers() -> None:
    check = ChunkCheck(FileInfo(file_id=1, length=2, chunk_size=4))
    assert check.accept({"n": 0.0, "data": b"ab"}) == b"ab"


# --- checksum ------------------------------------------------------------------------------


def _info(data: bytes, digest: str | None = None) -> FileInfo:
    return FileInfo(
        file_id=9,
        length=len(data),
        chunk_size=4,
        sha256=hashlib.sha256(data).hexdigest() if digest is None else digest,
    )


def test_checksum_verified_on_in_order_reads() -> None:
    data = b"0123456789"
    SequentialChecksum(_info(data)).feed(0, data)
    checksum = SequentialChecksum(_info(data))
    for i in range(0, 10, 4):
        checksum.feed(i, data[i : i + 4])
    bad = SequentialChecksum(_info(data, "0" * 64))
    bad.feed(0, data[:4])
    with pytest.raises(CorruptFile, match="file 9: SHA-256"):
        bad.feed(4, data[4:])


def test_checksum_ignores_out_of_order_reads() -> None:
    data = b"0123456789"
    checksum = SequentialChecksum(_info(data, "0" * 64))
    checksum.feed(4, data[4:8])  # not from the start: cannot verify, no error
    checksum.feed(0, data[:4])
    checksum.feed(0, data[:4])  # read again: ignored
    with pytest.raises(CorruptFile):
        checksum.feed(4, data[4:])
    checksum.feed(0, data)  # verified once only


def test_checksum_of_empty_file_and_no_checksum() -> None:
    with pytest.raises(CorruptFile):
        SequentialChecksum(_info(b"", "1" * 64)).feed(0, b"")
    SequentialChecksum(FileInfo(file_id=1, length=3, chunk_size=4)).feed(0, b"abc")


@given(
    batch_bytes=st.integers(1, 64 * 1024 * 1024),
    chunk_size=st.integers(1, 16 * 1024 * 1024),
    wanted=st.none() | st.integers(0, 100_000),
)
def test_chunks_per_batch_stays_within_its_bytes_and_fetches_evenly(
    batch_bytes: int, chunk_size: int, wanted: int | None
) -> None:
    per_batch = chunks_per_batch(batch_bytes, chunk_size, wanted)
    most = max(1, batch_bytes // chunk_size)
    assert per_batch >= 1
    if wanted is None or wanted <= 0:
        assert per_batch == most
    elif wanted < most:
        assert per_batch == wanted + 1  # all of them and the end of the cursor, in one reply
    else:
        assert per_batch <= most
        batches = -(-wanted // per_batch)
        assert batches == -(-wanted // most)  # no more round trips than full batches take
        assert wanted - (batches - 1) * per_batch > per_batch - batches  # no small last one


def test_chunks_with_first_filter_asks_for_chunk_0_and_the_span() -> None:
    file_id = ObjectId()
    assert chunks_with_first_filter(file_id, 3, 7) == {
        "files_id": {"$eq": file_id},
        "$or": [{"n": {"$eq": 0}}, {"n": {"$gte": 3, "$lte": 7}}],
    }
    assert chunks_with_first_filter(file_id, 3)["$or"][1] == {"n": {"$gte": 3}}
    with pytest.raises(TypeError):
        chunks_with_first_filter({"$ne": None}, 3)
