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

from gridfield._async.store import AsyncFileStore

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


async def run_operation(op: dict[str, Any], store: AsyncFileStore, entities: dict[str, Any]) -> Any:
    """Run one operation of the spec and return its result."""
    name, target = op["name"], op["object"]
    args = resolve(op.get("arguments", {}), entities)
    if target != "bucket0":
        return await run_collection_operation(name, entities[target], args)
    if name == "upload":
        return await store.upload_from_stream(
            args["filename"],
            args["source"],
            chunk_size_bytes=args.get("chunkSizeBytes"),
            metadata=args.get("metadata"),
        )  # disableMD5: the store never writes an MD5
    if name == "download":
        sink = io.BytesIO()
        await store.download_to_stream(args["id"], sink)
        return sink.getvalue()
    if name == "downloadByName":
        return await store.read_by_name(args["filename"], args.get("revision", -1))
    if name == "delete":
        return await store.delete(args["id"])
    if name == "deleteByName":
        return await store.delete_by_name(args["filename"])
    if name == "rename":
        return await store.rename(args["id"], args["newFilename"])
    if name == "renameByName":
        return await store.rename_by_name(args["filename"], args["newFilename"])
    raise NotImplementedError(f"the runner has no bucket operation {name!r}")


async def run_collection_operation(name: str, collection: Any, args: dict[str, Any]) -> Any:
    if name == "find":
        cursor = collection.find(args.get("filter", {}))
        sort = args.get("sort")
        if sort:
            cursor = cursor.sort(list(sort.items()))
        return [doc async for doc in cursor]
    if name == "deleteOne":
        result = await collection.delete_one(args["filter"])
        return {"deletedCount": result.deleted_count}
    if name == "updateOne":
        result = await collection.update_one(args["filter"], args["update"])
        return {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}
    if name == "bulkWrite":
        requests = [
            UpdateOne(r["updateOne"]["filter"], r["updateOne"]["update"]) for r in args["requests"]
        ]
        bulk = await collection.bulk_write(requests)
        return {"matchedCount": bulk.matched_count, "modifiedCount": bulk.modified_count}
    raise NotImplementedError(f"the runner has no collection operation {name!r}")


async def close(client: Any) -> None:
    done = client.close()
    if inspect.isawaitable(done):  # PyMongo's async client; Motor's close() is plain
        done = await done


@pytest.mark.parametrize("case", CASES or [None], ids=[c.id for c in CASES] or ["unavailable"])
async def test_gridfs_spec(
    case: SpecCase | None, async_client: Any, async_db: Any, mongo_uri: str
) -> None:
    if case is None:
        pytest.fail(f"the GridFS spec tests could not be had: {UNAVAILABLE}", pytrace=False)
    spec, test = case.spec, case.test
    names = {}
    for entity in spec["createEntities"]:
        if "database" in entity:
            names[entity["database"]["databaseName"]] = async_db.name
    for data in spec.get("initialData", []):
        collection = async_db[data["collectionName"]]
        await collection.drop()
        if data["documents"]:
            await collection.insert_many(data["documents"])

    listener = StartedCommands()
    client = type(async_client)(mongo_uri, event_listeners=[listener])
    try:
        entities: dict[str, Any] = {}
        db = client[async_db.name]
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
        store = AsyncFileStore(db, bucket, **({"chunk_size": chunk_size} if chunk_size else {}))
        for op in test["operations"]:
            if "expectError" in op:
                with pytest.raises(Exception) as caught:
                    await run_operation(op, store, entities)
                if op["expectError"].get("isClientError"):
                    # Raised by the client (NoFile, CorruptFile, TypeError), not by the server.
                    server_side = (OperationFailure, ConnectionFailure)
                    assert not isinstance(caught.value, server_side), repr(caught.value)
                continue
            result = await run_operation(op, store, entities)
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
        await close(client)

    for outcome in test.get("outcome", []):
        assert names.get(outcome["databaseName"]) == async_db.name
        collection = async_db[outcome["collectionName"]]
        stored = [doc async for doc in collection.find({}).sort("_id", ASCENDING)]
        match_exactly(outcome["documents"], stored, outcome["collectionName"])
