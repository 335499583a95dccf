"""How a deleting sweep keeps out of the way of open uploads and of saves: its timing, the
holds that saves and sweeps take on a file, and the entries of the open-upload registry.

Pure: the twins do the I/O. The protocol, in short:

- a hold is a lease (``core.leases``) on the file's id in ``<bucket>.holds``, its document
  ``{"_id": <file id>, "by": "save" | "sweep", "token", "at", "until"}``: whoever inserts
  it first has the file, as ``_id`` is unique on any server;
- a gridfield save that writes a reference to an existing file first holds it (waiting
  while a sweep holds it), checks that the file is there (NoFile otherwise), writes its
  document and lets go;
- a deleting sweep holds each candidate (skipping those a save holds), reads the references
  to them again, deletes the files still unreferenced, and lets go;
- an upload open longer than ``register_after`` enters itself in ``<bucket>.uploads`` and
  keeps its lease fresh while it writes; the sweep leaves the chunks of an unexpired entry
  alone, and ``close()`` of such an upload counts its chunks before its files document goes in.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "DEFAULT_SWEEP_TIMING",
    "SAVE",
    "SWEEP",
    "SweepTiming",
    "expected_chunks",
    "registration",
]

SAVE = "save"
SWEEP = "sweep"


def _duration(name: str, value: object) -> timedelta:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name} must be a timedelta, not {type(value).__name__}")
    if value < timedelta(0):
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


@dataclasses.dataclass(frozen=True)
class SweepTiming:
    """The times a file store's deleting sweeps and its uploads agree on.

    Every process that uploads to a bucket and every process that sweeps it should use the
    same values (the defaults, unless tests or a deployment say otherwise).
    """

    min_grace: timedelta = timedelta(minutes=1)
    """The smallest grace a deleting sweep accepts: younger orphan chunks and files are
    never removed."""
    register_fraction: float = 0.25
    """An upload open longer than this fraction of ``min_grace`` registers itself (a
    shorter one costs no command): a sweep needs more than ``min_grace`` to consider its
    chunks old, and by then the upload is in the registry."""
    lease: timedelta = timedelta(hours=1)
    """How long a registration holds without a refresh; an upload refreshes it while it
    writes. An expired one (a crashed process) no longer protects its chunks."""
    hold: timedelta = timedelta(minutes=1)
    """How old a hold may grow before others take it for one a crashed process left: a save
    writes its document, and a sweep deletes a batch, well within this time (and the
    clocks of the machines that save and sweep agree to well within it)."""
    poll: timedelta = timedelta(seconds=0.05)
    """How often a save waiting for a sweep's hold on its file looks again (and an upload
    waiting for the file of a deduplication claim just taken)."""
    claim_lapse: timedelta = timedelta(seconds=5)
    """How long a deduplication claim whose file is not stored yet is left to the upload
    that took it (its files document follows within moments: ``core.dedup``); past it, the
    claim is one an upload that died left, and another takes it over."""

    def __post_init__(self) -> None:
        _duration("min_grace", self.min_grace)
        _duration("lease", self.lease)
        _duration("hold", self.hold)
        _duration("poll", self.poll)
        _duration("claim_lapse", self.claim_lapse)
        fraction = self.register_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
            raise TypeError(f"register_fraction must be a number, not {type(fraction).__name__}")
        if not 0 <= fraction < 1:
            raise ValueError(f"register_fraction must be at least 0 and below 1, got {fraction}")
        if self.lease <= self.register_after:
            raise ValueError(
                f"lease ({self.lease}) must be longer than the registration interval"
                f" ({self.register_after}): a registration is refreshed that often"
            )

    @property
    def register_after(self) -> timedelta:
        """How long an upload stays open before it registers, and how often it refreshes."""
        return self.min_grace * self.register_fraction

    def check_sweep_grace(self, grace: timedelta) -> timedelta:
        """``grace`` if a deleting sweep may use it; ValueError when below ``min_grace``."""
        if grace < self.min_grace:
            raise ValueError(
                f"a deleting sweep needs a grace of at least {self.min_grace} (got {grace}):"
                f" uploads open less than {self.register_after} are not registered, so a"
                " shorter grace could remove the chunks of an upload still being written"
            )
        return grace


DEFAULT_SWEEP_TIMING = SweepTiming()


def registration(
    entry_id: Any, files_id: Any, started: datetime, now: datetime, lease: timedelta
) -> dict[str, Any]:
    """The registry document of one open upload, refreshed at ``now``."""
    return {
        "_id": entry_id,
        "files_id": files_id,
        "started": started,
        "refreshed": now,
        "expires": now + lease,
    }


def expected_chunks(length: int, chunk_size: int) -> int:
    """How many chunks a whole file of ``length`` bytes has."""
    return math.ceil(length / chunk_size)
