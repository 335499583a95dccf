"""What a server process holds during a request, sampled from outside: its peak RSS, the
temporary files it made and its CPU time. Shared by the measures that run a server in a
process of their own (django_storage.py, tus_upload.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import psutil


def temp_seen(ps: psutil.Process, folder: Path) -> set[str]:
    """What the server holds in its temporary folder: the entries there, and the files it
    holds open that are deleted or in the folder (an unnamed temporary file shows only so)."""
    seen = {str(folder / entry) for entry in os.listdir(folder)}
    fds = Path(f"/proc/{ps.pid}/fd")
    for fd in os.listdir(fds):
        try:
            target = os.readlink(fds / fd)
        except FileNotFoundError:  # closed since the listing
            continue
        if target.endswith(" (deleted)") or target.startswith(str(folder)):
            seen.add(target)
    return seen


def cpu_seconds(ps: psutil.Process) -> float:
    """User plus system CPU time of the process so far."""
    times = ps.cpu_times()
    return float(times.user + times.system)


class ServerSample:
    """``with ServerSample(ps, folder) as sample: <the request>``: then ``sample.growth``
    (bytes the RSS rose above its value at the start, at its highest), ``sample.seen`` (the
    temporary files that appeared meanwhile, as ``temp_seen`` names them) and
    ``sample.cpu_s``. Sampled every 5 ms in a thread."""

    def __init__(self, ps: psutil.Process, folder: Path) -> None:
        self.ps, self.folder = ps, folder
        self.before = temp_seen(ps, folder)
        self.baseline = self.peak = ps.memory_info().rss
        self.seen: set[str] = set()
        self.cpu_s = 0.0
        self._cpu_start = cpu_seconds(ps)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    def _sample(self) -> None:
        self.peak = max(self.peak, self.ps.memory_info().rss)
        self.seen |= temp_seen(self.ps, self.folder) - self.before

    def _run(self) -> None:
        while not self._done.wait(0.005):
            self._sample()

    def __enter__(self) -> ServerSample:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._sample()
        self.cpu_s = cpu_seconds(self.ps) - self._cpu_start
