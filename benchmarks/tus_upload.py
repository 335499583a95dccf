"""A resumable (tus 1.0) upload through the ASGI TusApp against one streamed upload; a
concatenation against the partial uploads it joins; tus-js-client in parallel against one
sequence.

    python benchmarks/run.py --measures tus                 # through ./dev bench -- ...
    python benchmarks/tus_upload.py URI [--quick] [--size-mib N] [--part-mib N] [--rounds N]
                                                            # alone: prints the JSON
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

In the same rounds, against the same server: a join (two partial uploads of 50 MiB, 16 MiB
with --quick, each a whole number of 256 KiB chunks, sent one after the other in 5 MiB
PATCHes to a second ``TusApp`` at ``/joins`` over a store of 256 KiB chunks, then the final
upload's POST that joins them in place), timed as the parts' upload and the final POST; and
npm's tus-js-client (node, the version the tests pin) sending a 50 MiB file (16 MiB with
--quick) to ``/files`` in one sequence and with ``parallelUploads: 2`` (two partial uploads,
then their concatenation: the parts are no whole number of the store's 255 KiB chunks, so
they are copied, from the first part's partial last chunk on), and with
``parallelUploads: 2`` to ``/joins`` (joined in place).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import shutil
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
JOIN_CHUNK = 256 * 1024  # 50 MiB and 25 MiB are whole numbers of these
VARIANTS = ("tus", "stream", "join", "tusjs-1", "tusjs-2", "tusjs-2-joins")
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
    joins = gridfield.AsyncFileStore(client[db_name], chunk_size=JOIN_CHUNK)

    async def put(request: Request) -> JSONResponse:
        info = await store.put(request.stream(), filename=request.query_params["name"])
        return JSONResponse({"length": info.length}, status_code=201)

    app = Starlette(
        routes=[
            Route("/put", put, methods=["POST"]),
            Mount("/files", TusApp(store, TusOptions(expire_after=None))),
            Mount("/joins", TusApp(joins, TusOptions(expire_after=None))),
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


def _tus(
    client: httpx.Client,
    name: str,
    size: int,
    digest: Any,
    *,
    endpoint: str = "/files/",
    partial: bool = False,
    located: list[str] | None = None,
) -> int:
    """The creation POST, then PATCHes of PATCH_SIZE until the upload is complete; the
    requests made. ``partial``: a partial upload, its URL appended to ``located``."""
    meta = "filename " + base64.b64encode(name.encode()).decode()
    headers = {**TUS, "Upload-Length": str(size), "Upload-Metadata": meta}
    if partial:
        headers["Upload-Concat"] = "partial"
    created = client.post(endpoint, headers=headers)
    assert created.status_code == 201, f"creation answered {created.status_code}"
    location = created.headers["Location"]
    if located is not None:
        located.append(location)
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


def _join(client: httpx.Client, name: str, part_size: int, digest: Any) -> dict[str, Any]:
    """Two partial uploads of ``part_size`` to /joins, one after the other, then the final
    upload that joins them: the time of each step."""
    located: list[str] = []
    started = time.perf_counter()
    requests = 0
    for _ in range(2):
        requests += _tus(
            client, name, part_size, digest, endpoint="/joins/", partial=True, located=located
        )
    parts_s = time.perf_counter() - started
    meta = "filename " + base64.b64encode(name.encode()).decode()
    paths = " ".join(httpx.URL(url).path for url in located)
    begun = time.perf_counter()
    final = client.post(
        "/joins/", headers={**TUS, "Upload-Concat": f"final;{paths}", "Upload-Metadata": meta}
    )
    join_s = time.perf_counter() - begun
    assert final.status_code == 201, f"the final upload answered {final.status_code}"
    return {"parts_s": parts_s, "join_s": join_s, "requests": requests + 1}


def _tus_js(base: str, endpoint: str, source: Path, parallel: int) -> None:
    """tus-js-client in node sends ``source`` to ``endpoint`` (``parallel`` uploads)."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.web.tus_js import UPLOAD_SCRIPT, tus_js_client
    finally:
        sys.path.remove(str(ROOT))
    folder = tus_js_client()
    node = shutil.which("node")
    assert node is not None, "node is needed for tus-js-client: apt-get install nodejs npm"
    done = subprocess.run(
        [node, str(UPLOAD_SCRIPT), base + endpoint, str(source), f"parallel={parallel}"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
        cwd=folder,
    )
    assert done.returncode == 0, f"tus-js-client failed ({done.returncode}): {done.stderr}"


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
    steps: dict[str, Any] = {}
    with ServerSample(ps, folder) as sample:
        started = time.perf_counter()
        if variant == "join":
            steps = _join(http, name, size // 2, digest)
            requests = steps["requests"]
        elif variant.startswith("tusjs"):
            source = folder.parent / "tusjs-source" / name
            _tus_js_source(source, size, digest)
            started = time.perf_counter()
            endpoint = "/joins/" if variant.endswith("joins") else "/files/"
            _tus_js(str(http.base_url).rstrip("/"), endpoint, source, int(variant.split("-")[1]))
            source.unlink()
            requests = 0
        else:
            send = _tus if variant == "tus" else _stream
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
        **steps,
    }


def _tus_js_source(source: Path, size: int, digest: Any) -> None:
    """The benchmark data of ``size`` bytes written to ``source`` for node to send."""
    source.parent.mkdir(exist_ok=True)
    with source.open("wb") as out:
        for piece in _hashed(pieces(size), digest):
            out.write(piece)


def measure_tus(
    uri: str,
    quick: bool,
    *,
    size_mib: int | None = None,
    part_mib: int | None = None,
    rounds: int | None = None,
) -> dict[str, Any]:
    """The server up, a warm-up of each variant, then the uploads interleaved round after
    round (see the module's docstring). ``size_mib``, ``part_mib`` (a join's part, also half
    of tus-js-client's file) and ``rounds`` scale the run down on a loaded machine."""
    size = (size_mib or (32 if quick else 256)) * MiB
    part = (part_mib or (16 if quick else 50)) * MiB
    if part % JOIN_CHUNK:
        raise ValueError(f"a join's part must be a whole number of {JOIN_CHUNK} byte chunks")
    rounds = rounds or (2 if quick else 5)
    db_name = f"gridfield_bench_tus_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = client[db_name]
    out: dict[str, Any] = {
        "size": size,
        "part_size": part,
        "join_chunk": JOIN_CHUNK,
        "patch_size": PATCH_SIZE,
        "rounds": rounds,
        "server": SERVER,
    }
    with tempfile.TemporaryDirectory(prefix="gridfield-bench-tus-") as temp:
        server_temp = Path(temp) / "server"  # the server's TMPDIR: the sources live beside
        server_temp.mkdir()
        process = subprocess.Popen(
            [sys.executable, __file__, "serve", uri, db_name],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "TMPDIR": str(server_temp)},
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
                    warm = 2 * PATCH_SIZE + MiB if variant in ("tus", "stream") else 4 * MiB
                    _upload(variant, http, ps, server_temp, uri, db, warm)
                for n in range(rounds):
                    for variant in VARIANTS:
                        sent = size if variant in ("tus", "stream") else 2 * part
                        run = _upload(variant, http, ps, server_temp, uri, db, sent)
                        runs[variant].append(run)
                        steps = (
                            f" (parts {run['parts_s']:.1f} s, join {run['join_s']:.1f} s)"
                            if variant == "join"
                            else ""
                        )
                        say(
                            f"round {n + 1}/{rounds}: {variant}, {sent // MiB} MiB: "
                            f"{run['seconds']:.1f} s{steps}, {run['mib_s']:.1f} MiB/s, server "
                            f"+{run['server_rss_growth_mib']:.1f} MiB, {run['temp_files']}"
                            " temporary files"
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
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("uri")
        parser.add_argument("--quick", action="store_true")
        parser.add_argument("--size-mib", type=int)
        parser.add_argument("--part-mib", type=int)
        parser.add_argument("--rounds", type=int)
        args = parser.parse_args()
        measured = measure_tus(
            args.uri,
            args.quick,
            size_mib=args.size_mib,
            part_mib=args.part_mib,
            rounds=args.rounds,
        )
        print(json.dumps(measured, indent=1))
