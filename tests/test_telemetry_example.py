"""The program docs/telemetry.md shows runs and prints what the page says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_telemetry_example_runs(mongo_uri: str) -> None:
    # docs/telemetry.md shows it: it sets OpenTelemetry's process-wide providers, so it runs
    # in a process of its own.
    done = subprocess.run(
        [sys.executable, "examples/telemetry_example.py"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MONGODB_URI": mongo_uri},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "gridfield.upload" in done.stdout
    assert "FileTooLarge -> StatusCode.ERROR" in done.stdout
    assert "range 1000 5000" in done.stdout
    assert "'gridfield.bytes.uploaded'" in done.stdout
