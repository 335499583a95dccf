"""Django's file storage tests against gridfield.django.GridFSStorage.

Copied into Django's ``tests/file_storage/`` as ``test_gridfield.py`` and run there by
``runtests.py file_storage.test_gridfield``. Each class below subclasses one of Django's and
changes only where the storage comes from: ``storage_class``, or the storage ``setUp`` makes.
Every test gets a fresh database, dropped afterwards.

``storage_class`` is built as those tests build FileSystemStorage: ``location=`` names another
place, so here it picks another bucket of the test's database (two locations, two buckets).

The tests listed in ``gridfield_inapplicable.txt`` (a reason on each line) cannot apply to a
storage without a local file system; they are marked as expected failures, so the run fails
when one of them passes, and when any other test fails. A listed id that names no test is an
error too.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import unittest
import uuid
from pathlib import Path
from typing import Any

from file_storage import test_generate_filename, test_inmemory_storage
from file_storage import tests as django_tests
from pymongo import MongoClient

from gridfield.django import GridFSStorage

URI = os.environ["MONGODB_URI"]
_client: MongoClient[dict[str, Any]] = MongoClient(URI)
atexit.register(_client.close)


class TestStorage(GridFSStorage):
    """GridFSStorage in the database of the running test, taking FileSystemStorage's
    ``location`` as the name of a place: another location, another bucket."""

    database = "django_storage_unset"

    def __init__(
        self, location: Any = None, base_url: Any = None, allow_overwrite: bool = False
    ) -> None:
        bucket = "fs"
        if location:
            bucket = "at_" + hashlib.sha256(os.fsencode(location)).hexdigest()[:12]
        super().__init__(
            uri=URI,
            db=type(self).database,
            bucket=bucket,
            base_url=base_url,
            allow_overwrite=allow_overwrite,
        )


class FreshDatabase:
    """Each test in a database of its own, dropped when it ends."""

    def setUp(self) -> None:
        name = f"django_{uuid.uuid4().hex[:16]}"
        TestStorage.database = name
        self.addCleanup(_client.drop_database, name)  # type: ignore[attr-defined]
        super().setUp()  # type: ignore[misc]


class CustomStorage(TestStorage):
    """Django's CustomStorage naming (``name.2``, ``name.3``...) on GridFSStorage."""

    get_available_name = django_tests.CustomStorage.get_available_name


class DiscardingFalseContentStorage(TestStorage):
    """Stores nothing for content that is false, as Django's test storage of that name."""

    def _save(self, name: str, content: Any) -> str:
        if content:
            return super()._save(name, content)
        return ""


# -- the classes that bind their storage in storage_class ----------------------------------------


class GridFSFileStorageTests(FreshDatabase, django_tests.FileStorageTests):
    storage_class = TestStorage


class GridFSCustomStorageTests(FreshDatabase, django_tests.CustomStorageTests):
    storage_class = CustomStorage


class GridFSOverwritingStorageTests(FreshDatabase, django_tests.OverwritingStorageTests):
    storage_class = TestStorage


class GridFSDiscardingFalseContentStorageTests(
    FreshDatabase, django_tests.DiscardingFalseContentStorageTests
):
    storage_class = DiscardingFalseContentStorage


class GridFSGenerateFilenameTests(
    FreshDatabase, test_generate_filename.StorageGenerateFilenameTests
):
    storage_class = TestStorage


# -- the classes that make their storage in setUp -------------------------------------------------


class StorageInSetUp(FreshDatabase):
    """Django's setUp runs (its temporary folders and threads), then the storage is ours."""

    def setUp(self) -> None:
        super().setUp()
        self.storage = TestStorage()


class GridFSMemoryStorageIOTests(StorageInSetUp, test_inmemory_storage.MemoryStorageIOTests):
    pass


class GridFSMemoryStorageTimesTests(StorageInSetUp, test_inmemory_storage.MemoryStorageTimesTests):
    pass


class GridFSFileSaveRaceConditionTest(StorageInSetUp, django_tests.FileSaveRaceConditionTest):
    pass


class GridFSFileStoragePathParsing(StorageInSetUp, django_tests.FileStoragePathParsing):
    pass


class GridFSContentFileStorageTestCase(StorageInSetUp, django_tests.ContentFileStorageTestCase):
    pass


class GridFSFileLikeObjectTestCase(StorageInSetUp, django_tests.FileLikeObjectTestCase):
    pass


# -- what cannot apply ---------------------------------------------------------------------------


def _inapplicable() -> dict[str, str]:
    """``test id: reason`` per line; ``#`` starts a comment."""
    listed: dict[str, str] = {}
    path = Path(__file__).with_name("gridfield_inapplicable.txt")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        test_id, colon, reason = line.partition(":")
        if not colon or not reason.strip():
            raise ValueError(f"{path.name}:{number}: want 'test id: reason', got {line!r}")
        listed[test_id.strip()] = reason.strip()
    return listed


def _expected_failure(test: Any) -> Any:
    @functools.wraps(test)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return test(self, *args, **kwargs)

    return unittest.expectedFailure(run)


def _mark_inapplicable() -> None:
    """Mark each listed test, named where Django defines it
    (``file_storage.tests.FileStorageTests.test_file_path``) or by our class
    (``file_storage.test_gridfield.GridFS...``)."""
    listed = _inapplicable()
    seen: set[str] = set()
    classes = [
        value
        for value in globals().values()
        if isinstance(value, type)
        and issubclass(value, unittest.TestCase)
        and value.__module__ == __name__
    ]
    for cls in classes:
        for name in unittest.TestLoader().getTestCaseNames(cls):
            owner = next(k for k in cls.__mro__ if name in k.__dict__)
            ours = f"{cls.__module__}.{cls.__qualname__}.{name}"
            theirs = f"{owner.__module__}.{owner.__qualname__}.{name}"
            for test_id in (ours, theirs):
                if test_id in listed:
                    setattr(cls, name, _expected_failure(getattr(cls, name)))
                    seen.add(test_id)
                    break
    unknown = sorted(set(listed) - seen)
    if unknown:
        raise LookupError(f"gridfield_inapplicable.txt names no test run here: {unknown}")


_mark_inapplicable()
