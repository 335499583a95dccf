"""Django's own tests of file storage, fetched for the Django version installed and run with
its ``runtests.py`` against ``GridFSStorage``.

Django's source distribution ships ``tests/file_storage/``. It is fetched at test time with
pip, into a cache folder outside the repository (``$GRIDFIELD_CACHE/django-tests``); nothing of
it is committed. Only what ``runtests.py`` needs is kept: the runner, its settings and root
URLconf, its templates and ``file_storage/``. Each run copies that small tree into a temporary
folder and adds ``file_storage/test_gridfield.py`` (``suite_module.py`` here) and the list of
tests that cannot apply (``inapplicable.txt``). Without the registry (and without a cache)
the tests fail saying so: they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from scripts.mongo_server.places import cache_dir

HERE = Path(__file__).parent
SUITE_MODULE = HERE / "suite_module.py"
INAPPLICABLE = HERE / "inapplicable.txt"
# What runtests.py reads besides the test packages it is asked to run.
_KEEP_FILES = ("runtests.py", "test_sqlite.py", "urls.py")
_KEEP_DIRS = ("file_storage", "templates")


def django_version() -> str:
    return metadata.version("django")


def tests_folder() -> Path:
    """The cached subset of Django's ``tests/`` for the installed version, fetched on first
    use; RuntimeError naming the command and its output when the registry cannot be reached."""
    version = django_version()
    root = cache_dir() / "django-tests"
    folder = root / f"django-{version}"
    if (folder / "runtests.py").is_file() and (folder / "file_storage" / "tests.py").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-binary",
            ":all:",
            "--no-deps",
            f"django=={version}",
            "-d",
            tmp,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        archives = [p for p in Path(tmp).glob("*.tar.gz") if p.name.lower().startswith("django-")]
        if not archives:
            raise RuntimeError(
                f"cannot fetch Django's tests: `{' '.join(command)}` exited with status "
                f"{done.returncode} and no source archive:\n{done.stdout}{done.stderr}"
            )
        staging = Path(tempfile.mkdtemp(dir=root))
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if len(parts) < 3 or parts[1] != "tests" or not member.isfile():
                    continue
                inside = parts[2:]
                if (len(inside) == 1 and inside[0] in _KEEP_FILES) or (
                    len(inside) > 1 and inside[0] in _KEEP_DIRS
                ):
                    source = archive.extractfile(member)
                    assert source is not None
                    target = staging.joinpath(*inside)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(source.read())
        if not (staging / "runtests.py").is_file():
            raise RuntimeError(f"{archives[0].name} holds no tests/runtests.py")
        try:
            staging.rename(folder)  # whole, or not at all: another run may have won the race
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not (folder / "runtests.py").is_file():
                raise
    return folder


def prepare_tree(destination: Path) -> Path:
    """A copy of the cached tests with our module in ``file_storage/``; returns the folder
    holding ``runtests.py``."""
    tree = destination / "tests"
    shutil.copytree(tests_folder(), tree)
    shutil.copy(SUITE_MODULE, tree / "file_storage" / "test_gridfield.py")
    shutil.copy(INAPPLICABLE, tree / "file_storage" / "gridfield_inapplicable.txt")
    return tree
