"""Raw holders of file ids for the bucket check: a collection and the dotted path where its
documents keep them, and the values a stored document has at that path.

Apps on pydantic, Beanie or plain PyMongo keep file ids in collections no MongoEngine class
describes; a holder names such a place, and the check reads it as MongoDB's own query
``{path: {"$in": ids}}`` would: through embedded documents, and through one level of array
at each step (arrays of ids, arrays of subdocuments), not into arrays of arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["Holder", "as_holder", "values_at"]


@dataclasses.dataclass(frozen=True)
class Holder:
    """A collection whose documents hold file ids of the bucket being checked at ``path``
    (dotted: ``"photo_id"``, ``"blocks.file"``), in the store's database or in the one
    named ``db`` on the same client.

    A raw id says nothing of its bucket: every id found at the path counts as a reference
    to a file of the bucket checked. Checked when made: TypeError or ValueError, no I/O.
    """

    collection: str
    path: str
    db: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.collection, str):
            raise TypeError(
                f"a holder's collection must be a str, not {type(self.collection).__name__}"
            )
        if not self.collection or "$" in self.collection or "\0" in self.collection:
            raise ValueError(
                f"a holder's collection must be a collection name, not {self.collection!r}"
            )
        if not isinstance(self.path, str):
            raise TypeError(f"a holder's path must be a str, not {type(self.path).__name__}")
        if not self.path:
            raise ValueError(f"holder {self.collection!r}: the path must not be empty")
        for part in self.path.split("."):
            if not part:
                raise ValueError(
                    f"holder {self.collection!r}: path {self.path!r} has an empty step"
                )
            if part.startswith("$"):
                raise ValueError(
                    f"holder {self.collection!r}: path {self.path!r} is a field path, not an"
                    f" operator (a step starts with '$')"
                )
            if "\0" in part:
                raise ValueError(f"holder {self.collection!r}: path {self.path!r} holds a NUL")
        if self.db is not None and not isinstance(self.db, str):
            raise TypeError(f"a holder's db must be a str or None, not {type(self.db).__name__}")
        if self.db == "":
            raise ValueError(
                f"holder {self.collection!r}: the db must not be empty (None: the store's)"
            )

    @property
    def steps(self) -> tuple[str, ...]:
        """The path's field names, outermost first."""
        return tuple(self.path.split("."))

    def __str__(self) -> str:
        where = self.collection if self.db is None else f"{self.db}.{self.collection}"
        return f"{where}:{self.path}"


def as_holder(value: Any) -> Holder:
    """``value`` as a Holder: a Holder, or a tuple ``(collection, path)`` or
    ``(collection, path, db)``; TypeError or ValueError otherwise."""
    if isinstance(value, Holder):
        return value
    if isinstance(value, tuple) and len(value) in (2, 3):
        return Holder(*value)
    raise TypeError(
        "a holder is a Holder or a tuple (collection, path) or (collection, path, db),"
        f" not {value!r}"
    )


def values_at(doc: Any, steps: Sequence[str]) -> Iterator[Any]:
    """The values ``doc`` (a stored document) has at the path ``steps``, as a query on the
    path matches them: a dict is entered by key; an array met before a step is entered
    item by item (its subdocuments), or by index for a step of digits; an array at the end
    yields its items. Arrays are never ids, so none is yielded."""
    if not steps:
        if isinstance(doc, list):
            yield from (item for item in doc if not isinstance(item, list))
        else:
            yield doc
        return
    step, rest = steps[0], steps[1:]
    if isinstance(doc, Mapping):
        if step in doc:
            yield from values_at(doc[step], rest)
    elif isinstance(doc, list):
        if step.isascii() and step.isdigit() and step == str(int(step)) and int(step) < len(doc):
            yield from values_at(doc[int(step)], rest)
        for item in doc:
            if isinstance(item, Mapping) and step in item:
                yield from values_at(item[step], rest)
