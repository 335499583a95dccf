"""A database server process of a test's own, which the test may kill and restart.

The shared test server (scripts/mongo-server) serves every test run on the machine and a
user's $MONGODB_URI server is theirs: neither is ever killed. A test that needs a server to
die starts one of these instead: ``mongod`` from PATH when there is one, else the FerretDB
binary scripts/mongo-server built into its cache folder, on a free loopback port, with its
data in the test's temporary folder (kept across a restart).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from scripts.mongo_server import ferretdb
from scripts.mongo_server.places import State, cache_dir
from scripts.mongo_server.processes import free_port
from scripts.mongo_server.server import mongod_command

START_TIMEOUT = 30.0  # seconds a started server gets to answer a ping


class PrivateServer:
    """One server process, started by ``start()``, killed (SIGKILL) by ``kill()``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = folder / "server.log"
        state = State(folder)  # its data and state folders, under the test's own folder
        state.reset()
        mongod = shutil.which("mongod")
        binary = ferretdb.binary_path(cache_dir())
        if mongod is not None:
            self.command = mongod_command(mongod, state, self.port)
        elif binary.is_file():
            self.command = ferretdb.command(binary, state, self.port)
        else:
            pytest.fail(
                "this test kills a server of its own, and found none to start: no mongod on"
                f" PATH and no FerretDB built at {binary} (scripts/mongo-server builds it)",
                pytrace=False,
            )

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Start the server (again, on the same port and data) and wait until it answers."""
        if self._process is not None and self._process.poll() is None:
            # A second process could not take the port, the first would answer the ping,
            # and kill() would then stop only the second: the first would outlive the test.
            pytest.fail("the private server is running already: kill() it first", pytrace=False)
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            client: MongoClient[dict[str, Any]] = MongoClient(
                self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500
            )
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    pytest.fail(
                        f"the private server did not start: {self.command}\n"
                        + self._log.read_text(errors="replace")[-2000:],
                        pytrace=False,
                    )
                time.sleep(0.1)
            finally:
                client.close()

    def kill(self) -> None:
        """Kill the server at once, as a crash would (no shutdown, no flush)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(START_TIMEOUT)
