"""The error of an integration imported without its extra: it names the extra to install."""

from __future__ import annotations


def missing_extra(module: str, error: ImportError, extra: str, *also: str) -> ImportError:
    """An ImportError saying which package ``module`` needs and which extra brings it, to
    raise from ``error`` (the failed import of that package), for example
    ``gridfield.web.aiohttp needs aiohttp, which comes with an extra:
    pip install "gridfield[aiohttp]"``.
    """
    package = error.name or "a package it imports"
    command = " or ".join(f'pip install "gridfield[{name}]"' for name in (extra, *also))
    return ImportError(
        f"{module} needs {package}, which comes with an extra: {command}", name=error.name
    )
