"""The concatenation extension, sans I/O: which uploads a final one joins, whether their
chunks can become the final file's as they are (renumbered) or must be copied, and the
moves that renumber them.

A partial upload's bytes are chunks ``0..k-1`` of its own (future) file. When every partial
but the last is a whole number of chunks long (and all share the final file's chunk size),
the final file's chunks are exactly the partials' chunks one after the other: each partial's
chunks get the final ``files_id`` and their ``n`` moved up by the chunks before them. Each
move is keyed on the chunk's old ``files_id``, so running it again after a crash moves only
what had not moved yet: the join can always be finished by whoever resumes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .headers import Concat, TusError
from .options import TusOptions
from .state import UploadState

__all__ = ["ChunkMove", "ConcatPlan", "check_part_ids", "part_ids", "plan_concatenation"]


def part_ids(concat: Concat, endpoint_path: str) -> tuple[str, ...]:
    """The upload ids a final ``Upload-Concat`` names (absolute or relative URLs), in order;
    400 for a URL that is not an upload of this endpoint (``endpoint_path``, the path of its
    creation URL)."""
    base = "/" + endpoint_path.strip("/")
    base = base.rstrip("/") + "/"
    ids = []
    for url in concat.parts:
        path = urlsplit(url).path
        head, _, upload_id = path.rstrip("/").rpartition("/")
        if not upload_id or (head + "/") != base:
            raise TusError(
                400, f"Upload-Concat: {url!r} is not an upload of this endpoint ({base}<id>)"
            )
        ids.append(upload_id)
    return tuple(ids)


def check_part_ids(ids: Sequence[str], options: TusOptions) -> None:
    """400 when a final upload names more partial uploads than ``options.max_parts``, or
    names one upload twice: each part is joined once, so the work of a join grows with the
    bytes its owner uploaded, never with how often a header repeats them."""
    if len(ids) > options.max_parts:
        raise TusError(
            400,
            f"Upload-Concat names {len(ids)} partial uploads, over this server's limit of"
            f" {options.max_parts}",
        )
    seen: set[str] = set()
    for upload_id in ids:
        if upload_id in seen:
            raise TusError(400, f"Upload-Concat names partial upload {upload_id} twice")
        seen.add(upload_id)


@dataclass(frozen=True)
class ChunkMove:
    """Chunks ``0..count-1`` of file ``source`` become chunks ``base..base+count-1`` of the
    final file."""

    source: Any
    count: int
    base: int


@dataclass(frozen=True)
class ConcatPlan:
    """How a final upload is made from its partials: its length, its chunk size, and either
    the chunk moves (``in_place``) or, for a copy, the partials to read in order.

    ``keeps_first``: the final file takes the first part's file id and keeps that part's
    whole chunks as they are (its chunk size is the final file's, and no encryption binds
    its chunks to the part): a copy then re-cuts only from the part's last partial chunk
    on."""

    length: int
    chunk_size: int
    in_place: bool
    parts: tuple[UploadState, ...]
    keeps_first: bool = False

    @property
    def first_whole_chunks(self) -> int:
        """How many whole chunks the first part holds (those a final file that keeps the
        first part's file id keeps as they are)."""
        return (self.parts[0].length or 0) // self.chunk_size

    def moves(self) -> tuple[ChunkMove, ...]:
        """The renumbering of an in-place join, one move per partial (empty ones none)."""
        if not self.in_place:
            raise ValueError("a copied concatenation moves no chunk")
        moves, base = [], 0
        for part in self.parts:
            count = -(-(part.length or 0) // part.chunk_size)
            if count:
                moves.append(ChunkMove(part.file_id, count, base))
            base += count
        return tuple(moves)


def plan_concatenation(
    ids: Sequence[str],
    parts: Sequence[UploadState | None],
    options: TusOptions,
    chunk_size: int,
    now: datetime,
    joined: str | None = None,
    *,
    encrypting: bool = False,
) -> ConcatPlan:
    """Check the partial uploads a final upload names (``parts[i]`` the state of ``ids[i]``,
    None when there is none) and plan the join.

    400 for more parts than ``options.max_parts`` or a part named twice (see
    ``check_part_ids``), for an upload that does not exist, is not partial, is not complete (the
    ``concatenation-unfinished`` extension is not offered) or was joined into another final
    upload already (``joined``: the id of the final upload being resumed, whose own parts are
    not refused for that); 410 for an expired one; 413 when the total is over ``max_size``.
    The join is in place when every part has the chunk size ``chunk_size``, and every one
    but the last is a whole number of chunks long; else the parts are copied into chunks of
    ``chunk_size``, from the first part's last partial chunk on when the first part has that
    chunk size (its whole chunks stay: ``keeps_first``).

    ``encrypting``: the final file is encrypted under a data key of its own (the store
    encrypts). An encrypted part's chunks are sealed under its own key, bound to its own file
    and numbers, so a join that holds one (or makes an encrypted file) is always a copy: each
    part opened and its bytes sealed again into the final file. 500 for an encrypted part
    when the store has no keys to open it (nothing changes then).
    """
    if not ids:
        raise TusError(400, "Upload-Concat: a final upload needs at least one partial upload")
    check_part_ids(ids, options)
    checked: list[UploadState] = []
    for upload_id, part in zip(ids, parts, strict=True):
        if part is None:
            raise TusError(400, f"Upload-Concat: there is no upload {upload_id}")
        if part.concat != "partial":
            raise TusError(400, f"Upload-Concat: upload {upload_id} is not a partial upload")
        part.check_alive(now)
        if not part.complete:
            raise TusError(
                400,
                f"Upload-Concat: partial upload {upload_id} is not complete"
                f" ({part.offset} of {part.length if part.length is not None else '?'} bytes)",
            )
        if part.joined_into is not None and part.joined_into != joined:
            raise TusError(
                400,
                f"Upload-Concat: partial upload {upload_id} is already part of final"
                f" upload {part.joined_into}",
            )
        if part.encrypted and not encrypting:
            raise TusError(
                500,
                f"Upload-Concat: partial upload {upload_id} is encrypted and this server's"
                " store has no keys to open it",
            )
        checked.append(part)
    length = sum(p.length or 0 for p in checked)
    if options.max_size is not None and length > options.max_size:
        raise TusError(
            413,
            f"the final upload's {length} bytes are over this server's limit of"
            f" {options.max_size} bytes",
        )
    in_place = (
        not encrypting
        and all(p.chunk_size == chunk_size for p in checked)
        and all((p.length or 0) % chunk_size == 0 for p in checked[:-1])
    )
    keeps_first = not encrypting and checked[0].chunk_size == chunk_size
    return ConcatPlan(length, chunk_size, in_place, tuple(checked), keeps_first)
