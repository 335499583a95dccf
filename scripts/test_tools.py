"""The programs the test suite drives besides Python: found on PATH, else installed.

``python -m scripts.test_tools`` (run by ``./dev tests`` before any test) makes sure each
one is there. A missing one is installed from Debian's packages when this machine can
(``apt-get`` as root, or through ``sudo`` without a password prompt); otherwise, or with
``GRIDFIELD_NO_INSTALL=1``, it stops at once with the one command that installs them.
The tests call :func:`require` for the same message when run without ``./dev``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    """A program a test runs, the Debian package that provides it, and why it is needed."""

    command: str
    package: str
    why: str


TOOLS = (
    Tool("curl", "curl", "a real HTTP client against every web adapter"),
    Tool("chromium", "chromium", "a real browser playing and seeking a served video"),
    Tool("chromedriver", "chromium-driver", "Selenium's driver for that browser"),
    Tool("ffmpeg", "ffmpeg", "makes the video the browser plays"),
)


# Wanted, not needed: FerretDB runs on PostgreSQL when it is installed (reads that stay fast
# as a bucket grows), else on SQLite. Installed like the tools above when possible; when not,
# the tests run on SQLite.
POSTGRESQL = Tool("pg_ctlcluster", "postgresql", "the embedded server's PostgreSQL backend")


class ToolsMissing(Exception):
    """Some programs are missing and this machine cannot install them here."""


def missing(tools: tuple[Tool, ...] = TOOLS) -> list[Tool]:
    """The tools not found on PATH."""
    return [tool for tool in tools if shutil.which(tool.command) is None]


def install_command(packages: list[str]) -> str:
    """The one command a user runs to install ``packages``."""
    return "sudo apt-get install -y " + " ".join(packages)


def _privilege() -> list[str] | None:
    """How to run apt-get as root here: [] when root, ["sudo", "-n"] when sudo asks no
    password, None when neither."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
    return ["sudo", "-n"] if probe.returncode == 0 else None


def _refusal(tools: list[Tool], reason: str) -> str:
    lines = [f"the tests need programs that are not installed ({reason}):"]
    lines += [f"  {tool.command} (Debian package {tool.package}): {tool.why}" for tool in tools]
    lines.append(f"install them with: {install_command([tool.package for tool in tools])}")
    return "\n".join(lines)


def ensure(tools: tuple[Tool, ...] = TOOLS) -> list[Tool]:
    """Install whichever of ``tools`` is missing; return those installed.

    Raises ToolsMissing, naming the packages and the command, when installing is not
    possible here or not wanted (``GRIDFIELD_NO_INSTALL=1``).
    """
    absent = missing(tools)
    if not absent:
        return []
    if os.environ.get("GRIDFIELD_NO_INSTALL") == "1":
        raise ToolsMissing(_refusal(absent, "GRIDFIELD_NO_INSTALL=1 forbids installing"))
    if shutil.which("apt-get") is None:
        raise ToolsMissing(_refusal(absent, "no apt-get here to install them with"))
    prefix = _privilege()
    if prefix is None:
        raise ToolsMissing(
            _refusal(absent, "installing them needs root or a sudo without password")
        )
    packages = [tool.package for tool in absent]
    print(f"test tools: installing {' '.join(packages)} from Debian's packages", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(
            [*prefix, *step], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ToolsMissing(
                _refusal(absent, f"{' '.join(step[:2])} failed: {done.stderr.strip()[-500:]}")
            )
    still = missing(tools)
    if still:
        raise ToolsMissing(_refusal(still, "installed, but still not on PATH"))
    return absent


def require(command: str) -> str:
    """The path of ``command`` for a test; a message naming the package and the command to
    install it when it is missing."""
    path = shutil.which(command)
    if path is None:
        tool = next((tool for tool in TOOLS if tool.command == command), None)
        package = tool.package if tool else command
        raise ToolsMissing(
            f"{command} is not installed: `./dev tests` installs it from Debian's packages,"
            f" or run: {install_command([package])}"
        )
    return path


def postgresql_wanted() -> bool:
    """Whether the server script would run FerretDB on PostgreSQL once it is installed."""
    backend = os.environ.get("GRIDFIELD_FERRETDB_BACKEND", "").strip().lower()
    return not os.environ.get("MONGODB_URI") and backend != "sqlite"


def main() -> int:
    try:
        installed = ensure()
    except ToolsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if postgresql_wanted():
        try:
            installed += ensure((POSTGRESQL,))
        except ToolsMissing as exc:
            print(f"test tools: the server runs on SQLite: {exc}", file=sys.stderr)
    if installed:
        print(f"test tools: installed {' '.join(t.package for t in installed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
