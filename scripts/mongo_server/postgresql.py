"""PostgreSQL under FerretDB: a cluster of the server's own, on a free loopback port.

FerretDB's PostgreSQL backend keeps real indexes and hands equality filters to PostgreSQL,
where the SQLite backend scans a whole collection per query: reads stay fast as a bucket
grows. The cluster is made afresh at each start (as the SQLite data folder is), listens on
127.0.0.1 only with no Unix socket, trusts local connections (a throwaway test server), and
trades durability for speed (``fsync=off``): its data is discarded at every start anyway.

PostgreSQL refuses to run as root. When this script runs as root, the cluster runs as the
``postgres`` user of Debian's packages, in a folder that user can reach (``/var/tmp``,
named after the state folder); otherwise it lives in the state folder, run by the caller.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

from .places import State, say

PACKAGE = "postgresql"  # Debian's package of the release's PostgreSQL
START_TIMEOUT = 60  # seconds pg_ctl waits for the cluster to accept connections
RUN_AS = "postgres"  # the user of Debian's packages, when this script runs as root


class ClusterError(Exception):
    """The cluster could not be made or started; the message says why."""


def bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/N/bin`` holding initdb and pg_ctl (Debian's layout),
    else the folder of an ``initdb`` on PATH, else None."""
    found = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        version = re.fullmatch(r"\d+", candidate.parent.name)
        if version and (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            found.append((int(candidate.parent.name), candidate))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _as_root() -> bool:
    return os.geteuid() == 0


def cluster_dir(state: State) -> Path:
    """Where the cluster lives: the state folder, or under /var/tmp when run as root."""
    if not _as_root():
        return state.dir / "postgresql"
    tag = hashlib.sha256(str(state.dir).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"gridfield-postgresql-{tag}"


def _run(command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program, as the postgres user when we are root."""
    if _as_root():
        command = ["runuser", "-u", RUN_AS, "--", *command]
    done = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,  # the postmaster outlives its caller's process group
    )
    if check and done.returncode != 0:
        raise ClusterError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


class Cluster:
    """The PostgreSQL cluster of one state folder."""

    def __init__(self, state: State, binaries: Path) -> None:
        self.bin = binaries
        self.dir = cluster_dir(state)
        self.data = self.dir / "data"
        self.log = self.dir / "postgresql.log"

    def stop(self) -> None:
        """Stop the cluster if it runs (fast: open connections are cut), and remove it."""
        if (self.data / "postmaster.pid").exists():
            _run(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                check=False,
            )
        if self.dir.exists():
            shutil.rmtree(self.dir)

    def start(self, port: int) -> str:
        """A fresh cluster answering on 127.0.0.1:port; its URL for FerretDB."""
        self.stop()
        self.dir.mkdir(parents=True)
        if _as_root():
            account = pwd.getpwnam(RUN_AS)
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        self.dir.chmod(0o700)
        say(f"making a PostgreSQL cluster in {self.data} ({self.bin})")
        _run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = " ".join(
            [
                f"-p {port}",
                "-c listen_addresses=127.0.0.1",
                "-c unix_socket_directories=''",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        _run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-t",
                str(START_TIMEOUT),
                "-w",
                "start",
            ]
        )
        return f"postgres://postgres@127.0.0.1:{port}/postgres"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no PostgreSQL log)"
        return "\n".join(text.splitlines()[-lines:])
