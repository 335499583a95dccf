"""Run one documentation page's python blocks in order, as a reader would:
``python -m tests.docs.run_page PAGE`` (the runner's test starts it in a fresh temporary
folder, with ``$MONGODB_URI`` set).

One namespace for the page, one event loop: a block with top-level ``await`` runs on it, the
others run plainly (so a block may call ``asyncio.run`` itself). A block that only shows a
file (``--8<-- "examples/x.py"``) is not run here. On the first failure the block's place in
the page and its traceback go to stderr and the exit status is 1.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import traceback
from ast import PyCF_ALLOW_TOP_LEVEL_AWAIT
from pathlib import Path
from typing import Any

from .pages import python_blocks


def run(page: Path) -> int:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    loop = asyncio.new_event_loop()
    ran = 0
    try:
        for block in python_blocks(page):
            if block.shown_file is not None:
                continue
            try:
                code = compile(
                    block.code,
                    block.where,
                    "exec",
                    flags=PyCF_ALLOW_TOP_LEVEL_AWAIT,
                    dont_inherit=True,
                )
                if code.co_flags & inspect.CO_COROUTINE:
                    loop.run_until_complete(eval(code, namespace))
                else:
                    exec(code, namespace)
            except BaseException:
                print(f"the block at {block.where} failed:", file=sys.stderr)
                traceback.print_exc()
                return 1
            ran += 1
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    print(f"{ran} blocks ran", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
