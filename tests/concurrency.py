"""Running a test's workers at the same time, in both twins: tasks of one event loop for the
async tests, threads for the sync ones (``run_together`` is mapped to ``run_in_threads``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


async def run_together(*workers: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Start every worker at once and wait for all; the first failure is raised."""
    return list(await asyncio.gather(*(worker() for worker in workers)))


def run_in_threads(*workers: Callable[[], Any]) -> list[Any]:
    """Sync twin of ``run_together``: each worker in a thread of its own."""
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        futures = [pool.submit(worker) for worker in workers]
        return [future.result() for future in futures]
