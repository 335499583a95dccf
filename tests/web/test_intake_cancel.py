"""A request cancelled while its body streams in (a server shutting down, anyio's cancel
scopes as Starlette delivers them) leaves no file and no chunk: async-only, so not twinned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
from pymongo import AsyncMongoClient

import gridfield
from gridfield import AsyncFileStore, receive_multipart

from ..conftest import fresh_db_name

BOUNDARY = "cancel-boundary"


def _part(name: str, data: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"'
            "\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )


async def test_a_cancelled_receive_removes_what_it_stored(mongo_uri: str) -> None:
    client: Any = AsyncMongoClient(mongo_uri)
    db = client[fresh_db_name()]
    store = AsyncFileStore(db)
    second_started = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield _part("a", b"x" * 300_000)  # stored whole
        yield _part("b", b"y" * 300_000)[:-1000]  # half of the second file, then a stall
        second_started.set()
        await asyncio.sleep(3600)
        yield b""

    try:
        for how in ("task", "anyio"):
            if how == "task":
                task = asyncio.ensure_future(
                    receive_multipart(
                        body(),
                        store,
                        content_type=f"multipart/form-data; boundary={BOUNDARY}",
                        content_length=None,
                    )
                )
                await second_started.wait()
                assert await db["fs.files"].count_documents({}) == 1  # the first file is in
                task.cancel()
                task.cancel()  # delivered again: the clean-up goes on all the same
                await asyncio.wait([task])
                assert task.cancelled()
            else:
                second_started.clear()
                with anyio.move_on_after(60) as scope:
                    async with anyio.create_task_group() as group:

                        async def run() -> None:
                            await receive_multipart(
                                body(),
                                store,
                                content_type=f"multipart/form-data; boundary={BOUNDARY}",
                                content_length=None,
                            )

                        group.start_soon(run)
                        await second_started.wait()
                        assert await db["fs.files"].count_documents({}) == 1
                        group.cancel_scope.cancel()
                assert not scope.cancelled_caught
            await gridfield.wait_cleanups()
            assert await db["fs.files"].count_documents({}) == 0
            assert await db["fs.chunks"].count_documents({}) == 0
    finally:
        await client.drop_database(db.name)
        await client.close()
