"""``gridfield copy SRC DST``: a verified, resumable copy between buckets, folders and fsspec
URLs, on :func:`gridfield.sync.copy_files`."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import click

from ..core.copy_plan import COPY_WORKERS, Action, CopyOptions, Outcome
from ..core.encryption import Encryption
from ..sync import BucketSide, copy_files
from .app import CONNECTION_SCHEMES, command, settings_of
from .bucket import DEFAULT_PREFIX, Bucket
from .keys import read_key_file
from .progress import TransferBar

__all__ = ["BUCKET_HERE"]

BUCKET_HERE = "gridfs:"
"""SRC or DST naming the bucket of the command's own --uri, --db and --prefix."""


@dataclasses.dataclass(frozen=True)
class _Where:
    """One side as typed: a bucket (connection string, or the command's own), else a path
    or fsspec URL; a bucket's keys (None: its store has none)."""

    text: str
    bucket: Bucket | None
    names: str
    keys: Encryption | None = None


def _where(text: str, own: Bucket, bucket_name: str | None, names: str) -> _Where:
    if text.startswith(BUCKET_HERE) and "://" not in text:
        prefix = text[len(BUCKET_HERE) :]  # gridfs:photos/ names a name prefix
        bucket = Bucket(own.uri, own.db, bucket_name or own.prefix)
        return _Where(text, bucket, names or prefix)
    if text.startswith(CONNECTION_SCHEMES):
        return _Where(text, Bucket(text, None, bucket_name or DEFAULT_PREFIX), names)
    if bucket_name is not None:
        raise click.UsageError(f"a bucket name was given for {text!r}, which is not a bucket")
    return _Where(text, None, names)


@contextlib.contextmanager
def _opened(where: _Where) -> Iterator[Any]:
    if where.bucket is None:
        yield where.text
        return
    client, store = where.bucket.open(where.keys)
    try:
        yield BucketSide(store, where.names)
    finally:
        client.close()


def _line(outcome: Outcome, dry_run: bool) -> str | None:
    """What to print for one file: every planned step in a dry run, else only trouble."""
    name = outcome.source.name
    target = outcome.destination
    if outcome.error is not None:
        return f"failed: {name} -> {target}: {outcome.error}"
    if outcome.action is Action.CONFLICT:
        return f"left: {target} holds other bytes (--overwrite replaces it)"
    if dry_run:
        verb = {
            Action.COPY: "would copy",
            Action.SKIP: "identical",
            Action.OVERWRITE: "would replace",
        }[outcome.action]
        then = " and delete the source" if outcome.deleted_source else ""
        return f"{verb}: {name} -> {target}{then}"
    return None


@command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.option(
    "--all-revisions", is_flag=True, help="Every revision of each name (default: the newest)."
)
@click.option("--overwrite", is_flag=True, help="Replace destination files that hold other bytes.")
@click.option(
    "--delete-source", is_flag=True, help="Delete each source file once its copy is verified."
)
@click.option("--dry-run", "-n", is_flag=True, help="Say what would be done; change nothing.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=COPY_WORKERS,
    show_default=True,
    help="Files copied at once.",
)
@click.option("--from-bucket", metavar="NAME", help="Bucket of a mongodb:// SRC (default: fs).")
@click.option("--to-bucket", metavar="NAME", help="Bucket of a mongodb:// DST (default: fs).")
@click.option(
    "--from-names", metavar="PREFIX", default="", help="Copy only names with this prefix."
)
@click.option("--to-names", metavar="PREFIX", default="", help="Put this before each name.")
@click.option(
    "--from-keys",
    metavar="FILE",
    help="Key file to read SRC's encrypted files with (KEYID:BASE64 lines).",
)
@click.option(
    "--to-keys",
    metavar="FILE",
    help="Key file to encrypt the files stored in DST with (the last key wraps).",
)
def copy(
    ctx: click.Context,
    source: str,
    destination: str,
    all_revisions: bool,
    overwrite: bool,
    delete_source: bool,
    dry_run: bool,
    jobs: int,
    from_bucket: str | None,
    to_bucket: str | None,
    from_names: str,
    to_names: str,
    from_keys: str | None,
    to_keys: str | None,
    **_: Any,
) -> None:
    """Copy files from SRC to DST, verifying each against its SHA-256.

    \b
    SRC and DST are each
      mongodb://HOST/DB   a GridFS bucket (--from-bucket/--to-bucket, default fs)
      gridfs:             the bucket of --uri, --db and --prefix
      a local folder, or an fsspec URL (s3://bucket/folder...; pip install "gridfield[fsspec]")

    Names keep their folders; content type, metadata and the upload date go along (into
    a folder as its modification time), a folder keeping them in .gridfield/. A name
    already at DST with the same bytes is skipped; with other bytes it is left and
    reported unless --overwrite. Run the same command again after a failure or an
    interruption: it copies only what is missing. --from-keys reads encrypted files of a
    bucket SRC in clear; --to-keys encrypts what is stored in a bucket DST.
    Exit status 1 when any file failed or was left.
    """
    settings = settings_of(ctx)
    options = CopyOptions(
        all_revisions=all_revisions,
        overwrite=overwrite,
        delete_source=delete_source,
        dry_run=dry_run,
        workers=jobs,
    )
    src = _where(source, settings.bucket, from_bucket, from_names)
    dst = _where(destination, settings.bucket, to_bucket, "")
    if dst.bucket is None and to_names:
        raise click.UsageError("--to-names applies to a bucket destination")
    dst = dataclasses.replace(dst, names=to_names or dst.names)
    if src.bucket is None and from_names:
        raise click.UsageError("--from-names applies to a bucket source")
    if src.bucket is None and from_keys is not None:
        raise click.UsageError("--from-keys applies to a bucket source")
    if dst.bucket is None and to_keys is not None:
        raise click.UsageError("--to-keys applies to a bucket destination")
    src = dataclasses.replace(src, keys=read_key_file(from_keys))
    dst = dataclasses.replace(dst, keys=read_key_file(to_keys))
    bar = TransferBar("copy", None, quiet=settings.quiet or dry_run)
    with _opened(src) as src_side, _opened(dst) as dst_side, bar:
        moved = bar.for_file()
        done = 0
        lock = threading.Lock()  # the copy's workers are threads

        def on_bytes(count: int) -> None:
            nonlocal done
            with lock:
                done += count
                if moved is not None:
                    moved(done, None)

        def on_outcome(outcome: Outcome) -> None:
            line = _line(outcome, dry_run)
            if line is not None:
                with lock:
                    bar.say(line)

        report = copy_files(src_side, dst_side, options, on_outcome=on_outcome, on_bytes=on_bytes)
    if not settings.quiet or not report.ok:
        click.echo(report.summary(), err=True)
    if not report.ok:
        ctx.exit(1)
