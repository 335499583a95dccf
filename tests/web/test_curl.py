"""curl, a client of its own, against every adapter: its Range, HEAD and conditional requests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..conftest import installed
from .apps import TARGETS
from .conftest import Samples


def curl(*args: str, tmp_path: Path) -> tuple[int, dict[str, str], bytes]:
    """Run curl; return the final status, the response headers (lower-case names) and body."""
    exe = installed("curl")
    head, body = tmp_path / "head.txt", tmp_path / "body.bin"
    head.unlink(missing_ok=True)
    body.unlink(missing_ok=True)  # curl writes no file for an empty body
    subprocess.run(
        [
            exe,
            "--silent",
            "--show-error",
            "--max-time",
            "30",
            "--dump-header",
            str(head),
            "--output",
            str(body),
            *args,
        ],
        check=True,
    )
    # The last block: an upload's "100 Continue" comes before the final answer.
    blocks = head.read_bytes().decode("latin-1").strip().split("\r\n\r\n")
    lines = blocks[-1].strip().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body.read_bytes() if body.exists() else b""


@pytest.mark.parametrize("target", list(TARGETS))
def test_curl_range_head_and_304(
    target: str, served: tuple[dict[str, str], Samples], tmp_path: Path
) -> None:
    """Over a store in clear and over an encrypting one (the ``served`` fixture)."""
    servers, samples = served
    clip = samples.clip
    url = f"{servers[target]}{TARGETS[target]}{clip.file_id}"
    n = len(clip.data)

    status, headers, body = curl("--range", "1000-1999", url, tmp_path=tmp_path)
    assert (status, headers["content-range"], body) == (
        206,
        f"bytes 1000-1999/{n}",
        clip.data[1000:2000],
    )

    status, headers, body = curl("--range", "-100", url, tmp_path=tmp_path)
    assert (status, body) == (206, clip.data[-100:])

    status, headers, body = curl("--range", "0-1,10-11", url, tmp_path=tmp_path)
    assert status == 206 and headers["content-type"].startswith("multipart/byteranges")

    status, headers, _ = curl("--head", url, tmp_path=tmp_path)  # curl writes HEAD's headers
    assert (status, headers["content-length"]) == (200, str(n))

    status, headers, body = curl("--header", f"If-None-Match: {clip.etag}", url, tmp_path=tmp_path)
    assert (status, headers["etag"], body) == (304, clip.etag, b"")

    # --time-cond sends If-Modified-Since.
    status, _, body = curl("--time-cond", clip.last_modified, url, tmp_path=tmp_path)
    assert (status, body) == (304, b"")

    status, _, body = curl(url, tmp_path=tmp_path)
    assert (status, body) == (200, clip.data)
