"""Serving files over HTTP, and the cost of the upload checksum: two measures of the bench.

    python benchmarks/run.py --measures serving,checksum     # through ./dev bench -- ...
    python benchmarks/serving.py serve URI DB                # the server process (internal)

``serving`` runs a Starlette app under uvicorn in a process of its own (its RSS is sampled
from outside) and drives it with httpx over a socket: the commands and chunk documents a
304, a HEAD and a 64 KiB range cost; the server's peak RSS growth while a 256 MiB file
streams out; time to last byte of a 16 MiB and a 1 MiB file, and requests/s for 8 KiB files
with 8 requests in flight, for gridfield's ``GridFSApp`` and ``GridFSResponse`` against two
hand-written handlers on the same server, interleaved: a ``StreamingResponse`` over
``AsyncGridFSBucket.open_download_stream().readchunk()``, and read-whole-then-``Response``.
``checksum`` compares 128 MiB uploads with the streaming
SHA-256 on and off, interleaved.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
from pymongo import AsyncMongoClient, MongoClient

import gridfield
import gridfield.sync
from probes import CommandCounter, KiB, MiB, pieces

HERE = Path(__file__).resolve().parent
SEED = 12
BUCKETS = ("small", "cond", "mid", "ranged", "big")
# Who answers a GET, and under which path prefix (then <bucket>/<file id>).
SYSTEMS = {
    "gridfield-app": "/files/",
    "gridfield-response": "/response/",
    "hand-streamed": "/streamed/",
    "hand-whole": "/hand/",
}
HANDS = ("hand-streamed", "hand-whole")
CONCURRENCY = 8
RANGES = 20


def say(text: str) -> None:
    print(f"[serving] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- server process


def serve(uri: str, db_name: str) -> None:
    """Run the app on a free loopback port; print the port, then serve until killed."""
    import uvicorn
    from bson import ObjectId
    from gridfs import AsyncGridFSBucket
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route

    from gridfield.web.asgi import GridFSApp, GridFSResponse

    counter = CommandCounter()
    db = AsyncMongoClient(uri, event_listeners=[counter])[db_name]

    async def hand_written(request: Request) -> Response:
        # What apps write by hand: the whole file into memory, then one response.
        bucket = AsyncGridFSBucket(db, request.path_params["bucket"])
        grid_out = await bucket.open_download_stream(ObjectId(request.path_params["file_id"]))
        data = await grid_out.read()
        kind = (grid_out.metadata or {}).get("contentType", "application/octet-stream")
        return Response(data, media_type=kind)

    async def streamed(request: Request) -> Response:
        # What apps write by hand to stream: PyMongo's chunks, one at a time, as they come.
        bucket = AsyncGridFSBucket(db, request.path_params["bucket"])
        grid_out = await bucket.open_download_stream(ObjectId(request.path_params["file_id"]))
        kind = (grid_out.metadata or {}).get("contentType", "application/octet-stream")

        async def body() -> Any:
            while chunk := await grid_out.readchunk():
                yield chunk

        headers = {"Content-Length": str(grid_out.length)}
        return StreamingResponse(body(), media_type=kind, headers=headers)

    stores = {b: gridfield.AsyncFileStore(db, b) for b in BUCKETS}

    async def response(request: Request) -> GridFSResponse:
        store = stores[request.path_params["bucket"]]
        return GridFSResponse(store, ObjectId(request.path_params["file_id"]))

    async def stats(request: Request) -> JSONResponse:
        body = {"commands": dict(counter.commands), "chunk_docs": counter.chunk_docs}
        counter.reset()
        counter.active = request.query_params.get("count") == "1"
        return JSONResponse(body)

    # A bucket per scenario: FerretDB scans a whole chunks collection for any chunk query.
    app = Starlette(
        routes=[
            Route("/hand/{bucket}/{file_id}", hand_written),
            Route("/streamed/{bucket}/{file_id}", streamed),
            Route("/response/{bucket}/{file_id}", response),
            Route("/_stats", stats),
            *(Mount(f"/files/{b}", GridFSApp(stores[b])) for b in BUCKETS),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


class Server:
    """The server process, and what it counted."""

    def __init__(self, uri: str, db_name: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "serve", uri, db_name],
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
        )
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        self.client = httpx.Client(base_url=self.url, timeout=120)
        self.ps = psutil.Process(self.process.pid)

    def counted(self) -> dict[str, Any]:
        """What the server sent since the last call; count from now on."""
        return dict(self.client.get("/_stats", params={"count": "1"}).json())

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(30)


def _per_request(counts: dict[str, Any], n: int) -> dict[str, float]:
    return {
        "commands": sum(counts["commands"].values()) / n,
        "chunk_docs": counts["chunk_docs"] / n,
    }


def _ttfb(client: httpx.Client, path: str) -> tuple[float, float]:
    """Seconds to the first body byte, and to the last."""
    started = time.perf_counter()
    with client.stream("GET", path) as response:
        first = None
        for _ in response.iter_raw(256 * KiB):
            if first is None:
                first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started


async def _rate(url: str, paths: list[str], total: int) -> float:
    """Requests/s for ``total`` GETs of ``paths`` (round robin), CONCURRENCY in flight."""
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        todo = iter(range(total))

        async def worker() -> None:
            for i in todo:
                r = await client.get(paths[i % len(paths)])
                assert r.status_code == 200 and len(r.content) == 8 * KiB

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return total / (time.perf_counter() - started)


def _against_hands(figures: dict[str, float], higher_is_better: bool) -> float:
    """gridfield-app's figure over the better hand-written handler's (above 1: faster)."""
    best = (max if higher_is_better else min)(figures[h] for h in HANDS)
    ours = figures["gridfield-app"]
    return ours / best if higher_is_better else best / ours


def _peak_rss_growth(ps: psutil.Process, action: Any) -> int:
    baseline = peak = ps.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, ps.memory_info().rss)
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        action()
    finally:
        done.set()
        thread.join()
    return max(peak, ps.memory_info().rss) - baseline


def _round_ratios(per_round: dict[str, list[float]], higher_is_better: bool) -> list[float]:
    """gridfield-app against the better hand-written handler, round by round (above 1:
    faster): how far the machine's noise moves the ratio."""
    rounds = len(per_round["gridfield-app"])
    return [
        _against_hands({k: v[i] for k, v in per_round.items()}, higher_is_better)
        for i in range(rounds)
    ]


def measure_serving(uri: str, quick: bool, rounds: int | None = None) -> dict[str, Any]:
    """The serving measure; ``rounds`` (``--rounds``) overrides the interleaved rounds of
    time to last byte and of the 8 KiB requests (3 with --quick, else 7)."""
    big, ttfb_size, ranged_size = (
        (64 * MiB, 4 * MiB, 4 * MiB) if quick else (256 * MiB, 16 * MiB, 16 * MiB)
    )
    mid_size = 1 * MiB
    rounds = rounds or (3 if quick else 7)
    small_n = 100 if quick else 400
    db_name = f"gridfield_bench_http_{uuid.uuid4().hex[:8]}"
    sync_client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = sync_client[db_name]
    out: dict[str, Any] = {
        "sizes": {"stream": big, "ttfb": ttfb_size, "mid": mid_size, "ranged": ranged_size},
        "concurrency": CONCURRENCY,
    }
    try:

        def put(bucket: str, size: int, kind: str) -> str:
            info = gridfield.sync.FileStore(db, bucket).put(pieces(size), content_type=kind)
            return f"{bucket}/{info.file_id}"

        ids = {
            "big": put("big", big, "application/octet-stream"),
            "ttfb": put("cond", ttfb_size, "application/octet-stream"),
            "mid": put("mid", mid_size, "application/octet-stream"),
            "ranged": put("ranged", ranged_size, "video/mp4"),
            "small": [put("small", 8 * KiB, "image/jpeg") for _ in range(20)],
        }
        say("files stored; starting the server")
        server = Server(uri, db_name)
        try:
            c = server.client
            etag = c.head(f"/files/{ids['ttfb']}").headers["etag"]
            server.counted()
            for _ in range(20):
                assert (
                    c.get(f"/files/{ids['ttfb']}", headers={"If-None-Match": etag}).status_code
                    == 304
                )
            out["304"] = _per_request(server.counted(), 20)
            for _ in range(20):
                assert c.head(f"/files/{ids['ttfb']}").status_code == 200
            out["HEAD"] = _per_request(server.counted(), 20)

            say("304 and HEAD done")
            rng = random.Random(SEED)
            per_range = []
            started = time.perf_counter()
            for _ in range(RANGES):
                start = rng.randrange(0, ranged_size - 64 * KiB)
                r = c.get(
                    f"/files/{ids['ranged']}",
                    headers={"Range": f"bytes={start}-{start + 64 * KiB - 1}"},
                )
                assert r.status_code == 206 and len(r.content) == 64 * KiB
                per_range.append(server.counted())
            elapsed = time.perf_counter() - started
            out["range_64k"] = {
                "commands_max": max(sum(p["commands"].values()) for p in per_range),
                "commands_median": statistics.median(
                    sum(p["commands"].values()) for p in per_range
                ),
                "chunk_docs_max": max(p["chunk_docs"] for p in per_range),
                "requests_per_s": RANGES / elapsed,
            }

            say("ranges done")
            received = 0

            def stream_big() -> None:
                nonlocal received
                with c.stream("GET", f"/files/{ids['big']}") as response:
                    for piece in response.iter_raw(MiB):
                        received += len(piece)

            server.counted()
            growth = _peak_rss_growth(server.ps, stream_big)
            assert received == big
            out["stream"] = {
                "server_rss_growth_mib": growth / MiB,
                **_per_request(server.counted(), 1),
            }

            say("256 MiB stream done")
            out["ttlb"] = {}
            for key in ("ttfb", "mid"):
                times: dict[str, list[tuple[float, float]]] = {k: [] for k in SYSTEMS}
                for i in range(rounds):  # interleaved, the order turned each round
                    order = list(SYSTEMS)[i % len(SYSTEMS) :] + list(SYSTEMS)[: i % len(SYSTEMS)]
                    for system in order:
                        times[system].append(_ttfb(c, f"{SYSTEMS[system]}{ids[key]}"))
                last = {k: 1000 * statistics.median(t[1] for t in v) for k, v in times.items()}
                out["ttlb"][key] = {
                    "last_byte_ms": last,
                    "first_byte_ms": {
                        k: 1000 * statistics.median(t[0] for t in v) for k, v in times.items()
                    },
                    "ratio": _against_hands(last, higher_is_better=False),
                    "ratio_rounds": _round_ratios(
                        {k: [t[1] for t in v] for k, v in times.items()}, higher_is_better=False
                    ),
                }
            say("time to last byte done")

            total = small_n // rounds
            rates: dict[str, list[float]] = {k: [] for k in SYSTEMS}
            counts: dict[str, dict[str, float]] = {}
            for i in range(rounds):
                order = list(SYSTEMS)[i % len(SYSTEMS) :] + list(SYSTEMS)[: i % len(SYSTEMS)]
                for system in order:
                    paths = [f"{SYSTEMS[system]}{p}" for p in ids["small"]]
                    server.counted()
                    rates[system].append(asyncio.run(_rate(server.url, paths, total)))
                    counts[system] = _per_request(server.counted(), total)
            per_s = {k: statistics.median(v) for k, v in rates.items()}
            out["small_8k"] = {
                "systems": {k: {"requests_per_s": per_s[k], **counts[k]} for k in SYSTEMS},
                "ratio": _against_hands(per_s, higher_is_better=True),
                "ratio_rounds": _round_ratios(rates, higher_is_better=True),
            }
        finally:
            server.close()
    finally:
        sync_client.drop_database(db_name)
        sync_client.close()
    return out


# --------------------------------------------------------------------------- checksum


async def _upload(
    store: gridfield.AsyncFileStore, size: int, checksum: bool
) -> tuple[float, float]:
    """MiB/s of one upload and the client CPU seconds it took."""
    cpu = time.process_time()
    started = time.perf_counter()
    info = await store.put(pieces(size), checksum=checksum)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    assert (info.sha256 is not None) == checksum
    await store.delete(info.file_id)
    return size / MiB / elapsed, cpu


async def _checksum(uri: str, quick: bool) -> dict[str, Any]:
    size = 32 * MiB if quick else 128 * MiB
    rounds = 3 if quick else 7
    client: Any = AsyncMongoClient(uri)
    name = f"gridfield_bench_sha_{uuid.uuid4().hex[:8]}"
    store = gridfield.AsyncFileStore(client[name])
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    try:
        await _upload(store, 8 * MiB, True)  # warm-up: indexes, connections
        for i in range(rounds):  # interleaved, alternating which goes first
            for checksum in (True, False) if i % 2 == 0 else (False, True):
                (on if checksum else off).append(await _upload(store, size, checksum))
    finally:
        await client.drop_database(name)
        await client.close()
    with_hash = statistics.median(r for r, _ in on)
    without = statistics.median(r for r, _ in off)
    cpu_on = statistics.median(c for _, c in on)
    cpu_off = statistics.median(c for _, c in off)
    return {
        "size": size,
        "rounds": rounds,
        "with_sha256_mib_s": with_hash,
        "without_mib_s": without,
        "with_sha256_all": [r for r, _ in on],
        "without_all": [r for r, _ in off],
        "throughput_cost_pct": 100 * (1 - with_hash / without),
        "client_cpu_s_with": cpu_on,
        "client_cpu_s_without": cpu_off,
    }


def measure_checksum(uri: str, quick: bool) -> dict[str, Any]:
    return asyncio.run(_checksum(uri, quick))


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3])
    else:
        measure = {"serving": measure_serving, "checksum": measure_checksum}[sys.argv[1]]
        print(json.dumps(measure(sys.argv[2], "--quick" in sys.argv), indent=1))
