"""The progress bar: redrawn on a terminal (a pty) while 64 MiB go up, absent when piped."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest

from .conftest import COMMAND_TIMEOUT, Cli, clean_env

SIZE = 64 * 1024 * 1024
PERCENT = re.compile(rb"(\d+)%")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as out:
        for _ in range(SIZE // (4 * 1024 * 1024)):
            out.write(os.urandom(4 * 1024 * 1024))
    return path


def _on_a_terminal(cli: Cli, *args: str) -> tuple[int, bytes]:
    """Run with stderr on a 100x24 pty; return the exit status and all it drew."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    drawn: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the last holder of the follower side has gone
                return
            if not data:
                return
            drawn.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        proc = subprocess.run(
            cli.args(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            cwd=cli.cwd,
            env=clean_env(TERM="xterm-256color"),
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    finally:
        os.close(follower)
        reader.join(COMMAND_TIMEOUT)
        os.close(leader)
    return proc.returncode, b"".join(drawn)


def _percentages(drawn: bytes) -> list[int]:
    return [int(p) for p in PERCENT.findall(drawn)]


def test_the_bar_is_redrawn_as_a_64_mib_put_and_get_go(cli: Cli, big_file: Path) -> None:
    status, drawn = _on_a_terminal(cli, "put", "big.bin", "-l", str(big_file))
    assert status == 0, drawn.decode(errors="replace")
    seen = _percentages(drawn)
    assert len(set(seen)) >= 3, drawn.decode(errors="replace")  # it moved, not one frame
    assert seen == sorted(seen)
    assert seen[-1] == 100
    assert b"put big.bin" in drawn
    assert b"64.0/64.0 MiB" in drawn
    assert b"\x1b[" in drawn  # drawn with terminal control sequences, over itself
    status, drawn = _on_a_terminal(cli, "get", "big.bin")
    assert status == 0, drawn.decode(errors="replace")
    assert _percentages(drawn)[-1] == 100
    assert (cli.cwd / "big.bin").stat().st_size == SIZE


def test_no_bar_when_stderr_is_piped_or_quiet(cli: Cli, big_file: Path) -> None:
    done = cli.ok("put", "big.bin", "-l", str(big_file))
    assert done.stderr.decode().splitlines() == [
        line for line in done.stderr.decode().splitlines() if line.startswith("added big.bin")
    ]
    assert b"\x1b" not in done.stderr
    assert not PERCENT.search(done.stderr)
    status, drawn = _on_a_terminal(cli, "get", "big.bin", "--quiet")
    assert status == 0
    assert drawn == b""


def test_no_bar_for_a_small_file_on_a_terminal(cli: Cli) -> None:
    (cli.cwd / "small.txt").write_bytes(b"small")
    status, drawn = _on_a_terminal(cli, "put", "small.txt")
    assert status == 0
    assert drawn.decode().strip().startswith("added small.txt (5 bytes")
    assert not PERCENT.search(drawn)
