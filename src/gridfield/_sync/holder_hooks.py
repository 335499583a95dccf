# Generated from src/gridfield/_async/holder_hooks.py by scripts/unasync.py: do not edit.
"""Telling every FileHolder of a document's save or delete: all of them hear, one error
reaches the caller, and a failing clean-up never hides the error it follows."""

from __future__ import annotations

from collections.abc import Iterable

from ..core.errors import add_note
from ..odm.holders import FileHolder


def tell_holders(
    holders: Iterable[FileHolder], hook: str, *, after: BaseException | None = None
) -> None:
    """Call the FileHolder method ``hook`` (``"after_owner_save"``...) on every holder, even
    when one fails.

    ``after``: the error this is a clean-up for (a save that failed). Failures are then noted
    on it and nothing is raised here: the caller raises ``after``, the error that matters.
    Otherwise the first failure is raised, any later ones noted on it.
    """
    failures: list[Exception] = []
    for holder in list(holders):
        try:
            getattr(holder, hook)()
        except Exception as err:
            failures.append(err)
    if after is not None:
        for failure in failures:
            add_note(
                after,
                f"cleaning up with {hook}() failed too: {failure!r}; what it left behind"
                " the bucket check finds",
            )
        return
    if failures:
        first = failures[0]
        for failure in failures[1:]:
            add_note(first, f"{hook}() of another value failed too: {failure!r}")
        raise first
