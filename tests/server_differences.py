"""Where FerretDB v1.24.2 (SQLite and PostgreSQL backends) differs from MongoDB's documented
behaviour.

Tests are written for MongoDB's behaviour. Where FerretDB differs, the test asks a helper
here and checks FerretDB's actual behaviour instead, so a FerretDB change shows up as a
failing test rather than going unnoticed. Only differences seen here are listed.
"""

from __future__ import annotations

from typing import Any

FERRETDB_DUPLICATE_KEY_DETAILS = (
    "FerretDB's E11000 duplicate key error names only the collection: its errmsg has no "
    "index name and no 'dup key', and the write error carries no keyPattern or keyValue, "
    "all of which MongoDB reports."
)


def duplicate_key_details_complete(server_kind: str) -> bool:
    """Whether a DuplicateKeyError from this server names the index and the key."""
    return server_kind != "ferretdb"


def check_duplicate_key_details(
    details: dict[str, Any] | None, key_pattern: dict[str, int], server_kind: str
) -> None:
    """Assert a DuplicateKeyError's details are as this server documents them."""
    assert details is not None
    assert details.get("code") == 11000, details
    if duplicate_key_details_complete(server_kind):
        assert details.get("keyPattern") == key_pattern, details
        assert "dup key" in details.get("errmsg", ""), details
    else:
        # FerretDB: see FERRETDB_DUPLICATE_KEY_DETAILS.
        assert "keyPattern" not in details, (FERRETDB_DUPLICATE_KEY_DETAILS, details)
        assert "keyValue" not in details, (FERRETDB_DUPLICATE_KEY_DETAILS, details)


FERRETDB_NO_FILTER_PUSHDOWN = (
    "FerretDB on SQLite does not push filters, sorts or limits on files_id and n down to "
    "SQLite (explain: filterPushdown False, plan SCAN): every chunks query reads every chunk "
    "of every file in the collection, so it costs time in proportion to all the data stored. "
    "Results are correct; only speed differs. Keep the data in a test's database small."
)


FERRETDB_UNCAPPED_GETMORE = (
    "Seen by the benchmark (benchmarks/), not by a test: FerretDB fills a getMore reply by "
    "document count, not up to the 16 MiB that MongoDB caps a batch at, so with the default "
    "batch size a cursor over the chunks of a file above about 70 MiB gets a reply larger than "
    "the 48 MB message limit and PyMongo refuses it (ProtocolError). PyMongo's GridOut, and so "
    "GridFSBucket, Motor and MongoEngine, read such files with the default batch size; "
    "gridfield's reads ask for batches bounded in bytes and are not affected."
)


FERRETDB_NO_POSITIONAL_UPDATE = (
    "FerretDB v1.24.2 does not implement the positional operator of updates ($, MongoEngine's "
    "S: set__legs__S__length=...): the update fails with code 28, \"Cannot create field '$' in "
    'element ...", and changes nothing. MongoDB updates the first matched array element.'
)

# What the user sees on FerretDB, raised by gridfield as MongoEngine's OperationError
POSITIONAL_UPDATE_ERROR = r"Update failed \(Cannot create field '\$'"


FERRETDB_POSTGRESQL_POSITIONAL_UPDATE_MATCHES_NOTHING = (
    "FerretDB v1.24.2 on PostgreSQL answers a positional update ($) with no error and no "
    "change: the reply says n 0, nModified 0, although the same filter finds the document "
    "(count_documents says 1). On SQLite it fails with code 28 instead; MongoDB updates the "
    "first matched array element. An application on FerretDB/PostgreSQL that relies on $ "
    "loses its update silently."
)


def ferretdb_backend(explained: dict[str, Any]) -> str:
    """FerretDB's backend, told from the reply of an ``explain`` of a ``find``: SQLite's query
    plan is a list of lines ("SCAN ..."), PostgreSQL's a JSON plan ({"Node Type": ...})."""
    plan = explained.get("queryPlanner", {}).get("Plan")
    return "postgresql" if isinstance(plan, dict) else "sqlite"


FERRETDB_POSTGRESQL_NO_NUL_IN_STRINGS = (
    "FerretDB v1.24.2 on PostgreSQL cannot store a string holding a NUL character (U+0000): "
    "PostgreSQL's jsonb has no such character, so the insert fails with FerretDB's "
    "InternalError, 'unsupported Unicode escape sequence (SQLSTATE 22P05)', and nothing is "
    "stored. MongoDB and FerretDB on SQLite store it (BSON strings may hold NUL)."
)
NUL_IN_STRING_ERROR = r"unsupported Unicode escape sequence \(SQLSTATE 22P05\)"


def nul_in_strings_supported(server_backend: str) -> bool:
    """Whether strings with a NUL character can be stored; see
    FERRETDB_POSTGRESQL_NO_NUL_IN_STRINGS."""
    return server_backend != "ferretdb-postgresql"


def positional_update_ignored(server_backend: str) -> bool:
    """Whether positional updates change nothing and report no match; see
    FERRETDB_POSTGRESQL_POSITIONAL_UPDATE_MATCHES_NOTHING."""
    return server_backend == "ferretdb-postgresql"


def positional_update_supported(server_kind: str) -> bool:
    """Whether this server applies positional ($) updates; see FERRETDB_NO_POSITIONAL_UPDATE."""
    return server_kind != "ferretdb"


FERRETDB_NO_COLLATION = (
    "FerretDB v1.24.2 refuses a query with a collation (code 238, NotImplemented: "
    "'support for field \"collation\" ... is not implemented yet'); MongoDB compares strings "
    "by the collation's rules (strength 2: case-insensitive)."
)

# What the user sees on FerretDB: PyMongo's OperationFailure, from the server
COLLATION_ERROR = r'support for field "collation" .* is not implemented yet'


def collation_supported(server_kind: str) -> bool:
    """Whether this server honours collations; see FERRETDB_NO_COLLATION."""
    return server_kind != "ferretdb"


FERRETDB_NO_DBREF = (
    'FerretDB v1.24.2 refuses to store a DBRef ({$ref, $id}): \'invalid key: "$ref" (key '
    "must not start with '$' sign)', code 2. MongoDB stores DBRefs, which MongoEngine's "
    "GenericReferenceField (and ReferenceField(dbref=True)) write; such documents cannot be "
    "saved on FerretDB. ReferenceField's default (the id alone) is not affected."
)

# What the user sees on FerretDB: gridfield's save() raises MongoEngine's OperationError
DBREF_ERROR = r'Could not save document \(invalid key: "\$ref"'


def dbrefs_supported(server_kind: str) -> bool:
    """Whether this server stores DBRefs; see FERRETDB_NO_DBREF."""
    return server_kind != "ferretdb"


FERRETDB_NO_TRANSACTIONS = (
    "FerretDB v1.24.2 has no transactions: its hello reply names no replica set, and a "
    "command carrying startTransaction fails with 'unknown field \"startTransaction\"'. "
    "MongoDB runs transactions on replica sets and sharded clusters (not on a standalone "
    "mongod either); gridfield's transaction() refuses up front on such servers."
)


def transactions_supported(hello: dict[str, Any]) -> bool:
    """Whether the server that gave this hello reply runs transactions (a replica set member
    or a mongos); see FERRETDB_NO_TRANSACTIONS."""
    return "setName" in hello or hello.get("msg") == "isdbgrid"


FERRETDB_NO_ARRAY_FILTERS = (
    "FerretDB v1.24.2 refuses updates with arrayFilters (code 238, NotImplemented: 'support "
    'for field "arrayFilters" ... is not implemented yet\'); MongoDB updates the array '
    "elements the filters match."
)

# What the user sees on FerretDB, raised by gridfield as MongoEngine's OperationError
ARRAY_FILTERS_ERROR = r'Update failed \(.*support for field "arrayFilters"'


def array_filters_supported(server_kind: str) -> bool:
    """Whether this server applies arrayFilters; see FERRETDB_NO_ARRAY_FILTERS."""
    return server_kind != "ferretdb"


FERRETDB_NO_TEXT_INDEX = (
    "FerretDB v1.24.2 refuses to create a text index ({field: 'text'}): 'can't find index "
    "with key: { title: \"text\" }', code 27 (IndexNotFound). So Beanie's init_beanie fails "
    "for a Document with a text index (Indexed(str, index_type=pymongo.TEXT), or one in "
    "Settings.indexes). MongoDB creates it. Beanie's other indexes (plain, unique) are made."
)

# What the user sees on FerretDB: init_beanie raises PyMongo's OperationFailure
TEXT_INDEX_ERROR = r"can't find index with key: \{ title: \"text\" \}"


def text_indexes_supported(server_kind: str) -> bool:
    """Whether this server creates text indexes; see FERRETDB_NO_TEXT_INDEX."""
    return server_kind != "ferretdb"


FERRETDB_NO_LOOKUP = (
    "FerretDB v1.24.2 does not implement the $lookup aggregation stage (code 238, "
    "NotImplemented: '`aggregate` stage \"$lookup\" is not implemented yet'), which Beanie's "
    "find(..., fetch_links=True) sends; nor does it store the DBRefs a Beanie Link field "
    "holds (see FERRETDB_NO_DBREF): a Document with a Link to another cannot be inserted. "
    "MongoDB does both."
)

# What the user sees on FerretDB: PyMongo's OperationFailure
LOOKUP_ERROR = r'`aggregate` stage "\$lookup" is not implemented yet'
# ...and PyMongo's WriteError for the insert of a document holding a Link
LINK_ERROR = r'invalid key: "\$ref"'


def lookups_supported(server_kind: str) -> bool:
    """Whether this server runs $lookup and stores Beanie's Links; see FERRETDB_NO_LOOKUP."""
    return server_kind != "ferretdb"


FERRETDB_NO_TTL_INDEX = (
    "FerretDB v1.24.2 refuses TTL indexes: createIndexes with expireAfterSeconds fails with "
    'code 238 (NotImplemented), "Index option \\"expireAfterSeconds\\" is not implemented '
    'yet". gridfield remembers the refusal per store (ttl_index False) and carries on: reads '
    "refuse expired files all the same, and sweep(delete=True) removes them, files document "
    "first, then chunks. MongoDB's TTL monitor removes the files document (about once a "
    "minute), leaving the chunks as orphans for the sweep."
)


def ttl_indexes_supported(server_kind: str) -> bool:
    """Whether this server keeps TTL indexes (``expireAfterSeconds``)."""
    return server_kind != "ferretdb"
