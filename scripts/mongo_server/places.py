"""Where the server's files live: the cache folder, the state of the one server, its lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path


def say(message: str) -> None:
    """Progress for humans: stderr only, stdout carries nothing but the URI."""
    print(f"mongo-server: {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """``$GRIDFIELD_CACHE``, else ``$XDG_CACHE_HOME/gridfield``, else ``~/.cache/gridfield``."""
    explicit = os.environ.get("GRIDFIELD_CACHE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(xdg).expanduser() / "gridfield").resolve()


class State:
    """The state folder of one server this script manages: ``server`` (SQLite-backed
    FerretDB, or mongod) or ``server-postgresql``; each has its own lock, pid, port and data,
    so starting or stopping one never touches the other."""

    def __init__(self, root: Path, name: str = "server") -> None:
        self.root = root
        self.name = name
        self.dir = root / name
        self.lock = root / f"{name}.lock"
        self.pid_file = self.dir / "pid"
        self.uri_file = self.dir / "uri"
        self.kind_file = self.dir / "kind"
        self.log = self.dir / "server.log"
        self.data = self.dir / "data"
        self.ferretdb_state = self.dir / "ferretdb-state"

    def markers(self) -> tuple[str, str]:
        """Arguments only a server started on this state folder has (see the command lines)."""
        return f"--dbpath={self.data}", f"--state-dir={self.ferretdb_state}"

    def read(self) -> tuple[int, str, str] | None:
        """(pid, uri, kind) of the recorded server, or None when nothing is recorded."""
        try:
            pid = int(self.pid_file.read_text().strip())
            uri = self.uri_file.read_text().strip()
            kind = self.kind_file.read_text().strip()
        except (OSError, ValueError):
            return None
        return pid, uri, kind

    def write(self, pid: int, uri: str, kind: str) -> None:
        for path, text in ((self.kind_file, kind), (self.uri_file, uri), (self.pid_file, str(pid))):
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text + "\n")
            os.replace(tmp, path)

    def reset(self) -> None:
        """Remove every trace of a previous server: each start begins with empty data."""
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.data.mkdir(parents=True)
        self.ferretdb_state.mkdir()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so concurrent calls never start two servers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another mongo-server call (lock {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
