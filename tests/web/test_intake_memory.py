"""Uploads stream through the adapters in bounded memory and make no temporary file: a 64 MiB
form sent to a server in a process of its own (FastAPI on uvicorn, Flask on werkzeug's
server), its RSS sampled from outside and its temporary folder listed while it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pymongo import MongoClient

from ..conftest import fresh_db_name

ROOT = Path(__file__).resolve().parents[2]
MiB = 2**20
SIZE = 64 * MiB
BOUND = 32 * MiB
BOUNDARY = "memory-test-boundary"


def temp_files(pid: int, folder: Path) -> set[str]:
    """The files in ``folder``, and those ``pid`` holds open there: an unnamed temporary file
    (``tempfile.TemporaryFile``, what Starlette's spooled uploads roll over to) has no name in
    the folder, only an open descriptor (``/proc``: Linux)."""
    found = {str(folder / name) for name in os.listdir(folder)}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(f"{folder}/"):
            found.add(target)
    return found


def body() -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = os.urandom(MiB)
    for _ in range(SIZE // MiB):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_a_big_upload_streams_in_bounded_memory_without_temp_files(
    kind: str, mongo_uri: str, tmp_path: Path
) -> None:
    name = fresh_db_name()
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.web.intake_server", kind, mongo_uri, name],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(server_tmp)},
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        ps = psutil.Process(process.pid)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
            warm = http.post(
                "/form",
                files={"f": ("warm.bin", os.urandom(1000))},
            )  # indexes, connections, imports
            assert warm.status_code == 200
            baseline = peak = ps.memory_info().rss
            made: set[str] = set()
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, ps.memory_info().rss)
                    made.update(temp_files(process.pid, server_tmp))
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            try:
                response = http.post(
                    "/big",
                    content=body(),
                    headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                )
            finally:
                done.set()
                sampler.join()
        assert response.status_code == 200, response.text
        [entry] = response.json()["files"]
        assert entry["length"] == SIZE
        growth = peak - baseline
        assert growth <= BOUND, f"{kind}: the server grew by {growth / MiB:.1f} MiB"
        assert made == set(), f"{kind}: temporary files made: {sorted(made)}"
        # The framework's own parser, for contrast: the same watch sees its temporary file.
        made.clear()
        done.clear()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
                spooled = http.post(
                    "/spooled",
                    content=body(),
                    headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                )
        finally:
            done.set()
            sampler.join()
        assert (spooled.status_code, spooled.json()) == (200, {"length": SIZE})
        assert made, f"{kind}: the framework's parser made no temporary file that was seen"
    finally:
        process.terminate()
        process.wait(30)
        client.drop_database(name)
        client.close()
    # The server's temporary folder (its TMPDIR: the machine's /tmp is shared with others)
    # is as empty after the request as before it.
    assert os.listdir(server_tmp) == []
