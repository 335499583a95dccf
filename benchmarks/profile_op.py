"""Profile one operation of one system with pyinstrument (or cProfile), in this process.

    python benchmarks/profile_op.py gridfield-sync download --size 16
    python benchmarks/profile_op.py gridfield-async put --count 200 --cprofile

Operations: upload, download (of --size MiB), put, read (--count small files of 8 KiB),
ranged (--count 64 KiB reads at random offsets in a --size MiB file). Uses a database of
its own on the benchmark server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import sys
import time
from typing import Any

from probes import CommandCounter, KiB, MiB, small_payload
from run import server_uri
from systems import BY_KEY, System, resolve


async def prepare(system: System, op: str, size: int, count: int) -> list[Any]:
    if op == "download" or op == "ranged":
        return [await resolve(system.upload(size))]
    if op == "read":
        return [await resolve(system.put_small(small_payload(i, 8 * KiB))) for i in range(count)]
    return []


async def operate(system: System, op: str, size: int, count: int, ready: list[Any]) -> None:
    if op == "upload":
        await resolve(system.upload(size))
    elif op == "download":
        await resolve(system.download(ready[0]))
    elif op == "put":
        for i in range(count):
            await resolve(system.put_small(small_payload(i, 8 * KiB)))
    elif op == "read":
        for file_id in ready:
            await resolve(system.read_small(file_id))
    elif op == "ranged":
        rng = random.Random(7)
        await resolve(system.open_ranged(ready[0]))
        for _ in range(count):
            await resolve(system.ranged_read(rng.randrange(0, size - 64 * KiB), 64 * KiB))
        await resolve(system.close_ranged())


async def main(args: argparse.Namespace) -> None:
    from pymongo import MongoClient

    uri = server_uri(args.uri)
    db_name = f"gridfield_profile_{int(time.time())}"
    counter = CommandCounter()
    system = BY_KEY[args.system](uri, db_name, counter)
    size = args.size * MiB
    await resolve(system.setup())
    try:
        ready = await prepare(system, args.op, size, args.count)
        counter.active = True
        started = time.perf_counter()
        if args.cprofile:
            profile = cProfile.Profile()
            profile.enable()
            await operate(system, args.op, size, args.count, ready)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(35)
        else:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            with profiler:
                await operate(system, args.op, size, args.count, ready)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        elapsed = time.perf_counter() - started
        counter.active = False
        print(f"{args.system} {args.op}: {elapsed:.2f} s; commands {dict(counter.commands)}")
    finally:
        await resolve(system.close())
        client: Any = MongoClient(uri)
        client.drop_database(db_name)
        client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=sorted(BY_KEY))
    parser.add_argument("op", choices=["upload", "download", "put", "read", "ranged"])
    parser.add_argument("--size", type=int, default=16, help="MiB (upload, download, ranged)")
    parser.add_argument("--count", type=int, default=200, help="small files or ranged reads")
    parser.add_argument("--uri")
    parser.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    asyncio.run(main(parser.parse_args()))
    sys.exit(0)
