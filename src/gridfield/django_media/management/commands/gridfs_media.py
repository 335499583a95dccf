"""``manage.py gridfs_media in|out``: move MEDIA_ROOT into a GridFSStorage, or back."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridfield.core.copy_plan import COPY_WORKERS, Action, CopyOptions, CopyRefused, Outcome
from gridfield.django import GridFSStorage
from gridfield.sync import copy_files


class Command(BaseCommand):  # type: ignore[misc]  # Django has no type hints
    """Move the files of MEDIA_ROOT into a GridFSStorage under the same names (``in``), so
    the FileField values of existing rows keep working, or from GridFS back into
    MEDIA_ROOT (``out``). Without ``--apply`` it only says what it would do."""

    help = (
        "Move MEDIA_ROOT's files into a GridFSStorage under the same names (in), or back "
        "(out). Says what it would do unless --apply is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "direction", choices=["in", "out"], help="in: MEDIA_ROOT to GridFS; out: back."
        )
        parser.add_argument(
            "--storage",
            default="gridfs",
            help="The STORAGES entry that is a GridFSStorage (default: gridfs).",
        )
        parser.add_argument("--apply", action="store_true", help="Do it (default: a dry run).")
        parser.add_argument(
            "--delete-source",
            action="store_true",
            help="Delete each file once its copy is verified.",
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace files that hold other bytes."
        )
        parser.add_argument("--jobs", type=int, default=COPY_WORKERS, help="Files copied at once.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            storage = storages[options["storage"]]
        except Exception as exc:
            raise CommandError(f"no storage {options['storage']!r} in STORAGES: {exc}") from exc
        if not isinstance(storage, GridFSStorage):
            raise CommandError(
                f"STORAGES[{options['storage']!r}] is a {type(storage).__name__}, "
                "not a GridFSStorage"
            )
        root = settings.MEDIA_ROOT
        if not root:
            raise ImproperlyConfigured("MEDIA_ROOT is not set: there is no folder to move")
        copy = CopyOptions(
            overwrite=options["overwrite"],
            delete_source=options["delete_source"],
            dry_run=not options["apply"],
            workers=options["jobs"],
        )
        media: Any = str(root)
        bucket: Any = storage.store
        source, destination = (media, bucket) if options["direction"] == "in" else (bucket, media)

        def tell(outcome: Outcome) -> None:
            name = outcome.destination
            if outcome.error is not None:
                self.stderr.write(f"failed: {name}: {outcome.error}")
            elif outcome.action is Action.CONFLICT:
                self.stderr.write(f"left: {name} holds other bytes there (--overwrite replaces it)")
            elif copy.dry_run:
                verb = "identical" if outcome.action is Action.SKIP else "would copy"
                self.stdout.write(f"{verb}: {name}")

        try:
            report = copy_files(source, destination, copy, on_outcome=tell)
        except CopyRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary())
        if copy.dry_run:
            self.stdout.write("nothing changed: run again with --apply to do it")
        if not report.ok:
            raise CommandError(
                f"{len(report.failed)} failed, {len(report.conflicts)} left: see above"
            )
