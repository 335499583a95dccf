# Generated from tests/_async/test_store_corruption.py by scripts/unasync.py: do not edit.
"""Every read path against every single corruption: the file's exact bytes or CorruptFile.

Files are written as raw documents (tests/corruptions.py), into a bucket without the unique
chunks index so that a duplicated chunk can be stored, then read back by each way bytes
leave the store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bson import ObjectId
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gridfield._sync.proxy import GridFSProxy
from gridfield._sync.store import FileStore
from gridfield.core.errors import CorruptFile
from tests.corruptions import KINDS, acceptable, damaged

CHUNK = 5
BUCKET = "damaged"
ALIAS = "damaged-files"

Read = Callable[[FileStore, Any], Awaitable[bytes]]


def read_all(store: FileStore, file_id: Any) -> bytes:
    return store.get(file_id)


def read_by(size: int) -> Read:
    def read(store: FileStore, file_id: Any) -> bytes:
        stream = store.open_download(file_id)
        parts = []
        while piece := stream.read(size):
            parts.append(piece)
        return b"".join(parts)

    return read


def read_chunks(store: FileStore, file_id: Any) -> bytes:
    stream = store.open_download(file_id)
    parts = []
    while piece := stream.readchunk():
        parts.append(piece)
    return b"".join(parts)


def read_lines(store: FileStore, file_id: Any) -> bytes:
    stream = store.open_download(file_id)
    parts = []
    while line := stream.readline():
        parts.append(line)
    return b"".join(parts)


def iterate(store: FileStore, file_id: Any) -> bytes:
    stream = store.open_download(file_id)
    return b"".join([piece for piece in stream])


def field_value(file_id: Any) -> GridFSProxy:
    """What a FileField holding the file gives (the proxy reads through a download stream)."""
    return GridFSProxy(file_id, db_alias=ALIAS, collection_name=BUCKET)


def field_read(store: FileStore, file_id: Any) -> bytes:
    return field_value(file_id).read() or b""


def field_pieces(store: FileStore, file_id: Any) -> bytes:
    proxy = field_value(file_id)
    parts = []
    while piece := proxy.readchunk():
        parts.append(piece)
    while line := proxy.readline():  # nothing left: the end is checked here too
        parts.append(line)
    return b"".join(parts)


def field_iterate(store: FileStore, file_id: Any) -> bytes:
    return b"".join([piece for piece in field_value(file_id)])


def field_seek_and_read(store: FileStore, file_id: Any, start: int, end: int | None) -> bytes:
    proxy = field_value(file_id)
    proxy.seek(start)
    return proxy.read(-1 if end is None else max(end - start, 0)) or b""


def whole_reads(sizes: list[int]) -> list[tuple[str, Read]]:
    """Each way to read a whole file, in pieces of the sizes given."""
    return [
        ("read()", read_all),
        *[(f"read({size}) to the end", read_by(size)) for size in sizes],
        ("readchunk() to the end", read_chunks),
        ("readline() to the end", read_lines),
        ("iteration", iterate),
        ("the field's read()", field_read),
        ("the field's readchunk() to the end", field_pieces),
        ("iteration over the field", field_iterate),
    ]


def seek_and_read(store: FileStore, file_id: Any, start: int, end: int | None) -> bytes:
    stream = store.open_download(file_id)
    stream.seek(start)
    return stream.read(-1 if end is None else max(end - start, 0))


def outcome(read: Callable[..., Awaitable[bytes]], *args: Any) -> bytes | CorruptFile:
    """What ``read(*args)`` gives: its bytes, or the CorruptFile it raised."""
    try:
        return read(*args)
    except CorruptFile as exc:
        return exc


def each_kind(test: Any) -> Any:
    """One explicit example per corruption, on a file of several chunks with a short last one
    (the random examples come on top)."""
    for kind in KINDS:
        test = example(
            data=bytes(range(4 * CHUNK + 2)), kind=kind, target=1, sizes=[3], ranges=[(4, 13)]
        )(test)
    return test


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.binary(max_size=6 * CHUNK).map(lambda b: b.replace(b"\r", b"\n")),
    kind=st.sampled_from(KINDS),
    target=st.integers(0, 10),
    sizes=st.lists(st.integers(1, 3 * CHUNK), min_size=1, max_size=2),
    ranges=st.lists(
        st.tuples(st.integers(0, 7 * CHUNK), st.none() | st.integers(0, 7 * CHUNK)),
        min_size=1,
        max_size=3,
    ),
)
@each_kind
def test_a_damaged_file_reads_right_or_fails(
    sync_db: Any,
    connected: Callable[..., Any],
    data: bytes,
    kind: str,
    target: int,
    sizes: list[int],
    ranges: list[tuple[int, int | None]],
) -> None:
    connected(ALIAS)  # the same database again for each example: connect() allows it
    file_id = ObjectId()
    file = damaged(file_id, data, CHUNK, kind, target)
    store = FileStore(sync_db, BUCKET)
    if file.chunks:
        store.chunks.insert_many(file.chunks, ordered=True)  # stored in this order
    store.files.insert_one(file.files_doc)
    stored_length = file.files_doc["length"]
    sound = kind in ("none", "stored_in_reverse")

    for name, read in whole_reads(sizes):
        got = outcome(read, store, file_id)
        assert got == data or isinstance(got, CorruptFile), (name, kind, got)
        assert (got == data) == sound, (name, kind, got)

    for start, end in ranges:
        for name, got in (
            (f"read_range({start}, {end})", outcome(store.read_range, file_id, start, end)),
            (f"seek({start}) then read", outcome(seek_and_read, store, file_id, start, end)),
            (
                f"the field's seek({start}) then read",
                outcome(field_seek_and_read, store, file_id, start, end),
            ),
        ):
            right = acceptable(got, data, stored_length, start, end)
            assert isinstance(got, CorruptFile) or right, (name, kind, got)
            if sound:
                assert got == data[start:end], (name, kind, got)
