"""Running the real ``gridfield`` console script in a subprocess against the test server."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

GRIDFIELD = Path(sys.executable).with_name("gridfield")

# What a command may take at most on a loaded two-core machine before the test gives up.
COMMAND_TIMEOUT = 300


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without what would change the console's choices or the URI."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MONGODB_URI", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES"}
    }
    env.update(extra)
    return env


@dataclasses.dataclass
class Cli:
    """The console script bound to one fresh database, run in a work folder."""

    uri: str
    db: Database[dict[str, Any]]
    cwd: Path

    def args(self, *args: str) -> list[str]:
        """The command line for ``args``, with the server and database first."""
        return [str(GRIDFIELD), "--uri", self.uri, "--db", self.db.name, *args]

    def run(
        self, *args: str, input: bytes | None = None, stdin: Any = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``gridfield ARGS`` to the end; output captured as bytes."""
        return subprocess.run(
            self.args(*args),
            input=input,
            stdin=stdin,
            capture_output=True,
            cwd=self.cwd,
            env=clean_env(),
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def ok(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run and insist on success, showing stderr otherwise."""
        done = self.run(*args, input=input)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done

    def fails(self, *args: str, input: bytes | None = None) -> str:
        """Run, insist on exit status 1 and one error line without a traceback; return it."""
        done = self.run(*args, input=input)
        err = done.stderr.decode(errors="replace")
        assert done.returncode == 1, (done.returncode, err)
        assert "Traceback" not in err, err
        lines = [line for line in err.splitlines() if line.startswith("Error: ")]
        assert len(lines) == 1, err
        return lines[0]


@pytest.fixture
def cli(mongo_uri: str, sync_db: Database[dict[str, Any]], tmp_path: Path) -> Cli:
    """The console script on a fresh database, working in an empty folder."""
    assert GRIDFIELD.exists(), f"{GRIDFIELD} is missing: install gridfield with the cli extra"
    work = tmp_path / "work"
    work.mkdir()
    return Cli(mongo_uri, sync_db, work)


def stray_chunks(db: Database[dict[str, Any]], prefix: str = "fs") -> list[Any]:
    """Ids of files whose chunks are there without a files document."""
    have = set(db[f"{prefix}.files"].distinct("_id"))
    return [i for i in db[f"{prefix}.chunks"].distinct("files_id") if i not in have]
