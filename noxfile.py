"""Sessions: tests, lint, typecheck, demo, bench. Run them through ./dev, which prepares .venv."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "none"

SOURCES = ["src", "tests", "scripts", "benchmarks", "examples", "noxfile.py"]


def start_server(session: nox.Session) -> str:
    """Make sure a MongoDB-compatible server answers and return its URI."""
    out = session.run("python", "scripts/mongo-server", silent=True)
    uri = str(out).strip().splitlines()[-1]
    session.log(f"server: {uri}")
    return uri


@nox.session
def tests(session: nox.Session) -> None:
    """The twin check, then every test: core, both twins, interop, tooling."""
    session.run("python", "scripts/unasync.py", "--check")
    start_server(session)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.run("python", "-m", "ruff", "check", *SOURCES)
    session.run("python", "-m", "ruff", "format", "--check", *SOURCES)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.run("python", "-m", "mypy", "src")


@nox.session
def demo(session: nox.Session) -> None:
    """The seed's marmot example, async then sync, against the default server."""
    start_server(session)
    session.run("python", "examples/marmot.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: see benchmarks/README.md."""
    start_server(session)
    session.run("python", "benchmarks/run.py", *session.posargs)
