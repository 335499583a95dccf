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
from scripts.mongo_server.places import cache_dir

ROOT = Path(__file__).resolve().parents[2]


def script(cache: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "GRIDFIELD_SERVER")}
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


def test_status_of_an_empty_cache_says_nothing_runs(tmp_path: Path) -> None:
    done = script(tmp_path, "status")
    assert done.returncode == 1
    assert done.stdout.strip() == f"no server recorded in {tmp_path.resolve() / 'server'}"


def test_concurrent_callers_share_one_server_until_stop(tmp_path: Path) -> None:
    # The FerretDB binary the shared server runs, so this start costs no build.
    built = binary_path(cache_dir()).parent
    if built.exists():
        (tmp_path / built.name).symlink_to(built)
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "GRIDFIELD_SERVER")}
    env["GRIDFIELD_CACHE"] = str(tmp_path)
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
        pid = int((tmp_path / "server" / "pid").read_text())
        with MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
            assert client.admin.command("ping")["ok"] == 1
        again = script(tmp_path)
        assert again.stdout.strip() == uri
        assert "reusing" in again.stderr
        status = script(tmp_path, "status")
        assert status.returncode == 0
        assert f"pid {pid} at {uri} answers ping" in status.stdout
    finally:
        stopped = script(tmp_path, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not (tmp_path / "server").exists()
    with (
        MongoClient(uri, serverSelectionTimeoutMS=1000) as client,
        pytest.raises(ServerSelectionTimeoutError),
    ):
        client.admin.command("ping")
    assert script(tmp_path, "status").returncode == 1
