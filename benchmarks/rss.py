"""Peak resident set size of this process over a block: what the memory measures sample.

Shared by the bench's memory measure and the test suite's memory bound, so both read RSS the
same way. Standard library and psutil only (psutil is in the ``dev`` extra): the tests import
it as ``benchmarks.rss`` without the bench's own packages.
"""

from __future__ import annotations

import gc
import threading

import psutil


class PeakRSS:
    """Samples this process's RSS in a background thread; ``growth`` is peak minus start.

    ``with PeakRSS() as peak: ...`` then ``peak.growth`` (bytes). The start is taken after a
    garbage collection, so garbage left by earlier work does not hide growth.
    """

    def __init__(self, interval: float = 0.002) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.baseline = 0
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.baseline = self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth(self) -> int:
        """Bytes the RSS rose above its value at the start, at its highest."""
        return self.peak - self.baseline
