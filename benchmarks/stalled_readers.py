"""What range responses whose clients stop reading cost the process serving them: RSS growth.

    MONGODB_URI=... python benchmarks/stalled_readers.py [--clients 200] [--size-mib 16]

Stores one file, then, in this process, starts ``--clients`` responses to
``Range: bytes=1000-`` as every web adapter does (``serving.serve`` then ``stream_body``)
and takes the first piece of each body, as a server does before the client's socket fills
up and stops it: each response then holds what its chunk cursor fetched and no more is read.
The responses are started one after another (a server with many at once only waits longer
for the same memory). Prints the RSS growth over the RSS before the first, in MiB, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import uuid
from typing import Any

import psutil
from pymongo import AsyncMongoClient

import gridfield
from gridfield._async.serving import serve, stream_body
from gridfield.core.http import ServeOptions

MiB = 1024 * 1024


async def measure(uri: str, clients: int, size_mib: int) -> dict[str, Any]:
    mongo: Any = AsyncMongoClient(uri)
    db = mongo[f"bench_stalled_{uuid.uuid4().hex}"]
    bodies: list[Any] = []
    try:
        store = gridfield.AsyncFileStore(db)
        info = await store.put(os.urandom(size_mib * MiB), content_type="video/mp4")
        headers = {"range": "bytes=1000-"}
        process = psutil.Process()

        async def stalled() -> Any:
            served = await serve(store, info.file_id, "GET", headers, ServeOptions())
            assert served.plan.status == 206, served.plan.status
            body = stream_body(served)
            await anext(body)
            return body

        await (await stalled()).aclose()  # warm up: imports, the client's pool
        gc.collect()
        baseline = process.memory_info().rss
        started = time.monotonic()
        for _ in range(clients):
            bodies.append(await stalled())
        grown = process.memory_info().rss - baseline
        return {
            "clients": clients,
            "file_mib": size_mib,
            "rss_growth_mib": round(grown / MiB, 1),
            "per_client_mib": round(grown / MiB / clients, 2),
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        for body in bodies:
            await body.aclose()
        await mongo.drop_database(db.name)
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--size-mib", type=int, default=16)
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        sys.exit("set MONGODB_URI (python -m scripts.mongo_server prints one)")
    print(json.dumps(asyncio.run(measure(uri, args.clients, args.size_mib)), indent=1))


if __name__ == "__main__":
    main()
