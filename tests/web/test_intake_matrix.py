"""Every upload case of intake_matrix against every receiving adapter, behind real servers:
FastAPI on uvicorn, aiohttp's own server, Flask on waitress and on werkzeug's server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .intake_matrix import CASES, Target


@pytest.mark.parametrize("case", list(CASES))
def test_upload_case(case: str, target: Target) -> None:
    check: Callable[[Target], None] = CASES[case]
    check(target)
