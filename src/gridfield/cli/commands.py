"""The file commands of ``gridfield``: mongofiles' list, search, put, get, delete and more."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import click

from ..core.expiry import parse_duration
from ..core.files_document import FileInfo
from ..sync import FileStore
from . import copying, health, transfer, urls  # noqa: F401 -- importing registers their commands
from .app import Settings, cli, command, open_store, say
from .ids import id_candidates, parse_id, show_id
from .listing import LIST_ORDER, json_row, long_row, prefix_pattern, short_row
from .progress import TransferBar

__all__ = ["run"]


_LONG = click.option(
    "--long", "-L", "long_", is_flag=True, help="Also id, upload date, content type, SHA-256."
)
_JSON = click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per line (relaxed Extended JSON)."
)
_REGEX_OPTIONS = click.option(
    "--regex-options",
    "--regexOptions",
    "regex_options",
    default="",
    metavar="FLAGS",
    help="Options of the regular expression (i, m, x, s).",
)
_LOCAL = click.option(
    "--local", "-l", metavar="PATH", help="Local file to read or write; - is stdin or stdout."
)
_OVERWRITE = click.option(
    "--overwrite-local",
    "--overwriteLocal",
    "overwrite",
    is_flag=True,
    help="Replace a local file that exists already.",
)
_SHA256 = click.option(
    "--sha256",
    metavar="HEX",
    help="Fail unless the file's SHA-256 is this (the local file is then not written).",
)
_TYPE = click.option("--type", "-t", "content_type", metavar="TYPE", help="Content type to store.")
_REPLACE = click.option(
    "--replace",
    "-r",
    is_flag=True,
    help="Once the new file is stored, delete the older files of the same name.",
)
_REVISION = click.option(
    "--revision",
    type=int,
    default=-1,
    show_default=True,
    help="Which revision: 0 the original, 1 the next, -1 the newest, -2 the one before.",
)


def _print_files(files: Iterable[FileInfo], long_: bool, as_json: bool) -> int:
    count = 0
    row = json_row if as_json else long_row if long_ else short_row
    for info in files:
        click.echo(row(info))
        count += 1
    return count


# -- listing -------------------------------------------------------------------------------------


@command("list")
@click.argument("name_prefix", metavar="[PREFIX]", required=False, default="")
@_LONG
@_JSON
def list_(ctx: click.Context, name_prefix: str, long_: bool, as_json: bool, **_: Any) -> None:
    """List the files whose names start with PREFIX (all of them without one).

    By name, each name's revisions oldest first. mongofiles' two columns (name, length)
    unless --long or --json.
    """
    query = {"filename": {"$regex": prefix_pattern(name_prefix)}} if name_prefix else {}
    with open_store(ctx) as (store, _ignored):
        _print_files(store.find(query, sort=LIST_ORDER), long_, as_json)


@command("search")
@click.argument("regex")
@_REGEX_OPTIONS
@_LONG
@_JSON
def search(
    ctx: click.Context, regex: str, regex_options: str, long_: bool, as_json: bool, **_: Any
) -> None:
    """List the files whose names match the regular expression REGEX.

    Exits with status 1 when none match.
    """
    query = {"filename": {"$regex": regex, "$options": regex_options}}
    with open_store(ctx) as (store, _ignored):
        if not _print_files(store.find(query, sort=LIST_ORDER), long_, as_json):
            raise click.ClickException(f"no file name matches {regex!r}")


# -- putting -------------------------------------------------------------------------------------


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_EXPIRE_AFTER = click.option(
    "--expire-after",
    "expire_after",
    metavar="DURATION",
    callback=_duration,
    help="The file expires this long after it is stored (30s, 90m, 1h, 2d12h, 1w).",
)


def _put(
    ctx: click.Context,
    plan: list[transfer.Upload],
    *,
    content_type: str | None,
    replace: bool,
    file_id: Any = None,
    expire_after: timedelta | None = None,
) -> None:
    sizes = [item.size for item in plan]
    total = None if None in sizes else sum(size or 0 for size in sizes)
    with (
        open_store(ctx) as (store, settings),
        TransferBar("put", total, quiet=settings.quiet) as bar,
    ):
        for item in plan:
            info, removed = transfer.upload(
                store,
                item,
                bar,
                content_type=content_type,
                file_id=file_id,
                replace=replace,
                expire_after=expire_after,
            )
            older = f", {removed} older removed" if removed else ""
            size = f"{info.length} bytes, id {show_id(info.file_id)}{older}"
            if not settings.quiet:
                bar.say(f"added {info.filename} ({size})")


@command("put")
@click.argument("names", nargs=-1, required=True)
@_LOCAL
@_TYPE
@_REPLACE
@_EXPIRE_AFTER
@click.option(
    "--recursive", is_flag=True, help="Put the files under each folder named, as folder/path."
)
def put(
    ctx: click.Context,
    names: tuple[str, ...],
    local: str | None,
    content_type: str | None,
    replace: bool,
    expire_after: timedelta | None,
    recursive: bool,
    **_: Any,
) -> None:
    """Store local files under their names (several files, or folders with --recursive).

    \b
    With --local, store that file (or stdin, with -) under the one NAME:
        tar c photos | gridfield put photos.tar -l -
    One progress bar covers all the files.
    """
    plan = transfer.plan_uploads(names, local, recursive)
    _put(ctx, plan, content_type=content_type, replace=replace, expire_after=expire_after)


@command("put_id")
@click.argument("name")
@click.argument("file_id", metavar="ID")
@_LOCAL
@_TYPE
@_REPLACE
@_EXPIRE_AFTER
def put_id(
    ctx: click.Context,
    name: str,
    file_id: str,
    local: str | None,
    content_type: str | None,
    replace: bool,
    expire_after: timedelta | None,
    **_: Any,
) -> None:
    """Store a local file under NAME with the _id ID.

    ID is a string, or Extended JSON when it starts with { (e.g. '{"$oid": "..."}').
    """
    plan = transfer.plan_uploads([name], local, recursive=False)
    _put(
        ctx,
        plan,
        content_type=content_type,
        replace=replace,
        file_id=parse_id(file_id),
        expire_after=expire_after,
    )


# -- getting -------------------------------------------------------------------------------------


def _get(
    store: FileStore,
    settings: Settings,
    items: list[transfer.Download],
    *,
    overwrite: bool,
    sha256: str | None,
) -> None:
    transfer.check_destinations(items, overwrite)
    total = sum(item.info.length for item in items)
    with TransferBar("get", total, quiet=settings.quiet) as bar:
        for item in items:
            transfer.download(store, item, bar, overwrite=overwrite, sha256=sha256)
            if item.local != transfer.STDIO and not settings.quiet:
                bar.say(f"wrote {item.local} ({item.info.length} bytes)")


def _resolve_id(store: FileStore, text: str) -> FileInfo:
    candidates = id_candidates(text)
    found = list(store.find({"_id": {"$in": candidates}}))
    if not found:
        raise click.ClickException(f"no file with id {text!r}")
    if len(found) > 1:
        raise click.ClickException(
            f'id {text!r} names both a string id and an ObjectId: give \'{{"$oid": "{text}"}}\''
            " or the string as JSON"
        )
    return found[0]


@command("get")
@click.argument("names", nargs=-1, required=True)
@_LOCAL
@_OVERWRITE
@_REVISION
@_SHA256
def get(
    ctx: click.Context,
    names: tuple[str, ...],
    local: str | None,
    overwrite: bool,
    revision: int,
    sha256: str | None,
    **_: Any,
) -> None:
    """Fetch the newest revision of each NAME into a local file of that name.

    \b
    Written to a temporary file and renamed into place: a failure leaves nothing behind,
    and an existing file is kept unless --overwrite-local is given. --local (- for
    stdout) picks where the one NAME goes.
    """
    if local is not None and len(names) > 1:
        raise click.UsageError("--local takes one NAME; got several")
    if sha256 is not None and len(names) > 1:
        raise click.UsageError("--sha256 checks one NAME; got several")
    with open_store(ctx) as (store, settings):
        infos = [store.get_info_by_name(name, revision) for name in names]
        items = [
            transfer.Download(info, local or name) for info, name in zip(infos, names, strict=True)
        ]
        _get(store, settings, items, overwrite=overwrite, sha256=sha256)


@command("get_id")
@click.argument("file_id", metavar="ID")
@_LOCAL
@_OVERWRITE
@_SHA256
def get_id(
    ctx: click.Context,
    file_id: str,
    local: str | None,
    overwrite: bool,
    sha256: str | None,
    **_: Any,
) -> None:
    """Fetch the file with the _id ID (into its stored name unless --local says).

    ID is a string, a 24-digit hex ObjectId as listings show it, or Extended JSON.
    """
    with open_store(ctx) as (store, settings):
        info = _resolve_id(store, file_id)
        target = local or info.filename
        if not target:
            raise click.UsageError(f"file {file_id!r} has no name: give --local")
        if local is None and not _inside_here(target):  # a stored name, not one typed here
            raise click.ClickException(
                f"{target!r} lies outside the current folder (give --local to write it)"
            )
        _get(store, settings, [transfer.Download(info, target)], overwrite=overwrite, sha256=sha256)


def _inside_here(name: str) -> bool:
    path = os.path.abspath(name)
    here = os.path.abspath(os.curdir)
    return os.path.commonpath([path, here]) == here and path != here


@command("get_regex")
@click.argument("regex")
@_REGEX_OPTIONS
@_OVERWRITE
@click.option(
    "--allow-unsafe-traversal",
    "--allowUnsafeTraversal",
    "unsafe",
    is_flag=True,
    help="Write files whose names lead outside the current folder.",
)
def get_regex(
    ctx: click.Context, regex: str, regex_options: str, overwrite: bool, unsafe: bool, **_: Any
) -> None:
    """Fetch the newest revision of every file whose name matches REGEX."""
    query = {"filename": {"$regex": regex, "$options": regex_options}}
    with open_store(ctx) as (store, settings):
        newest: dict[str, FileInfo] = {}
        for info in store.find(query, sort=LIST_ORDER):
            if info.filename:
                newest[info.filename] = info  # later revisions come later
        if not newest:
            raise click.ClickException(f"no file name matches {regex!r}")
        outside = sorted(name for name in newest if not _inside_here(name))
        if outside and not unsafe:
            raise click.ClickException(
                f"{outside[0]!r} lies outside the current folder"
                " (add --allow-unsafe-traversal to write it there)"
            )
        items = [transfer.Download(info, name) for name, info in newest.items()]
        _get(store, settings, items, overwrite=overwrite, sha256=None)


@command("cat")
@click.argument("name")
@_REVISION
def cat(ctx: click.Context, name: str, revision: int, **_: Any) -> None:
    """Write the newest revision of NAME to stdout."""
    with open_store(ctx) as (store, settings):
        info = store.get_info_by_name(name, revision)
        _get(
            store, settings, [transfer.Download(info, transfer.STDIO)], overwrite=False, sha256=None
        )


# -- deleting ------------------------------------------------------------------------------------


@command("delete")
@click.argument("name")
def delete(ctx: click.Context, name: str, **_: Any) -> None:
    """Delete every revision of NAME: the files documents first, then their chunks."""
    with open_store(ctx) as (store, settings):
        count = store.delete_by_name(name)
    say(settings, f"deleted {count} file{'s' if count != 1 else ''} named {name}")


@command("delete_id")
@click.argument("file_id", metavar="ID")
def delete_id(ctx: click.Context, file_id: str, **_: Any) -> None:
    """Delete the file with the _id ID (as get_id reads it)."""
    with open_store(ctx) as (store, settings):
        info = _resolve_id(store, file_id)
        store.delete(info.file_id)
    say(settings, f"deleted file {show_id(info.file_id)} ({info.filename})")


def run() -> None:
    """Parse the command line and run the command."""
    cli(prog_name="gridfield")
