"""gridfs:// through fsspec against the store's own read: ``fs.cat_file`` of a 64 MiB file
and a streamed ``fs.open().read(1 MiB)`` loop, against ``FileStore.read_by_name``,
interleaved round after round after a warm-up; the peak RSS growth of the streamed read
beside its block size and the store's own streaming; and pyarrow reading one column of ten
from a Parquet file of the same size, counting the chunks the server sent.

    ./dev bench -- --measures fsspec
    .venv/bin/python benchmarks/fsspec_reads.py [--quick]     (alone, printing the figures)

The server is --uri, else $MONGODB_URI, else ``python -m scripts.mongo_server``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo import monitoring  # noqa: E402

STREAM_PIECE = 1024 * 1024


class _Chunks(monitoring.CommandListener):
    """How many chunk documents came back from ``fs.chunks`` queries."""

    def __init__(self) -> None:
        self.fetched: set[int] = set()
        self.documents = 0
        self._ours: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get("find", event.command.get("collection"))
        if event.command_name in ("find", "getMore") and target == "fs.chunks":
            self._ours.add(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id in self._ours:
            self._ours.discard(event.request_id)
            cursor = event.reply.get("cursor", {})
            for doc in cursor.get("firstBatch", cursor.get("nextBatch", [])):
                self.fetched.add(int(doc["n"]))
                self.documents += 1

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ours.discard(event.request_id)


def _parquet(size: int) -> tuple[bytes, str]:
    """An uncompressed Parquet file of about ``size`` bytes: 10 float64 columns, 2 row
    groups; and the name of the column read."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = size // 80
    rng = np.random.default_rng(5)
    table = pa.table({f"c{i}": rng.random(rows) for i in range(10)})
    buffer = io.BytesIO()
    pq.write_table(
        table, buffer, row_group_size=rows // 2 + 1, compression="none", use_dictionary=False
    )
    return buffer.getvalue(), "c3"


def measure_fsspec(uri: str, quick: bool, rounds: int | None = None) -> dict[str, Any]:
    """The measures of the module's docstring; seconds per read, every round's."""
    import pyarrow.parquet as pq
    from pymongo import MongoClient

    from benchmarks.rss import PeakRSS
    from gridfield.fsspec import DEFAULT_BLOCK_SIZE, GridFSFileSystem
    from gridfield.sync import FileStore

    mib = 16 if quick else 64
    rounds = rounds or (2 if quick else 5)
    name = f"bench_fsspec_{uuid.uuid4().hex[:8]}"
    counter = _Chunks()
    client: MongoClient[dict[str, object]] = MongoClient(uri, event_listeners=[counter])
    store = FileStore(client[name])
    fs = GridFSFileSystem(client=client, database=name, skip_instance_cache=True)
    data = os.urandom(mib * 2**20)
    store.put(data, filename="big.bin")

    def own() -> int:
        return len(store.read_by_name("big.bin"))

    def cat() -> int:
        return len(fs.cat_file("big.bin"))

    def streamed() -> int:
        done = 0
        with fs.open("big.bin", "rb") as f:
            while piece := f.read(STREAM_PIECE):
                done += len(piece)
        return done

    runs = {"store": own, "cat_file": cat, "open_read": streamed}
    try:
        for run in runs.values():  # warm-up
            assert run() == len(data)
        times: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(rounds):
            for label, run in runs.items():
                start = time.perf_counter()
                run()
                times[label].append(time.perf_counter() - start)
        with PeakRSS() as peak:
            streamed()
        rss_growth = peak.growth
        # The store's own streaming, a chunk at a time.
        with PeakRSS() as peak, store.open_download_by_name("big.bin") as stream:
            for _ in stream:
                pass
        store_rss_growth = peak.growth
        store.delete_by_name("big.bin")
        parquet, column = _parquet(mib * 2**20)
        fs.pipe_file("table.parquet", parquet)
        total_chunks = -(-len(parquet) // store.chunk_size)
        counter.fetched.clear()
        counter.documents = 0
        start = time.perf_counter()
        table = pq.read_table("table.parquet", filesystem=fs, columns=[column])
        parquet_s = time.perf_counter() - start
        assert table.num_columns == 1
    finally:
        client.drop_database(name)
        client.close()
    return {
        "size": mib * 2**20,
        "rounds": rounds,
        "store_s": times["store"],
        "cat_file_s": times["cat_file"],
        "open_read_s": times["open_read"],
        "stream_piece": STREAM_PIECE,
        "block_size": DEFAULT_BLOCK_SIZE,
        "stream_rss_growth": rss_growth,
        "store_stream_rss_growth": store_rss_growth,
        "parquet_size": len(parquet),
        "parquet_chunks": total_chunks,
        "parquet_fetched": len(counter.fetched),
        "parquet_documents": counter.documents,
        "parquet_s": parquet_s,
    }


def _line(label: str, seconds: list[float], size: int) -> str:
    median = statistics.median(seconds)
    return (
        f"  {label:28} median {median:7.2f} s ({size / 2**20 / median:6.1f} MiB/s)"
        f"  min {min(seconds):.2f}  max {max(seconds):.2f}"
    )


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
    r = measure_fsspec(uri, args.quick, args.rounds)
    size = r["size"]
    print(f"server {uri}; {r['rounds']} rounds interleaved after a warm-up, {size // 2**20} MiB")
    print(_line("FileStore.read_by_name", r["store_s"], size))
    print(_line("fs.cat_file", r["cat_file_s"], size))
    print(_line("fs.open().read(1 MiB) loop", r["open_read_s"], size))
    own = statistics.median(r["store_s"])
    print(f"  cat_file / store: {own / statistics.median(r['cat_file_s']):.2f}x")
    print(f"  open().read / store: {own / statistics.median(r['open_read_s']):.2f}x")
    print(
        f"streamed read peak RSS growth {r['stream_rss_growth'] / 2**20:.1f} MiB "
        f"(block size {r['block_size'] // 2**20} MiB; the store's own streaming "
        f"{r['store_stream_rss_growth'] / 2**20:.1f} MiB)"
    )
    print(
        f"Parquet {r['parquet_size'] / 2**20:.1f} MiB, one column of ten: "
        f"{r['parquet_fetched']} of {r['parquet_chunks']} chunks "
        f"({100 * r['parquet_fetched'] / r['parquet_chunks']:.1f}%, "
        f"{r['parquet_documents']} chunk documents sent) in {r['parquet_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
