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
    assert "dry run: nothing removed (add --delete to remove these chunks)" in dry.stderr.decode()
    assert cli.db["fs.chunks"].count_documents({"files_id": lost}) == 3
    done = cli.ok("sweep", "--delete")
    assert "removed: 0 files, 3 chunks" in done.stdout.decode()
    assert cli.db["fs.chunks"].count_documents({"files_id": lost}) == 0
    assert cli.db["fs.chunks"].count_documents({"files_id": young}) == 2  # in flight: kept
    assert cli.ok("cat", "good.bin").stdout == b"g" * 300_000
    # a grace of zero reaches the young ones too
    cli.ok("sweep", "--delete", "--grace", "0s")
    assert cli.db["fs.chunks"].count_documents({"files_id": young}) == 0
    assert cli.ok("check").returncode == 0


def test_a_clean_bucket_checks_clean(cli: Cli) -> None:
    cli.ok("put", "good.bin", "-l", "-", input=b"g" * 300_000)
    done = cli.ok("check", "--grace", "30m")
    assert "damaged files: 0" in done.stdout.decode()
    assert done.stderr == b""
