"""The embedded server as a bucket grows: FerretDB on SQLite against FerretDB on PostgreSQL.

A 1 MiB file read whole and a 64 KiB range read from a 16 MiB file, in a bucket of 64 MiB and
one of 1 GiB, on each backend, interleaved (backend, bucket and operation in turn, round after
round, after a warm-up read of each); the median and the spread, in ms.

    ./dev bench -- --measures server_scale    (or: .venv/bin/python benchmarks/server_scale.py)

Each backend's server comes from ``python -m scripts.mongo_server`` with
``GRIDFIELD_FERRETDB_BACKEND`` set, in a cache folder of the benchmark's own
(``$GRIDFIELD_CACHE/bench``, sharing the built FerretDB binary): never the server the tests
use, which a read scanning a 1 GiB bucket would keep from answering anyone else for seconds.
The buckets are filled once per run (random bytes, 16 MiB files, in the database
``gridfield_bench_scale``), read by every round, and the servers stopped at the end (their data
goes with them); the time each fill took is reported.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 2**20
DB = "gridfield_bench_scale"
FILLER = 16 * MiB
BUCKETS = {"64 MiB": 64 * MiB, "1 GiB": 1024 * MiB}
BACKENDS = ("sqlite", "postgresql")
TARGET = "target-1mib"  # the file read whole
RANGED = "ranged-16mib"  # the file a 64 KiB range is read from
RANGE = 64 * 1024


def bench_cache() -> Path:
    """The benchmark's own cache folder, with the FerretDB build of the usual one."""
    from scripts.mongo_server.ferretdb import binary_path
    from scripts.mongo_server.places import cache_dir

    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    built = binary_path(cache_dir()).parent.parent  # the ferretdb-vX folder
    link = folder / built.name
    if built.exists() and not link.exists():
        link.symlink_to(built)
    return folder


def server_script(backend: str, command: str) -> str:
    """Run the server script's ``command`` for FerretDB on that backend, in the benchmark's
    cache folder; its stdout (the URI, for ``uri``)."""
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env.update(
        GRIDFIELD_FERRETDB_BACKEND=backend,
        GRIDFIELD_SERVER="ferretdb",
        GRIDFIELD_CACHE=str(bench_cache()),
    )
    done = subprocess.run(
        [sys.executable, "-m", "scripts.mongo_server", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def fill(store: Any, files: Any, size: int) -> float:
    """Fill the bucket to ``size`` bytes unless it holds them already; seconds it took."""
    total = sum(doc["length"] for doc in files.find({}, {"length": 1}))
    if total >= size and files.count_documents({"filename": {"$in": [TARGET, RANGED]}}) == 2:
        return 0.0
    store.drop()
    started = time.perf_counter()
    store.put(os.urandom(MiB), filename=TARGET)
    store.put(os.urandom(FILLER), filename=RANGED)
    stored = MiB + FILLER
    while stored < size:
        store.put(os.urandom(FILLER), filename="filler")
        stored += FILLER
    return time.perf_counter() - started


def measure_server_scale(uri: str, quick: bool, rounds: int | None = None) -> dict[str, Any]:
    """The measures of the module's docstring. ``uri`` is not used: each backend's server is
    asked for by name (the signature is the one every measure of run.py has)."""
    del uri
    from pymongo import MongoClient

    from gridfield.sync import FileStore

    rounds = rounds or (2 if quick else 3)
    buckets = {"64 MiB": 64 * MiB} if quick else BUCKETS
    clients: dict[str, MongoClient[dict[str, Any]]] = {}
    stores: dict[tuple[str, str], Any] = {}
    fills: dict[str, dict[str, float]] = {}
    ids: dict[tuple[str, str], tuple[Any, Any]] = {}
    rng = random.Random(7)
    try:
        for backend in BACKENDS:
            clients[backend] = MongoClient(server_script(backend, "uri"))
            fills[backend] = {}
            for label, size in buckets.items():
                name = "b" + label.replace(" ", "").lower()
                store = FileStore(clients[backend][DB], name)
                print(f"server_scale: filling {backend} {label}", file=sys.stderr, flush=True)
                fills[backend][label] = fill(store, clients[backend][DB][f"{name}.files"], size)
                stores[backend, label] = store
                ids[backend, label] = (
                    store.get_info_by_name(TARGET).file_id,
                    store.get_info_by_name(RANGED).file_id,
                )
        ops = {
            "1 MiB read": lambda store, pair: store.get(pair[0]),
            "64 KiB range": lambda store, pair: store.read_range(
                pair[1], (start := rng.randrange(FILLER - RANGE)), start + RANGE
            ),
        }
        times: dict[str, list[float]] = {}
        for key, store in stores.items():  # warm-up
            for op in ops.values():
                op(store, ids[key])
        for _ in range(rounds):
            for (backend, label), store in stores.items():
                for op_name, op in ops.items():
                    begun = time.perf_counter()
                    op(store, ids[backend, label])
                    times.setdefault(f"{backend}|{label}|{op_name}", []).append(
                        time.perf_counter() - begun
                    )
        versions = {
            b: c.admin.command("buildInfo").get("ferretdbVersion", "") for b, c in clients.items()
        }
    finally:
        for client in clients.values():
            client.close()
        for backend in clients:
            server_script(backend, "stop")
    return {"rounds": rounds, "fill_s": fills, "times_s": times, "versions": versions}


def table(result: dict[str, Any]) -> list[str]:
    """The measure as a Markdown table: ms, median (min-max), one row per bucket and op."""
    lines = [
        "| bucket | operation | SQLite, ms | PostgreSQL, ms | SQLite / PostgreSQL |",
        "|---|---|---|---|---|",
    ]
    keys = sorted(
        {tuple(k.split("|")[1:]) for k in result["times_s"]},
        key=lambda k: (BUCKETS.get(k[0], 0), k[1]),
    )
    for label, op in keys:
        cells, medians = [], []
        for backend in BACKENDS:
            got = [t * 1000 for t in result["times_s"].get(f"{backend}|{label}|{op}", [])]
            medians.append(statistics.median(got))
            cells.append(f"{medians[-1]:.0f} ({min(got):.0f}-{max(got):.0f})")
        lines.append(
            f"| {label} | {op} | {cells[0]} | {cells[1]} | {medians[0] / medians[1]:.1f}x |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    result = measure_server_scale("", args.quick, args.rounds)
    print(f"{result['rounds']} rounds, interleaved after a warm-up")
    for backend, fills in result["fill_s"].items():
        for label, seconds in fills.items():
            print(f"fill {backend} {label}: {seconds:.0f} s" + (" (reused)" if not seconds else ""))
    print("\n".join(table(result)))


if __name__ == "__main__":
    main()
