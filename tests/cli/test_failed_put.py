"""A put --replace whose source fails midway: the older revision stays, no chunk is left."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from .conftest import COMMAND_TIMEOUT, Cli, clean_env, stray_chunks

OLD = b"the previous revision\n" * 1000
SENT = 24 * 1024 * 1024  # several batches of chunks reach the server before the failure


def _stored_before(cli: Cli) -> int:
    cli.ok("put", "notes.txt", "-l", "-", input=OLD)
    return int(cli.db["fs.chunks"].count_documents({}))


def _assert_previous_revision_intact(cli: Cli, chunks_before: int) -> None:
    assert cli.db["fs.files"].count_documents({"filename": "notes.txt"}) == 1
    assert cli.ok("cat", "notes.txt").stdout == OLD
    assert stray_chunks(cli.db) == []
    assert cli.db["fs.chunks"].count_documents({}) == chunks_before


def test_a_source_whose_read_fails_midway_leaves_the_previous_revision(cli: Cli) -> None:
    chunks_before = _stored_before(cli)
    # stdin is a TCP connection that the other end resets: the read fails with ECONNRESET.
    with socket.create_server(("127.0.0.1", 0)) as server:
        ours = socket.create_connection(server.getsockname())
        theirs, _ = server.accept()
        with theirs:
            proc = subprocess.Popen(
                cli.args("put", "notes.txt", "-l", "-", "--replace"),
                stdin=ours.fileno(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cli.cwd,
                env=clean_env(),
            )
            ours.close()
            theirs.sendall(os.urandom(SENT))
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        _, err = proc.communicate(timeout=COMMAND_TIMEOUT)
    text = err.decode(errors="replace")
    assert proc.returncode == 1, text
    assert "Traceback" not in text
    assert "Error: reading stdin failed: Connection reset by peer" in text.splitlines()
    _assert_previous_revision_intact(cli, chunks_before)


def test_an_interrupted_put_replace_leaves_the_previous_revision(cli: Cli, tmp_path: Path) -> None:
    chunks_before = _stored_before(cli)
    fifo = tmp_path / "source.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        cli.args("put", "notes.txt", "-l", str(fifo), "--replace"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cli.cwd,
        env=clean_env(),
    )
    written = threading.Event()

    def feed() -> None:
        with open(fifo, "wb") as pipe:  # the writer's end stays open: the put waits for more
            pipe.write(os.urandom(SENT))
            written.set()
            while proc.poll() is None:
                time.sleep(0.05)

    feeder = threading.Thread(target=feed)
    feeder.start()
    assert written.wait(COMMAND_TIMEOUT)
    # Chunks of the new file are in once the first batches have gone: wait for some.
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while cli.db["fs.chunks"].count_documents({}) <= chunks_before:
        assert time.monotonic() < deadline, "the put sent no chunk"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=COMMAND_TIMEOUT)
    feeder.join()
    text = err.decode(errors="replace")
    assert proc.returncode == 130, text
    assert "gridfield: interrupted" in text.splitlines()
    assert "Traceback" not in text
    _assert_previous_revision_intact(cli, chunks_before)
