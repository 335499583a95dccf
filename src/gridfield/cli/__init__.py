"""The ``gridfield`` command: mongofiles' commands on a GridFS bucket, done safely.

Sync-only code on :mod:`gridfield.sync`'s ``FileStore``; it needs the ``cli`` extra
(Click and Rich): ``pip install 'gridfield[cli]'``.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the ``gridfield`` command line (the console script's entry point)."""
    try:
        from .commands import run
    except ImportError as exc:  # the extra is missing: say how to get it, not a traceback
        missing = exc.name or "a dependency"
        sys.stderr.write(
            f"gridfield: the command line needs {missing}: pip install 'gridfield[cli]'\n"
        )
        sys.exit(1)
    run()
