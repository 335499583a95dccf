"""A command listener that holds gridfield's own commands to what a sharded bucket needs.

The chunks collection can be sharded on ``{files_id: 1, n: 1}`` only if every chunks
command gridfield sends targets one file (``files_id`` equal to a value, or ``$in`` a list
of them), apart from the bucket check's scans (``files_id`` by ``$type``); and every
single-document write on the files collection must name its ``_id`` (a sharded collection
routes those by it). Commands that tests, PyMongo's gridfs or Motor's threads send are not
gridfield's: only commands started with a frame of ``src/gridfield`` on the stack count.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pymongo import monitoring

_TESTS = str(Path(__file__).resolve().parent)
_OURS = str(Path(__file__).resolve().parent.parent / "src" / "gridfield")
_SCAN_OPERATORS = frozenset({"$type", "$not"})  # the bucket check's whole-bucket scans


def _sent_from(folder: str) -> bool:
    """Whether the innermost code of ours or of the tests that started the command is under
    ``folder`` (a test's source read by an upload sends its own commands from inside it)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(folder):
            return True
        if name.startswith(_TESTS) and name != __file__:
            return False
        frame = frame.f_back
    return False


def _targets_files(value: Any) -> bool:
    """Whether a ``files_id`` condition names files by value (one, or a list)."""
    if value is None:
        return False  # no files_id at all: every shard is asked
    if not isinstance(value, Mapping):
        return True  # plain equality
    keys = set(value)
    if keys <= {"$eq", "$in"}:
        return True
    return bool(keys) and keys <= _SCAN_OPERATORS


def _filters(name: str, command: Mapping[str, Any]) -> Iterator[tuple[Any, bool]]:
    """(filter, single document?) for each query the command runs."""
    if name in ("find", "count", "distinct"):
        yield command.get("filter", command.get("query", {})), False
    elif name == "delete":
        for item in command.get("deletes", []):
            yield item.get("q", {}), item.get("limit") == 1
    elif name == "update":
        for item in command.get("updates", []):
            yield item.get("q", {}), not item.get("multi", False)
    elif name == "findAndModify":
        yield command.get("query", {}), True
    elif name == "aggregate":
        stages = command.get("pipeline", [])
        first = stages[0] if stages else {}
        yield first.get("$match", {}), False


class ShardKeyCheck(monitoring.CommandListener):
    """Records every gridfield command a sharded bucket could not route by file."""

    def __init__(self, ours: str = _OURS) -> None:
        self.faults: list[str] = []
        self._ours = ours  # whose commands count: those sent from code under this folder

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        command = event.command
        target = command.get(name)
        if not isinstance(target, str):
            return
        is_chunks = target.endswith(".chunks")
        if not (is_chunks or target.endswith(".files")) or not _sent_from(self._ours):
            return
        if name == "insert":
            key = "files_id" if is_chunks else "_id"
            if any(key not in doc for doc in command.get("documents", [])):
                self.faults.append(f"{name} on {target} without {key}: {dict(command)!r:.300}")
            return
        for query, single in _filters(name, command):
            if is_chunks and not _targets_files(query.get("files_id")):
                self.faults.append(f"{name} on {target} not by files_id: {query!r:.300}")
            elif not is_chunks and single and "_id" not in query:
                self.faults.append(
                    f"single-document {name} on {target} without _id: {query!r:.300}"
                )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to check: what was sent is enough."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to check: what was sent is enough."""


SHARD_KEY_CHECK = ShardKeyCheck()
"""The one listener the test clients share; the conftest checks it after each test."""
