"""The ``gridfield`` command group: the bucket options every command takes, how they are
resolved, and how a failure becomes one line."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from click.core import ParameterSource
from pymongo.errors import PyMongoError

from ..core.errors import GridFSError
from ..sync import FileStore
from . import transfer
from .bucket import DEFAULT_PREFIX, DEFAULT_URI, Bucket
from .ids import BadId
from .progress import SourceFailed

__all__ = [
    "CONNECTION_SCHEMES",
    "Settings",
    "cli",
    "command",
    "open_store",
    "say",
    "settings_of",
]

_F = TypeVar("_F", bound=Callable[..., Any])

CONNECTION_SCHEMES = ("mongodb://", "mongodb+srv://")
"""How a connection string starts."""
# Commands whose arguments may themselves be connection strings: none is taken as --uri.
_TAKE_URIS = frozenset({"copy"})
_SHARED = ("uri", "db", "prefix", "quiet", "debug")


class _Group(click.Group):
    """Takes a connection string anywhere among the arguments, as mongofiles does, and
    turns any failure into one line (a traceback only with ``--debug``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest: list[str] = []
        uri: list[str] = []
        for i, arg in enumerate(args):
            if arg in _TAKE_URIS:
                rest.extend(args[i:])
                break
            after_uri_flag = i > 0 and args[i - 1] == "--uri"
            if not uri and not after_uri_flag and arg.startswith(CONNECTION_SCHEMES):
                uri = ["--uri", arg]
            else:
                rest.append(arg)
        return super().parse_args(ctx, uri + rest)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("gridfield: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader of our output left (`gridfield cat f | head`): not an error to
            # report. Point stdout at nothing so the interpreter's final flush stays quiet,
            # and exit as a process killed by SIGPIPE would (128 + 13).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except Exception as exc:
            if "--debug" in sys.argv[1:]:
                raise
            raise click.ClickException(_one_line(exc)) from exc


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename!r}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if isinstance(
        exc, (transfer.TransferError, SourceFailed, GridFSError, BadId, ValueError, TypeError)
    ):
        return first
    if isinstance(exc, PyMongoError):
        # The driver's text goes on with its timeouts and topology: the cause comes first.
        cause = first.split(" (configured timeouts")[0].split(", Timeout:")[0]
        return f"server: {cause}"
    return f"{type(exc).__name__}: {first}"


def _shared_options(func: _F) -> _F:
    """The bucket and output options, taken before the command name or after it."""
    options = [
        click.option(
            "--uri",
            metavar="URI",
            help=f"Connection string (default: $MONGODB_URI, else {DEFAULT_URI}).",
        ),
        click.option(
            "--db",
            "-d",
            metavar="NAME",
            help="Database (default: the connection string's, else test).",
        ),
        click.option(
            "--prefix", metavar="PREFIX", help=f"GridFS bucket (default: {DEFAULT_PREFIX})."
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars, no status lines."),
        click.option("--debug", is_flag=True, help="Show a traceback on failure."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclasses.dataclass(frozen=True)
class Settings:
    """The shared options of one command, resolved."""

    bucket: Bucket
    quiet: bool


def _given(ctx: click.Context | None) -> dict[str, Any]:
    """The shared options typed on the command line at this level (before or after the
    command name)."""
    if ctx is None:
        return {}
    return {
        name: ctx.params[name]
        for name in _SHARED
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
    }


def settings_of(ctx: click.Context) -> Settings:
    """The shared options: given after the command, else before it, else the defaults."""
    values = {**_given(ctx.parent), **_given(ctx)}
    bucket = Bucket(
        uri=values.get("uri") or os.environ.get("MONGODB_URI") or DEFAULT_URI,
        db=values.get("db"),
        prefix=values.get("prefix", DEFAULT_PREFIX),
    )
    return Settings(bucket, bool(values.get("quiet")))


@contextmanager
def open_store(ctx: click.Context) -> Iterator[tuple[FileStore, Settings]]:
    """The file store of the command's bucket and its settings; the client closes after."""
    settings = settings_of(ctx)
    client, store = settings.bucket.open()
    try:
        yield store, settings
    finally:
        client.close()


def say(settings: Settings, message: str) -> None:
    """A status line on stderr, unless ``--quiet``."""
    if not settings.quiet:
        click.echo(message, err=True)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["--help"], "max_content_width": 100},
)
@_shared_options
@click.version_option(package_name="gridfield")
def cli(**shared: Any) -> None:
    """Manage the files of a GridFS bucket: mongofiles' commands, done safely.

    \b
    A connection string may also be given bare, as with mongofiles:
        gridfield mongodb://host/db list
    Options of the bucket (--uri, --db, --prefix) go before or after the command.
    Exit status: 0 on success, 1 on any failure or miss, 2 on a usage error.
    """


def command(name: str, **kwargs: Any) -> Callable[[_F], _F]:
    """Register a command of the group, with the shared options after its own."""

    def wrap(func: _F) -> _F:
        made = cli.command(name, **kwargs)(_shared_options(click.pass_context(func)))
        # The command's own options first in its --help, the shared ones after them.
        own = [p for p in made.params if p.name not in _SHARED]
        made.params = own + [p for p in made.params if p.name in _SHARED]
        return made  # type: ignore[return-value]

    return wrap
