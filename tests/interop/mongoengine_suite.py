"""MongoEngine 0.29.3's own FileField tests, fetched once and run with gridfield.sync's fields.

``./dev mongoengine`` runs them (``python -m tests.interop.mongoengine_suite``): all 21 must
pass, none skipped. The tests are not in MongoEngine's release archive (PyPI's sdist leaves
``tests/fields`` out), so they come from its git repository at the release tag
(``$GRIDFIELD_MONGOENGINE_GIT``, default GitHub), checked against the tag's commit, into the
cache folder ``scripts/mongo_server`` uses (``$GRIDFIELD_CACHE``). That needs a machine that
reaches the repository, which is why this is a session of its own and not part of
``./dev tests``. Nothing of
MongoEngine's is kept in this repository. The module is loaded with the names its tests use
for the fields rebound to gridfield's, and with its connections pointed at the test server
and at databases no other test uses.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import types
import unittest
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mongoengine
from mongoengine.connection import disconnect_all, get_db
from pymongo import MongoClient

import gridfield.sync
from scripts.mongo_server.places import cache_dir, locked

TAG = "v0.29.3"
COMMIT = "30f6d56c5c0777f084213faf6b6e923acea225f7"
SOURCE = os.environ.get("GRIDFIELD_MONGOENGINE_GIT", "https://github.com/MongoEngine/mongoengine")
FILE_FIELD_TESTS = "tests/fields/test_file_field.py"

# MongoEngine's names for what gridfield.sync offers in their place.
REBOUND = ("FileField", "GridFSProxy", "ImageField", "ImageGridFsProxy")


def checkout() -> Path:
    """MongoEngine's repository at ``TAG``, cloned into the cache folder on first use."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"mongoengine-{TAG}"
    with locked(root / f"mongoengine-{TAG}.lock"):
        if not (target / FILE_FIELD_TESTS).is_file():
            shutil.rmtree(target, ignore_errors=True)
            _git("clone", "--quiet", "--depth", "1", "--branch", TAG, SOURCE, str(target))
        head = _git("-C", str(target), "rev-parse", "HEAD").strip()
        if head != COMMIT:
            raise RuntimeError(
                f"{target}: MongoEngine {TAG} should be commit {COMMIT}, found {head}"
            )
    return target


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"git {' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def file_field_tests(mongo_uri: str) -> Iterator[types.ModuleType]:
    """MongoEngine's ``test_file_field`` module, its fields gridfield's, its databases fresh."""
    source = checkout() / FILE_FIELD_TESTS
    names = {"mongoenginetest": _fresh(), "test_files": _fresh()}

    class MongoDBTestCase(unittest.TestCase):
        """MongoEngine's test base (``tests.utils``), on the test server's fresh database."""

        db: Any

        @classmethod
        def setUpClass(cls) -> None:
            disconnect_all()
            mongoengine.connect(
                db=names["mongoenginetest"], host=mongo_uri, uuidRepresentation="standard"
            )
            cls.db = get_db()

        @classmethod
        def tearDownClass(cls) -> None:
            disconnect_all()

    def register_connection(alias: str, db: str | None = None, **kwargs: Any) -> None:
        name = names.setdefault(db or alias, _fresh())
        kwargs.setdefault("uuidRepresentation", "standard")
        mongoengine.register_connection(alias, db=name, host=mongo_uri, **kwargs)

    utils = types.ModuleType("tests.utils")
    utils.MongoDBTestCase = MongoDBTestCase  # type: ignore[attr-defined]
    spec = importlib.util.spec_from_file_location("mongoengine_test_file_field", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("tests.utils")
    sys.modules["tests.utils"] = utils
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules["tests.utils"]
        else:
            sys.modules["tests.utils"] = saved
    for name in REBOUND:
        setattr(module, name, getattr(gridfield.sync, name))
    module.register_connection = register_connection  # type: ignore[attr-defined]
    try:
        yield module
    finally:
        disconnect_all()
        with MongoClient(mongo_uri) as client:
            for name in names.values():
                client.drop_database(name)


def _fresh() -> str:
    return f"gridfield_mongoengine_{uuid.uuid4().hex}"


def run(module: types.ModuleType) -> unittest.TestResult:
    """Run every test of ``module``; the result holds its failures, errors and skips."""
    suite = unittest.TestLoader().loadTestsFromModule(module)
    result = unittest.TestResult()
    suite.run(result)
    return result


EXPECTED = 21


def main() -> int:
    """Run the suite against ``$MONGODB_URI`` (or the server script's); 0 when all pass."""
    from scripts.mongo_server import server_uri

    with file_field_tests(os.environ.get("MONGODB_URI") or server_uri()) as module:
        result = run(module)
    problems = [f"{test.id()}:\n{trace}" for test, trace in result.failures + result.errors]
    problems += [f"{test.id()}: skipped ({why})" for test, why in result.skipped]
    if result.testsRun != EXPECTED:
        problems.append(f"{result.testsRun} tests ran, {EXPECTED} expected")
    for problem in problems:
        print(problem, file=sys.stderr)
    passed = result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped)
    print(
        f"MongoEngine {TAG} tests/fields/test_file_field.py: {passed}/{result.testsRun} passed"
        " with gridfield.sync's " + ", ".join(REBOUND)
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
