"""Deduplication: a ``put(dedup=True)`` of a stored 64 MiB file (the chunks it leaves, its
time against a plain put of the same bytes), and the added cost of ``dedup=True`` on a new
small file (one indexed lookup) against a plain put, interleaved round after round after a
warm-up; the median and the spread.

    .venv/bin/python benchmarks/dedup.py [--uri URI] [--rounds 5] [--mib 64] [--small 200]

The server is --uri, else $MONGODB_URI, else ``python -m scripts.mongo_server``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _line(label: str, seconds: list[float], per: str) -> str:
    median = statistics.median(seconds)
    low, high = min(seconds) * 1000, max(seconds) * 1000
    return f"  {label:34} median {median * 1000:9.2f} ms{per}  min {low:.2f}  max {high:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=os.environ.get("MONGODB_URI"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--small", type=int, default=200, help="small files per round and system")
    args = parser.parse_args()
    uri = args.uri
    if not uri:
        from scripts.mongo_server import server_uri

        uri = server_uri()

    from pymongo import MongoClient

    from gridfield.sync import FileStore

    name = f"bench_dedup_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    db = client[name]
    store = FileStore(db)
    store.ensure_indexes()
    chunks = db["fs.chunks"]
    big = os.urandom(args.mib * 2**20)
    try:
        first = store.put(big, dedup=True, scope="bench")
        stored_chunks = chunks.count_documents({})
        print(f"server {uri}; {args.rounds} rounds interleaved after a warm-up")
        # 1. A dedup put of the stored file: its chunks are written, then removed.
        dedup_times: list[float] = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            again = store.put(big, dedup=True, scope="bench")
            dedup_times.append(time.perf_counter() - start)
            assert again.file_id == first.file_id
        new_chunks = chunks.count_documents({}) - stored_chunks
        print(f"{args.mib} MiB put(dedup=True) of a stored file: {new_chunks} new chunks")
        print(_line("put(dedup=True), file stored", dedup_times, ""))
        # 2. A small new file: plain put against put(dedup=True) (one more lookup).
        runs: dict[str, Callable[[bytes], object]] = {
            "put": lambda data: store.put(data),
            "put(dedup=True), new file": lambda data: store.put(data, dedup=True, scope="s"),
        }
        for put in runs.values():  # warm-up
            for _ in range(20):
                put(os.urandom(8192))
        times: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(args.rounds):
            for label, put in runs.items():
                pieces = [os.urandom(8192) for _ in range(args.small)]
                start = time.perf_counter()
                for data in pieces:
                    put(data)
                times[label].append((time.perf_counter() - start) / args.small)
        print(f"new 8 KiB files, {args.small} per round and system:")
        for label, seconds in times.items():
            print(_line(label, seconds, " per file"))
        added = statistics.median(times["put(dedup=True), new file"]) - statistics.median(
            times["put"]
        )
        print(f"  added by dedup=True: {added * 1000:.2f} ms per file (difference of medians)")
    finally:
        client.drop_database(name)
        client.close()


if __name__ == "__main__":
    main()
