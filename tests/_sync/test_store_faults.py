# Generated from tests/_async/test_store_faults.py by scripts/unasync.py: do not edit.
"""Connections cut or stalled under a transfer (by a loopback proxy): a clear error, never
short or wrong bytes, and a read that failed can be tried again."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from gridfield._sync import download
from gridfield._sync.store import FileStore
from tests.tcp_proxy import TcpProxy

CHUNK = 1024
# Client timeouts through the proxy: a stalled connection fails within seconds.
TIMEOUTS = {"socketTimeoutMS": 3000, "serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 3000}


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def proxied(tcp_proxy: TcpProxy, sync_db: Any) -> Iterator[Any]:
    """The test's fresh database, reached through the proxy."""
    client: Any = MongoClient(tcp_proxy.uri(**TIMEOUTS))
    try:
        yield client[sync_db.name]
    finally:
        client.close()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads fetch two 1 KiB chunks per batch, so a read past them goes back to the server."""
    monkeypatch.setattr(download, "READ_BATCH_BYTES", 2 * CHUNK)


def test_a_read_cut_by_the_network_can_be_tried_again(
    proxied: Any, tcp_proxy: TcpProxy, small_batches: None
) -> None:
    data = payload(10 * CHUNK)
    store = FileStore(proxied, chunk_size=CHUNK)
    store.put(data, file_id="cut-read")
    stream = store.open_download("cut-read")
    assert stream.read(CHUNK) == data[:CHUNK]
    tcp_proxy.cut()
    with pytest.raises(PyMongoError):
        for _ in range(4):  # the batch in hand runs out within two reads
            stream.read(CHUNK)
    position = stream.tell()
    # Neither the end of the file nor an iterator's StopIteration: the rest, as it is stored.
    assert stream.read() == data[position:]


def test_a_chunk_loop_cut_by_the_network_never_ends_early(
    proxied: Any, tcp_proxy: TcpProxy, small_batches: None
) -> None:
    """A loop reading chunk by chunk, which retries a failed read once: it gets every byte."""
    data = payload(12 * CHUNK + 5)
    store = FileStore(proxied, chunk_size=CHUNK)
    store.put(data, file_id="chunk-loop")
    stream = store.open_download("chunk-loop")
    parts: list[bytes] = []
    failures = 0
    while True:
        if len(parts) == 3 and failures == 0:
            tcp_proxy.cut()
        try:
            piece = stream.readchunk()
        except PyMongoError:
            failures += 1
            assert failures == 1
            continue
        if not piece:
            break
        parts.append(piece)
    assert failures == 1
    assert b"".join(parts) == data


def test_an_upload_cut_by_the_network_says_what_is_left(
    proxied: Any, tcp_proxy: TcpProxy, sync_db: Any
) -> None:
    """The connection drops under an upload: the error says whether chunks may be left, and
    the clean-up (on a new connection) leaves none when the server can be reached."""
    store = FileStore(proxied, chunk_size=CHUNK)
    store.put(b"warms up the connection and the indexes")
    tcp_proxy.cut_after(200 * CHUNK, "up")
    with pytest.raises(PyMongoError):
        store.put(payload(2000 * CHUNK), file_id="cut-upload")
    assert sync_db["fs.files"].count_documents({"_id": "cut-upload"}) == 0
    assert sync_db["fs.chunks"].count_documents({"files_id": "cut-upload"}) == 0
