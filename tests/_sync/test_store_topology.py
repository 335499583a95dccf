# Generated from tests/_async/test_store_topology.py by scripts/unasync.py: do not edit.
"""What replica sets and sharded clusters need of file I/O, checked through the commands sent:
acknowledged writes, no file writes in a transaction, chunks read consistently with their
files document, a file deleted under a reader told apart from a damaged one, one reader
per stream."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient, ReadPreference, WriteConcern
from pymongo.errors import InvalidOperation

from gridfield._sync.document import Document
from gridfield._sync.fields import FileField
from gridfield._sync.store import FileStore
from gridfield.core.errors import CorruptFile, NoFile
from tests.commands import Commands
from tests.conftest import fresh_db_name
from tests.readers import ThreadReader

MiB = 1024 * 1024
# What the transaction fields of a command are: none of them may be on a file write.
TRANSACTION_FIELDS = {"txnNumber", "startTransaction", "autocommit"}


@pytest.fixture
def watched(mongo_uri: str) -> Iterator[tuple[Any, Commands]]:
    """A fresh database on a PyMongo client of its own, and the commands that client sends."""
    commands = Commands()
    client: Any = MongoClient(mongo_uri, event_listeners=[commands])
    name = fresh_db_name()
    try:
        yield client[name], commands
    finally:
        client.drop_database(name)
        client.close()


def writes(commands: Commands) -> list[dict[str, Any]]:
    return commands.named("insert", "update", "delete", "findAndModify")


# -- unacknowledged writes ------------------------------------------------------------------------


def test_an_unacknowledged_write_concern_is_refused_before_any_write(
    watched: tuple[Any, Commands],
) -> None:
    db, commands = watched
    sound = FileStore(db)
    kept = sound.put(b"kept", filename="kept.txt")
    store = FileStore(db.with_options(write_concern=WriteConcern(w=0)))
    commands.clear()
    refused = r"cannot {} in fs\.files with an unacknowledged write concern \(w=0\)"
    with pytest.raises(InvalidOperation, match=refused.format("upload a file")):
        store.put(b"lost?", filename="new.txt")
    with pytest.raises(InvalidOperation, match=refused.format("upload a file")):
        store.open_upload(filename="new.txt")
    with pytest.raises(InvalidOperation, match=refused.format("delete a file")):
        store.delete(kept.file_id)
    with pytest.raises(InvalidOperation, match=refused.format("delete files")):
        store.delete_by_name("kept.txt")
    with pytest.raises(InvalidOperation, match=refused.format("rename a file")):
        store.rename(kept.file_id, "other.txt")
    with pytest.raises(InvalidOperation, match=refused.format("sweep the bucket")):
        store.sweep(delete=True)
    assert commands.sent == []  # refused before any command
    assert sound.get_info(kept.file_id) == kept
    assert [info.filename for info in sound.find()] == ["kept.txt"]
    # Reads need no acknowledgement: they still work.
    assert store.get(kept.file_id) == b"kept"


# -- transactions ---------------------------------------------------------------------------------


def test_file_writes_in_a_bound_transaction_are_refused_before_any_command(
    watched: tuple[Any, Commands],
) -> None:
    db, commands = watched
    store = FileStore(db)
    kept = store.put(b"kept", filename="kept.txt")
    upload = store.open_upload(filename="begun.txt")
    upload.write(b"begun outside")
    commands.clear()
    with db.client.start_session() as session, session.bind():
        session.start_transaction()
        inside = r"cannot {} inside a transaction: GridFS does not support transactions"
        with pytest.raises(InvalidOperation, match=inside.format("upload a file")):
            store.put(b"in the transaction?", filename="new.txt")
        with pytest.raises(InvalidOperation, match=inside.format("upload a file")):
            upload.write(b" and inside")
        with pytest.raises(InvalidOperation, match=inside.format("upload a file")):
            upload.close()
        with pytest.raises(InvalidOperation, match=inside.format("delete a file")):
            store.delete(kept.file_id)
        with pytest.raises(InvalidOperation, match=inside.format("rename files")):
            store.rename_by_name("kept.txt", "other.txt")
        assert writes(commands) == []
        session.abort_transaction()
    # The upload begun outside was left as it was, and ends outside.
    info = upload.close()
    assert store.get(info.file_id) == b"begun outside"
    assert store.get(kept.file_id) == b"kept"
    assert sorted(store.list()) == ["begun.txt", "kept.txt"]


def test_a_bound_session_outside_a_transaction_carries_file_writes_as_any_other(
    watched: tuple[Any, Commands],
) -> None:
    db, commands = watched
    store = FileStore(db)
    with db.client.start_session() as session:
        session_id = session.session_id
        with session.bind(end_session=False):
            info = store.put(b"x" * 300_000, filename="bound.txt")
            store.delete(info.file_id)
    sent = writes(commands)
    assert {command["insert"] for command in commands.named("insert")} == {
        "fs.chunks",
        "fs.files",
    }
    assert all(command["lsid"] == session_id for command in sent)
    assert not [command for command in sent if TRANSACTION_FIELDS & set(command)]


def test_put_refuses_a_session_keyword(connected: Any) -> None:
    db = connected()

    class Note(Document):
        body = FileField()
        meta = {"collection": "topology_notes"}

    note = Note()
    with pytest.raises(TypeError, match=r"put\(\) takes no session=: .* never in a transaction"):
        note.body.put(b"text", session=object())
    assert db["fs.files"].count_documents({}) == 0
    assert db["fs.chunks"].count_documents({}) == 0


# -- reading with a non-primary read preference ---------------------------------------------------


def selections(caplog: pytest.LogCaptureFixture) -> dict[int, str]:
    """operationId -> the read preference PyMongo selected the server with."""
    chosen = {}
    for record in caplog.records:
        entry = json.loads(record.getMessage())
        if entry.get("message") == "Server selection started" and "operationId" in entry:
            chosen[entry["operationId"]] = entry["selector"]
    return chosen


def test_chunks_are_read_from_the_primary_when_files_are_read_elsewhere(
    mongo_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A standalone server gets no $readPreference field (the Server Selection spec): what
    # each command was sent with is the read preference of its server selection, which
    # PyMongo logs with the command's operation id.
    operations: list[tuple[str, str, int]] = []

    class Finds(Commands):
        def started(self, event: Any) -> None:
            if event.command_name == "find":
                operations.append((event.command["find"], "find", event.operation_id))

    client: Any = MongoClient(mongo_uri, event_listeners=[Finds()])
    db = client.get_database(fresh_db_name(), read_preference=ReadPreference.SECONDARY_PREFERRED)
    try:
        store = FileStore(db, chunk_size=1000)
        info = store.put(b"y" * 2500)
        with caplog.at_level(logging.DEBUG, logger="pymongo.serverSelection"):
            assert store.get(info.file_id) == b"y" * 2500
            stream = store.open_download(info.file_id)
            assert stream.read_range(1000, 1500) == b"y" * 500
        chosen = selections(caplog)
        seen = [(collection, chosen[op].split("(")[0]) for collection, _, op in operations]
        assert seen == [
            ("fs.files", "SecondaryPreferred"),
            ("fs.chunks", "Primary"),
            ("fs.files", "SecondaryPreferred"),
            ("fs.chunks", "Primary"),
        ]
    finally:
        client.drop_database(db.name)
        client.close()


# -- a file deleted while it is read --------------------------------------------------------------


def test_a_file_deleted_under_a_reader_is_no_file_not_corrupt(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=1000)
    info = store.put(b"z" * 5000)
    stream = store.open_download(info.file_id)
    store.delete(info.file_id)
    with pytest.raises(NoFile, match=r"file .* was deleted or replaced while being read"):
        stream.read()
    # so is one replaced under the same id
    store.put(b"a" * 5000, file_id="same")
    stream = store.open_download("same")
    store.delete("same")
    store.put(b"b" * 1200, file_id="same")
    with pytest.raises(NoFile, match=r"file 'same' in fs\.files was deleted or replaced"):
        stream.read()


def test_a_damaged_file_that_is_still_there_stays_corrupt(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=1000)
    info = store.put(b"z" * 5000)
    sync_db["fs.chunks"].delete_one({"files_id": info.file_id, "n": 0})
    stream = store.open_download(info.file_id)
    with pytest.raises(CorruptFile, match=r"chunk 0 is missing"):
        stream.read()


# -- one reader per stream ------------------------------------------------------------------------


def test_a_second_concurrent_read_of_one_stream_is_refused_at_once(sync_db: Any) -> None:
    store = FileStore(sync_db, chunk_size=64 * 1024)
    data = bytes(range(256)) * (3 * MiB // 256)
    info = store.put(data, file_id=ObjectId())
    reader = ThreadReader()
    stream = store.open_download(info.file_id, on_progress=reader.progress)
    reader.start(stream, MiB)
    busy = r"another read of this stream is in progress; a stream has one reader at a time"
    with pytest.raises(RuntimeError, match=busy):
        stream.read(MiB)
    with pytest.raises(RuntimeError, match=busy):
        stream.read_range(0, 10)
    with pytest.raises(RuntimeError, match=busy):
        stream.readline()
    assert reader.result() == data[:MiB]
    # the refused reads changed nothing: the stream goes on where the first read ended
    assert stream.read(MiB) == data[MiB : 2 * MiB]
    assert b"".join([piece for piece in stream]) == data[2 * MiB :]


def test_iter_range_is_held_per_chunk_and_says_when_the_file_went(sync_db: Any) -> None:
    # Serving streams a body with iter_range: the same two guards as the other reads.
    store = FileStore(sync_db, chunk_size=1000)
    info = store.put(b"z" * 5000)
    stream = store.open_download(info.file_id)
    store.delete(info.file_id)
    with pytest.raises(NoFile, match=r"was deleted or replaced while being read"):
        [piece for piece in stream.iter_range(1500, 4200)]
    stream = store.open_download((store.put(b"q" * 5000)).file_id)
    pieces = stream.iter_range(0)
    assert next(pieces) == b"q" * 1000
    # Between chunks the stream is free; while one is fetched, another read is refused.
    assert stream.read_range(0, 3) == b"qqq"
    assert b"".join([piece for piece in pieces]) == b"q" * 4000
