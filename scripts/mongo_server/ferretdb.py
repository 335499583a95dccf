"""FerretDB: built once from its Go module release into the cache folder, run on SQLite or
PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from .places import State, say

MODULE = "github.com/FerretDB/FerretDB"
VERSION = "v1.24.2"


class BuildError(Exception):
    """FerretDB could not be built; the message says why."""


def find_go() -> str | None:
    found = shutil.which("go")
    if found:
        return found
    # Official tarballs install here without always touching PATH.
    for candidate in ("/usr/local/go/bin/go", str(Path.home() / "go" / "bin" / "go")):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def binary_path(root: Path) -> Path:
    return root / f"ferretdb-{VERSION}" / "bin" / "ferretdb"


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    # A user's GOFLAGS (-mod=vendor...) or a go.work above the cache must not steer this build.
    env.pop("GOFLAGS", None)
    env["GOWORK"] = "off"
    env["GO111MODULE"] = "on"
    env["CGO_ENABLED"] = "0"  # FerretDB's SQLite is pure Go: no C compiler needed
    return env


def _writable_copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target)
    for folder, _, files in os.walk(target):  # the module cache is read-only
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            os.chmod(path, os.stat(path).st_mode | 0o200)


def build(go: str, binary: Path) -> None:
    """Build FerretDB from its module release into binary.

    ``go install ...@v1.24.2`` gives a binary that panics at start: the module release lacks
    the generated build/version/version.txt. So: download the module, copy it somewhere
    writable, write that file, and build there.
    """
    started = time.monotonic()
    binary.parent.mkdir(parents=True, exist_ok=True)
    say(f"building FerretDB {VERSION} with {go} (once; cached in {binary.parent.parent})")
    env = _go_env()
    with tempfile.TemporaryDirectory(prefix="build-", dir=binary.parent.parent) as tmp:
        done = subprocess.run(
            [go, "mod", "download", "-json", f"{MODULE}@{VERSION}"],
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            check=False,
        )
        try:
            info = json.loads(done.stdout or b"{}")
        except json.JSONDecodeError:
            info = {}
        if done.returncode != 0 or "Dir" not in info:
            why = info.get("Error", f"exit status {done.returncode}")
            raise BuildError(f"go mod download {MODULE}@{VERSION} failed: {why}")
        source = Path(tmp) / "src"
        _writable_copy(Path(info["Dir"]), source)
        version_dir = source / "build" / "version"
        (version_dir / "version.txt").write_text(VERSION + "\n")
        commit = info.get("Origin", {}).get("Hash")
        if commit:
            (version_dir / "commit.txt").write_text(commit + "\n")
        partial = binary.with_name(binary.name + ".partial")
        built = subprocess.run(
            [go, "build", "-buildvcs=false", "-o", str(partial), "./cmd/ferretdb"],
            cwd=source,
            env=env,
            stdout=sys.stderr,
            stderr=sys.stderr,
            check=False,
        )
        if built.returncode != 0:
            raise BuildError(f"go build of FerretDB {VERSION} failed (see above)")
        os.replace(partial, binary)
    say(f"built {binary} in {time.monotonic() - started:.1f} s")


def command(binary: Path, state: State, port: int, postgresql_url: str | None = None) -> list[str]:
    """FerretDB's command line: on SQLite in the state's data folder, or on the PostgreSQL
    cluster at postgresql_url."""
    if postgresql_url is None:
        backend = ["--handler=sqlite", f"--sqlite-url=file:{quote(str(state.data))}/"]
    else:
        backend = ["--handler=postgresql", f"--postgresql-url={postgresql_url}"]
    return [
        str(binary),
        *backend,
        f"--listen-addr=127.0.0.1:{port}",
        f"--state-dir={state.ferretdb_state}",
        "--debug-addr=-",  # "-" turns off the debug HTTP listener (fixed port 8088 otherwise)
        "--telemetry=disable",
        # WARN and INFO log every connection and dump every error reply: megabytes per test
        # run on a server that lives for days. ERROR still shows why a start failed.
        "--log-level=ERROR",
    ]
