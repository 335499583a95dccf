"""``gridfield url``: print a signed, expiring URL of a stored file, for the serving app at a
base URL to answer (the app checks it with the same key)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import click

from ..core.errors import NoFile
from ..core.expiry import parse_duration
from ..core.http.signing import FileRef, SigningKey, UrlSigning
from .app import command, open_store
from .ids import id_candidates

__all__ = ["BASE_URL_VARIABLE", "KEY_VARIABLE", "signing_from_environment"]

KEY_VARIABLE = "GRIDFIELD_SIGNING_KEY"
"""The environment variable holding the signing key, as ``KEYID:SECRET``."""

BASE_URL_VARIABLE = "GRIDFIELD_BASE_URL"
"""The environment variable holding the base URL when ``--base-url`` is not given."""


def signing_from_environment() -> UrlSigning:
    """The key of ``$GRIDFIELD_SIGNING_KEY`` (``KEYID:SECRET``); a ClickException saying
    what to set when it is absent or unusable. Never a command-line argument: those show in
    process listings."""
    value = os.environ.get(KEY_VARIABLE, "")
    key_id, sep, secret = value.partition(":")
    if not sep or not key_id or not secret:
        raise click.ClickException(
            f"set ${KEY_VARIABLE} to KEYID:SECRET, the key the serving app verifies with"
        )
    try:
        return UrlSigning([SigningKey(key_id, secret.encode("utf-8"))])
    except ValueError as exc:
        raise click.ClickException(f"${KEY_VARIABLE}: {exc}") from None


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        found = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if found <= timedelta(0):
        raise click.BadParameter("the URL must live more than zero seconds")
    return found


@command("url", short_help="Print a signed URL of a file that expires.")
@click.argument("name")
@click.option(
    "--expires",
    "expires_in",
    default="1h",
    show_default=True,
    callback=_duration,
    metavar="DURATION",
    help="How long the URL works: 30s, 90m, 1h, 2d12h, 1w (sooner if the file expires sooner).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help=f"Where the serving app is mounted (default: ${BASE_URL_VARIABLE}).",
)
@click.option("--by-id", is_flag=True, help="NAME is a file id; the app serves files by id.")
@click.option(
    "--revision",
    type=int,
    default=None,
    help="Name this revision (0 the original, -1 the newest) rather than whichever is newest.",
)
@click.option("--download", is_flag=True, help="Have the browser save the file (attachment).")
@click.option("--head-only", is_flag=True, help="Allow HEAD only, not GET.")
def url(
    ctx: click.Context,
    name: str,
    expires_in: timedelta,
    base_url: str | None,
    by_id: bool,
    revision: int | None,
    download: bool,
    head_only: bool,
    **_: Any,
) -> None:
    """Print a signed URL of the file NAME (the newest revision), served by an app at
    --base-url that verifies with the key in $GRIDFIELD_SIGNING_KEY (KEYID:SECRET).

    The file must exist; a file that expires before the URL would ends the URL with it."""
    base = base_url or os.environ.get(BASE_URL_VARIABLE)
    if not base:
        raise click.UsageError(f"give --base-url or set ${BASE_URL_VARIABLE}")
    if by_id and revision is not None:
        raise click.UsageError("--revision names a revision of a name, not of an id")
    signing = signing_from_environment()
    with open_store(ctx) as (store, _settings):
        if by_id:
            info = None
            for candidate in id_candidates(name):
                try:
                    info = store.get_info(candidate)
                    break
                except NoFile:
                    continue
            if info is None:
                raise click.ClickException(f"no file has the id {name!r}")
            ref = FileRef(file_id=info.file_id)
            segment = str(info.file_id)
        else:
            try:
                info = store.get_info_by_name(name, -1 if revision is None else revision)
            except NoFile:
                raise click.ClickException(f"no file named {name!r}") from None
            ref = FileRef(filename=name, revision=revision)
            segment = name
    target = base.rstrip("/") + "/" + quote(segment, safe="/")
    methods = ("HEAD",) if head_only else ("GET", "HEAD")
    click.echo(
        signing.sign_for(
            target,
            ref,
            expires_in,
            download=download,
            methods=methods,
            file_expires=info.expire_at,
        )
    )
