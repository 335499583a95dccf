"""Find, start, reuse, report and stop the server: the commands behind ``__main__``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from . import ferretdb, postgresql
from .places import State, cache_dir, locked, say
from .processes import free_port, is_ours, log_tail, spawn, stop_pid, strays

START_TIMEOUT = 60.0  # seconds a freshly started server gets to answer ping
URI_TIMEOUT = 15.0  # seconds a $MONGODB_URI server gets to answer ping
BUSY_PATIENCE = 60.0  # seconds a live recorded server may take to answer ping before it is replaced
PORT_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it

CommandLine = Callable[[int], list[str]]
BACKENDS = ("sqlite", "postgresql")
POSTGRESQL_KIND = "ferretdb-postgresql"  # the kind recorded for FerretDB on PostgreSQL


class ServerError(Exception):
    """No server could be had; the message says why."""


def ping(uri: str, timeout: float) -> None:
    """Raise PyMongoError unless the server at uri answers ping within timeout seconds."""
    ms = int(timeout * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms
    )
    try:
        client.admin.command("ping")
    finally:
        client.close()


def answers(uri: str, timeout: float = 2.0) -> bool:
    try:
        ping(uri, timeout)
    except PyMongoError:
        return False
    return True


def check_given_uri(uri: str) -> None:
    """Raise ServerError unless the server at $MONGODB_URI answers ping."""
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ServerError(f"MONGODB_URI must start with mongodb:// or mongodb+srv://, got {uri!r}")
    try:
        ping(uri, URI_TIMEOUT)
    except PyMongoError as exc:
        raise ServerError(f"MONGODB_URI does not answer ping: {exc}") from exc


def mongod_command(mongod: str, state: State, port: int) -> list[str]:
    return [
        mongod,
        f"--dbpath={state.data}",
        "--bind_ip=127.0.0.1",
        f"--port={port}",
        "--nounixsocket",
    ]


def wanted_server() -> str:
    wanted = os.environ.get("GRIDFIELD_SERVER", "").strip().lower()
    if wanted not in ("", "mongod", "ferretdb"):
        raise ServerError(f"GRIDFIELD_SERVER must be 'mongod' or 'ferretdb', got {wanted!r}")
    return wanted


def ferretdb_backend() -> str:
    """FerretDB's backend: ``$GRIDFIELD_FERRETDB_BACKEND`` (sqlite or postgresql), else
    PostgreSQL when its programs are installed, else SQLite."""
    wanted = os.environ.get("GRIDFIELD_FERRETDB_BACKEND", "").strip().lower()
    if wanted and wanted not in BACKENDS:
        raise ServerError(
            f"GRIDFIELD_FERRETDB_BACKEND must be 'sqlite' or 'postgresql', got {wanted!r}"
        )
    if wanted == "postgresql" and postgresql.bin_dir() is None:
        raise ServerError(
            "GRIDFIELD_FERRETDB_BACKEND=postgresql but PostgreSQL is not installed "
            f"(no /usr/lib/postgresql/*/bin/initdb): apt-get install {postgresql.PACKAGE}"
        )
    if wanted:
        return wanted
    return "postgresql" if postgresql.bin_dir() is not None else "sqlite"


def current_state() -> State:
    """The state folder of the server the settings ask for: FerretDB on PostgreSQL has its
    own (``server-postgresql``), so it runs beside a SQLite-backed one, never instead of it."""
    root = cache_dir()
    wanted = wanted_server()
    if wanted == "mongod" or (shutil.which("mongod") and wanted != "ferretdb"):
        return State(root)
    return State(root, "server-postgresql" if ferretdb_backend() == "postgresql" else "server")


def postgresql_cluster(state: State) -> postgresql.Cluster | None:
    """The PostgreSQL cluster of a state folder, when it is the PostgreSQL one."""
    binaries = postgresql.bin_dir()
    if state.name != "server-postgresql" or binaries is None:
        return None
    return postgresql.Cluster(state, binaries)


def choose_server(state: State) -> tuple[str, CommandLine]:
    """(kind, how to build its command line for a port) of the server to start."""
    wanted = wanted_server()
    mongod = shutil.which("mongod")
    if wanted == "mongod" and not mongod:
        raise ServerError("GRIDFIELD_SERVER=mongod but no mongod on PATH")
    if mongod and wanted != "ferretdb":
        return "mongod", lambda port: mongod_command(mongod, state, port)
    binary = ferretdb.binary_path(state.root)
    if not binary.exists():
        go = ferretdb.find_go()
        if go is None:
            raise ServerError(
                "no MongoDB server available: MONGODB_URI is not set, there is no mongod on "
                f"PATH, and no Go toolchain (>= 1.24) to build FerretDB {ferretdb.VERSION}. "
                "Set MONGODB_URI, install MongoDB, or install Go from https://go.dev/dl/"
            )
        try:
            ferretdb.build(go, binary)
        except ferretdb.BuildError as exc:
            raise ServerError(str(exc)) from exc
    cluster = postgresql_cluster(state)
    if cluster is None:
        return "ferretdb", lambda port: ferretdb.command(binary, state, port)
    try:
        url = cluster.start(free_port())
    except postgresql.ClusterError as exc:
        cluster.stop()
        raise ServerError(f"{exc}\nPostgreSQL log:\n{cluster.log_tail()}") from exc
    return POSTGRESQL_KIND, lambda port: ferretdb.command(binary, state, port, url)


def wait_until_answering(process: subprocess.Popen[bytes], uri: str) -> bool:
    """True once the server pings; False when it exits first; ServerError on timeout."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if answers(uri, timeout=1.0):
            return True
        time.sleep(0.1)
    raise ServerError(f"server did not answer ping within {START_TIMEOUT:.0f} s")


def start(state: State) -> str:
    cluster = postgresql_cluster(state)
    if cluster is not None:
        cluster.stop()  # a cluster a crashed run left: each start begins with empty data
    state.reset()
    try:
        return start_server(state)
    except BaseException:
        if cluster is not None:
            cluster.stop()
        raise


def start_server(state: State) -> str:
    kind, command_for = choose_server(state)
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        command = command_for(port)
        say(f"starting {kind} on 127.0.0.1:{port}: {' '.join(command)}")
        started = time.monotonic()
        process = spawn(command, state)
        uri = f"mongodb://127.0.0.1:{port}/"
        state.write(process.pid, uri, kind)
        try:
            up = wait_until_answering(process, uri)
        except ServerError as exc:
            stop_pid(process.pid, state)
            raise ServerError(f"{exc}; log {state.log} ends with:\n{log_tail(state.log)}") from exc
        if up:
            say(f"{kind} pid {process.pid} answers at {uri} ({time.monotonic() - started:.1f} s)")
            return uri
        tail = log_tail(state.log)
        if "address already in use" in tail.lower() and attempt < PORT_ATTEMPTS:
            say(f"port {port} was taken meanwhile; trying another")
            shutil.rmtree(state.data)
            state.data.mkdir()
            continue
        raise ServerError(
            f"{kind} exited with status {process.returncode} before answering; "
            f"log {state.log} ends with:\n{tail}"
        )
    raise AssertionError("unreachable")


def running(state: State) -> tuple[int, str, str] | None:
    """The recorded server when it is alive and answers ping, else None."""
    recorded = state.read()
    if recorded is None or not is_ours(recorded[0], state):
        return None
    # A busy server (a read scanning a large collection on SQLite) may keep ping waiting for
    # seconds; while its process lives, give it BUSY_PATIENCE before taking it for a hung one
    # and starting another, which would wipe the data of everyone using it.
    deadline = time.monotonic() + BUSY_PATIENCE
    while is_ours(recorded[0], state):
        if answers(recorded[1], timeout=5.0):
            return recorded
        if time.monotonic() > deadline:
            break
        say(f"pid {recorded[0]} does not answer ping yet; waiting (busy?)")
    return None


def server_uri() -> str:
    """$MONGODB_URI once it answers, else the URI of the server this script runs (or starts)."""
    given = os.environ.get("MONGODB_URI", "").strip()
    if given:
        check_given_uri(given)
        return given
    state = current_state()
    with locked(state.lock):
        found = running(state)
        if found is None:
            for pid in strays(state):
                say(f"stopping pid {pid}: a server on {state.dir}, unrecorded or not answering")
                stop_pid(pid, state)
            return start(state)
        pid, uri, kind = found
        say(f"reusing {kind} pid {pid} at {uri}")
        wanted = wanted_server()
        if wanted and wanted != kind.partition("-")[0]:
            raise ServerError(
                f"GRIDFIELD_SERVER={wanted} but a {kind} started earlier runs at {uri}; "
                "run `python -m scripts.mongo_server stop` first"
            )
        return uri


def stop() -> None:
    """Stop the server this script started (and any stray one on its folder); forget it."""
    state = current_state()
    with locked(state.lock):
        recorded = state.read()
        if recorded is not None and is_ours(recorded[0], state):
            pid, uri, kind = recorded
            stop_pid(pid, state)
            say(f"stopped {kind} pid {pid} at {uri}")
        else:
            say("no server started by this script is running")
        for pid in strays(state):
            stop_pid(pid, state)
            say(f"stopped stray server pid {pid}")
        cluster = postgresql_cluster(state)
        if cluster is not None:
            cluster.stop()
        if state.dir.exists():
            shutil.rmtree(state.dir)


def status() -> tuple[bool, str]:
    """(whether a started server answers, a line saying what runs)."""
    state = current_state()
    note = "MONGODB_URI is set: it is used as given, nothing is started\n"
    prefix = note if os.environ.get("MONGODB_URI") else ""
    recorded = state.read()
    if recorded is None:
        return False, f"{prefix}no server recorded in {state.dir}"
    pid, uri, kind = recorded
    if not is_ours(pid, state):
        return False, f"{prefix}{kind} pid {pid} is not running (stale state in {state.dir})"
    up = answers(uri)
    answer = "answers ping" if up else "does NOT answer ping"
    return up, f"{prefix}{kind} pid {pid} at {uri} {answer}; log {state.log}"
