# Generated from tests/_async/test_sweep_killed.py by scripts/unasync.py: do not edit.
"""A deleting sweep killed (SIGKILL) after its deletes reached the server never let go of
its holds: the next sweep removes the holds whose files are gone, and counts them."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bson import ObjectId

from gridfield._sync.store import FileStore
from gridfield.core.sweeping import SweepTiming

ROOT = Path(__file__).resolve().parents[2]
TIMING = SweepTiming(min_grace=timedelta(0))
NOBODY = ("nobody", "file")  # a raw holder naming no file: every file is unreferenced

_KILLED_SWEEP = """
import os, signal, sys
from datetime import timedelta
from pymongo import MongoClient
from gridfield._sync import bucket_check
from gridfield._sync.store import FileStore
from gridfield.core.sweeping import SweepTiming

def killed(*args, **kwargs):
    # Its deletes have reached the server; it dies before it lets go of its holds.
    os.kill(os.getpid(), signal.SIGKILL)

bucket_check.let_go = killed
client = MongoClient(sys.argv[1])
store = FileStore(client[sys.argv[2]], sweep_timing=SweepTiming(min_grace=timedelta(0)))
store.sweep([("nobody", "file")], delete=True, grace=timedelta(0))
"""


def test_the_next_sweep_removes_the_holds_a_killed_sweep_left(sync_db: Any, mongo_uri: str) -> None:
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    ids = [ObjectId() for _ in range(20)]
    sync_db["fs.files"].insert_many(
        [{"_id": i, "length": 1, "chunkSize": 4, "uploadDate": old} for i in ids]
    )
    sync_db["fs.chunks"].insert_many([{"files_id": i, "n": 0, "data": b"a"} for i in ids])
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_SWEEP, mongo_uri, sync_db.name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert sync_db["fs.files"].count_documents({}) == 0  # its deletes went through
    assert sync_db["fs.holds"].count_documents({}) == len(ids)  # its holds stayed
    store = FileStore(sync_db, sweep_timing=TIMING)
    report = store.sweep([NOBODY], delete=True, grace=timedelta(0))
    assert report.removed_holds == len(ids)
    assert "20 holds on files that are gone" in report.summary()
    assert sync_db["fs.holds"].count_documents({}) == 0
    # A hold on a file that is there stays, whoever holds it.
    kept = store.put(b"kept")
    token = store.claim(kept.file_id)
    report = store.sweep([("holders", "file")], delete=True, grace=timedelta(hours=2))
    assert report.removed_holds == 0
    assert sync_db["fs.holds"].count_documents({}) == 1
    store.release(kept.file_id, token)
