"""Receiving uploads over HTTP: a measure of the bench.

    python benchmarks/run.py --measures intake                  # through ./dev bench -- ...
    python benchmarks/intake.py serve KIND URI DB               # a server process (internal)

The server runs in a process of its own (its RSS is sampled from outside, its temporary
folder is a fresh one, listed while the request runs): Starlette on uvicorn (``asgi``) and a
plain WSGI app on werkzeug's threaded server (``wsgi``: it hands the app ``wsgi.input`` as
the body arrives; waitress would read the whole body first). Measured: the server's peak RSS
growth and the temporary files made while a 256 MiB multipart upload streams in through
the adapter (and, on the ASGI server, through the hand-written handler); how much of a
1 GiB raw body sent to a 10 MiB limit the adapter reads before its 413, and the chunks
left; upload throughput through the adapter against the hand-written handler (the form
parsed by Starlette into an ``UploadFile``, then ``await bucket.upload_from_stream(name,
await file.read())``) on the same server.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
from pymongo import MongoClient

from probes import MiB, pieces

HERE = Path(__file__).resolve().parent
LIMIT = 10 * MiB
BOUNDARY = "gridfield-bench-boundary"


def say(text: str) -> None:
    print(f"[intake] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- server process


class Tally:
    """Body bytes the app had taken from the server when its answer started."""

    read = 0


class CountASGI:
    """ASGI middleware counting the body bytes the app receives before it answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        taken = 0

        async def counted_receive() -> Any:
            nonlocal taken
            message = await receive()
            taken += len(message.get("body", b""))
            return message

        async def noted_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                Tally.read = taken
            await send(message)

        await self.app(scope, counted_receive, noted_send)


class CountWSGI:
    """WSGI middleware counting the body bytes the app reads before it answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        stream = environ["wsgi.input"]
        taken = 0

        class Counted:
            def read(self, size: int = -1) -> bytes:
                nonlocal taken
                data: bytes = stream.read(size)
                taken += len(data)
                return data

        def noted_start(*args: Any) -> Any:
            Tally.read = taken
            return start_response(*args)

        environ["wsgi.input"] = Counted()
        return self.app(environ, noted_start)


def _asgi_app(uri: str, db_name: str) -> Any:
    from gridfs import AsyncGridFSBucket
    from pymongo import AsyncMongoClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import gridfield
    from gridfield.web.asgi import UPLOAD_ERROR_HANDLERS, receive_body, receive_files

    db = AsyncMongoClient(uri)[db_name]
    store = gridfield.AsyncFileStore(db)

    async def ours(request: Request) -> JSONResponse:
        received = await receive_files(request, store)
        return JSONResponse({"length": received.file("file").length})

    async def hand_written(request: Request) -> JSONResponse:
        # What apps write by hand: Starlette spools the form, the handler reads it whole.
        form = await request.form()
        file: Any = form["file"]
        bucket = AsyncGridFSBucket(db)
        file_id = await bucket.upload_from_stream(file.filename, await file.read())
        return JSONResponse({"id": str(file_id)})

    async def limited(request: Request) -> JSONResponse:
        received = await receive_body(request, store, max_size=LIMIT)
        return JSONResponse({"length": received.file().length})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"read": Tally.read})

    app = Starlette(
        routes=[
            Route("/ours", ours, methods=["POST"]),
            Route("/hand", hand_written, methods=["POST"]),
            Route("/limited", limited, methods=["PUT"]),
            Route("/_stats", stats),
        ],
        exception_handlers=UPLOAD_ERROR_HANDLERS,
    )
    return CountASGI(app)


def _wsgi_app(uri: str, db_name: str) -> Any:
    # A plain WSGI app (the bench's venv has no Flask: its blinker clashes with mongomotor's).
    import gridfield.sync
    from gridfield.core.http.intake import INTAKE_ERRORS, error_status
    from gridfield.web.wsgi import receive_body, receive_files

    store = gridfield.sync.FileStore(MongoClient(uri)[db_name])

    def app(environ: Any, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        try:
            if path == "/ours":
                body = {"length": receive_files(environ, store).file("file").length}
            elif path == "/limited":
                body = {"length": receive_body(environ, store, max_size=LIMIT).file().length}
            else:
                body = {"read": Tally.read}
            status = "200 OK"
        except INTAKE_ERRORS as exc:
            body, status = {"error": str(exc)}, f"{error_status(exc)} Refused"
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return CountWSGI(app)


def serve(kind: str, uri: str, db_name: str) -> None:
    """Run the ``kind`` app on a free loopback port; print the port, then serve until killed."""
    if kind == "asgi":
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        print(sock.getsockname()[1], flush=True)
        config = uvicorn.Config(
            _asgi_app(uri, db_name), lifespan="off", log_level="warning", access_log=False
        )
        uvicorn.Server(config).run(sockets=[sock])
    else:
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, _wsgi_app(uri, db_name), threaded=True)
        print(server.server_port, flush=True)
        server.serve_forever()


class Server:
    """A server process with a temporary folder of its own."""

    def __init__(self, kind: str, uri: str, db_name: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="gridfield-intake-"))
        env = {**os.environ, "TMPDIR": str(self.tmp)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "serve", kind, uri, db_name],
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
            env=env,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"
        self.ps = psutil.Process(self.process.pid)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        for leftover in self.tmp.iterdir():
            leftover.unlink()
        self.tmp.rmdir()


def temp_files(pid: int, folder: Path) -> set[str]:
    """The files in ``folder`` now, and those ``pid`` holds open there: a temporary file
    Python makes unnamed (``TemporaryFile``, what ``SpooledTemporaryFile`` rolls over to)
    has no name in the folder, only an open descriptor (``/proc``: Linux)."""
    found = {str(folder / name) for name in os.listdir(folder)}
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir() if fds.exists() else ():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(f"{folder}/"):
            found.add(target.removesuffix(" (deleted)"))
    return found


def _watch(server: Server, action: Any) -> tuple[int, int]:
    """Run ``action()``; return the server's peak RSS growth and how many temporary files it
    made (named, or unnamed and open) at any moment meanwhile."""
    baseline = peak = server.ps.memory_info().rss
    before = temp_files(server.ps.pid, server.tmp)
    seen: set[str] = set()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.ps.memory_info().rss)
            seen.update(temp_files(server.ps.pid, server.tmp) - before)
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        action()
    finally:
        done.set()
        thread.join()
    seen.update(temp_files(server.ps.pid, server.tmp) - before)
    return max(peak, server.ps.memory_info().rss) - baseline, len(seen)


def form_body(size: int) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from pieces(size)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _post(client: httpx.Client, path: str, size: int) -> float:
    """Seconds to send a ``size``-byte file as a form, streamed from a generator."""
    started = time.perf_counter()
    response = client.post(
        path,
        content=form_body(size),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


def _overflow(server: Server, total: int) -> dict[str, Any]:
    """Send a ``total``-byte raw body (chunked) to the 10 MiB route until the answer comes."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=120)
    answer = bytearray()
    answered = threading.Event()

    def read() -> None:
        try:
            while data := sock.recv(65536):
                answer.extend(data)
                if b"\r\n\r\n" in answer:
                    answered.set()
        except OSError:
            pass
        answered.set()

    threading.Thread(target=read, daemon=True).start()
    sock.sendall(
        b"PUT /limited HTTP/1.1\r\nHost: bench\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
    )
    sent = 0
    block = b"\0" * MiB
    try:
        while sent < total and not answered.is_set():
            sock.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
            sent += len(block)
        if sent >= total:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    answered.wait(120)
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else None
    read_before = httpx.get(f"{server.url}/_stats", timeout=30).json()["read"]
    return {"status": status, "sent_mib": sent / MiB, "read_before_413_mib": read_before / MiB}


def measure_intake(uri: str, quick: bool) -> dict[str, Any]:
    big = 64 * MiB if quick else 256 * MiB
    timed = 16 * MiB if quick else 64 * MiB
    overflow = 256 * MiB if quick else 1024 * MiB
    rounds = 2 if quick else 5
    db_name = f"gridfield_bench_intake_{uuid.uuid4().hex[:8]}"
    sync: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = sync[db_name]
    out: dict[str, Any] = {"sizes": {"upload": big, "timed": timed, "overflow": overflow}}
    try:
        for kind in ("asgi", "wsgi"):
            server = Server(kind, uri, db_name)
            try:
                with httpx.Client(base_url=server.url, timeout=600) as client:
                    _post(client, "/ours", MiB)  # warm-up: indexes, connections
                    growth, temp_files = _watch(server, lambda: _post(client, "/ours", big))
                    row: dict[str, Any] = {
                        "server_rss_growth_mib": growth / MiB,
                        "temp_files": temp_files,
                    }
                    say(
                        f"{kind}: {big // MiB} MiB form, +{growth / MiB:.1f} MiB, {temp_files} temp"
                    )
                    if kind == "asgi":  # the same form through the hand-written handler
                        growth, temp_files = _watch(server, lambda: _post(client, "/hand", big))
                        row["hand_written_rss_growth_mib"] = growth / MiB
                        row["hand_written_temp_files"] = temp_files
                        say(f"hand-written: +{growth / MiB:.1f} MiB, {temp_files} temp")
                    db["fs.files"].delete_many({})
                    db["fs.chunks"].delete_many({})
                    row["limit"] = _overflow(server, overflow)
                    row["limit"]["chunks_left"] = db["fs.chunks"].count_documents({})
                    row["limit"]["files_left"] = db["fs.files"].count_documents({})
                    say(f"{kind}: limit {row['limit']}")
                    ours: list[float] = []
                    hand: list[float] = []
                    for _ in range(rounds):  # interleaved, so both see the same load
                        ours.append(timed / MiB / _post(client, "/ours", timed))
                        if kind == "asgi":
                            hand.append(timed / MiB / _post(client, "/hand", timed))
                        db["fs.files"].delete_many({})
                        db["fs.chunks"].delete_many({})
                    row["adapter_mib_s"] = statistics.median(ours)
                    if hand:
                        row["hand_written_mib_s"] = statistics.median(hand)
                    say(f"{kind}: throughput {row}")
                    out[kind] = row
            finally:
                server.close()
    finally:
        sync.drop_database(db_name)
        sync.close()
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(json.dumps(measure_intake(sys.argv[1], "--quick" in sys.argv), indent=1))
