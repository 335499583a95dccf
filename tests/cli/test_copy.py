"""``gridfield copy``: a real SIGKILL in the middle and a run again, a second server, S3
(s3fs against moto's S3 server, started here), and the command's exit statuses."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from gridfield.core.encryption import Encryption, LocalKeys
from gridfield.sync import FileStore
from tests.cli.conftest import COMMAND_TIMEOUT, Cli, clean_env, stray_chunks
from tests.private_server import PrivateServer

KILL_TIMEOUT = 120.0


def _make_tree(root: Path, sizes: list[int]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for i, size in enumerate(sizes):
        name = f"set{i // 5}/file{i:03d}.bin"
        files[name] = os.urandom(size)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    return files


def _census(db: Database[dict[str, Any]]) -> dict[str, int]:
    return {
        "files": db["fs.files"].count_documents({}),
        "chunks": db["fs.chunks"].count_documents({}),
        "orphans": len(stray_chunks(db)),
    }


def _in_flight(db: Database[dict[str, Any]]) -> bool:
    """Whether chunks are there that no files document counts (cheap enough to poll)."""
    expected = sum(
        -(-doc["length"] // doc["chunkSize"])
        for doc in db["fs.files"].find({}, {"length": 1, "chunkSize": 1})
    )
    return db["fs.chunks"].estimated_document_count() > expected


def _described_whole(db: Database[dict[str, Any]], files: dict[str, bytes]) -> dict[str, Any]:
    """The id of every visible file, each described with its source's length and SHA-256
    (one query: reading them back is for the end)."""
    ids: dict[str, Any] = {}
    for info in FileStore(db).find():
        assert info.filename is not None
        assert info.length == len(files[info.filename])
        assert info.sha256 == hashlib.sha256(files[info.filename]).hexdigest()
        ids[info.filename] = info.file_id
    return ids


def test_a_copy_killed_mid_file_runs_again_to_the_end(cli: Cli, tmp_path: Path) -> None:
    # Big files first (in name order): over the 8 MiB an upload sends at once, each is in
    # flight long enough for the kill to find one half sent.
    sizes = [20_000_000 + 100_000 * i for i in range(5)] + [1024 * (i + 1) for i in range(10)]
    source = tmp_path / "source"
    files = _make_tree(source, sizes)
    destination = f"{cli.uri.rstrip('/')}/{cli.db.name}"
    command = [*cli.args("copy", str(source), destination, "--jobs", "2", "--quiet")]
    process = subprocess.Popen(
        command, cwd=cli.cwd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + KILL_TIMEOUT
    # Kill once some files are whole and another is half sent: its chunks are there and
    # its files document is not.
    while True:
        if _in_flight(cli.db) and cli.db["fs.files"].count_documents({}) >= 2:
            process.send_signal(signal.SIGKILL)
            break
        assert process.poll() is None, "the copy ended before it could be killed"
        assert time.monotonic() < deadline, "the copy made no progress"
        time.sleep(0.01)
    process.wait(COMMAND_TIMEOUT)
    assert process.returncode == -signal.SIGKILL
    killed = _census(cli.db)
    before = _described_whole(cli.db, files)  # what is visible is whole
    print(f"\ncensus after SIGKILL: {killed}")
    assert killed["orphans"] >= 1 and 2 <= killed["files"] < len(files)

    again = cli.run("copy", str(source), destination, "--jobs", "2")
    err = again.stderr.decode()
    assert again.returncode == 0, err
    assert f"copied {len(files) - len(before)}, skipped {len(before)} identical" in err
    after = _census(cli.db)
    print(f"census after the run again: {after}")
    assert after["files"] == len(files) and after["orphans"] == 0
    ids = _described_whole(cli.db, files)
    assert {name: ids[name] for name in before} == before  # nothing copied twice
    assert after["chunks"] == sum(-(-len(data) // (255 * 1024)) for data in files.values())
    store = FileStore(cli.db)
    for name in set(files) - set(before):  # those copied again read back whole
        assert store.read_by_name(name) == files[name]
    assert cli.run("copy", str(source), destination).stderr.decode().count("copied 0,") == 1


def test_a_copy_into_a_folder_killed_leaves_no_half_file(cli: Cli, tmp_path: Path) -> None:
    store = FileStore(cli.db)
    files = {f"f{i}.bin": os.urandom(4_000_000) for i in range(8)}
    for name, data in files.items():
        store.put(data, filename=name)
    out = tmp_path / "out"
    command = cli.args("copy", "gridfs:", str(out), "--jobs", "1", "--quiet")
    process = subprocess.Popen(command, cwd=cli.cwd, env=clean_env())
    partial = out / ".gridfield" / "partial"
    deadline = time.monotonic() + KILL_TIMEOUT
    while not (partial.is_dir() and any(p.stat().st_size for p in partial.iterdir())):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(COMMAND_TIMEOUT)
    visible = {p.name: p.read_bytes() for p in out.glob("*.bin")}
    assert all(files[name] == data for name, data in visible.items())
    assert len(visible) < len(files)

    cli.ok("copy", "gridfs:", str(out))
    assert {p.name: p.read_bytes() for p in out.glob("*.bin")} == files
    assert list(partial.iterdir()) == []


def test_to_a_second_server_and_back(
    cli: Cli, tmp_path: Path, private_server: PrivateServer
) -> None:
    store = FileStore(cli.db)
    store.put(b"one", filename="a/one.txt", metadata={"k": "v"})
    store.put(b"two", filename="a/one.txt")
    store.put(os.urandom(700_000), filename="b.bin")
    other = f"{private_server.uri.rstrip('/')}/mirror"
    cli.ok("copy", "gridfs:", other, "--all-revisions", "--to-bucket", "media")
    client: MongoClient[dict[str, Any]] = MongoClient(private_server.uri)
    try:
        mirror = FileStore(client["mirror"], "media")
        revisions = list(mirror.find_by_name("a/one.txt"))
        assert [mirror.get(i.file_id) for i in revisions] == [b"one", b"two"]
        assert revisions[0].metadata["k"] == "v"
        assert mirror.read_by_name("b.bin") == store.read_by_name("b.bin")
        store.drop()
        done = cli.run("copy", other, "gridfs:", "--from-bucket", "media", "--all-revisions")
        assert done.returncode == 0, done.stderr.decode()
        assert "copied 3, skipped 0" in done.stderr.decode()
        assert [store.get(i.file_id) for i in store.find_by_name("a/one.txt")] == [b"one", b"two"]
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """moto's S3 server in a process of its own, and the environment that points s3fs at it."""
    port = _free_port()
    log = (tmp_path / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert process.poll() is None, (tmp_path / "moto.log").read_text()
            assert time.monotonic() < deadline, "moto's server did not start"
            time.sleep(0.1)
    try:
        yield env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        log.close()


def test_to_s3_and_back(cli: Cli, tmp_path: Path, s3_server: dict[str, str]) -> None:
    import s3fs

    os.environ.update(s3_server)  # this process's s3fs too, for the checks below
    try:
        s3 = s3fs.S3FileSystem(endpoint_url=s3_server["FSSPEC_S3_ENDPOINT_URL"])
        s3.mkdir("media")
        store = FileStore(cli.db)
        big = os.urandom(6_000_000)  # over s3fs's 5 MiB block: a multipart upload
        store.put(big, filename="videos/clip.mp4", content_type="video/mp4")
        store.put(b"x" * 10, filename="notes/a.txt", metadata={"tag": "n"})
        env = clean_env(**s3_server)

        def run(*args: str) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                cli.args(*args),
                env=env,
                cwd=cli.cwd,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )

        done = run("copy", "gridfs:", "s3://media/site")
        assert done.returncode == 0, done.stderr.decode()
        assert s3.cat_file("media/site/videos/clip.mp4") == big
        assert s3.exists("media/site/.gridfield/files/notes/a.txt.json")
        again = run("copy", "gridfs:", "s3://media/site")
        assert "copied 0, skipped 2 identical" in again.stderr.decode()

        back = run("copy", "s3://media/site", "gridfs:", "--to-bucket", "restored")
        assert back.returncode == 0, back.stderr.decode()
        restored = FileStore(cli.db, "restored")
        assert restored.read_by_name("videos/clip.mp4") == big
        assert restored.get_info_by_name("videos/clip.mp4").content_type == "video/mp4"
        assert restored.get_info_by_name("notes/a.txt").metadata["tag"] == "n"
    finally:
        for key in s3_server:
            os.environ.pop(key, None)


def test_exit_statuses_and_dry_run(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "source"
    _make_tree(source, [10, 20])
    dry = cli.run("copy", str(source), "gridfs:", "--dry-run")
    assert dry.returncode == 0
    assert dry.stderr.decode().count("would copy: ") == 2
    assert cli.db["fs.files"].count_documents({}) == 0
    cli.ok("copy", str(source), "gridfs:")
    (source / "set0" / "file000.bin").write_bytes(b"changed")
    left = cli.run("copy", str(source), "gridfs:")
    assert left.returncode == 1
    assert "left: set0/file000.bin holds other bytes" in left.stderr.decode()
    error = cli.fails("copy", str(source), "mongodb://127.0.0.1:9/x?serverSelectionTimeoutMS=500")
    assert error.startswith("Error: x.fs cannot be reached")
    bad = cli.run("copy", str(source), str(tmp_path / "out"), "--to-names", "x/")
    assert bad.returncode == 2 and "--to-names applies to a bucket" in bad.stderr.decode()


def test_key_files_read_and_write_encrypted_buckets(cli: Cli, tmp_path: Path) -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    keys = tmp_path / "keys.txt"
    keys.write_text(
        "# the last key wraps new files\n"
        f"2026-11:{base64.b64encode(old_key).decode()}\n\n"
        f"2026-12: {base64.b64encode(new_key).decode()}\n"
    )
    sealed = FileStore(cli.db, encryption=Encryption(LocalKeys({"2026-11": old_key})))
    files = {"a.txt": b"patient 4711", "deep/b.bin": os.urandom(300_000)}
    for name, data in files.items():
        assert sealed.put(data, filename=name).encrypted

    # Without the keys each file fails, naming its key; nothing is written.
    refused = cli.run("copy", "gridfs:", str(tmp_path / "out"), "--quiet")
    assert refused.returncode == 1
    assert refused.stderr.decode().count("'2026-11'") == 2
    assert not (tmp_path / "out" / "a.txt").exists()

    cli.ok("copy", "gridfs:", str(tmp_path / "out"), "--from-keys", str(keys), "--quiet")
    assert (tmp_path / "out" / "a.txt").read_bytes() == files["a.txt"]
    assert (tmp_path / "out" / "deep" / "b.bin").read_bytes() == files["deep/b.bin"]

    # Into a bucket with --to-keys: encrypted under the last key of the file.
    cli.ok("copy", str(tmp_path / "out"), "gridfs:", "--to-bucket", "vault", "--to-keys", str(keys))
    vault = FileStore(cli.db, "vault", encryption=Encryption(LocalKeys({"2026-12": new_key})))
    for name, data in files.items():
        info = vault.get_info_by_name(name)
        assert info.encrypted and info.sha256 is None
        assert vault.read_by_name(name) == data
    stored = b"".join(bytes(doc["data"]) for doc in cli.db["vault.chunks"].find())
    assert files["a.txt"] not in stored

    # A bad key file: one error line that never shows a key, and nothing copied.
    short = tmp_path / "short.txt"
    short.write_text(f"k:{base64.b64encode(new_key[:16]).decode()}\n")
    error = cli.fails(
        "copy", str(tmp_path / "out"), "gridfs:", "--to-bucket", "x", "--to-keys", str(short)
    )
    assert "line 1: key 'k' is 16 bytes, not 32" in error
    assert base64.b64encode(new_key[:16]).decode() not in error
    assert cli.db["x.files"].count_documents({}) == 0
    misplaced = cli.run("copy", "gridfs:", str(tmp_path / "o2"), "--to-keys", str(keys))
    assert misplaced.returncode == 2
    assert "--to-keys applies to a bucket destination" in misplaced.stderr.decode()
