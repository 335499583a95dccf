"""What the async members of gridfield._twins' pairs do with tasks and cancellation, which
their sync twins (one thread, one call after the other) have no counterpart for."""

from __future__ import annotations

import asyncio

import pytest

from gridfield._twins import both_at_once


async def test_two_calls_at_once_run_at_the_same_time() -> None:
    both_started = asyncio.Event()
    started: list[str] = []

    async def call(name: str) -> str:
        started.append(name)
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 5)  # each waits for the other to start
        return name

    assert await both_at_once(call("files"), call("chunks")) == ("files", "chunks")


async def test_when_the_first_call_fails_the_second_still_runs_to_its_end() -> None:
    ended: list[str] = []

    async def missing() -> None:
        raise LookupError("no such file")

    async def slow() -> None:
        await asyncio.sleep(0.05)
        ended.append("slow")

    with pytest.raises(LookupError):
        await both_at_once(missing(), slow())
    assert ended == ["slow"]  # finished before the error reached the caller


@pytest.mark.parametrize("which", ["first", "second"])
async def test_a_cancelled_caller_stops_both_calls_before_it_returns(which: str) -> None:
    running: list[str] = []
    stopped: list[str] = []

    async def call(name: str, seconds: float) -> None:
        running.append(name)
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            stopped.append(name)
            raise

    # The caller is cancelled while it waits for the first call, or (that one done) for
    # the second.
    first, second = (30.0, 30.0) if which == "first" else (0.0, 30.0)
    caller = asyncio.ensure_future(both_at_once(call("one", first), call("two", second)))
    while len(running) < 2:
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert "two" in stopped
    assert stopped == (["one", "two"] if which == "first" else ["two"])
