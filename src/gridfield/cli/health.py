"""``check`` and ``sweep``: the file store's bucket check, from the command line.

Both look for chunks whose files document is missing (older than a grace period, so an
upload in flight is left alone); ``check`` also reads every file's chunks for damage.
Nothing changes unless ``sweep --delete`` is given.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import click

from .app import command, open_store
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


def _print_orphans(report: Any) -> None:
    for orphan in report.orphan_chunks:
        when = orphan.newest.isoformat(sep=" ", timespec="seconds") if orphan.newest else "?"
        click.echo(
            f"  orphan: {orphan.chunks} chunks of files_id {show_id(orphan.files_id)}"
            f" (newest {when})"
        )


@command("check")
@_GRACE
def check(ctx: click.Context, grace: timedelta, **_: Any) -> None:
    """Check the bucket (fsck), changing nothing.

    Reports chunks whose files document is missing (older than --grace) and files whose
    chunks are missing, short, extra or duplicated. Exit status 1 when anything is found.
    """
    with open_store(ctx) as (store, _ignored):
        report = store.check(grace=grace)
    click.echo(report.summary())
    _print_orphans(report)
    if not report.clean:
        raise click.ClickException(
            f"bucket {report.bucket} has {len(report.orphan_chunks)} orphan chunk groups"
            f" and {len(report.damaged_files)} damaged files"
        )


@command("sweep")
@click.option("--delete", is_flag=True, help="Remove what is found (without it: a dry run).")
@_GRACE
def sweep(ctx: click.Context, delete: bool, grace: timedelta, **_: Any) -> None:
    """Find chunks whose files document is missing, older than --grace; remove them with
    --delete. Without --delete nothing changes: it says what would go.

    Damaged files are reported by check and never removed here.
    """
    with open_store(ctx) as (store, settings):
        report = store.sweep(delete=delete, grace=grace)
    click.echo(report.summary())
    _print_orphans(report)
    if report.orphan_chunks and not delete and not settings.quiet:
        click.echo("dry run: nothing removed (add --delete to remove these chunks)", err=True)
