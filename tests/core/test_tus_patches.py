"""Any sequence of PATCHes (any boundaries, stale offsets, retries, bad checksums, bodies cut
short, crashes) stores exactly the bytes sent once, in order, or is refused with the offset
unchanged: the protocol logic driven against an in-memory model of the chunks and registry
that does what the stores do (insert what ``feed`` returns, record ``durable`` states, clean
the stale chunks when a crashed writer's lease is taken over, delete from ``discard_from``
on a refusal). An encrypted upload's tail is kept sealed in the registry, and opened by the
next PATCH only."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from gridfield.core.encryption import CHUNK_OVERHEAD, FileCipher, new_file_key
from gridfield.core.errors import CorruptFile
from gridfield.core.tus import (
    Checksum,
    PatchReceiver,
    PatchRequest,
    TusError,
    TusOptions,
    UploadState,
)

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)
OPTIONS = TusOptions(max_size=10_000)


@dataclass
class Server:
    """The chunks of one upload's file and its registry document, as the stores keep them."""

    state: UploadState
    chunks: dict[int, bytes] = field(default_factory=dict)
    crashed: bool = False  # a writer died holding the lease: the next one cleans up
    cipher: FileCipher | None = None  # an encrypted upload's: its tail is kept sealed

    def stored(self) -> bytes:
        if self.state.complete:
            return self.complete_bytes()
        whole = b"".join(self.chunks[n] for n in range(self.state.first_open_chunk))
        return whole + self.tail()

    def tail(self) -> bytes:
        """The partial last chunk, opened when the upload is encrypted."""
        tail = self.state.tail
        if self.cipher is None or not tail:
            return tail
        assert len(tail) == self.state.offset % self.state.chunk_size + CHUNK_OVERHEAD
        return self.cipher.open_tail(self.state.offset, tail)

    def complete_bytes(self) -> bytes:
        return b"".join(self.chunks[n] for n in sorted(self.chunks))


@dataclass(frozen=True)
class Patch:
    """One PATCH as a client (or a flaky network) sends it."""

    stale_by: int  # how far before the true offset the client thinks it is (0: current)
    size: int  # bytes it sends
    cuts: tuple[int, ...]  # where the body is split into pieces (fractions of 1000)
    checksum: str  # "none", "good" or "bad"
    sized: bool  # whether Content-Length is given
    fate: str  # "whole", "cut" (the client goes away), "crash" (the server dies)
    fate_at: int  # at which piece the cut or crash happens


patches = st.builds(
    Patch,
    stale_by=st.sampled_from([0, 0, 0, 1, 7, 300]),
    size=st.integers(0, 1200),
    cuts=st.lists(st.integers(0, 1000), max_size=5).map(lambda c: tuple(sorted(c))),
    checksum=st.sampled_from(["none", "none", "good", "bad"]),
    sized=st.booleans(),
    fate=st.sampled_from(["whole", "whole", "whole", "cut", "crash"]),
    fate_at=st.integers(0, 5),
)


def _pieces(body: bytes, cuts: tuple[int, ...]) -> list[bytes]:
    points = [0, *(len(body) * c // 1000 for c in cuts), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(points)]


def _run(server: Server, source: bytes, patch: Patch) -> str:
    """Send one PATCH; return what happened ("stored", "cut", "crash" or the status)."""
    offset = max(0, server.state.offset - patch.stale_by)
    body = source[offset : offset + patch.size]
    if patch.size > len(body) and not patch.sized:
        body += b"x" * (patch.size - len(body))  # a chunked body running past the length
    checksum = None
    if patch.checksum != "none":
        digest = hashlib.sha1(body if patch.checksum == "good" else body + b"!").digest()
        checksum = Checksum("sha1", digest)
    request = PatchRequest(offset, None, checksum, len(body) if patch.sized else None)
    before = server.state
    try:
        state = request.applied_to(server.state, OPTIONS, NOW)
    except TusError as exc:
        assert server.state == before
        return str(exc.status)
    if state.complete:  # a retry of the completing PATCH: answered with nothing to store
        return "stored"
    if server.crashed:  # the lease of a dead writer taken over: its chunks are stale
        server.chunks = {n: d for n, d in server.chunks.items() if n < state.first_open_chunk}
        server.crashed = False
    receiver = PatchReceiver(state, request, cipher=server.cipher)
    try:
        for i, piece in enumerate(_pieces(body, patch.cuts)):
            if patch.fate != "whole" and i == patch.fate_at:
                if patch.fate == "crash":
                    server.crashed = True
                    return "crash"
                after = receiver.interrupted()
                if after is None:  # a checksum could not be verified: discarded
                    _discard(server, receiver)
                else:
                    server.state = after
                return "cut"
            chunks = receiver.feed(piece)
            for chunk in chunks:
                assert chunk["n"] not in server.chunks  # the unique (files_id, n) index holds
                server.chunks[chunk["n"]] = chunk["data"]
            if chunks:
                durable = receiver.durable(chunks[-1]["n"])
                if durable is not None:
                    server.state = durable
        finished = receiver.finish()
    except TusError as exc:
        assert exc.status in (413, 460)
        assert server.state == before  # refused whole: nothing counted
        _discard(server, receiver)
        return str(exc.status)
    if finished.last_chunk is not None:
        server.chunks[finished.last_chunk["n"]] = finished.last_chunk["data"]
    server.state = finished.state
    return "stored"


def _discard(server: Server, receiver: PatchReceiver) -> None:
    server.chunks = {n: d for n, d in server.chunks.items() if n < receiver.discard_from}


@settings(max_examples=300, deadline=None)
@given(
    source=st.binary(min_size=0, max_size=3000),
    chunk_size=st.sampled_from([1, 7, 64, 255, 1024]),
    sequence=st.lists(patches, max_size=25),
    encrypted=st.booleans(),
)
def test_any_patches_store_the_bytes_sent_once_in_order(
    source: bytes, chunk_size: int, sequence: list[Patch], encrypted: bool
) -> None:
    file_id = ObjectId()
    key = {"v": 1, "alg": "AES-256-GCM"} if encrypted else None
    state = UploadState(
        "u", file_id, chunk_size, len(source), expires=NOW + timedelta(1), file_key=key
    )
    cipher = FileCipher("AES-256-GCM", new_file_key(), file_id, chunk_size) if encrypted else None
    server = Server(state, cipher=cipher)
    for patch in sequence:
        before = server.state.offset
        outcome = _run(server, source, patch)
        if outcome in ("409", "413", "460", "crash"):
            assert server.state.offset >= before  # refused: unchanged; a crash: as recorded
            if outcome != "crash":
                assert server.state.offset == before
        assert server.stored() == source[: server.state.offset]
        if not server.state.complete:
            for n in range(server.state.first_open_chunk):
                assert len(server.chunks[n]) == chunk_size
    # Then a well-behaved client finishes it, from the offset a HEAD reports.
    for _ in range(len(source) + 2):
        if server.state.complete:
            break
        _run(server, source, Patch(0, 500, (), "none", True, "whole", 0))
    assert server.state.complete or (not source and server.state.offset == 0)
    if server.state.complete:
        assert server.complete_bytes() == source
        assert server.state.offset == len(source)


def test_a_retry_of_the_completing_patch_is_answered_not_refused() -> None:
    state = UploadState("u", ObjectId(), 4, 6, offset=6, complete=True)
    assert PatchRequest(6, None, None, 0).applied_to(state, OPTIONS, NOW) is state
    with pytest.raises(TusError, match="is complete: it takes no more bytes") as err:
        PatchRequest(6, None, None, 3).applied_to(state, OPTIONS, NOW)
    assert err.value.status == 409


def test_a_stale_offset_is_a_409_naming_both_offsets() -> None:
    state = UploadState("u", ObjectId(), 4, 10, offset=5, tail=b"a")
    with pytest.raises(TusError) as err:
        PatchRequest(3).applied_to(state, OPTIONS, NOW)
    assert err.value.status == 409
    assert str(err.value) == "Upload-Offset 3 does not match the upload's offset 5"


def test_bytes_past_the_length_are_refused_before_or_while_read() -> None:
    state = UploadState("u", ObjectId(), 4, 10, offset=8)
    with pytest.raises(TusError) as err:
        PatchRequest(8, None, None, 3).applied_to(state, OPTIONS, NOW)
    assert (err.value.status, str(err.value)) == (
        413,
        "3 bytes at offset 8 go past the upload's length of 10 bytes",
    )
    receiver = PatchReceiver(state, PatchRequest(8))
    receiver.feed(b"ab")
    with pytest.raises(TusError, match="goes past the upload's length of 10 bytes") as err:
        receiver.feed(b"c")
    assert err.value.status == 413


def test_a_deferred_length_is_set_once_and_bounded_by_max_size() -> None:
    state = UploadState("u", ObjectId(), 4, None, offset=4)
    taken = PatchRequest(4, 9).applied_to(state, OPTIONS, NOW)
    assert taken.length == 9
    with pytest.raises(TusError, match="Upload-Length 9 cannot change from 12"):
        PatchRequest(4, 9).applied_to(UploadState("u", 1, 4, 12, offset=4), OPTIONS, NOW)
    with pytest.raises(TusError, match="Upload-Length 3 is less than the offset 4"):
        PatchRequest(4, 3).applied_to(state, OPTIONS, NOW)
    with pytest.raises(TusError, match="over this server's limit of 10000 bytes") as err:
        PatchRequest(4, 10_001).applied_to(state, OPTIONS, NOW)
    assert err.value.status == 413
    receiver = PatchReceiver(state, PatchRequest(4), max_size=6)
    with pytest.raises(TusError, match="past this server's limit of 6 bytes"):
        receiver.feed(b"abc")


def test_a_checksum_mismatch_is_a_460_and_counts_nothing() -> None:
    state = UploadState("u", ObjectId(), 4, 10)
    good = base64.b64decode(base64.b64encode(hashlib.md5(b"hello").digest()))
    receiver = PatchReceiver(state, PatchRequest(0, None, Checksum("md5", good), 5))
    receiver.feed(b"hello")
    assert receiver.finish().state.offset == 5
    bad = PatchReceiver(state, PatchRequest(0, None, Checksum("md5", good), 5))
    assert bad.feed(b"hellO")[0]["data"] == b"hell"  # stored as it came...
    assert bad.durable(0) is None  # ...never counted before the check
    with pytest.raises(TusError, match="md5 checksum does not match its body") as err:
        bad.finish()
    assert err.value.status == 460
    assert bad.interrupted() is None and bad.discard_from == 0


def test_the_file_hash_goes_on_across_patches() -> None:
    state = UploadState("u", ObjectId(), 4, 10)
    running = hashlib.sha256()
    first = PatchReceiver(state, PatchRequest(0), running)
    first.feed(b"hello")
    second = PatchReceiver(first.finish().state, PatchRequest(5), running)
    second.feed(b" you!")
    finished = second.finish()
    assert finished.state.complete and finished.last_chunk is not None
    assert finished.last_chunk["n"] == 2 and finished.last_chunk["data"] == b"u!"
    assert running.hexdigest() == hashlib.sha256(b"hello you!").hexdigest()


def test_an_encrypted_upload_keeps_its_tail_sealed_and_refuses_an_altered_one() -> None:
    file_id = ObjectId()
    cipher = FileCipher("AES-256-GCM", new_file_key(), file_id, 10)
    key = {"v": 1}
    state = UploadState("u", file_id, 10, 100, expires=NOW + timedelta(1), file_key=key)
    request = PatchRequest(0, None, None, 25)
    receiver = PatchReceiver(state, request, cipher=cipher)
    assert [c["n"] for c in receiver.feed(b"a" * 25)] == [0, 1]
    after = receiver.finish().state
    assert after.offset == 25 and len(after.tail) == 5 + CHUNK_OVERHEAD
    assert b"aaaaa" not in after.tail and cipher.open_tail(25, after.tail) == b"a" * 5
    assert UploadState.from_document(after.to_document()) == after
    # The next PATCH opens it and carries on from it.
    nxt = PatchReceiver(after, PatchRequest(25, None, None, 7), cipher=cipher)
    (chunk,) = nxt.feed(b"b" * 7)
    assert (chunk["n"], chunk["data"]) == (2, b"aaaaabbbbb")
    later = nxt.finish().state
    assert later.offset == 32 and cipher.open_tail(32, later.tail) == b"bb"
    # An altered tail, or one sealed for another offset, is corrupt when opened.
    altered = bytearray(after.tail)
    altered[-1] ^= 1
    with pytest.raises(CorruptFile, match="fails authentication"):
        PatchReceiver(dataclasses.replace(after, tail=bytes(altered)), request, cipher=cipher)
    moved = dataclasses.replace(after, offset=35, length=100)
    with pytest.raises(CorruptFile, match="offset 35"):
        PatchReceiver(moved, PatchRequest(35, None, None, 5), cipher=cipher)
    # A sealed tail is kept at its sealed size only; a clear one at the plain size.
    with pytest.raises(ValueError, match="sealed"):
        dataclasses.replace(after, tail=b"a" * 5)
    with pytest.raises(ValueError, match="needs cipher"):
        PatchReceiver(after, request)
    with pytest.raises(ValueError, match="takes no cipher"):
        PatchReceiver(
            dataclasses.replace(after, file_key=None, offset=0, tail=b""), request, cipher=cipher
        )
