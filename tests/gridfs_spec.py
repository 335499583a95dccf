"""The GridFS specification's unified-format tests: fetched, cached and matched.

The JSON files ship in PyMongo's source distribution (``test/gridfs/*.json``). They are
fetched at test time from the package registry, for the PyMongo version installed, into a
cache folder outside the repository; nothing of them is committed. Without the registry (and
without a cache) the tests fail saying so: they never skip.

This module is shared by both twins' runners: it does no database I/O.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from bson import Binary, ObjectId, json_util

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gridfield" / "gridfs-spec"
# Tests that need a server feature FerretDB and plain servers lack: none in PyMongo 4.20's
# copy, but older copies had upload tests driven by configureFailPoint.
NEEDS_FAIL_POINT = "configureFailPoint"


@dataclass(frozen=True)
class SpecCase:
    """One test of one spec file."""

    file: str
    description: str
    spec: dict[str, Any]  # the whole file (entities, initial data)
    test: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.description}"


def pymongo_version() -> str:
    return metadata.version("pymongo")


def spec_folder() -> Path:
    """The cached folder of the spec's JSON files for the installed PyMongo, fetched on first
    use; RuntimeError naming the command and its output when the registry cannot be reached."""
    version = pymongo_version()
    folder = CACHE / f"pymongo-{version}"
    if any(folder.glob("*.json")):
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-binary",
            ":all:",
            "--no-deps",
            f"pymongo=={version}",
            "-d",
            tmp,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        archives = list(Path(tmp).glob("pymongo-*.tar.gz"))
        if not archives:
            raise RuntimeError(
                f"cannot fetch the GridFS spec tests: `{' '.join(command)}` exited with "
                f"status {done.returncode} and no source archive:\n{done.stdout}{done.stderr}"
            )
        staging = Path(tempfile.mkdtemp(dir=CACHE.parent if CACHE.parent.exists() else None))
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if len(parts) == 4 and parts[1:3] == ("test", "gridfs") and member.isfile():
                    source = archive.extractfile(member)
                    assert source is not None
                    (staging / parts[3]).write_bytes(source.read())
        if not any(staging.glob("*.json")):
            raise RuntimeError(f"{archives[0].name} holds no test/gridfs/*.json")
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(folder)  # whole, or not at all: another run may have won the race
        except OSError:
            if not any(folder.glob("*.json")):
                raise
    return folder


def spec_cases() -> list[SpecCase]:
    """Every test of every spec file, in file order."""
    cases = []
    for path in sorted(spec_folder().glob("*.json")):
        spec = json_util.loads(path.read_text(encoding="utf-8"))
        for test in spec["tests"]:
            cases.append(SpecCase(path.stem, test["description"], spec, test))
    return cases


def needs_fail_point(case: SpecCase) -> bool:
    """Whether the test sets a fail point (a test-only server command)."""
    return NEEDS_FAIL_POINT in repr(case.test)


# -- values ------------------------------------------------------------------------------


def resolve(value: Any, entities: Mapping[str, Any]) -> Any:
    """An operation's argument with ``$$hexBytes`` turned into bytes."""
    if isinstance(value, Mapping):
        if set(value) == {"$$hexBytes"}:
            return bytes.fromhex(value["$$hexBytes"])
        return {key: resolve(item, entities) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, entities) for item in value]
    return value


_TYPES: dict[str, tuple[type, ...]] = {
    "objectId": (ObjectId,),
    "date": (datetime,),
    "string": (str,),
    "int": (int,),
    "long": (int,),
    "binData": (bytes, Binary),
    "object": (Mapping,),
    "array": (list,),
    "bool": (bool,),
}


class Mismatch(AssertionError):
    """An actual value that does not match the spec's expectation."""


def match(expected: Any, actual: Any, entities: Mapping[str, Any], path: str = "") -> None:
    """Raise Mismatch unless ``actual`` matches ``expected`` by the unified format's rules
    (root-level documents may carry extra keys; nested ones may not)."""
    _match(expected, actual, entities, path or "$", root=True)


_UNSET = object()


def _match(expected: Any, actual: Any, entities: Mapping[str, Any], path: str, root: bool) -> None:
    if isinstance(expected, Mapping) and len(expected) == 1:
        ((key, arg),) = expected.items()
        if key == "$$type":
            kinds = [arg] if isinstance(arg, str) else arg
            allowed = tuple(t for kind in kinds for t in _TYPES[kind])
            if actual is _UNSET or not isinstance(actual, allowed):
                raise Mismatch(f"{path}: expected type {kinds}, got {actual!r}")
            return
        if key == "$$matchesEntity":
            if actual != entities[arg]:
                raise Mismatch(f"{path}: expected entity {arg} ({entities[arg]!r}), got {actual!r}")
            return
        if key == "$$matchesHexBytes":
            if actual != bytes.fromhex(arg):
                raise Mismatch(f"{path}: expected bytes {arg}, got {actual!r}")
            return
        if key == "$$unsetOrMatches":
            if actual is not _UNSET:
                _match(arg, actual, entities, path, root)
            return
        if key == "$$exists":
            if (actual is not _UNSET) != arg:
                raise Mismatch(f"{path}: expected {'present' if arg else 'absent'}, got {actual!r}")
            return
        if key.startswith("$$"):
            raise NotImplementedError(f"{path}: the runner has no {key} operator")
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            raise Mismatch(f"{path}: expected a document, got {actual!r}")
        for key, want in expected.items():
            _match(want, actual.get(key, _UNSET), entities, f"{path}.{key}", root=False)
        if not root:
            extra = set(actual) - set(expected)
            if extra:
                raise Mismatch(f"{path}: unexpected keys {sorted(extra)} in {actual!r}")
        return
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise Mismatch(f"{path}: expected {len(expected)} items, got {actual!r}")
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            # Documents in an array of results (find) are root-level documents too.
            _match(want, got, entities, f"{path}[{i}]", root=root)
        return
    if isinstance(expected, datetime) and isinstance(actual, datetime):
        # The spec's dates are read as aware UTC; a client may hand back naive UTC ones.
        if _utc(expected) != _utc(actual):
            raise Mismatch(f"{path}: expected {expected!r}, got {actual!r}")
        return
    if (
        actual is _UNSET
        or expected != actual
        or isinstance(expected, bool) != isinstance(actual, bool)
    ):
        raise Mismatch(f"{path}: expected {expected!r}, got {actual!r}")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def match_exactly(expected: list[Any], actual: list[Any], path: str) -> None:
    """Collection contents after a test: the same documents, no extra keys anywhere."""
    if len(expected) != len(actual):
        raise Mismatch(f"{path}: expected {len(expected)} documents, got {actual!r}")
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        _match(want, got, {}, f"{path}[{i}]", root=False)
