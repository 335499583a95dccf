# Generated from tests/_async/test_gridfs_spec.py by scripts/unasync.py: do not edit.
"""The GridFS specification's own tests, run against the file store by a small runner of ours.

Each operation of the spec's unified format maps to the store's API (``download`` to
``download_to_stream``, ``downloadByName`` to ``read_by_name``...); the spec's collection
operations, which damage files on purpose, run on the driver's collections. The JSON files
come from PyMongo's source distribution for the installed version (see tests/gridfs_spec.py).
"""

from __future__ import annotations

import inspect
import io
from typing import Any

import pytest
from pymongo import ASCENDING, UpdateOne
from pymongo.errors import ConnectionFailure, OperationFailure
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from gridfield._sync.store import FileStore

from ..gridfs_spec import SpecCase, match, match_exactly, needs_fail_point, resolve, spec_cases

try:
    CASES: list[SpecCase] = [case for case in spec_cases() if not needs_fail_point(case)]
    UNAVAILABLE = ""
except Exception as exc:  # reported by the test itself: a failure, never a skip
    CASES = []
    UNAVAILABLE = f"{type(exc).__name__}: {exc}"


class StartedCommands(CommandListener):
    """Records each command a client starts, as the spec's ``observeEvents`` asks."""

    def __init__(self) -> None:
        self.events: list[CommandStartedEvent] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.events.append(event)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass  # only started events are compared

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def run_operation(op: dict[str, Any], store: FileStore, entities: dict[str, Any]) -> Any:
    """Run one operation of the spec and return its result."""
    name, target = op["name"], op["object"]
    args = resolve(op.get("arguments", {}), entities)
    if target != "bucket0":
        return run_collection_operation(name, entities[target], args)
    if name == "upload":
        return store.upload_from_stream(
            args["filename"],
            args["source"],
            chunk_size_bytes=args.get("chunkSizeBytes"),
            metadata=args.get("metadata"),
        )  # disableMD5: the store never writes an MD5
    if name == "download":
        sink = io.BytesIO()
        store.download_to_stream(args["id"], sink)
        return sink.getvalue()
    if name == "downloadByName":
        return store.read_by_name(args["filename"], args.get("revision", -1))
    if name == "delete":
        return store.delete(args["id"])
    if name == "deleteByName":
        return store.delete_by_name(args["filename"])
    if name == "rename":
        return store.rename(args["id"], args["newFilename"])
    if name == "renameByName":
        return store.rename_by_name(args["filename"], args["newFilename"])
    raise NotImplementedError(f"the runner has no bucket operation {name!r}")


def run_collection_operation(name: str, collection: Any, args: dict[str, Any]) -> Any:
    if name == "find":
        cursor = collection.find(args.get("filter", {}))
        sort = args.get("sort")
        if sort:
            cursor = cursor.sort(list(sort.items()))
        return [doc for doc in cursor]
    if name == "deleteOne":
        result = collection.delete_one(args["filter"])
        return {"deletedCount": result.deleted_count}
    if name == "updateOne":
        result = collection.update_one(args["filter"], args["update"])
        return {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}
    if name == "bulkWrite":
        requests = [
            UpdateOne(r["updateOne"]["filter"], r["updateOne"]["update"]) for r in args["requests"]
        ]
        bulk = collection.bulk_write(requests)
        return {"matchedCount": bulk.matched_count, "modifiedCount": bulk.modified_count}
    raise NotImplementedError(f"the runner has no collection operation {name!r}")


def close(client: Any) -> None:
    done = client.close()
    if inspect.isawaitable(done):  # PyMongo's async client; Motor's close() is plain
        done = done


@pytest.mark.parametrize("case", CASES or [None], ids=[c.id for c in CASES] or ["unavailable"])
def test_gridfs_spec(case: SpecCase | None, sync_client: Any, sync_db: Any, mongo_uri: str) -> None:
    if case is None:
        pytest.fail(f"the GridFS spec tests could not be had: {UNAVAILABLE}", pytrace=False)
    spec, test = case.spec, case.test
    names = {}
    for entity in spec["createEntities"]:
        if "database" in entity:
            names[entity["database"]["databaseName"]] = sync_db.name
    for data in spec.get("initialData", []):
        collection = sync_db[data["collectionName"]]
        collection.drop()
        if data["documents"]:
            collection.insert_many(data["documents"])

    listener = StartedCommands()
    client = type(sync_client)(mongo_uri, event_listeners=[listener])
    try:
        entities: dict[str, Any] = {}
        db = client[sync_db.name]
        bucket = "fs"
        chunk_size = None
        for entity in spec["createEntities"]:
            if "collection" in entity:
                found = entity["collection"]
                entities[found["id"]] = db[found["collectionName"]]
            if "bucket" in entity:
                options = entity["bucket"].get("bucketOptions", {})
                bucket = options.get("bucketName", bucket)
                chunk_size = options.get("chunkSizeBytes")
        store = FileStore(db, bucket, **({"chunk_size": chunk_size} if chunk_size else {}))
        for op in test["operations"]:
            if "expectError" in op:
                with pytest.raises(Exception) as caught:
                    run_operation(op, store, entities)
                if op["expectError"].get("isClientError"):
                    # Raised by the client (NoFile, CorruptFile, TypeError), not by the server.
                    server_side = (OperationFailure, ConnectionFailure)
                    assert not isinstance(caught.value, server_side), repr(caught.value)
                continue
            result = run_operation(op, store, entities)
            if "expectResult" in op:
                match(op["expectResult"], result, entities, f"{op['name']} result")
            if "saveResultAsEntity" in op:
                entities[op["saveResultAsEntity"]] = result
        for expected in test.get("expectEvents", []):
            got = [(e.command_name, e.command) for e in listener.events]
            want = expected["events"]
            assert len(got) == len(want), f"commands {[g[0] for g in got]}, expected {want}"
            for (command_name, command), event in zip(got, want, strict=True):
                started = event["commandStartedEvent"]
                if "commandName" in started:
                    assert command_name == started["commandName"]
                match(started.get("command", {}), command, entities, command_name)
    finally:
        close(client)

    for outcome in test.get("outcome", []):
        assert names.get(outcome["databaseName"]) == sync_db.name
        collection = sync_db[outcome["collectionName"]]
        stored = [doc for doc in collection.find({}).sort("_id", ASCENDING)]
        match_exactly(outcome["documents"], stored, outcome["collectionName"])
