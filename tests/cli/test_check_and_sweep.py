"""check and sweep: orphan chunks past the grace period, damaged files, dry run by default."""

from __future__ import annotations

import os
import time
from typing import Any

from bson import Binary, ObjectId

from .conftest import Cli

HOURS_AGO = 2


def _old_id(hours: float) -> ObjectId:
    """A unique ObjectId made ``hours`` ago (its first 4 bytes are its time)."""
    stamp = int(time.time() - hours * 3600)
    return ObjectId(stamp.to_bytes(4, "big") + os.urandom(8))


def _plant_orphans(cli: Cli, files_id: Any, count: int, hours: float) -> None:
    cli.db["fs.chunks"].insert_many(
        [
            {"_id": _old_id(hours), "files_id": files_id, "n": n, "data": Binary(b"x" * 10)}
            for n in range(count)
        ]
    )


def test_check_reports_orphans_and_damage_and_changes_nothing(cli: Cli) -> None:
    cli.ok("put", "good.bin", "-l", "-", input=b"g" * 300_000)
    cli.ok("put", "bad.bin", "-l", "-", input=b"b" * 300_000)
    bad = cli.db["fs.files"].find_one({"filename": "bad.bin"})
    assert bad is not None
    cli.db["fs.chunks"].delete_one({"files_id": bad["_id"], "n": 1})
    lost = ObjectId()
    _plant_orphans(cli, lost, 3, HOURS_AGO)
    _plant_orphans(cli, ObjectId(), 2, 0)  # an upload in flight: younger than the grace
    chunks_before = cli.db["fs.chunks"].count_documents({})
    done = cli.run("check")
    out = done.stdout.decode()
    assert done.returncode == 1, done.stderr
    assert "orphan chunks: 3 chunks of 1 missing files (1 younger, left alone)" in out
    assert f"orphan: 3 chunks of files_id {lost}" in out
    assert "damaged files: 1" in out
    assert "'bad.bin'" in out and "chunk 1 is missing" in out
    err = done.stderr.decode().splitlines()
    assert err == [f"Error: bucket {cli.db.name}.fs has 1 orphan chunk groups and 1 damaged files"]
    assert cli.db["fs.chunks"].count_documents({}) == chunks_before


def test_sweep_is_a_dry_run_unless_told_to_delete(cli: Cli) -> None:
    cli.ok("put", "good.bin", "-l", "-", input=b"g" * 300_000)
    lost = ObjectId()
    _plant_orphans(cli, lost, 3, HOURS_AGO)
    young = ObjectId()
    _plant_orphans(cli, young, 2, 0)
    dry = cli.ok("sweep")
    assert f"orphan: 3 chunks of files_id {lost}" in dry.stdout.decode()
    assert "dry run: nothing removed (add --delete to remove these)" in dry.stderr.decode()
    assert cli.db["fs.chunks"].count_documents({"files_id": lost}) == 3
    done = cli.ok("sweep", "--delete")
    assert "removed: 0 files, 3 chunks" in done.stdout.decode()
    assert cli.db["fs.chunks"].count_documents({"files_id": lost}) == 0
    assert cli.db["fs.chunks"].count_documents({"files_id": young}) == 2  # in flight: kept
    assert cli.ok("cat", "good.bin").stdout == b"g" * 300_000
    # a deleting sweep refuses a grace shorter than uploads register in, reading nothing
    refused = cli.run("sweep", "--delete", "--grace", "0s")
    assert refused.returncode == 2
    err = " ".join(refused.stderr.decode().split())
    assert "Invalid value for --grace: a deleting sweep needs a grace of at least 0:01:00" in err
    assert cli.db["fs.chunks"].count_documents({"files_id": young}) == 2
    # a grace of a minute reaches chunks two minutes old
    older = ObjectId()
    _plant_orphans(cli, older, 2, 2 / 60)
    cli.ok("sweep", "--delete", "--grace", "1m")
    assert cli.db["fs.chunks"].count_documents({"files_id": older}) == 0
    assert cli.db["fs.chunks"].count_documents({"files_id": young}) == 2


def test_a_clean_bucket_checks_clean(cli: Cli) -> None:
    cli.ok("put", "good.bin", "-l", "-", input=b"g" * 300_000)
    done = cli.ok("check", "--grace", "30m")
    assert "damaged files: 0" in done.stdout.decode()
    assert done.stderr == b""


MODELS = """
from gridfield.sync import Document, FileField, StringField


class Animal(Document):
    name = StringField()
    photo = FileField()
"""


def test_documents_find_and_sweep_the_files_no_document_holds(cli: Cli) -> None:
    (cli.cwd / "zoo_models.py").write_text(MODELS)
    cli.ok("put", "held.jpg", "-l", "-", input=b"held")
    cli.ok("put", "loose.jpg", "-l", "-", input=b"loose")
    held = cli.db["fs.files"].find_one({"filename": "held.jpg"})
    loose = cli.db["fs.files"].find_one({"filename": "loose.jpg"})
    assert held is not None and loose is not None
    cli.db["animal"].insert_one({"name": "marmot", "photo": held["_id"]})
    # both files stored two hours ago: older than the grace of an hour
    cli.db["fs.files"].update_many({}, {"$set": {"uploadDate": _old_id(HOURS_AGO).generation_time}})
    done = cli.run("check", "--documents", "zoo_models")
    out = done.stdout.decode()
    assert done.returncode == 1, done.stderr
    assert "unreferenced files: 1 (1 references found in Animal)" in out
    assert f"unreferenced: file {loose['_id']} (loose.jpg)" in out
    dry = cli.ok("sweep", "--documents", "zoo_models")
    assert "dry run: nothing removed" in dry.stderr.decode()
    assert cli.db["fs.files"].count_documents({}) == 2
    cli.ok("sweep", "--documents", "zoo_models", "--delete")
    assert cli.db["fs.files"].distinct("filename") == ["held.jpg"]
    assert cli.db["fs.chunks"].distinct("files_id") == [held["_id"]]
    line = cli.fails("check", "--documents", "no_such_models")
    assert line.startswith("Error: cannot import 'no_such_models'")
