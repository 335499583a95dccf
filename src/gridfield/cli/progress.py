"""One progress bar on stderr for a command's transfers: size, speed, time left.

Shown only when stderr is a terminal, ``--quiet`` is not given and the transfer is big
enough to be worth watching (or of unknown size); otherwise every call is a no-op.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["SHOW_FROM_BYTES", "NamedSource", "SourceFailed", "TransferBar"]

SHOW_FROM_BYTES = 1024 * 1024
"""Transfers smaller than this finish before a bar would tell anything: no bar."""


class TransferBar:
    """A context manager holding the bar of one command (several files share it)."""

    def __init__(self, verb: str, total: int | None, *, quiet: bool) -> None:
        console = Console(stderr=True)
        wanted = not quiet and console.is_terminal
        big = total is None or total >= SHOW_FROM_BYTES
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._verb = verb
        self._completed = 0
        if wanted and big:
            self._progress = Progress(
                TextColumn("{task.description}", style="bold"),
                BarColumn(),
                TaskProgressColumn(),
                DownloadColumn(binary_units=True),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                # Four redraws a second look live and cost a third of Rich's default ten.
                refresh_per_second=4,
            )
            self._task = self._progress.add_task(verb, total=total)

    @property
    def shown(self) -> bool:
        """Whether a bar is on screen."""
        return self._progress is not None

    def name(self, filename: str) -> None:
        """Say which file is moving now."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=f"{self._verb} {filename}")

    def for_file(self) -> Callable[[int, int | None], None] | None:
        """The ``on_progress`` callback for the store's next transfer of one file, moving
        the bar on from where the files before it left it; None when no bar is shown, so
        a hidden bar costs the transfer nothing."""
        progress, task = self._progress, self._task
        if progress is None or task is None:
            return None
        base = self._completed

        def moved(done: int, total: int | None) -> None:
            self._completed = base + done
            progress.update(task, completed=self._completed)

        return moved

    def say(self, message: str) -> None:
        """Print a status line on stderr, above the bar when there is one."""
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    def __enter__(self) -> TransferBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


class SourceFailed(Exception):
    """Reading the local source of an upload failed; the message names it and why."""


class NamedSource:
    """A binary reader whose read errors name the source (stdin, a path) in one line."""

    def __init__(self, source: Any, name: str) -> None:
        self._source = source
        self._name = name

    def read(self, size: int = -1) -> bytes:
        """Read from the source."""
        try:
            block: bytes = self._source.read(size)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise SourceFailed(f"reading {self._name} failed: {why}") from exc
        return block
