"""A resumable (tus 1.0) upload through the ASGI TusApp against one streamed upload.

    python benchmarks/run.py --measures tus                 # through ./dev bench -- ...
    python benchmarks/tus_upload.py URI [--quick]           # alone: prints the JSON
    python benchmarks/tus_upload.py serve URI DB            # the server (internal)

One server process under uvicorn, with ``TMPDIR`` set to an empty folder of its own, serves
a Starlette app of two routes over one ``AsyncFileStore``: ``gridfield.web.asgi.TusApp``
mounted at ``/files``, and ``POST /put``, which stores the request's body as it arrives
(``await store.put(request.stream(), filename=...)``). This process, with httpx, sends the
same generated file (256 MiB, 32 MiB with --quick; never held whole) both ways, interleaved
round after round after a warm-up of each: as a tus upload (the creation POST, then PATCHes
of 5 MiB, each with its Content-Length and ``Upload-Offset``), and as one streamed POST.
For each upload: the time from the first request sent to the last response, the server's
peak RSS growth and CPU time (psutil, sampled from outside), the temporary files it made
(the entries that appeared in its ``TMPDIR`` and the deleted files it held open in
``/proc/<pid>/fd``); then the stored file is checked: one files document, its length and
SHA-256 against the stream sent, its chunk count, and its bytes read back and hashed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import psutil
from pymongo import ASCENDING, MongoClient

from probes import PIECE, MiB, pieces
from server_sample import ServerSample

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PATCH_SIZE = 5 * MiB
VARIANTS = ("tus", "stream")
TUS = {"Tus-Resumable": "1.0.0"}
SERVER = "uvicorn (its h11 protocol), one worker"


def say(text: str) -> None:
    print(f"[tus] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- server process


def serve(uri: str, db_name: str) -> None:
    """Serve the two routes on a free loopback port: print the port, then serve until
    killed."""
    import uvicorn
    from pymongo import AsyncMongoClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    import gridfield
    from gridfield.web.asgi import TusApp, TusOptions

    client: Any = AsyncMongoClient(uri)
    store = gridfield.AsyncFileStore(client[db_name])

    async def put(request: Request) -> JSONResponse:
        info = await store.put(request.stream(), filename=request.query_params["name"])
        return JSONResponse({"length": info.length}, status_code=201)

    app = Starlette(
        routes=[
            Route("/put", put, methods=["POST"]),
            Mount("/files", TusApp(store, TusOptions(expire_after=None))),
        ]
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


# --------------------------------------------------------------------------- the client side


def _hashed(source: Iterator[bytes], digest: Any) -> Iterator[bytes]:
    for piece in source:
        digest.update(piece)
        yield piece


def _tus(client: httpx.Client, name: str, size: int, digest: Any) -> int:
    """The creation POST, then PATCHes of PATCH_SIZE until the upload is complete; the
    requests made."""
    meta = "filename " + base64.b64encode(name.encode()).decode()
    created = client.post(
        "/files/", headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": meta}
    )
    assert created.status_code == 201, f"creation answered {created.status_code}"
    location = created.headers["Location"]
    source = _hashed(pieces(size), digest)  # PATCH_SIZE is a whole number of pieces
    offset, requests = 0, 1
    while offset < size:
        length = min(PATCH_SIZE, size - offset)
        body = islice(source, math.ceil(length / PIECE))
        answer = client.patch(
            location,
            content=body,
            headers={
                **TUS,
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(length),
                "Upload-Offset": str(offset),
            },
        )
        requests += 1
        assert answer.status_code == 204, f"PATCH at {offset} answered {answer.status_code}"
        reached = int(answer.headers["Upload-Offset"])
        assert reached == offset + length, f"PATCH at {offset} reached {reached}"
        offset = reached
    return requests


def _stream(client: httpx.Client, name: str, size: int, digest: Any) -> int:
    answer = client.post(
        "/put",
        params={"name": name},
        content=_hashed(pieces(size), digest),
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
    )
    assert answer.status_code == 201, f"the streamed upload answered {answer.status_code}"
    assert answer.json()["length"] == size
    return 1


def _check_stored(uri: str, db: Any, name: str, size: int, sha256: str) -> None:
    """The one files document's length and SHA-256 against the stream sent; its chunks
    counted, and read back and hashed."""
    import gridfield.sync

    files = list(db["fs.files"].find())
    assert len(files) == 1, f"{len(files)} files documents after one upload"
    stored = files[0]
    assert stored["filename"] == name, stored
    assert stored["length"] == size, stored
    assert stored["gridfield"]["sha256"] == sha256, stored
    chunks = db["fs.chunks"].count_documents({"files_id": stored["_id"]})
    assert chunks == math.ceil(size / stored["chunkSize"]), f"{chunks} chunks"
    store = gridfield.sync.FileStore(db)
    read_back = hashlib.sha256()
    with store.open_download(stored["_id"]) as reader:
        while piece := reader.read(16 * MiB):
            read_back.update(piece)
    assert read_back.hexdigest() == sha256, "the chunks read back differ from the stream sent"


def _empty_bucket(db: Any) -> None:
    """Drop the bucket (FerretDB scans a whole chunks collection per query: every round
    starts from an empty one) and make its indexes again, as the store would."""
    for collection in ("fs.files", "fs.chunks", "fs.resumable"):
        db[collection].drop()
    db["fs.files"].create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
    db["fs.chunks"].create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)


def _upload(
    variant: str,
    http: httpx.Client,
    ps: psutil.Process,
    folder: Path,
    uri: str,
    db: Any,
    size: int,
) -> dict[str, Any]:
    name = f"{variant}-{uuid.uuid4().hex[:8]}.bin"
    digest = hashlib.sha256()
    send = _tus if variant == "tus" else _stream
    with ServerSample(ps, folder) as sample:
        started = time.perf_counter()
        requests = send(http, name, size, digest)
        elapsed = time.perf_counter() - started
    _check_stored(uri, db, name, size, digest.hexdigest())
    _empty_bucket(db)
    return {
        "server_rss_growth_mib": sample.growth / MiB,
        "temp_files": len(sample.seen),
        "temp_seen": sorted(sample.seen),
        "server_cpu_s": sample.cpu_s,
        "seconds": elapsed,
        "mib_s": size / MiB / elapsed,
        "requests": requests,
    }


def measure_tus(uri: str, quick: bool) -> dict[str, Any]:
    """The server up, a warm-up of each variant, then the uploads interleaved round after
    round (see the module's docstring)."""
    size = (32 if quick else 256) * MiB
    rounds = 2 if quick else 5
    db_name = f"gridfield_bench_tus_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = client[db_name]
    out: dict[str, Any] = {
        "size": size,
        "patch_size": PATCH_SIZE,
        "rounds": rounds,
        "server": SERVER,
    }
    with tempfile.TemporaryDirectory(prefix="gridfield-bench-tus-") as temp:
        process = subprocess.Popen(
            [sys.executable, __file__, "serve", uri, db_name],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "TMPDIR": temp},
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.strip(), "the server did not start"
            ps = psutil.Process(process.pid)
            runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
            with httpx.Client(base_url=f"http://127.0.0.1:{int(line)}", timeout=600) as http:
                _empty_bucket(db)
                for variant in VARIANTS:  # a warm-up of each: imports, connections, indexes
                    _upload(variant, http, ps, Path(temp), uri, db, 2 * PATCH_SIZE + MiB)
                for n in range(rounds):
                    for variant in VARIANTS:
                        run = _upload(variant, http, ps, Path(temp), uri, db, size)
                        runs[variant].append(run)
                        say(
                            f"round {n + 1}/{rounds}: {variant}, {size // MiB} MiB: "
                            f"{run['mib_s']:.1f} MiB/s, server +{run['server_rss_growth_mib']:.1f}"
                            f" MiB, {run['temp_files']} temporary files"
                        )
            out.update(runs)
        finally:
            process.terminate()
            process.wait(30)
            client.drop_database(db_name)
            client.close()
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps(measure_tus(sys.argv[1], "--quick" in sys.argv), indent=1))
