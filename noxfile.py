"""Sessions: tests, lint, typecheck, demo, bench. Run them through ./dev, which prepares .venv."""

from __future__ import annotations

import hashlib
import re
import shutil
from importlib import metadata
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "none"

SOURCES = ["src", "tests", "scripts", "benchmarks", "examples", "noxfile.py"]


def start_server(session: nox.Session) -> None:
    """Make sure a MongoDB-compatible server answers; export its URI as $MONGODB_URI.

    Everything the session runs (pytest's conftest, the demo, the bench) reads that variable.
    The script prints nothing but the URI on stdout; its progress (a first FerretDB build)
    goes to stderr, shown as it happens.
    """
    out = session.run("python", "-m", "scripts.mongo_server", silent=True, stderr=None)
    uri = str(out).strip()
    session.log(f"server: {uri}")
    session.env["MONGODB_URI"] = uri


@nox.session
def tests(session: nox.Session) -> None:
    """The twin check, the programs the tests drive, then every test: core, both twins,
    interop, web, cli, tooling."""
    session.run("python", "scripts/unasync.py", "--check")
    # curl, Chromium and its driver, ffmpeg: installed from Debian's packages when missing
    # and this machine allows it, else a stop naming the command that installs them.
    session.run("python", "-m", "scripts.test_tools")
    start_server(session)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site into site/, with warnings (broken links included) as errors."""
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("python", "-m", "mkdocs", "build", "--strict", *session.posargs)


MATRIX = ("3.10", "3.11", "3.12", "3.13")
# What the matrix installs beside gridfield (and Pillow, its image extra): the unit tests' own
# packages.
MATRIX_PACKAGES = {"pytest", "pytest-asyncio", "hypothesis", "motor", "psutil"}


def interpreter(version: str) -> str | None:
    """Python ``version``: the newest pyenv build of it, else ``pythonX.Y`` on PATH."""
    builds = sorted(
        (Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parts[-3])],
    )
    return str(builds[-1]) if builds else shutil.which(f"python{version}")


def unpinned(names: set[str]) -> list[str]:
    """``names`` as the dev extra spells them, without their pins: the dev pins follow the
    newest releases, some of which (Pillow 13, hypothesis 6.169+) need Python 3.11, so each
    interpreter gets the newest release it can run."""
    wanted = []
    for requirement in metadata.requires("gridfield") or []:
        spec, _, marker = requirement.partition(";")
        name = re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0]
        if 'extra == "dev"' in marker and name.lower() in names:
            wanted.append(name)
    return sorted(wanted)


@nox.session
@nox.parametrize("version", MATRIX)
def matrix(session: nox.Session, version: str) -> None:
    """The unit tests (tests/core) and a server smoke test (the marmot demo, async then sync)
    on one Python of 3.10-3.13, in a venv of its own under .nox/matrix; `./dev matrix` runs
    every version this machine has (pyenv's builds, or pythonX.Y on PATH)."""
    found = interpreter(version)
    if found is None:
        session.skip(f"no Python {version} here (~/.pyenv/versions/{version}.*, python{version})")
    folder = Path(".nox") / "matrix" / version
    python = str(folder / "bin" / "python")
    packages = unpinned(MATRIX_PACKAGES)
    wanted = Path("pyproject.toml").read_bytes() + found.encode() + " ".join(packages).encode()
    stamp = folder / f".installed-{hashlib.sha256(wanted).hexdigest()[:16]}"
    if not stamp.exists():
        if folder.exists():
            shutil.rmtree(folder)
        session.run(found, "-m", "venv", str(folder), external=True)
        session.run(
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "-e",
            ".[image,encryption]",
            *packages,
            external=True,
        )
        stamp.touch()
    session.run(python, "--version", external=True)
    session.run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core", external=True)
    start_server(session)
    session.run(python, "examples/marmot.py", external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.run("python", "-m", "ruff", "check", *SOURCES)
    session.run("python", "-m", "ruff", "format", "--check", *SOURCES)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the server script (the files pyproject.toml lists)."""
    session.run("python", "-m", "mypy")


@nox.session
def mongoengine(session: nox.Session) -> None:
    """MongoEngine 0.29.3's own FileField tests with gridfield.sync's fields in place of its
    own (fetched from MongoEngine's git repository: needs a machine that reaches it)."""
    start_server(session)
    session.run("python", "-m", "tests.interop.mongoengine_suite")


@nox.session
def demo(session: nox.Session) -> None:
    """The seed's marmot example, async then sync, against the default server."""
    start_server(session)
    session.run("python", "examples/marmot.py", *session.posargs)


BENCH_VENV = Path(".nox/bench-venv")
# Benchmark-only packages; never the package's own dependencies. mongomotor patches
# MongoEngine on import, so they live in a venv of their own, not in .venv.
BENCH_PACKAGES = ["mongomotor==0.17.3", "blinker<1.8", "matplotlib", "pyinstrument"]


# Test-only packages the bench does not use; Flask's blinker and the signals tests' blinker
# cannot live with mongomotor's (blinker<1.8). Django stays (benchmarks/django_intake.py),
# and werkzeug (its server runs the WSGI measure of benchmarks/intake.py).
NOT_FOR_BENCH = {
    "flask",
    "waitress",
    "selenium",
    "aiohttp",
    "fastapi",
    "blinker",
    "beanie",
    "pydantic",
    "mkdocs",
    "mkdocs-material",
    "mkdocstrings",
    "mkdocstrings-python",
    "pymdown-extensions",
    "build",
    "twine",
}


def bench_dev() -> list[str]:
    """The dev extra's pins (as installed in .venv), less the web frameworks only tests use."""
    wanted = []
    for requirement in metadata.requires("gridfield") or []:
        spec, _, marker = requirement.partition(";")
        name = re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower()
        if 'extra == "dev"' in marker and name not in NOT_FOR_BENCH:
            # A pin per Python version (pandas, pyarrow, DuckDB) keeps its version marker:
            # without it pip is asked for two versions of one package at once.
            rest = marker.replace('and extra == "dev"', "").replace('extra == "dev"', "").strip()
            wanted.append(f"{spec.strip()}; {rest}" if rest else spec.strip())
    return wanted


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks, in .nox/bench-venv: see benchmarks/README.md."""
    python = str(BENCH_VENV / "bin" / "python")
    # The same PyMongo as .venv, so the benchmarks measure the driver the tests use.
    pins = [f"pymongo=={metadata.version('pymongo')}", *BENCH_PACKAGES]
    wanted = Path("pyproject.toml").read_bytes() + " ".join(pins).encode()
    stamp = BENCH_VENV / f".installed-{hashlib.sha256(wanted).hexdigest()[:16]}"
    if not stamp.exists():
        if not Path(python).exists():
            session.run("python", "-m", "venv", str(BENCH_VENV))
        session.run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", external=True)
        session.run(
            python, "-m", "pip", "install", "--quiet", "-e", ".", *bench_dev(), *pins, external=True
        )
        for old in BENCH_VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()
    start_server(session)
    command = "./dev bench" + (" -- " + " ".join(session.posargs) if session.posargs else "")
    session.run(
        python,
        "benchmarks/run.py",
        *session.posargs,
        external=True,
        env={"GRIDFIELD_BENCH_COMMAND": command},
    )
