"""GridFSStorage: reads against PyMongo's GridFSBucket, and large uploads through the admin.

    python benchmarks/run.py --measures django_storage            # through ./dev bench -- ...
    python benchmarks/django_storage.py URI [--quick]             # alone: prints the JSON
    python benchmarks/django_storage.py serve VARIANT URI DB SQLITE  # a server (internal)

Reads: ``storage.open(name).read()`` of one 64 MiB file (16 MiB with --quick) and
``GridFSBucket.open_download_stream_by_name(name).read()`` of the same file, in this process,
interleaved round after round after a warm-up of each.

Uploads: the admin site of tests/django_storage/site (its ``zoo`` app: ``Animal.document``,
a FileField on GridFSStorage), with settings of this module's own, under Django's threaded
WSGI server (the one ``runserver`` uses: it hands Django the body as it comes off the socket,
where waitress would first spool any body over 512 KiB to a temporary file of its own), one
server process per variant, each with ``TMPDIR`` set to an empty folder of its own. The
variants differ only in ``FILE_UPLOAD_HANDLERS``: gridfield's ``GridFSUploadHandler`` (the
storage then adopts the stored file: a rename) or Django's defaults (a temporary file, then
the storage copies it into GridFS). This process logs in through the admin's login form with
httpx, then POSTs the add form as a browser does (multipart, its CSRF token, the file
generated as it is sent: 500 MiB, 64 MiB with --quick), the variants interleaved round after
round. For each request: the server's peak RSS growth (psutil, sampled from outside), the
entries that appeared in its temporary folder and the deleted files it held open
(``/proc/<pid>/fd``), the time; then the stored file's length and SHA-256, read from its
files document, are checked against the stream sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
ROOT = HERE.parent
BOUNDARY = "----gridfieldBenchFormBoundary7MA4YWxkTrZu0gW"  # a browser-like boundary
VARIANTS = ("gridfield", "django_default")
HANDLERS = {
    "gridfield": ["gridfield.web.django_uploads.GridFSUploadHandler"],
    "django_default": [  # Django's own default, spelled out
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ],
}
USER, PASSWORD = "keeper", "marmot-password"
ADD_URL = "/admin/zoo/animal/add/"
SERVER = "Django's ThreadedWSGIServer (runserver's)"


def say(text: str) -> None:
    print(f"[django_storage] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reads


def measure_reads(uri: str, size: int, rounds: int) -> dict[str, Any]:
    """GridFSStorage.open().read() against GridFSBucket, interleaved: seconds per round."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        django.setup()
    import gridfs
    from django.core.files.base import ContentFile

    from gridfield.django import GridFSStorage

    name = f"gridfield_bench_storage_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    storage = GridFSStorage(uri=uri, db=name)
    bucket = gridfs.GridFSBucket(client[name])
    data = b"".join(pieces(size))
    try:
        stored = storage.save("big.bin", ContentFile(data))

        def ours() -> bytes:
            with storage.open(stored) as f:
                return bytes(f.read())

        def theirs() -> bytes:
            return bucket.open_download_stream_by_name(stored).read()

        times: dict[str, list[float]] = {"storage": [], "bucket": []}
        runs = list(zip(times, (ours, theirs), strict=True))
        for _, read in runs:  # warm-up
            assert read() == data
        for _ in range(rounds):
            for label, read in runs:
                start = time.perf_counter()
                got = read()
                times[label].append(time.perf_counter() - start)
                assert len(got) == len(data)
        return {
            "size": size,
            "rounds": rounds,
            **{f"{label}_mib_s": [size / MiB / s for s in times[label]] for label in times},
        }
    finally:
        client.drop_database(name)
        client.close()


# --------------------------------------------------------------------------- server process


def serve(variant: str, uri: str, db_name: str, sqlite: str) -> None:
    """Run the admin site with the variant's upload handlers on a free loopback port: make
    its tables and the admin user, print the port, then serve until killed."""
    sys.path.append(str(ROOT))  # the site's app and URLs live in the tests' folder
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "tests.django_storage.site.zoo",
        ],
        MIDDLEWARE=[
            "gridfield.web.django_uploads.GridFSUploadMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF="tests.django_storage.site.urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        STATIC_URL="static/",
        STORAGES={
            "default": {
                "BACKEND": "gridfield.django.GridFSStorage",
                "OPTIONS": {"uri": uri, "db": db_name},
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        FILE_UPLOAD_HANDLERS=HANDLERS[variant],
        GRIDFIELD_UPLOADS={"uri": uri, "db": db_name},  # the storage's bucket: adopted
    )
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    get_user_model().objects.create_superuser(USER, "keeper@example.com", PASSWORD)
    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    print(server.server_address[1], flush=True)
    server.serve_forever()


# --------------------------------------------------------------------------- the client side


def _part(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _add_form(token: str, size: int, digest: Any) -> tuple[int, Iterator[bytes]]:
    """The admin's add form as a browser sends it, in the form's order: the file's bytes
    generated as they are sent (and hashed into ``digest``), never held whole."""
    head = (
        _part("csrfmiddlewaretoken", token)
        + _part("name", "marmot")
        + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="document"; '
            'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
    )
    tail = (
        b"\r\n"
        + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename=""\r\n'
            "Content-Type: application/octet-stream\r\n\r\n\r\n"
        ).encode()
        + _part("_save", "Save")
        + f"--{BOUNDARY}--\r\n".encode()
    )

    def parts() -> Iterator[bytes]:
        yield head
        for piece in pieces(size):
            digest.update(piece)
            yield piece
        yield tail

    return len(head) + size + len(tail), parts()


def _token(page: httpx.Response) -> str:
    page.raise_for_status()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {page.url}"
    return found.group(1)


def _log_in(client: httpx.Client) -> None:
    token = _token(client.get("/admin/login/", params={"next": "/admin/"}))
    answer = client.post(
        "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": USER, "password": PASSWORD},
    )
    assert answer.status_code == 302, f"login refused: {answer.status_code}"


def _temp_seen(ps: psutil.Process, folder: Path) -> set[str]:
    """What the server holds in its temporary folder: the entries there, and the files it
    holds open that are deleted or in the folder (an unnamed temporary file shows only so)."""
    seen = {str(folder / entry) for entry in os.listdir(folder)}
    fds = Path(f"/proc/{ps.pid}/fd")
    for fd in os.listdir(fds):
        try:
            target = os.readlink(fds / fd)
        except FileNotFoundError:  # closed since the listing
            continue
        if target.endswith(" (deleted)") or target.startswith(str(folder)):
            seen.add(target)
    return seen


class _Sampler:
    """The server's peak RSS and what it held in its temporary folder, sampled in a thread."""

    def __init__(self, ps: psutil.Process, folder: Path) -> None:
        self.ps, self.folder = ps, folder
        self.before = _temp_seen(ps, folder)
        self.baseline = self.peak = ps.memory_info().rss
        self.seen: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.peak = max(self.peak, self.ps.memory_info().rss)
        self.seen |= _temp_seen(self.ps, self.folder) - self.before

    def _run(self) -> None:
        while not self._done.wait(0.005):
            self._sample()

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._sample()


def _upload(
    client: httpx.Client, ps: psutil.Process, folder: Path, size: int, db: Any
) -> dict[str, Any]:
    """One POST of the add form; the stored file checked, then dropped."""
    digest = hashlib.sha256()
    length, body = _add_form(_token(client.get(ADD_URL)), size, digest)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length),
    }
    with _Sampler(ps, folder) as sample:
        started = time.perf_counter()
        answer = client.post(ADD_URL, content=body, headers=headers)
        elapsed = time.perf_counter() - started
    assert answer.status_code == 302, f"the add form answered {answer.status_code}"
    files = list(db["fs.files"].find())
    assert len(files) == 1, f"{len(files)} files documents after one upload"
    stored = files[0]
    assert stored["length"] == size, stored
    assert stored["gridfield"]["sha256"] == digest.hexdigest(), stored
    db["fs.files"].drop()  # the next round starts from an empty bucket
    db["fs.chunks"].drop()
    return {
        "server_rss_growth_mib": (sample.peak - sample.baseline) / MiB,
        "temp_files": len(sample.seen),
        "temp_seen": sorted(sample.seen),
        "seconds": elapsed,
        "mib_s": size / MiB / elapsed,
        "stored_as": stored["filename"],
    }


def measure_uploads(uri: str, size: int, rounds: int) -> dict[str, Any]:
    """Both variants' servers up at once; their uploads interleaved round after round."""
    tag = uuid.uuid4().hex[:8]
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    out: dict[str, Any] = {"size": size, "rounds": rounds, "server": SERVER}
    with tempfile.TemporaryDirectory(prefix="gridfield-bench-site-") as work:
        servers: dict[str, tuple[subprocess.Popen[str], Path, str]] = {}
        try:
            for variant in VARIANTS:
                temp = Path(work) / f"tmp-{variant}"  # the server's TMPDIR: empty
                temp.mkdir()
                db_name = f"gridfield_bench_admin_{variant}_{tag}"
                process = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "serve",
                        variant,
                        uri,
                        db_name,
                        str(Path(work) / f"{variant}.sqlite3"),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,  # Django's server logs every request
                    text=True,
                    cwd=ROOT,
                    env={**os.environ, "TMPDIR": str(temp)},
                )
                servers[variant] = (process, temp, db_name)
            sessions = {}
            for variant, (process, _, _) in servers.items():
                assert process.stdout is not None
                line = process.stdout.readline()
                assert line.strip(), f"the {variant} server did not start"
                session = httpx.Client(base_url=f"http://127.0.0.1:{int(line)}", timeout=1800)
                _log_in(session)
                sessions[variant] = session
            runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
            for variant in VARIANTS:  # a warm-up of each: imports, indexes, connections
                process, temp, db_name = servers[variant]
                _upload(sessions[variant], psutil.Process(process.pid), temp, MiB, client[db_name])
            for n in range(rounds):
                for variant in VARIANTS:
                    process, temp, db_name = servers[variant]
                    say(f"round {n + 1}/{rounds}: {variant}, {size // MiB} MiB")
                    runs[variant].append(
                        _upload(
                            sessions[variant],
                            psutil.Process(process.pid),
                            temp,
                            size,
                            client[db_name],
                        )
                    )
            for session in sessions.values():
                session.close()
            out.update(runs)
        finally:
            for process, _, db_name in servers.values():
                process.terminate()
                process.wait(30)
                client.drop_database(db_name)
            client.close()
    return out


def measure_django_storage(uri: str, quick: bool) -> dict[str, Any]:
    """The reads, then the admin uploads (see the module's docstring)."""
    say("reads")
    reads = measure_reads(uri, (16 if quick else 64) * MiB, 2 if quick else 5)
    say("admin uploads")
    uploads = measure_uploads(uri, (64 if quick else 500) * MiB, 1 if quick else 3)
    return {"read": reads, "admin_upload": uploads}


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(*sys.argv[2:6])
    else:
        print(json.dumps(measure_django_storage(sys.argv[1], "--quick" in sys.argv), indent=1))
