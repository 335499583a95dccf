"""Deduplication: a ``put(dedup=True)`` of a stored 64 MiB file (the chunks it leaves, its
time against a plain put of the same bytes), and, in a bucket holding 2,000 files of the
scope, the added cost of ``dedup=True`` on a new 8 KiB file (its lookup: one insert of the
claim on its digest key) and the cost of a hit (an 8 KiB file stored already) against a
plain put, interleaved file by file, round after round, after a warm-up; the median and
the spread.

    ./dev bench -- --measures dedup          (or: .venv/bin/python benchmarks/dedup.py [--quick])

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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _line(label: str, seconds: list[float], per: str) -> str:
    median = statistics.median(seconds)
    low, high = min(seconds) * 1000, max(seconds) * 1000
    return f"  {label:34} median {median * 1000:9.2f} ms{per}  min {low:.2f}  max {high:.2f}"


def measure_dedup(uri: str, quick: bool, rounds: int | None = None) -> dict[str, Any]:
    """The two measures of the module's docstring; seconds per call, every round's."""
    from pymongo import MongoClient

    from gridfield.sync import FileStore

    mib, small = (16, 50) if quick else (64, 200)
    rounds = rounds or (2 if quick else 5)
    filled = 2000
    name = f"bench_dedup_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    db = client[name]
    store = FileStore(db)
    store.ensure_indexes()
    chunks = db["fs.chunks"]
    big = os.urandom(mib * 2**20)
    try:
        first = store.put(big, dedup=True, scope="bench")
        stored_chunks = chunks.count_documents({})
        # 1. A dedup put of the stored file: its chunks are written, then removed.
        dedup_times: list[float] = []
        for _ in range(rounds):
            start = time.perf_counter()
            again = store.put(big, dedup=True, scope="bench")
            dedup_times.append(time.perf_counter() - start)
            assert again.file_id == first.file_id
        new_chunks = chunks.count_documents({}) - stored_chunks
        # 2. Small files in a bucket of 2,000 files of the scope: plain put against
        # put(dedup=True) of new bytes (one more insert: the claim) and of stored bytes.
        stored = [os.urandom(8192) for _ in range(filled)]
        for data in stored:
            store.put(data, dedup=True, scope="s")
        runs: dict[str, Callable[[bytes], object]] = {
            "plain": lambda data: store.put(data),
            "dedup": lambda data: store.put(data, dedup=True, scope="s"),
            "hit": lambda data: store.put(data, dedup=True, scope="s"),
        }
        for label, put in runs.items():  # warm-up
            for i in range(20):
                put(stored[i] if label == "hit" else os.urandom(8192))
        # Interleaved file by file (plain, new, stored, plain...): a burst of load on the
        # shared machine falls on the three ways alike.
        times: dict[str, list[float]] = {label: [] for label in runs}
        for round_ in range(rounds):
            spent = dict.fromkeys(runs, 0.0)
            hits = stored[round_ * small : (round_ + 1) * small]
            for i in range(small):
                for label, put in runs.items():
                    data = hits[i] if label == "hit" else os.urandom(8192)
                    start = time.perf_counter()
                    put(data)
                    spent[label] += time.perf_counter() - start
            for label in runs:
                times[label].append(spent[label] / small)
    finally:
        client.drop_database(name)
        client.close()
    return {
        "size": mib * 2**20,
        "rounds": rounds,
        "small_per_round": small,
        "stored_put_s": dedup_times,
        "new_chunks": new_chunks,
        "small_plain_s": times["plain"],
        "small_dedup_s": times["dedup"],
        "small_hit_s": times["hit"],
        "files_in_bucket": filled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=os.environ.get("MONGODB_URI"))
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    uri = args.uri
    if not uri:
        from scripts.mongo_server import server_uri

        uri = server_uri()
    result = measure_dedup(uri, args.quick, args.rounds)
    print(f"server {uri}; {result['rounds']} rounds interleaved after a warm-up")
    print(
        f"{result['size'] // 2**20} MiB put(dedup=True) of a stored file: "
        f"{result['new_chunks']} new chunks"
    )
    print(_line("put(dedup=True), file stored", result["stored_put_s"], ""))
    print(
        f"8 KiB files, {result['small_per_round']} per round and way, in a bucket of"
        f" {result['files_in_bucket']} files of the scope:"
    )
    print(_line("put, new file", result["small_plain_s"], " per file"))
    print(_line("put(dedup=True), new file", result["small_dedup_s"], " per file"))
    print(_line("put(dedup=True), stored file", result["small_hit_s"], " per file"))
    plain = statistics.median(result["small_plain_s"])
    added = statistics.median(result["small_dedup_s"]) - plain
    print(f"  added by dedup=True: {added * 1000:.2f} ms per new file (difference of medians)")
    paired = statistics.median(
        d - p for d, p in zip(result["small_dedup_s"], result["small_plain_s"], strict=True)
    )
    print(f"  added by dedup=True: {paired * 1000:.2f} ms per new file (median of the rounds')")
    hit = statistics.median(result["small_hit_s"]) - plain
    print(f"  a hit against a plain put: {hit * 1000:+.2f} ms per file (difference of medians)")


if __name__ == "__main__":
    main()
