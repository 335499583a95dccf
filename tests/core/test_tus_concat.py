"""The concatenation extension sans I/O: the parts a final upload names, the checks on them,
and the renumbering that makes their chunks the final file's, against a model of the chunks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gridfield.core.chunks import ChunkCutter
from gridfield.core.tus import (
    MAX_PARTS,
    Concat,
    PatchRequest,
    TusError,
    TusOptions,
    UploadState,
    check_part_ids,
    part_ids,
    plan_concatenation,
    status_of_upload,
)

NOW = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)


def _part(upload_id: str, length: int, chunk_size: int = 4, **changes: object) -> UploadState:
    fields: dict[str, object] = {
        "upload_id": upload_id,
        "file_id": ObjectId(),
        "chunk_size": chunk_size,
        "length": length,
        "offset": length,
        "complete": True,
        "concat": "partial",
        "expires": NOW + timedelta(hours=1),
    }
    fields.update(changes)
    return UploadState(**fields)  # type: ignore[arg-type]


def _refusal(*args: object, **kwargs: object) -> tuple[int, str]:
    with pytest.raises(TusError) as err:
        plan_concatenation(*args, **kwargs)  # type: ignore[arg-type]
    return err.value.status, str(err.value)


def test_part_urls_absolute_or_relative() -> None:
    concat = Concat(False, ("/uploads/a", "https://h:8/uploads/b", "/uploads/c/"))
    assert part_ids(concat, "/uploads/") == ("a", "b", "c")
    assert part_ids(Concat(False, ("http://h/x",)), "/") == ("x",)
    with pytest.raises(TusError) as err:
        part_ids(Concat(False, ("/elsewhere/a",)), "/uploads")
    assert (err.value.status, str(err.value)) == (
        400,
        "Upload-Concat: '/elsewhere/a' is not an upload of this endpoint (/uploads/<id>)",
    )


def test_refused_parts() -> None:
    options = TusOptions(max_size=10)
    plain = _part("p", 4, concat=None)
    open_part = _part("o", 8, offset=3, tail=b"abc", complete=False)
    old = _part("e", 4, complete=False, offset=0, expires=NOW - timedelta(1))
    taken = _part("t", 4, joined_into="f")
    assert _refusal(("x",), [None], options, 4, NOW) == (
        400,
        "Upload-Concat: there is no upload x",
    )
    assert _refusal(("p",), [plain], options, 4, NOW) == (
        400,
        "Upload-Concat: upload p is not a partial upload",
    )
    assert _refusal(("o",), [open_part], options, 4, NOW) == (
        400,
        "Upload-Concat: partial upload o is not complete (3 of 8 bytes)",
    )
    assert _refusal(("e",), [old], options, 4, NOW) == (
        410,
        "upload e has expired: start a new upload",
    )
    assert _refusal(("t",), [taken], options, 4, NOW) == (
        400,
        "Upload-Concat: partial upload t is already part of final upload f",
    )
    assert plan_concatenation(("t",), [taken], options, 4, NOW, joined="f").length == 4
    big = [_part("a", 6), _part("b", 6)]
    assert _refusal(("a", "b"), big, options, 4, NOW) == (
        413,
        "the final upload's 12 bytes are over this server's limit of 10 bytes",
    )
    assert _refusal((), [], options, 4, NOW)[0] == 400


def test_a_final_upload_takes_no_patch_and_reports_its_concat() -> None:
    final = UploadState("f", 1, 4, 8, 8, complete=True, concat="final;/a /b", parts=("a", "b"))
    with pytest.raises(TusError) as err:
        PatchRequest(8, None, None, 1).applied_to(final, TusOptions(), NOW)
    assert err.value.status == 403
    assert str(err.value) == (
        "upload f is a final upload: it is made of its partial uploads and takes no PATCH"
    )
    head = dict(status_of_upload(final).headers)
    assert head["Upload-Concat"] == "final;/a /b"
    assert head["Upload-Offset"] == head["Upload-Length"] == "8"
    joining = UploadState("f", 1, 4, 8, concat="final;/a /b", parts=("a", "b"))
    assert "Upload-Offset" not in dict(status_of_upload(joining).headers)
    assert dict(status_of_upload(_part("a", 4)).headers)["Upload-Concat"] == "partial"


def _chunks_of(part: UploadState, data: bytes) -> list[dict[str, object]]:
    cutter = ChunkCutter(part.file_id, part.chunk_size)
    out = cutter.feed(data)
    last = cutter.finish()
    return out + ([last] if last is not None else [])


@given(
    st.integers(1, 9),
    st.lists(st.binary(max_size=40), min_size=1, max_size=5),
    st.booleans(),
)
def test_renumbered_chunks_are_the_whole_files_chunks(
    chunk_size: int, pieces: list[bytes], repeat: bool
) -> None:
    ids = tuple(f"p{i}" for i in range(len(pieces)))
    parts = [_part(i, len(p), chunk_size) for i, p in zip(ids, pieces, strict=True)]
    plan = plan_concatenation(ids, parts, TusOptions(), chunk_size, NOW)
    lined_up = all(len(p) % chunk_size == 0 for p in pieces[:-1])
    assert plan.in_place == lined_up and plan.length == sum(map(len, pieces))
    assert plan.keeps_first and plan.first_whole_chunks == len(pieces[0]) // chunk_size
    if not plan.in_place:
        with pytest.raises(ValueError, match="moves no chunk"):
            plan.moves()
        return
    # The model: every chunk on disk, as (files_id, n) -> data; moves applied as the
    # update_many filters and updates say, twice when ``repeat`` (a crash then a resume).
    disk = {
        (c["files_id"], c["n"]): c["data"]
        for part, data in zip(parts, pieces, strict=True)
        for c in _chunks_of(part, data)
    }
    final_id = ObjectId()
    for _ in range(2 if repeat else 1):
        for move in plan.moves():
            for files_id, n in sorted(k for k in disk if k[0] == move.source and k[1] < move.count):
                disk[(final_id, n + move.base)] = disk.pop((files_id, n))
    whole = b"".join(pieces)
    expected = {
        (final_id, n): bytes(d["data"])
        for n, d in enumerate(
            _chunks_of(
                UploadState("f", final_id, chunk_size, len(whole), len(whole), complete=True), whole
            )
        )
    }
    assert {k: bytes(v) for k, v in disk.items()} == expected  # type: ignore[arg-type]


@given(st.integers(1, 9), st.lists(st.binary(max_size=40), min_size=1, max_size=5))
def test_a_copy_that_keeps_the_first_parts_whole_chunks_makes_the_whole_files_chunks(
    chunk_size: int, pieces: list[bytes]
) -> None:
    """The first part's whole chunks, as they are, then its partial chunk filled up and
    the later parts cut after it (a cutter that carries on the first part), are the chunks
    of the whole file."""
    ids = tuple(f"p{i}" for i in range(len(pieces)))
    parts = [_part(i, len(p), chunk_size) for i, p in zip(ids, pieces, strict=True)]
    plan = plan_concatenation(ids, parts, TusOptions(), chunk_size, NOW)
    head = parts[0]
    whole = plan.first_whole_chunks
    own = _chunks_of(head, pieces[0])
    kept, tail = own[:whole], own[whole:]
    assert len(tail) <= 1
    cutter = ChunkCutter.resuming(
        head.file_id,
        chunk_size,
        len(pieces[0]),
        bytes(tail[0]["data"]) if tail else b"",  # type: ignore[arg-type]
    )
    recut = [c for piece in pieces[1:] for c in cutter.feed(piece)]
    last = cutter.finish()
    recut += [last] if last is not None else []
    assert [c["n"] for c in recut] == list(range(whole, whole + len(recut)))
    joined = b"".join(pieces)
    expected = _chunks_of(UploadState("f", head.file_id, chunk_size, len(joined)), joined)
    got = [(c["n"], bytes(c["data"])) for c in kept + recut]  # type: ignore[arg-type]
    assert got == [(c["n"], bytes(c["data"])) for c in expected]  # type: ignore[arg-type]


@given(st.integers(1, 9), st.lists(st.integers(0, 30), min_size=2, max_size=4))
def test_a_repeated_part_is_refused(chunk_size: int, lengths: list[int]) -> None:
    parts = [_part("a", n, chunk_size) for n in lengths]
    ids = ("a",) * len(lengths)
    assert _refusal(ids, parts, TusOptions(), chunk_size, NOW) == (
        400,
        "Upload-Concat names partial upload a twice",
    )


@given(st.integers(1, 5), st.integers(1, 12))
def test_parts_are_bounded_by_max_parts(max_parts: int, count: int) -> None:
    parts = [_part(f"p{i}", 4) for i in range(count)]
    ids = tuple(p.upload_id for p in parts)
    options = TusOptions(max_parts=max_parts)
    if count <= max_parts:
        assert plan_concatenation(ids, parts, options, 4, NOW).length == 4 * count
        check_part_ids(ids, options)
        return
    message = (
        f"Upload-Concat names {count} partial uploads, over this server's limit of {max_parts}"
    )
    assert _refusal(ids, parts, options, 4, NOW) == (400, message)
    with pytest.raises(TusError, match=message):
        check_part_ids(ids, options)


def test_max_parts_is_checked_when_made() -> None:
    assert TusOptions().max_parts == MAX_PARTS == 100
    with pytest.raises(ValueError, match="max_parts must be at least 1, got 0"):
        TusOptions(max_parts=0)
    with pytest.raises(TypeError, match="max_parts must be an int, not str"):
        TusOptions(max_parts="3")  # type: ignore[arg-type]


@given(st.integers(1, 9), st.lists(st.integers(0, 30), min_size=2, max_size=4))
def test_misaligned_parts_are_copied(chunk_size: int, lengths: list[int]) -> None:
    other = [_part(f"p{i}", n * chunk_size, chunk_size) for i, n in enumerate(lengths)]
    distinct = tuple(p.upload_id for p in other)
    assert plan_concatenation(distinct, other, TusOptions(), chunk_size, NOW).in_place
    wider = plan_concatenation(distinct, other, TusOptions(), chunk_size + 1, NOW)
    assert not wider.in_place and not wider.keeps_first  # the parts' chunks are too short
    # One byte past a whole number of chunks (chunks of 2 bytes or more): a copy.
    odd_size = chunk_size + 1
    odd = [_part(f"q{i}", n * odd_size + 1, odd_size) for i, n in enumerate(lengths)]
    odd_ids = tuple(p.upload_id for p in odd)
    odd_plan = plan_concatenation(odd_ids, odd, TusOptions(), odd_size, NOW)
    assert not odd_plan.in_place and odd_plan.keeps_first


@given(st.integers(1, 9), st.lists(st.integers(1, 30), min_size=1, max_size=4), st.data())
def test_an_encrypted_join_is_always_a_copy(
    chunk_size: int, lengths: list[int], data: st.DataObject
) -> None:
    """Sealed chunks are bound to their file and number: a join into an encrypting store,
    or of encrypted parts, re-seals them (a copy), never renumbers them in place; a store
    without keys refuses encrypted parts before anything changes."""
    sealed = {"v": 1, "alg": "AES-256-GCM", "kek": "local", "keyId": "k", "wrappedKey": b"w"}
    which = data.draw(st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths)))
    parts = [
        _part(f"p{i}", n * chunk_size, chunk_size, file_key=sealed if enc else None)
        for i, (n, enc) in enumerate(zip(lengths, which, strict=True))
    ]
    ids = tuple(p.upload_id for p in parts)
    plan = plan_concatenation(ids, parts, TusOptions(), chunk_size, NOW, encrypting=True)
    assert not plan.in_place and plan.length == sum(lengths) * chunk_size
    assert not plan.keeps_first  # a fresh data key: every chunk is sealed again
    with pytest.raises(ValueError, match="moves no chunk"):
        plan.moves()
    if any(which):
        status, message = _refusal(ids, parts, TusOptions(), chunk_size, NOW)
        first = which.index(True)
        assert status == 500
        assert f"partial upload p{first} is encrypted" in message and "no keys" in message
    else:
        assert plan_concatenation(ids, parts, TusOptions(), chunk_size, NOW).in_place
