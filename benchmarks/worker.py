"""One system in a process of its own: answers the coordinator's requests, one JSON line each.

    python benchmarks/worker.py SYSTEM URI DB serve
    python benchmarks/worker.py SYSTEM URI DB memory-up SIZE CAP
    python benchmarks/worker.py SYSTEM URI DB memory-down SIZE CAP FILE_ID_JSON

`serve` reads requests on stdin and writes replies on the original stdout (anything a
library prints goes to stderr). The memory modes measure once and print one reply.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import math
import os
import resource
import sys
import time
import traceback
from collections import Counter
from typing import Any

from bson import json_util

from probes import CommandCounter, KiB, MiB, expected_slice, pieces, small_payload
from rss import PeakRSS
from systems import BY_KEY, System, resolve

WARMUP_SMALL = 20  # small puts and reads per system before anything is measured
WARMUP_SIZE = MiB


def sha256_cpu(size: int) -> float:
    """CPU ms per MiB of hashlib's SHA-256 over `size` bytes of benchmark data, fed by piece."""
    digest = hashlib.sha256()
    gc.collect()
    cpu = time.process_time()
    for piece in pieces(size):
        digest.update(piece)
    digest.hexdigest()
    return (time.process_time() - cpu) * 1000 / (size / MiB)


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


class Worker:
    def __init__(self, system: System, counter: CommandCounter) -> None:
        self.system = system
        self.counter = counter
        self.keep: list[Any] = []  # files that stay across rounds (sentinel, ranged file)
        self.sentinel: Any = None
        self.ranged_file: Any = None

    # ------------------------------------------------------------------ helpers

    def _count(self, on: bool) -> None:
        if on:
            self.counter.reset()
        self.counter.active = on

    async def _clean(self) -> None:
        """Remove the files of the last measurement; keep the sentinel and the ranged file."""
        if self.keep == [self.sentinel]:
            # Cheaper than deleting on FerretDB; the sentinel goes back in afterwards.
            await self.system.reset()
            self.sentinel = await resolve(self.system.put_small(small_payload(0, 8 * KiB)))
            self.keep = [self.sentinel]
        else:
            await self.system.remove_all_but(self.keep)

    # ------------------------------------------------------------------ requests

    async def warmup(self) -> dict[str, Any]:
        """Connections, imports, indexes and one pass over each operation: nothing measured."""
        system = self.system
        # The sentinel stays in the bucket, so no upload finds its files collection empty
        # (PyMongo's gridfs lists the indexes then, and only then).
        self.sentinel = await resolve(system.put_small(small_payload(0, 8 * KiB)))
        self.keep = [self.sentinel]
        for i in range(1, WARMUP_SMALL + 1):
            data = small_payload(i, 8 * 1024)
            file_id = await resolve(system.put_small(data))
            got = await resolve(system.read_small(file_id))
            if bytes(got) != data:
                raise RuntimeError(
                    f"small file {file_id} read back {len(got)} bytes, wrong content"
                )
        file_id = await resolve(system.upload(WARMUP_SIZE))
        got = await resolve(system.download(file_id))
        if got != WARMUP_SIZE:
            raise RuntimeError(f"{WARMUP_SIZE} bytes uploaded, {got} read back")
        await self._clean()
        return {}

    async def large(
        self, size: int, count: int, download: bool = True, down_cap: float = math.inf
    ) -> dict[str, Any]:
        """`count` uploads of `size` bytes (timed together), then their downloads.

        Downloads stop after `down_cap` seconds in all; the reply then says how far they got.
        """
        system = self.system
        reply: dict[str, Any] = {}
        ids = []
        gc.collect()
        try:
            self._count(True)
            cpu = time.process_time()
            started = time.perf_counter()
            for _ in range(count):
                ids.append(await resolve(system.upload(size)))
            reply["up_s"] = time.perf_counter() - started
            reply["up_cpu"] = time.process_time() - cpu
            reply["up_commands"] = self.counter.total / count
        except Exception as exc:
            reply["up_error"] = describe(exc)
        finally:
            self._count(False)
        if download and ids and "up_error" not in reply:
            gc.collect()
            try:
                self._count(True)
                cpu = time.process_time()
                started = time.perf_counter()
                deadline = started + down_cap
                done = 0
                for file_id in ids:
                    got = await resolve(system.download(file_id, deadline))
                    done += got
                    if got != size:
                        if time.perf_counter() > deadline:
                            reply["down_partial"] = True
                            break
                        raise RuntimeError(f"{size} bytes uploaded, {got} read back")
                reply["down_s"] = time.perf_counter() - started
                reply["down_cpu"] = time.process_time() - cpu
                reply["down_bytes"] = done
                reply["down_commands"] = self.counter.total / count
            except Exception as exc:
                reply["down_error"] = describe(exc)
            finally:
                self._count(False)
        await self._clean()
        return reply

    async def cpu(self, size: int, flip: bool = False) -> dict[str, Any]:
        """Client CPU ms per MiB of an upload of `size` bytes and of downloads (1 MiB at a time,
        then whole, in one read() call), and of hashlib's SHA-256 over the same bytes, in this
        process.

        A system that stores a checksum also uploads a file without one, then reads back
        both (in an order `flip` reverses), so "download without a stored checksum" and
        "with one" are told apart; any other system's one file is of the first kind.
        """
        system = self.system
        mib = size / MiB
        reply: dict[str, Any] = {}

        async def timed(name: str, operation: Any) -> Any:
            gc.collect()
            before = resource.getrusage(resource.RUSAGE_SELF)
            cpu = time.process_time()
            value = await resolve(operation())
            reply[name] = (time.process_time() - cpu) * 1000 / mib
            after = resource.getrusage(resource.RUSAGE_SELF)
            # Minor page faults (fresh memory touched), an exact count where the CPU time is
            # noisy: kept in results.json for NOTES.md, not shown in the report's tables.
            reply[f"{name}_faults"] = (after.ru_minflt - before.ru_minflt) / mib
            return value

        try:
            hashed = await timed("up", lambda: system.upload(size))
            if system.stores_checksum:
                plain = await timed("up_plain", lambda: system.upload_plain(size))
                reads = [("down_plain", plain), ("down_sha", hashed)]
            else:
                reads = [("down_plain", hashed)]
            for name, file_id in reversed(reads) if flip else reads:
                got = await timed(name, lambda file_id=file_id: system.download(file_id))
                if got != size:
                    raise RuntimeError(f"{size} bytes uploaded, {got} read back")
            # The same files read whole, in one read() call each (what most callers write).
            wholes = [("whole" + name[len("down") :], file_id) for name, file_id in reads]
            for name, file_id in reversed(wholes) if flip else wholes:
                data = await timed(name, lambda file_id=file_id: system.read_small(file_id))
                if len(data) != size:
                    raise RuntimeError(f"{size} bytes uploaded, {len(data)} read back whole")
                del data
            reply["sha256"] = sha256_cpu(size)
        except Exception as exc:
            reply = {"error": describe(exc)}
        await self._clean()
        return reply

    async def small(self, count: int, size: int, first: int, group: int) -> dict[str, Any]:
        """`count` puts of distinct `size`-byte files and `count` reads of them.

        They go by groups: `group` puts, then `group` reads, then (untimed) removal, so the
        bucket never holds more than `group` files besides the sentinel.
        """
        system = self.system
        put_s = read_s = put_cpu = read_cpu = 0.0
        put_commands: Counter[str] = Counter()
        read_commands: Counter[str] = Counter()
        done = 0
        while done < count:
            payloads = [small_payload(first + done + i, size) for i in range(group)]
            done += group
            ids = []
            try:
                self._count(True)
                cpu = time.process_time()
                started = time.perf_counter()
                for data in payloads:
                    ids.append(await resolve(system.put_small(data)))
                put_s += time.perf_counter() - started
                put_cpu += time.process_time() - cpu
                put_commands += self.counter.commands
            except Exception as exc:
                return {"put_error": describe(exc)}
            finally:
                self._count(False)
            got = []
            try:
                self._count(True)
                cpu = time.process_time()
                started = time.perf_counter()
                for file_id in ids:
                    got.append(await resolve(system.read_small(file_id)))
                read_s += time.perf_counter() - started
                read_cpu += time.process_time() - cpu
                read_commands += self.counter.commands
            except Exception as exc:
                return {"read_error": describe(exc)}
            finally:
                self._count(False)
            if [bytes(g) for g in got] != payloads:
                return {"read_error": "files read back differ from those stored"}
            await system.remove_all_but(self.keep)  # a handful of small files: a delete is cheap
        return {
            "put_s": put_s,
            "read_s": read_s,
            "put_cpu": put_cpu,
            "read_cpu": read_cpu,
            "put_commands": sum(put_commands.values()) / done,
            "read_commands": sum(read_commands.values()) / done,
            "put_command_names": {k: v / done for k, v in put_commands.items()},
            "read_command_names": {k: v / done for k, v in read_commands.items()},
            "count": done,
        }

    async def ranged_prepare(self, size: int) -> dict[str, Any]:
        self.ranged_file = await resolve(self.system.upload(size))
        self.keep.append(self.ranged_file)
        return {}

    async def ranged(self, offsets: list[int], length: int, time_cap: float) -> dict[str, Any]:
        """Seek and read `length` bytes at each offset on one open stream, until `time_cap` s."""
        system = self.system
        await resolve(system.open_ranged(self.ranged_file))
        results = []
        gc.collect()
        try:
            self._count(True)
            started = time.perf_counter()
            deadline = started + time_cap
            for offset in offsets:
                results.append(await resolve(system.ranged_read(offset, length)))
                if time.perf_counter() > deadline:
                    break
            elapsed = time.perf_counter() - started
        finally:
            self._count(False)
            await resolve(system.close_ranged())
        for offset, data in zip(offsets, results, strict=False):
            if bytes(data) != expected_slice(offset, length):
                raise RuntimeError(f"ranged read at {offset} returned wrong bytes")
        return {
            "reads": len(results),
            "seconds": elapsed,
            "commands": self.counter.total,
            "chunk_docs": self.counter.chunk_docs,
            "command_names": dict(self.counter.commands),
        }

    async def memory(
        self, direction: str, size: int, file_id: Any, cap: float = math.inf
    ) -> dict[str, Any]:
        """Peak RSS growth of one upload (or download) of `size` bytes in this fresh process.

        A streaming download stops after `cap` seconds; the reply says how far it got.
        """
        system = self.system
        gc.collect()
        reply: dict[str, Any] = {}
        with PeakRSS() as peak:
            started = time.perf_counter()
            try:
                if direction == "up":
                    reply["file_id"] = await resolve(system.upload(size))
                else:
                    got = await resolve(system.download(file_id, started + cap))
                    reply["bytes"] = got
                    if got != size and time.perf_counter() <= started + cap:
                        raise RuntimeError(f"{size} bytes stored, {got} read back")
            except Exception as exc:
                reply["error"] = describe(exc)
            reply["seconds"] = time.perf_counter() - started
        reply["growth"] = peak.growth
        reply["baseline"] = peak.baseline
        if direction == "down" or "error" in reply:
            await system.reset()
        return reply


async def warm_up_elsewhere(key: str, uri: str, db_name: str) -> None:
    """Run each operation once through a throwaway instance of the system on a database of
    its own, so imports and first-use allocations are done before memory is measured (on
    FerretDB, a warm-up read in the measured bucket would scan the big file's chunks)."""
    from pymongo import MongoClient

    warm_db = f"{db_name}_warm_{key.replace('-', '_')}"
    system = BY_KEY[key](uri, warm_db, CommandCounter())
    await resolve(system.setup())
    try:
        file_id = await resolve(system.upload(WARMUP_SIZE))
        await resolve(system.download(file_id))
        file_id = await resolve(system.put_small(small_payload(0, 8 * KiB)))
        await resolve(system.read_small(file_id))
    finally:
        await resolve(system.close())
        client: Any = MongoClient(uri)
        client.drop_database(warm_db)
        client.close()


def write_reply(out: Any, reply: dict[str, Any]) -> None:
    out.write(json_util.dumps(reply) + "\n")
    out.flush()


async def serve(worker: Worker, out: Any) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        request = json_util.loads(line)
        op = request.pop("op")
        if op == "quit":
            write_reply(out, {})
            return
        try:
            reply = await getattr(worker, op)(**request)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            reply = {"error": describe(exc)}
        write_reply(out, reply)


async def main(argv: list[str]) -> int:
    key, uri, db_name, mode, *rest = argv
    # The protocol owns the real stdout; whatever a library prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr
    counter = CommandCounter()
    system = BY_KEY[key](uri, db_name, counter)
    try:
        if mode != "serve":
            await warm_up_elsewhere(key, uri, db_name)
        await resolve(system.setup())
        # Connect now: the first operation should not pay for it.
        await resolve(system.files.find_one({"_id": "no such file"}))
    except Exception as exc:
        write_reply(out, {"available": False, "error": describe(exc)})
        return 0
    worker = Worker(system, counter)
    try:
        if mode == "serve":
            write_reply(out, {"available": True, "versions": system.versions})
            await serve(worker, out)
        else:
            direction = mode.removeprefix("memory-")
            size, cap = int(rest[0]), float(rest[1])
            file_id = json_util.loads(rest[2])["id"] if len(rest) > 2 else None
            reply = await worker.memory(direction, size, file_id, cap)
            write_reply(out, reply)
    finally:
        await resolve(system.close())
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
