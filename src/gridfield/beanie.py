"""Beanie documents that keep their files in step: ``FileHoldingDocument``, a Beanie
``Document`` base class whose saves hold the files its ``FileId`` fields name against a
deleting sweep, and whose delete deletes them after it.

    class Animal(FileHoldingDocument):
        name: str
        photo: FileId | None = None
        gallery: list[FileId] = []

Async only (Beanie is). Needs the ``beanie`` extra.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .core.extras import missing_extra

try:
    from beanie import (
        Delete,
        Document,
        Insert,
        Replace,
        Save,
        SaveChanges,
        after_event,
        before_event,
    )
    from pydantic import PrivateAttr
except ImportError as exc:  # the extra is missing: say which one
    raise missing_extra(__name__, exc, "beanie") from exc

from .core.errors import add_note
from .pydantic import Files, held_file_ids

__all__ = ["FileHoldingDocument"]

_WRITES = (Insert, Replace, Save, SaveChanges)


class FileHoldingDocument(Document):
    """A Beanie document whose ``FileId`` fields (top-level, optional, in lists, dicts and
    nested models, as ``held_file_ids`` finds them) name files of one bucket: the bucket
    ``gridfield_bucket`` (default ``"fs"``) of the document's own database.

    - ``insert``, ``save``, ``replace`` and ``save_changes`` first hold every file the
      document names (``AsyncFileStore.claim``), so a deleting sweep running meanwhile
      cannot remove a file this write is about to name, and let go once written; a file
      that is gone refuses the write with ``NoFile`` (a document naming nothing is never
      written). A write that fails leaves its holds to lapse (``sweep_timing.hold``).
    - ``delete`` deletes the document, then its files (a crash in between leaves an orphan
      file for the bucket check, never a document naming a file that is gone).

    Beanie runs no event for bulk writes and deletes (``insert_many``, ``find(...).delete()``,
    ``delete_all()``, ``update``/``set`` operators): name the collection and its fields as
    raw holders to a deleting sweep (``[("animals", "photo")]``), which then removes what
    no document holds.
    """

    gridfield_bucket: ClassVar[str] = "fs"
    _gridfield_holds: list[tuple[Any, Any]] = PrivateAttr(default_factory=list)

    def gridfield_files(self) -> Files:
        """The files this document names: ``gridfield_bucket`` of its database."""
        return Files.for_document(self, self.gridfield_bucket)

    @before_event(*_WRITES)
    async def gridfield_hold_files(self) -> None:
        """Hold each file the document names, before it is written."""
        if self._gridfield_holds:
            return  # a save that inserts runs both events: the holds are taken already
        store = self.gridfield_files().store
        taken: list[tuple[Any, Any]] = []
        try:
            for file_id in held_file_ids(self):
                taken.append((file_id, await store.claim(file_id)))
        except BaseException as error:
            try:
                for file_id, token in taken:
                    await store.release(file_id, token)
            except Exception as cleanup:
                add_note(error, f"letting go of the holds failed too: {cleanup!r}")
            raise
        self._gridfield_holds = taken

    @after_event(*_WRITES)
    async def gridfield_release_files(self) -> None:
        """Let go of the holds once the document is written."""
        taken, self._gridfield_holds = self._gridfield_holds, []
        if taken:
            store = self.gridfield_files().store
            for file_id, token in taken:
                await store.release(file_id, token)

    @after_event(Delete)
    async def gridfield_delete_files(self) -> None:
        """Delete the files the document named, once it is deleted."""
        await self.gridfield_files().delete_held(self)
