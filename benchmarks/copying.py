"""Copying a folder of files of mixed sizes into a bucket and back: ``gridfield.sync.
copy_files`` (verified, resumable, several files in flight) against a hand-written loop over
PyMongo's ``GridFSBucket`` (``upload_from_stream`` per file, then ``download_to_stream``),
interleaved round after round after a warm-up; each (system, round) in a fresh process, so
its peak RSS growth is its own. Throughput counts the bytes of the folder both ways.

    ./dev bench -- --measures copy     (or: .venv/bin/python benchmarks/copying.py [--quick]
                                        [--files 1000 --total-mib 1024 --rounds 3])

The server is --uri, else $MONGODB_URI, else ``python -m scripts.mongo_server``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KIB, MIB = 1024, 1024 * 1024
SYSTEMS = ("gridfield-copy", "pymongo-loop")


def file_sizes(count: int, total: int, seed: int = 27) -> list[int]:
    """``count`` sizes spread evenly on a log scale from 1 KiB to 64 MiB, scaled (within
    those bounds) to add up to about ``total`` bytes."""
    rng = random.Random(seed)
    raw = [KIB * 2 ** rng.uniform(0, 16) for _ in range(count)]
    scale = total / sum(raw)
    return [max(KIB, min(64 * MIB, int(size * scale))) for size in raw]


def make_folder(folder: Path, sizes: list[int]) -> int:
    """Write the files (random bytes, in folders of 50) and return their total size."""
    block = os.urandom(4 * MIB)
    for i, size in enumerate(sizes):
        path = folder / f"set{i // 50:03d}" / f"file{i:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            out.write(i.to_bytes(8, "big"))  # no two files alike
            left = size - 8
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
    return sum(sizes)


def _worker(system: str, uri: str, db_name: str, source: Path, back: Path) -> dict[str, Any]:
    """One round of one system, in this (fresh) process: in, then out; seconds and RSS."""
    from pymongo import MongoClient

    from benchmarks.rss import PeakRSS

    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = client[db_name]
    try:
        with PeakRSS() as peak:
            if system == "gridfield-copy":
                from gridfield.sync import FileStore, copy_files

                store = FileStore(db)
                store.ensure_indexes()
                start = time.perf_counter()
                up = copy_files(str(source), store)
                middle = time.perf_counter()
                down = copy_files(store, str(back))
                end = time.perf_counter()
                assert up.ok and down.ok, (up.summary(), down.summary())
            else:
                from gridfs import GridFSBucket

                bucket = GridFSBucket(db)
                start = time.perf_counter()
                for path in sorted(source.rglob("*")):
                    if path.is_file():
                        with path.open("rb") as f:
                            bucket.upload_from_stream(path.relative_to(source).as_posix(), f)
                middle = time.perf_counter()
                for grid_out in bucket.find():
                    target = back / grid_out.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("wb") as f:
                        bucket.download_to_stream(grid_out._id, f)
                end = time.perf_counter()
        return {
            "in_s": middle - start,
            "out_s": end - middle,
            "rss_growth_mib": peak.growth / MIB,
        }
    finally:
        client.drop_database(db_name)
        client.close()


def _run_worker(system: str, uri: str, source: Path, scratch: Path) -> dict[str, Any]:
    back = scratch / f"back-{uuid.uuid4().hex[:8]}"
    db_name = f"bench_copy_{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            system,
            "--uri",
            uri,
            "--db",
            db_name,
            "--source",
            str(source),
            "--back",
            str(back),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    shutil.rmtree(back, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"{system} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_copy(
    uri: str,
    quick: bool,
    rounds: int | None = None,
    files: int | None = None,
    total_mib: int | None = None,
) -> dict[str, Any]:
    """The measure of the module's docstring: every round's figures per system."""
    files = files or (100 if quick else 1000)
    total_mib = total_mib or (64 if quick else 1024)
    rounds = rounds or (2 if quick else 3)
    sizes = file_sizes(files, total_mib * MIB)
    with tempfile.TemporaryDirectory(prefix="bench-copy-") as scratch_name:
        scratch = Path(scratch_name)
        source = scratch / "source"
        total = make_folder(source, sizes)
        for system in SYSTEMS:  # warm-up: the server's caches, the page cache
            _run_worker(system, uri, source, scratch)
        runs: dict[str, list[dict[str, Any]]] = {system: [] for system in SYSTEMS}
        for round_ in range(rounds):
            order = SYSTEMS if round_ % 2 == 0 else tuple(reversed(SYSTEMS))
            for system in order:
                runs[system].append(_run_worker(system, uri, source, scratch))
    return {
        "files": files,
        "bytes": total,
        "smallest": min(sizes),
        "largest": max(sizes),
        "rounds": rounds,
        "runs": runs,
    }


def throughput(result: dict[str, Any], system: str) -> list[float]:
    """MiB/s of each round of ``system``, the folder's bytes counted both ways."""
    return [
        2 * result["bytes"] / MIB / (run["in_s"] + run["out_s"]) for run in result["runs"][system]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=os.environ.get("MONGODB_URI"))
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--total-mib", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--back", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    uri = args.uri
    if not uri:
        from scripts.mongo_server import server_uri

        uri = server_uri()
    if args.worker:
        print(json.dumps(_worker(args.worker, uri, args.db, args.source, args.back)))
        return
    result = measure_copy(uri, args.quick, args.rounds, args.files, args.total_mib)
    print(
        f"server {uri}; {result['files']} files, {result['bytes'] / MIB:.0f} MiB "
        f"({result['smallest'] / KIB:.0f} KiB to {result['largest'] / MIB:.1f} MiB), "
        f"folder -> bucket -> folder, {result['rounds']} rounds interleaved after a warm-up"
    )
    medians = {}
    for system in SYSTEMS:
        speeds = throughput(result, system)
        rss = [run["rss_growth_mib"] for run in result["runs"][system]]
        medians[system] = statistics.median(speeds)
        print(
            f"  {system:15} median {medians[system]:7.1f} MiB/s (min {min(speeds):.1f}, "
            f"max {max(speeds):.1f}); peak RSS growth max {max(rss):.1f} MiB"
        )
    ratio = medians["gridfield-copy"] / medians["pymongo-loop"]
    print(f"  gridfield / PyMongo loop: {ratio:.2f}x")


if __name__ == "__main__":
    main()
