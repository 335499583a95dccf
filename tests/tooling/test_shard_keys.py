"""The suite-wide shard key check flags what a sharded bucket could not route by file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient

from tests.conftest import fresh_db_name
from tests.shard_keys import ShardKeyCheck


def test_the_check_flags_commands_not_routed_by_file(mongo_uri: str) -> None:
    check = ShardKeyCheck(ours=str(Path(__file__).parent))  # this file's commands count
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, event_listeners=[check])
    db = client[fresh_db_name()]
    try:
        file_id = ObjectId()
        db["fs.chunks"].insert_one({"files_id": file_id, "n": 0, "data": b"x"})
        db["fs.chunks"].find_one({"files_id": {"$eq": file_id}, "n": 0})
        db["fs.chunks"].delete_many({"files_id": {"$in": [file_id]}})
        db["fs.chunks"].count_documents({"files_id": {"$type": "objectId"}})  # a bucket scan
        db["fs.files"].update_one({"_id": {"$eq": file_id}}, {"$set": {"filename": "a"}})
        db["fs.files"].update_many({"filename": "a"}, {"$set": {"filename": "b"}})
        assert check.faults == []

        db["fs.chunks"].find_one({"n": 0})
        db["fs.chunks"].delete_many({"files_id": {"$ne": file_id}})
        db["fs.chunks"].insert_one({"n": 0, "data": b"x"})
        db["fs.files"].delete_one({"filename": "b"})
        assert [fault.split(":")[0] for fault in check.faults] == [
            "find on fs.chunks not by files_id",
            "delete on fs.chunks not by files_id",
            "insert on fs.chunks without files_id",
            "single-document delete on fs.files without _id",
        ]
    finally:
        client.drop_database(db.name)
        client.close()
