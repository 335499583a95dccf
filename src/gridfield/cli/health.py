"""``check`` and ``sweep``: the file store's bucket check, from the command line.

Both look for chunks whose files document is missing (older than a grace period, so an
upload in flight is left alone); ``check`` also reads every file's chunks for damage.
Nothing changes unless ``sweep --delete`` is given.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import click

from ..sync import connect
from .app import Settings, command, open_store
from .ids import show_id

__all__ = ["parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


def parse_duration(text: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``1h`` or ``2d`` as a timedelta; ValueError otherwise."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a duration: give a number and s, m, h or d (1h)")
    return timedelta(seconds=float(found[1]) * _UNITS[found[2] or "s"])


def _grace(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


_GRACE = click.option(
    "--grace",
    default="1h",
    metavar="DURATION",
    callback=_grace,
    show_default=True,
    help="Leave chunks younger than this alone (an upload may still be writing them).",
)


_DOCUMENTS = click.option(
    "--documents",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE (e.g. myapp.models; repeatable) and also find the files that none of"
    " the registered Document classes holds. They are scanned through the default connection"
    " alias, on this command's database.",
)


def _documents(modules: Sequence[str], settings: Settings) -> str | None:
    """Import the modules that define the Document classes and connect their default alias
    to this bucket's database; ``"registered"`` for the check, or None without modules."""
    if not modules:
        return None
    if os.curdir not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.curdir)  # as python -m does: modules of the current folder
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise click.ClickException(f"cannot import {name!r}: {exc}") from exc
    connect(settings.bucket.database_name(), host=settings.bucket.uri)
    return "registered"


def _print_details(report: Any) -> None:
    for orphan in report.orphan_chunks:
        when = orphan.newest.isoformat(sep=" ", timespec="seconds") if orphan.newest else "?"
        click.echo(
            f"  orphan: {orphan.chunks} chunks of files_id {show_id(orphan.files_id)}"
            f" (newest {when})"
        )
    for file in report.unreferenced_files:
        click.echo(f"  unreferenced: file {show_id(file.file_id)} ({file.filename})")


@command("check")
@_GRACE
@_DOCUMENTS
def check(ctx: click.Context, grace: timedelta, modules: tuple[str, ...], **_: Any) -> None:
    """Check the bucket (fsck), changing nothing.

    Reports chunks whose files document is missing (older than --grace) and files whose
    chunks are missing, short, extra or duplicated; with --documents, files no document
    holds (older than --grace). Exit status 1 when anything is found.
    """
    with open_store(ctx) as (store, settings):
        report = store.check(_documents(modules, settings), grace=grace)
    click.echo(report.summary())
    _print_details(report)
    if not report.clean:
        unreferenced = (
            f", {len(report.unreferenced_files)} unreferenced files"
            if report.unreferenced_files
            else ""
        )
        raise click.ClickException(
            f"bucket {report.bucket} has {len(report.orphan_chunks)} orphan chunk groups"
            f" and {len(report.damaged_files)} damaged files{unreferenced}"
        )


@command("sweep")
@click.option("--delete", is_flag=True, help="Remove what is found (without it: a dry run).")
@_GRACE
@_DOCUMENTS
def sweep(
    ctx: click.Context, delete: bool, grace: timedelta, modules: tuple[str, ...], **_: Any
) -> None:
    """Find chunks whose files document is missing, older than --grace (and, with
    --documents, files no document holds); remove them with --delete, each file's files
    document first, then its chunks. Without --delete nothing changes: it says what would go.

    With --delete, --grace must be at least a minute, the files found unreferenced are held
    and their references read again before they go (a save holding one keeps it), and the
    chunks of uploads still open (registered in the bucket's .uploads) stay. Damaged files
    are reported by check and never removed here.
    """
    with open_store(ctx) as (store, settings):
        if delete:
            try:
                store.sweep_timing.check_sweep_grace(grace)
            except ValueError as exc:  # before anything is read
                raise click.BadParameter(str(exc), ctx, param_hint="--grace") from exc
        report = store.sweep(_documents(modules, settings), delete=delete, grace=grace)
    click.echo(report.summary())
    _print_details(report)
    found = report.orphan_chunks or report.unreferenced_files
    if found and not delete and not settings.quiet:
        click.echo("dry run: nothing removed (add --delete to remove these)", err=True)
