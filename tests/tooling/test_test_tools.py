"""The programs the tests drive: found, or a stop that names the packages and the command.

Each run gets a PATH of its own: a folder holding only the Python running the tests (and,
where a case wants one, a stand-in for one tool), so the real tools on this machine are
neither seen nor installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.test_tools import POSTGRESQL, TOOLS, ToolsMissing, install_command, missing, require

ROOT = Path(__file__).resolve().parents[2]


def bare_path(tmp_path: Path, *present: str) -> str:
    """A PATH folder with python and an executable stand-in for each name in ``present``."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python").symlink_to(sys.executable)
    for name in present:
        stand_in = folder / name
        stand_in.write_text("#!/bin/sh\nexit 0\n")
        stand_in.chmod(0o755)
    return str(folder)


def run_script(path: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, **extra}
    return subprocess.run(
        [sys.executable, "-m", "scripts.test_tools"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_tools_stop_the_run_with_the_command_that_installs_them(tmp_path: Path) -> None:
    done = run_script(bare_path(tmp_path, "curl"), GRIDFIELD_NO_INSTALL="1")
    assert done.returncode == 1
    assert "the tests need programs that are not installed" in done.stderr
    assert "chromium (Debian package chromium)" in done.stderr
    assert "chromedriver (Debian package chromium-driver)" in done.stderr
    assert "ffmpeg (Debian package ffmpeg)" in done.stderr
    assert "curl (" not in done.stderr  # present, so not named
    assert "install them with: sudo apt-get install -y chromium chromium-driver ffmpeg" in (
        done.stderr
    )


def test_without_apt_get_the_stop_says_so(tmp_path: Path) -> None:
    done = run_script(bare_path(tmp_path))
    assert done.returncode == 1
    assert "no apt-get here to install them with" in done.stderr
    assert "sudo apt-get install -y curl chromium chromium-driver ffmpeg" in done.stderr


def test_nothing_is_installed_when_every_tool_is_there(tmp_path: Path) -> None:
    # A stand-in apt-get that fails proves it is never called.
    # PostgreSQL too: without MONGODB_URI the script also wants the server's backend.
    path = bare_path(tmp_path, *(tool.command for tool in (*TOOLS, POSTGRESQL)))
    apt = Path(path) / "apt-get"
    apt.write_text("#!/bin/sh\necho called >&2\nexit 9\n")
    apt.chmod(0o755)
    done = run_script(path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_missing_and_require_read_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", bare_path(tmp_path, "ffmpeg"))
    assert [tool.command for tool in missing()] == ["curl", "chromium", "chromedriver"]
    assert require("ffmpeg").endswith("/ffmpeg")
    with pytest.raises(ToolsMissing) as raised:
        require("chromedriver")
    assert str(raised.value) == (
        "chromedriver is not installed: `./dev tests` installs it from Debian's packages,"
        " or run: sudo apt-get install -y chromium-driver"
    )


def test_install_command_names_every_package() -> None:
    assert install_command(["curl", "ffmpeg"]) == "sudo apt-get install -y curl ffmpeg"
