"""GridFSStorage against PyMongo's GridFSBucket: ``storage.open(name).read()`` of one 64 MiB
file and ``GridFSBucket.open_download_stream_by_name(name).read()`` of the same file, on the
same server, interleaved round after round after a warm-up; the median and the spread.

    .venv/bin/python benchmarks/django_storage.py [--uri URI] [--rounds 5] [--mib 64]

The server is --uri, else $MONGODB_URI, else ``python -m scripts.mongo_server``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=os.environ.get("MONGODB_URI"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    uri = args.uri
    if not uri:
        from scripts.mongo_server import server_uri

        uri = server_uri()

    import django
    from django.conf import settings

    settings.configure(USE_TZ=True)
    django.setup()
    import gridfs
    from django.core.files.base import ContentFile
    from pymongo import MongoClient

    from gridfield.django import GridFSStorage

    name = f"bench_django_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    storage = GridFSStorage(uri=uri, db=name)
    bucket = gridfs.GridFSBucket(client[name])
    data = os.urandom(args.mib * 2**20)
    try:
        stored = storage.save("big.bin", ContentFile(data))

        def ours() -> bytes:
            with storage.open(stored) as f:
                return bytes(f.read())

        def theirs() -> bytes:
            return bucket.open_download_stream_by_name(stored).read()

        times: dict[str, list[float]] = {"GridFSStorage.open().read()": [], "GridFSBucket": []}
        runs = list(zip(times, (ours, theirs), strict=True))
        for _, read in runs:  # warm-up
            assert read() == data
        for _ in range(args.rounds):
            for label, read in runs:
                start = time.perf_counter()
                got = read()
                times[label].append(time.perf_counter() - start)
                assert len(got) == len(data)
        print(f"{args.mib} MiB read, {args.rounds} rounds interleaved, server {uri}")
        for label, seconds in times.items():
            median = statistics.median(seconds)
            print(
                f"  {label:30} median {median:6.3f} s  ({args.mib / median:6.1f} MiB/s)"
                f"  min {min(seconds):.3f}  max {max(seconds):.3f}"
            )
    finally:
        client.drop_database(name)
        client.close()


if __name__ == "__main__":
    main()
