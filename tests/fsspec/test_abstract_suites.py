"""fsspec's own abstract test suites (copy, get, put, pipe, open) against both gridfs
filesystems on the real server.

A test that cannot apply to GridFS is listed once in ``NOT_FOR_GRIDFS`` with its reason and
runs as a strict expected failure: the run fails if a listed test passes, as it fails if an
unlisted one does not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import fsspec.tests.abstract as abstract
import pytest

from tests.conftest import fresh_db_name
from tests.fsspec.conftest import close_fs, make_fs

NOT_FOR_GRIDFS: dict[str, str] = {}
"""Test name -> why it cannot pass on GridFS (see the module's docstring)."""


class GridFSFixtures(abstract.AbstractFixtures):  # type: ignore[misc]
    """fsspec's fixtures for one gridfs filesystem: a fresh database per class, a fresh
    folder per test; GridFS stores no empty folder."""

    kind = "sync"

    @pytest.fixture(scope="class")
    @classmethod
    def fs(cls, mongo_uri: str) -> Iterator[Any]:
        fs = make_fs(cls.kind, mongo_uri, fresh_db_name())
        try:
            yield fs
        finally:
            close_fs(fs)

    @pytest.fixture
    def fs_path(self) -> str:
        return f"t{uuid.uuid4().hex[:12]}"

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return False


class AsyncFixtures(GridFSFixtures):
    kind = "async"


class TestCopySync(abstract.AbstractCopyTests, GridFSFixtures):  # type: ignore[misc]
    pass


class TestGetSync(abstract.AbstractGetTests, GridFSFixtures):  # type: ignore[misc]
    pass


class TestPutSync(abstract.AbstractPutTests, GridFSFixtures):  # type: ignore[misc]
    pass


class TestPipeSync(abstract.AbstractPipeTests, GridFSFixtures):  # type: ignore[misc]
    pass


class TestOpenSync(abstract.AbstractOpenTests, GridFSFixtures):  # type: ignore[misc]
    pass


class TestCopyAsync(abstract.AbstractCopyTests, AsyncFixtures):  # type: ignore[misc]
    pass


class TestGetAsync(abstract.AbstractGetTests, AsyncFixtures):  # type: ignore[misc]
    pass


class TestPutAsync(abstract.AbstractPutTests, AsyncFixtures):  # type: ignore[misc]
    pass


class TestPipeAsync(abstract.AbstractPipeTests, AsyncFixtures):  # type: ignore[misc]
    pass


class TestOpenAsync(abstract.AbstractOpenTests, AsyncFixtures):  # type: ignore[misc]
    pass


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the listed tests strict expected failures (hook run from tests/fsspec/conftest)."""
    for item in items:
        reason = NOT_FOR_GRIDFS.get(item.originalname if isinstance(item, pytest.Function) else "")
        if reason is not None and item.module is not None and item.module.__name__ == __name__:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
