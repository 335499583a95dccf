"""npm's tus-js-client, at a pinned version, installed at test time into a cache folder
outside the repository (``$GRIDFIELD_CACHE/node/``) with the machine's npm; nothing of it
is committed. Without npm or the registry the tests fail saying so: they never skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scripts.mongo_server.places import cache_dir

from ..conftest import installed

VERSION = "4.3.1"
HERE = Path(__file__).parent
UPLOAD_SCRIPT = HERE / "tus_js_upload.cjs"


def tus_js_client() -> Path:
    """The folder whose ``node_modules`` holds tus-js-client ``VERSION``, fetched on first
    use; RuntimeError naming the command and its output when npm cannot install it."""
    root = cache_dir() / "node"
    folder = root / f"tus-js-client-{VERSION}"
    if (folder / "node_modules" / "tus-js-client" / "dist" / "tus.min.js").is_file():
        return folder
    npm = installed("npm")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root))
    command = [
        npm,
        "install",
        "--prefix",
        str(staging),
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        f"tus-js-client@{VERSION}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(
            f"cannot install tus-js-client: `{' '.join(command)}` exited with status "
            f"{done.returncode}:\n{done.stdout}{done.stderr}"
        )
    try:
        staging.rename(folder)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def browser_bundle() -> Path:
    """tus-js-client's browser bundle (``tus.min.js``, the global ``tus``)."""
    return tus_js_client() / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"


def run_upload(endpoint: str, source: Path, *options: str) -> str:
    """Upload ``source`` to ``endpoint`` with node and tus-js-client; the upload's URL.
    ``options``: ``parallel=<n>``, ``chunk=<bytes>``, ``checksum`` (sha256 of each PATCH's
    bytes as ``Upload-Checksum``)."""
    node = installed("node")
    folder = tus_js_client()
    done = subprocess.run(
        [node, str(UPLOAD_SCRIPT), endpoint, str(source), *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
        cwd=folder,
    )
    if done.returncode != 0:
        raise AssertionError(f"tus-js-client failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]
