"""MongoEngine helpers with no I/O, shared by both APIs, by topic:

- ``holders``: the ``FileHolder`` protocol by which a document's save and delete reach the
  values holding stored files, the live walk that finds them, and whether a field may hold any;
- ``stored_refs``: the walk over a stored document's raw BSON that finds the file ids it
  holds, and the classes and paths a bucket check reads;
- ``queries``: what a query set needs (class queries, sorts, stored paths, update paths,
  aggregation stages, index differences);
- ``classes``: class trees.

Every public name is re-exported here; the package imports neither twin.
"""

from __future__ import annotations

from .classes import inherits, with_subclasses
from .holders import (
    FileHolder,
    field_may_hold,
    file_holders,
    holds_files,
    is_file_field,
    may_hold_files,
    referenced_file_ids,
)
from .queries import (
    AGGREGATE_OPTIONS,
    class_query,
    db_paths,
    embedded_type,
    file_holding_paths,
    index_differences,
    query_stages,
    server_options,
    signals_delete,
    sort_spec,
    stored_path,
    value_at,
)
from .stored_refs import (
    StoredFileRef,
    collection_root,
    document_classes,
    file_paths,
    file_roots,
    stored_file_refs,
)

__all__ = [
    "AGGREGATE_OPTIONS",
    "FileHolder",
    "StoredFileRef",
    "class_query",
    "collection_root",
    "db_paths",
    "document_classes",
    "embedded_type",
    "field_may_hold",
    "file_holders",
    "file_holding_paths",
    "file_paths",
    "file_roots",
    "holds_files",
    "index_differences",
    "inherits",
    "is_file_field",
    "may_hold_files",
    "query_stages",
    "referenced_file_ids",
    "server_options",
    "signals_delete",
    "sort_spec",
    "stored_file_refs",
    "stored_path",
    "value_at",
    "with_subclasses",
]
