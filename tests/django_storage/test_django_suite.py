"""Django's own file storage tests (``tests/file_storage/`` of its source distribution, for the
Django version installed) run by its ``runtests.py`` against GridFSStorage on our server.

See ``django_tree.py`` for how the tests are fetched and ``suite_module.py`` for how each of
Django's test classes is bound to GridFSStorage; ``inapplicable.txt`` lists what cannot apply
to a storage without a local file system, with a reason each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .django_tree import prepare_tree

RUN_TIMEOUT = 600


def _listed() -> int:
    lines = (Path(__file__).with_name("inapplicable.txt")).read_text(encoding="utf-8")
    return sum(1 for line in lines.splitlines() if line.split("#", 1)[0].strip())


def test_djangos_file_storage_tests_pass_on_gridfs(mongo_uri: str, tmp_path: Path) -> None:
    tree = prepare_tree(tmp_path)
    env = dict(os.environ, MONGODB_URI=mongo_uri)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        sys.executable,
        "runtests.py",
        "file_storage.test_gridfield",
        "--settings=test_sqlite",
        "--parallel=1",
        "--verbosity=2",
    ]
    done = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    output = done.stdout + done.stderr
    failures = [line for line in output.splitlines() if re.match(r"(FAIL|ERROR): ", line)]
    assert done.returncode == 0, (
        f"Django's storage tests failed on GridFSStorage (status {done.returncode}); "
        f"{len(failures)} failed:\n" + "\n".join(failures) + "\n\n" + output[-6000:]
    )
    ran = re.search(r"^Ran (\d+) tests? in", output, re.MULTILINE)
    assert ran is not None, output[-3000:]
    verdict = re.search(r"^OK(?: \((.*)\))?$", output, re.MULTILINE)
    assert verdict is not None, output[-3000:]
    counts = dict(
        part.strip().split("=") for part in (verdict.group(1) or "").split(",") if part.strip()
    )
    # Nothing skipped, nothing passing by surprise; each listed test ran and failed as listed.
    assert set(counts) <= {"expected failures"}, verdict.group(0)
    assert int(counts.get("expected failures", 0)) >= _listed()
    assert int(ran.group(1)) > 100
