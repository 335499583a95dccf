"""docs/signed-urls.md runs as written: its python blocks in order, in one namespace, with
top-level await, in a fresh folder (the snippet of examples/fastapi_beanie.py is tested by
tests/pydantic_models/test_fastapi_beanie_example.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "signed-urls.md"


async def test_the_signed_urls_page_runs(
    mongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    scope: dict[str, Any] = {"__name__": "signed_urls_page"}
    ran = 0
    for block in blocks:
        if block.strip().startswith("--8<--"):
            assert (PAGE.parents[1] / block.split('"')[1]).is_file()
            continue
        code = compile(block, str(PAGE), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, scope)
        if result is not None:
            await result
        ran += 1
    assert ran == 6
