"""The command line itself: help, usage errors, unreachable servers, --debug."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import COMMAND_TIMEOUT, GRIDFIELD, Cli, clean_env

COMMANDS = [
    "list",
    "search",
    "put",
    "put_id",
    "get",
    "get_id",
    "get_regex",
    "cat",
    "delete",
    "delete_id",
    "check",
    "sweep",
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRIDFIELD), *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def test_help_lists_every_command() -> None:
    done = _run("--help")
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line}
    assert listed >= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_the_bucket_options(command: str) -> None:
    done = _run(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: gridfield {command} [OPTIONS]")
    for option in ("--uri", "--db", "--prefix", "--quiet", "--debug"):
        assert option in done.stdout


def test_a_usage_error_exits_with_status_2() -> None:
    done = _run("get")
    assert done.returncode == 2
    assert "Missing argument 'NAMES...'" in done.stderr
    assert _run("frobnicate").returncode == 2


def test_an_unreachable_server_is_one_line_and_debug_shows_the_traceback() -> None:
    args = ("--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "list")
    done = _run(*args)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: server: 127.0.0.1:1: [Errno 111] Connection refused"
    ]
    debug = _run("--debug", *args)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "ServerSelectionTimeoutError" in debug.stderr


def test_a_bare_connection_string_works_as_with_mongofiles(cli: Cli) -> None:
    cli.ok("put", "a.txt", "-l", "-", input=b"a")
    uri = cli.uri.rstrip("/") + "/" + cli.db.name
    done = subprocess.run(
        [str(GRIDFIELD), uri, "list"],
        capture_output=True,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"a.txt\t1\n"


def test_quiet_prints_no_status_lines(cli: Cli) -> None:
    done = cli.ok("put", "a.txt", "-l", "-", "--quiet", input=b"a")
    assert done.stderr == b""
    assert cli.ok("-q", "delete", "a.txt").stderr == b""
