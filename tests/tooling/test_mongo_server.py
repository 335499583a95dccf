"""The server script: its errors, and one server for concurrent callers, reused, then stopped.

Every run here uses a cache folder of its own (``$GRIDFIELD_CACHE``), never the shared one,
so the server the other tests use is neither reused nor stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from scripts.mongo_server import ServerError, server_uri
from scripts.mongo_server.ferretdb import binary_path
from scripts.mongo_server.places import State, cache_dir
from scripts.mongo_server.postgresql import bin_dir, cluster_dir

ROOT = Path(__file__).resolve().parents[2]
# FerretDB's backends on this machine: SQLite always, PostgreSQL when installed (the test
# tools install it when they can).
BACKENDS = ["sqlite", *(["postgresql"] if bin_dir() is not None else [])]
STATE = {"sqlite": "server", "postgresql": "server-postgresql"}


def script(cache: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    unset = ("MONGODB_URI", "GRIDFIELD_SERVER", "GRIDFIELD_FERRETDB_BACKEND")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(GRIDFIELD_CACHE=str(cache), **extra)
    return subprocess.run(
        [sys.executable, "-m", "scripts.mongo_server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_uri_that_is_not_mongodb_is_refused(tmp_path: Path) -> None:
    done = script(tmp_path, MONGODB_URI="http://localhost:27017")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "MONGODB_URI must start with mongodb:// or mongodb+srv://" in done.stderr


def test_a_uri_that_does_not_answer_fails_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    monkeypatch.setattr("scripts.mongo_server.server.URI_TIMEOUT", 0.5)
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{unused_tcp_port}/")
    with pytest.raises(ServerError, match="MONGODB_URI does not answer ping"):
        server_uri()


def test_a_given_uri_that_answers_is_used_as_given(
    monkeypatch: pytest.MonkeyPatch, mongo_uri: str
) -> None:
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    assert server_uri() == mongo_uri


def test_an_unknown_server_kind_or_command_is_refused(tmp_path: Path) -> None:
    done = script(tmp_path, GRIDFIELD_SERVER="postgres")
    assert done.returncode == 1
    assert "GRIDFIELD_SERVER must be 'mongod' or 'ferretdb'" in done.stderr
    assert not (tmp_path / "server").exists()
    done = script(tmp_path, "restart")
    assert done.returncode == 1
    assert "unknown command 'restart'" in done.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_status_of_an_empty_cache_says_nothing_runs(tmp_path: Path, backend: str) -> None:
    done = script(tmp_path, "status", GRIDFIELD_FERRETDB_BACKEND=backend)
    assert done.returncode == 1
    folder = tmp_path.resolve() / STATE[backend]
    assert done.stdout.strip() == f"no server recorded in {folder}"


def test_an_unknown_backend_is_refused(tmp_path: Path) -> None:
    done = script(tmp_path, GRIDFIELD_FERRETDB_BACKEND="mysql", GRIDFIELD_SERVER="ferretdb")
    assert done.returncode == 1
    assert "GRIDFIELD_FERRETDB_BACKEND must be 'sqlite' or 'postgresql'" in done.stderr
    assert done.stdout == ""


def share_binary(cache: Path) -> None:
    """The FerretDB binary the shared server runs, so a start in ``cache`` costs no build."""
    built = binary_path(cache_dir()).parent.parent  # the ferretdb-vX folder
    if built.exists():
        (cache / built.name).symlink_to(built)


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_callers_share_one_server_until_stop(tmp_path: Path, backend: str) -> None:
    share_binary(tmp_path)
    unset = ("MONGODB_URI", "GRIDFIELD_SERVER")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["GRIDFIELD_CACHE"] = str(tmp_path)
    env["GRIDFIELD_FERRETDB_BACKEND"] = backend
    state = STATE[backend]
    command = [sys.executable, "-m", "scripts.mongo_server"]
    callers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        uris = {caller.communicate(timeout=1800)[0].strip() for caller in callers}
        assert [caller.returncode for caller in callers] == [0, 0, 0]
        assert len(uris) == 1, uris
        uri = uris.pop()
        pid = int((tmp_path / state / "pid").read_text())
        with MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
            assert client.admin.command("ping")["ok"] == 1
            kind = "ferretdb" if backend == "sqlite" else "ferretdb-postgresql"
            assert (tmp_path / state / "kind").read_text().strip() == kind
        again = script(tmp_path, GRIDFIELD_FERRETDB_BACKEND=backend)
        assert again.stdout.strip() == uri
        assert "reusing" in again.stderr
        status = script(tmp_path, "status", GRIDFIELD_FERRETDB_BACKEND=backend)
        assert status.returncode == 0
        assert f"pid {pid} at {uri} answers ping" in status.stdout
    finally:
        stopped = script(tmp_path, "stop", GRIDFIELD_FERRETDB_BACKEND=backend)
    assert stopped.returncode == 0, stopped.stderr
    assert not (tmp_path / state).exists()
    assert not cluster_dir(State(tmp_path.resolve(), state)).exists()
    with (
        MongoClient(uri, serverSelectionTimeoutMS=1000) as client,
        pytest.raises(ServerSelectionTimeoutError),
    ):
        client.admin.command("ping")
    assert script(tmp_path, "status", GRIDFIELD_FERRETDB_BACKEND=backend).returncode == 1


def test_the_two_backends_run_side_by_side_and_stop_apart(tmp_path: Path) -> None:
    """Starting or stopping the PostgreSQL-backed server never touches the SQLite one (and
    so never the server other users of the cache folder share). Without PostgreSQL, asking
    for it fails with the package to install, and the SQLite server runs on."""
    share_binary(tmp_path)
    sqlite = script(tmp_path, GRIDFIELD_FERRETDB_BACKEND="sqlite")
    try:
        postgres = script(tmp_path, GRIDFIELD_FERRETDB_BACKEND="postgresql")
        assert sqlite.returncode == 0, sqlite.stderr
        if bin_dir() is None:
            assert postgres.returncode == 1
            assert "apt-get install postgresql" in postgres.stderr
        else:
            assert postgres.returncode == 0, postgres.stderr
            assert sqlite.stdout != postgres.stdout
            kind = (tmp_path / "server-postgresql" / "kind").read_text().strip()
            assert kind == "ferretdb-postgresql"
        stopped = script(tmp_path, "stop", GRIDFIELD_FERRETDB_BACKEND="postgresql")
        assert stopped.returncode == 0, stopped.stderr
        with MongoClient(sqlite.stdout.strip(), serverSelectionTimeoutMS=10_000) as client:
            assert client.admin.command("ping")["ok"] == 1
        again = script(tmp_path, GRIDFIELD_FERRETDB_BACKEND="sqlite")
        assert again.stdout == sqlite.stdout
    finally:
        script(tmp_path, "stop", GRIDFIELD_FERRETDB_BACKEND="postgresql")
        script(tmp_path, "stop", GRIDFIELD_FERRETDB_BACKEND="sqlite")
