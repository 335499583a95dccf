"""The ASGI messages a served file goes out in: the last piece of a body says it is the last
(no empty message after it), and only a body that waits on the server for more than one
streaming batch watches for the client going away."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from gridfield import AsyncFileStore
from gridfield.core.chunks import STREAM_BATCH_BYTES
from gridfield.web.asgi import GridFSApp

CHUNK = 256 * 1024


def _scope(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> dict[str, Any]:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *raw],
    }


class Client:
    """The server's side of one request: what was sent, and whether the body was watched."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.received = 0

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        await asyncio.Event().wait()  # a client that stays, saying nothing
        raise AssertionError("not reached")

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def bodies(self) -> list[tuple[int, bool]]:
        return [
            (len(m["body"]), m["more_body"])
            for m in self.messages
            if m["type"] == "http.response.body"
        ]


async def _get(app: GridFSApp, path: str, **kw: Any) -> Client:
    client = Client()
    await asyncio.wait_for(app(_scope(path, **kw), client.receive, client.send), 60)
    return client


async def test_a_short_body_goes_in_one_message_and_the_client_is_not_watched(
    async_db: Any,
) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(os.urandom(8 * 1024), content_type="image/jpeg")
    client = await _get(GridFSApp(store), f"/{info.file_id}")
    assert client.messages[0]["status"] == 200
    assert client.bodies == [(8 * 1024, False)]
    assert client.received == 0  # one reply holds the body: nothing to stop early


async def test_a_long_body_ends_with_its_last_piece(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    data = os.urandom(STREAM_BATCH_BYTES + CHUNK + 5)
    info = await store.put(data, content_type="video/mp4")
    client = await _get(GridFSApp(store), f"/{info.file_id}")
    bodies = client.bodies
    assert [more for _, more in bodies] == [True] * (len(bodies) - 1) + [False]
    assert bodies[-1][0] == 5  # the last chunk's bytes, not an empty message
    assert b"".join(m["body"] for m in client.messages[1:]) == data
    assert client.received == 1  # the client's going away was watched for


async def test_answers_without_file_bytes_end_in_one_message(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(os.urandom(STREAM_BATCH_BYTES + 1), content_type="video/mp4")
    app = GridFSApp(store)
    head = await _get(app, f"/{info.file_id}", method="HEAD")
    assert head.bodies == [(0, False)]
    etag = dict(head.messages[0]["headers"])[b"etag"].decode()
    not_modified = await _get(app, f"/{info.file_id}", headers={"if-none-match": etag})
    assert not_modified.messages[0]["status"] == 304
    assert not_modified.bodies == [(0, False)]
    missing = await _get(app, "/0123456789abcdef01234567")
    assert missing.messages[0]["status"] == 404
    assert missing.bodies == [(len(b"Not Found"), False)]
    assert head.received == not_modified.received == missing.received == 0


async def test_a_long_body_stops_when_the_client_goes_away(async_db: Any) -> None:
    store = AsyncFileStore(async_db, chunk_size=CHUNK)
    info = await store.put(os.urandom(4 * STREAM_BATCH_BYTES), content_type="video/mp4")
    sent: list[int] = []
    stalled = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(len(message["body"]))
            stalled.set()
            await asyncio.Event().wait()  # the client's socket is full: it never drains

    async def receive() -> dict[str, Any]:
        await stalled.wait()
        return {"type": "http.disconnect"}

    app = GridFSApp(store)
    await asyncio.wait_for(app(_scope(f"/{info.file_id}"), receive, send), 30)
    assert sent == [CHUNK]  # one piece went out; the rest was never read
