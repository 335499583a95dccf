"""What the two APIs share and how they differ: the public names, the imports, the pairs."""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import gridfield
import gridfield.sync
from gridfield._sync.store import FileStore
from gridfield._twins import run_off_loop

SRC = Path(gridfield.__file__).parent
_ASYNC_PREFIX = re.compile(r"^Async(?=[A-Z])")


def sync_name(name: str) -> str:
    """The README's rule: a name that differs starts ``Async`` in the async API only."""
    return _ASYNC_PREFIX.sub("", name)


def test_both_apis_export_the_same_names_by_the_async_prefix_rule() -> None:
    async_names = set(gridfield.__all__)
    sync_names = set(gridfield.sync.__all__)
    assert {sync_name(n) for n in async_names} == sync_names
    assert len(async_names) == len(sync_names)  # no two async names fold into one
    for name in async_names:
        assert hasattr(gridfield, name), name
        assert hasattr(gridfield.sync, sync_name(name)), name


def test_names_of_the_twins_are_their_own_and_shared_names_are_shared() -> None:
    for name in gridfield.__all__:
        ours, theirs = getattr(gridfield, name), getattr(gridfield.sync, sync_name(name))
        module = getattr(ours, "__module__", "") or ""
        if module.startswith("gridfield._async"):
            assert theirs.__module__ == module.replace("_async", "_sync"), name
        else:  # the core, and MongoEngine's plain fields: one object serves both
            assert ours is theirs, name


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the gridfield modules ``path`` imports."""
    here = list(path.relative_to(SRC.parent).parts[:-1])  # the package holding the module
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            found.add(".".join([*base, *(node.module or "").split(".")]).strip("."))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("gridfield")}


def _sources(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


def test_core_and_odm_import_no_twin_and_twins_never_import_each_other() -> None:
    no_twin = ("gridfield._async", "gridfield._sync", "gridfield._twins")
    rules = {"core": no_twin, "odm": no_twin}
    rules["_async"] = ("gridfield._sync",)
    rules["_sync"] = ("gridfield._async",)
    for folder, forbidden in rules.items():
        assert _sources(folder), folder  # a package that moved would pass unseen
        for path in _sources(folder):
            bad = {m for m in _imported_modules(path) if m.startswith(forbidden)}
            assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"
    pairs = _imported_modules(SRC / "_twins.py")
    assert not {m for m in pairs if m.startswith(("gridfield._async", "gridfield._sync"))}


def test_the_import_reader_resolves_relative_imports() -> None:
    # the check above is only as good as this: a known import of each kind is seen
    assert "gridfield._twins" in _imported_modules(SRC / "_async" / "connection.py")
    assert "gridfield.core.errors" in _imported_modules(SRC / "_async" / "proxy.py")
    assert "gridfield._async.store" in _imported_modules(SRC / "_async" / "__init__.py")
    assert "gridfield.odm.classes" in _imported_modules(SRC / "odm" / "holders.py")
    assert "gridfield.core.numbers" in _imported_modules(SRC / "odm" / "queries.py")


async def test_cpu_work_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    started, release = threading.Event(), threading.Event()

    def work() -> int:
        started.set()
        release.wait(timeout=30)
        return threading.get_ident()

    ticker = asyncio.create_task(tick())
    running = asyncio.ensure_future(run_off_loop(work))
    try:
        while not started.is_set():
            await asyncio.sleep(0.001)
        before = ticks
        await asyncio.sleep(0.01)
        assert ticks > before  # the loop kept running while the work waited
        release.set()
        assert await running != loop_thread
    finally:
        release.set()
        ticker.cancel()


def test_the_sync_api_refuses_an_async_iterable_before_writing(sync_db: Any) -> None:
    async def pieces() -> Any:
        yield b"never read"

    source = pieces()
    with pytest.raises(TypeError, match="cannot store async_generator"):
        FileStore(sync_db).put(source)
    assert sync_db["fs.files"].count_documents({}) == 0
    assert sync_db["fs.chunks"].count_documents({}) == 0


# What an extra brings, and so what ``import gridfield`` must not need.
EXTRAS_ONLY = [
    "PIL",
    "aiohttp",
    "beanie",
    "click",
    "cryptography",
    "django",
    "fastapi",
    "flask",
    "multipart",
    "opentelemetry",
    "pydantic",
    "pymongocrypt",
    "python_multipart",
    "rich",
    "starlette",
    "uvicorn",
    "waitress",
    "werkzeug",
]


def test_both_apis_import_with_the_runtime_dependencies_alone() -> None:
    # In a fresh interpreter where every extra's package fails to import, as on a plain
    # `pip install gridfield`.
    program = f"""
import importlib.abc, sys
class NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRAS_ONLY!r}:
            raise ImportError(f"{{name}} is not installed")
        return None
sys.meta_path.insert(0, NoExtras())
import gridfield, gridfield.sync, gridfield.core.tus, gridfield.odm
print(len(gridfield.__all__))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0
