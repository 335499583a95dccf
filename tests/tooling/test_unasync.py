"""The generator's --check catches a stale, a missing and an orphan twin, unmapped names, and
sync text that tells a user to await."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "unasync.py"
TWIN_FOLDERS = ("src/gridfield/_async", "src/gridfield/_sync", "tests/_async", "tests/_sync")


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's twin folders, in step as committed."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for folder in TWIN_FOLDERS:
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def copy(tree: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(tree, root)
    return root


def a_sync_file(root: Path) -> Path:
    files = sorted((root / "src/gridfield/_sync").glob("*.py"))
    return next(p for p in files if p.stem != "__init__")


def test_repository_twin_is_in_step(copy: Path) -> None:
    done = run(copy, "--check")
    assert done.returncode == 0, done.stderr
    assert "in step" in done.stdout


def test_check_catches_a_stale_twin(copy: Path) -> None:
    target = a_sync_file(copy)
    target.write_text(target.read_text() + "\nEDITED_BY_HAND = True\n")
    done = run(copy, "--check")
    assert done.returncode == 1
    rel = target.relative_to(copy).as_posix()
    assert f"stale: {rel}" in done.stderr
    assert "-EDITED_BY_HAND = True" in done.stderr  # the diff is printed


def test_check_catches_a_missing_twin(copy: Path) -> None:
    target = a_sync_file(copy)
    target.unlink()
    done = run(copy, "--check")
    assert done.returncode == 1
    assert f"missing: {target.relative_to(copy).as_posix()}" in done.stderr


def test_check_catches_an_orphan_twin(copy: Path) -> None:
    orphan = copy / "tests/_sync/test_left_behind.py"
    orphan.write_text("def test_nothing() -> None:\n    assert True\n")
    done = run(copy, "--check")
    assert done.returncode == 1
    assert "orphan (its async source is gone): tests/_sync/test_left_behind.py" in done.stderr


def test_generate_repairs_all_three(copy: Path) -> None:
    stale = a_sync_file(copy)
    stale.write_text("# edited\n")
    (copy / "tests/_sync/test_left_behind.py").write_text("X = 1\n")
    assert run(copy).returncode == 0
    assert run(copy, "--check").returncode == 0
    assert not (copy / "tests/_sync/test_left_behind.py").exists()


def test_unmapped_async_name_fails_and_writes_nothing(copy: Path) -> None:
    source = copy / "src/gridfield/_async/brand_new.py"
    source.write_text('"""New."""\n\n\nclass AsyncBrandNew:\n    pass\n')
    done = run(copy)
    assert done.returncode == 2
    assert "unmapped async name" in done.stderr and "AsyncBrandNew" in done.stderr
    assert not (copy / "src/gridfield/_sync/brand_new.py").exists()


def test_generated_files_name_their_source(copy: Path) -> None:
    target = a_sync_file(copy)
    first = target.read_text().splitlines()[0]
    source = target.relative_to(copy).as_posix().replace("_sync", "_async")
    assert first == f"# Generated from {source} by scripts/unasync.py: do not edit."


ASYNC_WORDS = (
    '"""A new module: await what it returns."""\n'
    "\n"
    "\n"
    "def hint(name: str) -> str:\n"
    "    # comments are not read by users: await and async with are fine here\n"
    '    return f"enter it with async  with {name}"\n'
)


def test_check_catches_async_words_in_sync_text(copy: Path) -> None:
    (copy / "src/gridfield/_async/brand_new.py").write_text(ASYNC_WORDS)
    assert run(copy).returncode == 2  # written, and the problem said at once
    done = run(copy, "--check")
    assert done.returncode == 1
    where = "async words in sync text: src/gridfield/_sync/brand_new.py"
    assert f"{where}:2: says 'await'" in done.stderr  # the docstring
    assert f"{where}:7: says 'async with'" in done.stderr  # the f-string
    assert ":6:" not in done.stderr  # the comment


ASYNC_LOOPS = (
    '"""A new module."""\n'
    "\n"
    "\n"
    "def rows() -> list[int]:\n"
    '    """Read them with ``async for``; the helper is an ``async def``."""\n'
    "    return []\n"
    "\n"
    "\n"
    "def hint() -> str:\n"
    '    return "then ``await`` it"\n'
)


def test_check_catches_async_for_def_and_await_anywhere_in_sync_text(copy: Path) -> None:
    (copy / "src/gridfield/_async/brand_new.py").write_text(ASYNC_LOOPS)
    run(copy)
    done = run(copy, "--check")
    assert done.returncode == 1
    where = "async words in sync text: src/gridfield/_sync/brand_new.py"
    assert f"{where}:6: says 'async for'" in done.stderr  # a function's docstring
    assert f"{where}:11: says 'await'" in done.stderr  # between backquotes, no space after
    # A sync docstring that says async for, planted by hand in a twin file: stale, and said.
    target = copy / "src/gridfield/_sync/download.py"
    text = target.read_text()
    line = text[: text.index('"""')].count("\n") + 1
    target.write_text(text.replace('"""', '"""Iterate it with async for. ', 1))
    done = run(copy, "--check")
    assert done.returncode == 1
    said = f"async words in sync text: src/gridfield/_sync/download.py:{line}: says 'async for'"
    assert said in done.stderr
    assert "stale: src/gridfield/_sync/download.py" in done.stderr


def test_words_about_awaiting_are_fine_in_sync_text(copy: Path) -> None:
    (copy / "tests/_async/test_brand_new.py").write_text(
        '"""Awaited in the async API; awaiting is optional there."""\n'
        "\n"
        "\n"
        "async def test_nothing() -> None:\n"
        "    # await x\n"
        '    assert "asynchronous".startswith("async")\n'
    )
    assert run(copy).returncode == 0
    assert run(copy, "--check").returncode == 0
