"""The server process: a free port, starting it detached, telling it from a reused pid, stopping."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from .places import State, say

STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_ours(pid: int, state: State) -> bool:
    """True when pid runs and is the server started with our data folder (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no procfs (macOS): the pid is all we can check
        return True
    try:
        status = (proc / "stat").read_text()
        arguments = (proc / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return False
    if status.rpartition(")")[2].split()[0] in ("Z", "X"):  # exited, waiting to be reaped
        return False
    # Whole arguments, not substrings: a shell whose command line mentions the folder is not ours.
    return any(marker in arguments for marker in state.markers())


def strays(state: State) -> list[int]:
    """Servers started with our state folder whose pid file is gone or wrong (Linux only)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        if pid != os.getpid() and is_ours(pid, state):
            found.append(pid)
    return found


def stop_pid(pid: int, state: State) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT, the server process pid."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child
            if not is_ours(pid, state):
                return
            time.sleep(0.1)
        say(f"pid {pid} ignored {signal.Signals(sig).name}")


def spawn(command: list[str], state: State) -> subprocess.Popen[bytes]:
    """Start the server detached from its caller: its own session, output to the log."""
    with open(state.log, "ab") as log:
        return subprocess.Popen(
            command,
            cwd=state.dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
