"""Packaging: the version in one place, the licence in the sdist and wheel, metadata PyPI
accepts (``twine check --strict``), a wheel that installs into a fresh venv and imports both
APIs, and every integration naming its extra when imported without it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import tomllib

import gridfield

from ..docs.pages import python_blocks

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Each extra: what fails to import without it, and the packages it brings (hidden to check).
# An entry is a statement that imports or uses the integration.
EXTRA_CHECKS: dict[str, list[tuple[str, set[str]]]] = {
    "asgi": [("import gridfield.web.asgi", {"starlette"})],
    "fastapi": [("import gridfield.web.asgi", {"starlette", "fastapi"})],
    "aiohttp": [("import gridfield.web.aiohttp", {"aiohttp"})],
    "django": [
        ("import gridfield.django", {"django"}),
        ("import gridfield.web.django", {"django"}),
        ("import gridfield.web.django_uploads", {"django"}),
    ],
    "pydantic": [("import gridfield.pydantic", {"pydantic", "pydantic_core"})],
    "beanie": [("import gridfield.beanie", {"beanie"})],
    "fsspec": [("import gridfield.fsspec", {"fsspec"})],
    "encryption": [
        (
            "from gridfield.core.encryption import Encryption, LocalKeys\n"
            "Encryption(LocalKeys({'k': bytes(32)}))",
            {"cryptography"},
        )
    ],
    # Without pymongocrypt, PyMongo's ClientEncryption cannot work: KeyVaultKeys says so
    # before it looks at its arguments (with it, the object given here is refused).
    "key-vault": [
        (
            "from gridfield.key_vault import KeyVaultKeys\n"
            "try:\n    KeyVaultKeys(object(), key_alt_name='k')\n"
            "except TypeError:\n    pass",
            {"pymongocrypt"},
        )
    ],
    "image": [("from gridfield.core.imaging import _pillow; _pillow()", {"PIL"})],
    "flask": [
        # gridfield.web.wsgi needs no framework; receiving a form needs python-multipart
        (
            "from gridfield._sync.intake import _multipart_parser; _multipart_parser()",
            {"python_multipart", "multipart"},
        ),
    ],
}
# Extras no module of gridfield imports: the user hands gridfield their objects (a Motor
# client), or MongoEngine imports the package itself (blinker, for its signals).
PASSED_THROUGH = {"motor": "a Motor client given to connect()", "signals": "MongoEngine's"}
# Extras whose absence is no error: without them gridfield observes nothing.
OBSERVERS = {"telemetry": {"opentelemetry"}}
NOT_FOR_USERS = {"dev", "docs"}


def test_the_version_is_in_one_place() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "gridfield.__version__"
    }
    assert metadata.version("gridfield") == gridfield.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(gridfield.__version__)}\b", changelog, re.M)


def test_every_extra_is_checked_or_said_why_not() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"]) - NOT_FOR_USERS
    assert extras == set(EXTRA_CHECKS) | set(PASSED_THROUGH) | set(OBSERVERS) | {"cli"}


def without(packages: set[str], statement: str) -> subprocess.CompletedProcess[str]:
    """Run ``statement`` in a fresh interpreter where ``packages`` are not installed."""
    program = f"""
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {sorted(packages)!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Absent())
{statement}
"""
    return subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
    )


CASES = [(extra, *check) for extra, checks in EXTRA_CHECKS.items() for check in checks]


@pytest.mark.parametrize(("extra", "statement", "packages"), CASES)
def test_an_integration_without_its_extra_names_it(
    extra: str, statement: str, packages: set[str]
) -> None:
    done = without(packages, statement)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: "), done.stderr
    # "gridfield[EXTRA]", or one command naming several extras ("gridfield[asgi]' (or
    # fastapi, flask)").
    assert f"gridfield[{extra}]" in last or ("pip install 'gridfield[" in last and extra in last)
    # With the packages there, the same statement works.
    assert (
        subprocess.run(
            [sys.executable, "-c", statement], cwd=ROOT, capture_output=True, check=False
        ).returncode
        == 0
    )


@pytest.mark.parametrize(("extra", "packages"), sorted(OBSERVERS.items()))
def test_an_observer_without_its_extra_observes_nothing(extra: str, packages: set[str]) -> None:
    statement = (
        "from gridfield import telemetry\n"
        "op = telemetry.begin('upload', bucket='fs')\n"
        "assert op is telemetry.NO_OPERATION, op\n"
        "op.end()\n"
        "print('quiet')"
    )
    done = without(packages, statement)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "quiet"


def test_the_command_line_without_its_extra_names_it() -> None:
    done = without({"click", "rich"}, "import gridfield.cli; gridfield.cli.main()")
    assert done.returncode == 1
    assert "pip install 'gridfield[cli]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_wheel_installs_alone_and_runs_the_readme(tmp_path: Path, mongo_uri: str) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    assert wheel.name == f"gridfield-{gridfield.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
        assert "Apache License" in archive.read(licence).decode()
        assert "gridfield/py.typed" in names
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # A fresh venv with the wheel and its runtime dependencies only (from pip's cache).
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    program = (
        "import gridfield, gridfield.sync, importlib.metadata as m; "
        "print(gridfield.__version__, len(gridfield.__all__), len(gridfield.sync.__all__), "
        "sorted(r.split(';')[0].split('>')[0] for r in m.requires('gridfield') "
        "if 'extra' not in r))"
    )
    done = subprocess.run(
        [str(python), "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    version, async_names, sync_names, runtime = done.stdout.split(" ", 3)
    assert version == gridfield.__version__
    assert int(async_names) == int(sync_names) == len(gridfield.__all__)
    assert runtime.strip() == "['mongoengine', 'pymongo']"
    # The README's first example, saved as a file and run, as the README says.
    (tmp_path / "marmot.py").write_text(python_blocks(ROOT / "README.md")[0].code)
    first = subprocess.run(
        [str(python), "marmot.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "MONGODB_URI": mongo_uri},
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == 'b"a marmot\'s picture" image/jpeg\n'
