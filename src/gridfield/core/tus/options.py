"""What a tus endpoint allows, as one frozen value checked once: size, types, expiry, lease,
parts per final upload."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import timedelta

from ..guards import UploadLimits
from .headers import CHECKSUM_ALGORITHMS, TUS_VERSION

__all__ = ["EXTENSIONS", "MAX_PARTS", "TusOptions", "tus_options"]

EXTENSIONS = (
    "creation",
    "creation-with-upload",
    "creation-defer-length",
    "termination",
    "checksum",
    "expiration",
    "concatenation",
)
"""The tus extensions offered, in ``Tus-Extension`` order."""

MAX_PARTS = 100
"""The most partial uploads one final upload may join, by default: far more than a client
uploading in parallel uses, few enough that a final upload's work stays small."""


@dataclasses.dataclass(frozen=True)
class TusOptions:
    """The limits of one tus endpoint.

    ``max_size``: the largest upload (``Tus-Max-Size``; a larger declared length is a 413 at
    creation, bytes past it are refused). ``content_types``: the types an upload may declare
    (``"video/*"`` allowed; a refused or unknown type is a 415 at creation). ``expire_after``:
    how long an unfinished upload lives after its last PATCH (``Upload-Expires``); None: no
    expiry. ``lease``: how long one request holds an upload against another writer without
    showing progress (a crashed server's hold ends after it). ``max_parts``: the most
    partial uploads one final upload may name (``Upload-Concat: final;...``, 400 beyond).
    """

    max_size: int | None = None
    content_types: tuple[str, ...] | None = None
    expire_after: timedelta | None = timedelta(days=1)
    lease: timedelta = timedelta(seconds=30)
    max_parts: int = MAX_PARTS

    def __post_init__(self) -> None:
        if isinstance(self.content_types, str):
            raise TypeError("content_types must be a list of str (a single str given)")
        kinds = tuple(self.content_types) if self.content_types is not None else None
        limits = UploadLimits(self.max_size, kinds, "tus upload")  # checks both
        object.__setattr__(self, "content_types", limits.content_types)
        if isinstance(self.max_parts, bool) or not isinstance(self.max_parts, int):
            raise TypeError(f"max_parts must be an int, not {type(self.max_parts).__name__}")
        if self.max_parts < 1:
            raise ValueError(f"max_parts must be at least 1, got {self.max_parts}")
        for name in ("expire_after", "lease"):
            value = getattr(self, name)
            if value is None and name == "expire_after":
                continue
            if not isinstance(value, timedelta):
                raise TypeError(f"{name} must be a timedelta, not {type(value).__name__}")
            if value <= timedelta(0):
                raise ValueError(f"{name} must be positive, got {value}")

    @property
    def limits(self) -> UploadLimits:
        """The same limits as the store's upload guards take them."""
        return UploadLimits(self.max_size, self.content_types, "tus upload")

    def discovery_headers(self) -> list[tuple[str, str]]:
        """The headers of an ``OPTIONS`` answer: version, extensions, size, algorithms."""
        extensions = [e for e in EXTENSIONS if e != "expiration" or self.expire_after]
        headers = [
            ("Tus-Resumable", TUS_VERSION),
            ("Tus-Version", TUS_VERSION),
            ("Tus-Extension", ",".join(extensions)),
            ("Tus-Checksum-Algorithm", ",".join(CHECKSUM_ALGORITHMS)),
        ]
        if self.max_size is not None:
            headers.append(("Tus-Max-Size", str(self.max_size)))
        return headers


def tus_options(
    options: TusOptions | None,
    *,
    max_size: int | None = None,
    content_types: Iterable[str] | None = None,
) -> TusOptions:
    """The options of a tus app: ``options`` (default ``TusOptions()``) with the keyword
    shorthands an app gives most often, ``max_size`` and ``content_types``, put in."""
    base = options if options is not None else TusOptions()
    if not isinstance(base, TusOptions):
        raise TypeError(f"options must be a TusOptions, not {type(base).__name__}")
    changes: dict[str, object] = {}
    if max_size is not None:
        changes["max_size"] = max_size
    if content_types is not None:
        if isinstance(content_types, str):
            raise TypeError("content_types must be a list of str (a single str given)")
        changes["content_types"] = tuple(content_types)
    return dataclasses.replace(base, **changes) if changes else base  # type: ignore[arg-type]
