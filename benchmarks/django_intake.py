"""Django uploads into GridFS: gridfield's upload handler against Django's own handlers.

    python benchmarks/run.py --measures django_intake       # through ./dev bench -- ...
    python benchmarks/django_intake.py serve URI DB TMPDIR  # the server process (internal)

A Django app under Django's own threaded WSGI server (the one ``runserver`` uses, which hands
the app the body as it comes off the socket), in a process of its own whose RSS is sampled
from outside with psutil, receives one multipart upload of 256 MiB (64 MiB with --quick)
sent by httpx over a socket, twice: through ``GridFSUploadHandler`` (straight into GridFS),
and through Django's default handlers followed by ``FileStore.upload_from_stream(name,
request.FILES["f"])``. For each: the server's peak RSS growth, the entries that appeared in
its temporary folder during the request, and the time from first byte sent to response.
"""

from __future__ import annotations

import hashlib
import json
import os
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
BOUNDARY = "gridfield-bench-boundary"
VARIANTS = ("gridfield", "django_default")


def say(text: str) -> None:
    print(f"[django_intake] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- server process


def serve(uri: str, db_name: str, temp_dir: str) -> None:
    """Run the Django app on a free loopback port; print the port, then serve until killed."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["gridfield.web.django_uploads.GridFSUploadMiddleware"],
        INSTALLED_APPS=[],
        FILE_UPLOAD_TEMP_DIR=temp_dir,
        GRIDFIELD_UPLOADS={"uri": uri, "db": db_name, "bucket": "gridfield"},
    )
    django.setup()
    from django.core.files.uploadhandler import (
        MemoryFileUploadHandler,
        TemporaryFileUploadHandler,
    )
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpRequest, JsonResponse
    from django.urls import path

    import gridfield.sync
    from gridfield.web.django_uploads import GridFSUploadHandler

    db = MongoClient(uri)[db_name]

    def ours(request: HttpRequest) -> JsonResponse:
        request.upload_handlers = [GridFSUploadHandler(request)]
        upload = request.FILES["f"]
        return JsonResponse({"id": str(upload.file_id), "bucket": "gridfield"})

    def default(request: HttpRequest) -> JsonResponse:
        request.upload_handlers = [
            MemoryFileUploadHandler(request),
            TemporaryFileUploadHandler(request),
        ]
        upload = request.FILES["f"]
        store = gridfield.sync.FileStore(db, "django_default")
        file_id = store.upload_from_stream(upload.name, upload)
        return JsonResponse({"id": str(file_id), "bucket": "django_default"})

    global urlpatterns
    urlpatterns = [path("gridfield", ours), path("django_default", default)]
    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    print(server.server_address[1], flush=True)
    server.serve_forever()


urlpatterns: list[Any] = []


# --------------------------------------------------------------------------- the client side


def _body(size: int, digest: Any) -> tuple[int, Iterator[bytes]]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def parts() -> Iterator[bytes]:
        yield head
        for piece in pieces(size):
            digest.update(piece)
            yield piece
        yield tail

    return len(head) + size + len(tail), parts()


class _Sampler:
    """The server's peak RSS and the entries of its temporary folder, sampled in a thread."""

    def __init__(self, ps: psutil.Process, folder: Path) -> None:
        self.ps, self.folder = ps, folder
        self.baseline = self.peak = ps.memory_info().rss
        self.entries: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.ps.memory_info().rss)
            self.entries.update(os.listdir(self.folder))
            time.sleep(0.005)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.ps.memory_info().rss)
        self.entries.update(os.listdir(self.folder))


def _one(
    client: httpx.Client, ps: psutil.Process, folder: Path, variant: str, size: int, db: Any
) -> dict[str, Any]:
    digest = hashlib.sha256()
    length, body = _body(size, digest)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length),
    }
    with _Sampler(ps, folder) as sample:
        started = time.perf_counter()
        response = client.post(f"/{variant}", content=body, headers=headers)
        elapsed = time.perf_counter() - started
    response.raise_for_status()
    stored = db[f"{variant}.files"].find_one()
    assert stored is not None and stored["length"] == size, stored
    assert stored["gridfield"]["sha256"] == digest.hexdigest()
    db[f"{variant}.files"].drop()
    db[f"{variant}.chunks"].drop()
    return {
        "server_rss_growth_mib": (sample.peak - sample.baseline) / MiB,
        "temp_entries": len(sample.entries),
        "seconds": elapsed,
        "mib_s": size / MiB / elapsed,
    }


def measure_django_intake(uri: str, quick: bool) -> dict[str, Any]:
    size = 64 * MiB if quick else 256 * MiB
    db_name = f"gridfield_bench_django_{uuid.uuid4().hex[:8]}"
    sync_client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = sync_client[db_name]
    out: dict[str, Any] = {"size": size}
    with tempfile.TemporaryDirectory(prefix="gridfield-bench-tmp-") as temp_dir:
        env = {**os.environ, "TMPDIR": temp_dir}
        process = subprocess.Popen(
            [sys.executable, __file__, "serve", uri, db_name, temp_dir],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # Django's server logs every request
            text=True,
            cwd=HERE.parent,
            env=env,
        )
        try:
            assert process.stdout is not None
            url = f"http://127.0.0.1:{int(process.stdout.readline())}"
            ps = psutil.Process(process.pid)
            with httpx.Client(base_url=url, timeout=600) as client:
                for variant in VARIANTS:  # a warm-up of each: imports, indexes, connections
                    _one(client, ps, Path(temp_dir), variant, 4 * MiB, db)
                for variant in VARIANTS:
                    say(f"{variant}: {size // MiB} MiB")
                    out[variant] = _one(client, ps, Path(temp_dir), variant, size, db)
        finally:
            process.terminate()
            process.wait(30)
            sync_client.drop_database(db_name)
            sync_client.close()
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(json.dumps(measure_django_intake(sys.argv[1], "--quick" in sys.argv), indent=1))
